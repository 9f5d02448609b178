import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { allocate, type AllocationState } from './allocate';
import {
	applyReputationChanges,
	DEFAULT_REPUTATION_POLICY,
	readReputation,
	type ReputationChange,
	type ReputationEvent,
	type ReputationState,
} from './reputation';
import { StateUnavailableError } from './errors';
import { checkRateArgs, decodeRateState, encodeRateState, rateStateEnd, reserve } from './gcra';
import { applyHealth } from './health';
import { StoreKeys, unKeyPart } from './keys';
import {
	ackAlertGroup,
	ALERT_LOG_MAX,
	alertId,
	alertScope,
	checkAlerts,
	checkCooldown,
	checkReadArgs,
	checkRecentCount,
	decodeAlert,
	DEFAULT_ALERT_COOLDOWN_MS,
	encodeAlert,
	readAlertGroup,
	type Alert,
	type AlertGroupState,
	type AlertInput,
} from './alerts';
import { claimMarker, isInDoubt, readMarker, releaseMarker, settleMarker } from './once';
import { byPartition, checkPage } from './page';
import { checkStepArgs, runDeliveryStep } from './step';
import {
	bucketRange,
	checkOutcomeEntries,
	listedPairs,
	mergeOutcomePairs,
	OUTCOME_FIELDS,
	outcomePairsOf,
	outcomeWrites,
	pairExpiry,
	pairMember,
	pairWrites,
	readOutcomeFields,
	type OutcomeBucket,
	type OutcomeEntry,
	type OutcomePair,
	type OutcomeResolution,
} from './outcomes';
import {
	checkSuppressionEntries,
	mergeSuppression,
	readSuppression,
	type SuppressionEntry,
} from './suppression';
import {
	isBusy,
	isSqliteError,
	loadSqlite,
	type SqliteDatabase,
	type SqliteDriver,
	type SqliteStatement,
} from './sqliteDriver';
import type {
	AllocateRequest,
	AllocateResult,
	CampaignPause,
	DeliveryStepRequest,
	DeliveryStepAnswer,
	CircuitState,
	HealthPolicy,
	MxCacheEntry,
	OnceClaim,
	OnceClaimRequest,
	OnceEntry,
	OncePageRequest,
	OnceSettlement,
	Page,
	PageRequest,
	RateLimit,
	RateReservation,
	RouteLimit,
	WarmupRecord,
	StateStore,
} from './types';
import { parseWarmupRecord, warmupRecordText } from './warmupRecord';

/** the schema this code reads and writes, kept in the file's `PRAGMA user_version` */
const SCHEMA_VERSION = 1;
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** how often expired entries are deleted (by the store's clock), as the memory store sweeps */
const SWEEP_EVERY_MS = 60_000;

/**
 * Redis's data model in two tables, under the key names of ./keys.ts (StoreKeys, no prefix):
 * `entries` holds the strings (a value and when it expires, NULL = never) and the header of each
 * hash that expires (value '', the hash's expiry); `fields` holds the hashes' fields. A hash whose
 * header has expired is gone, whatever fields the sweep has not deleted yet. The circuits hash
 * never expires and has no header.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL,
	expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS fields (
	key TEXT NOT NULL,
	field TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (key, field)
) WITHOUT ROWID;
`;

const STATEMENTS = {
	get: 'SELECT value FROM entries WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)',
	put: `INSERT INTO entries (key, value, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
	putIfAbsent:
		'INSERT INTO entries (key, value, expires_at) VALUES (?, ?, NULL) ON CONFLICT (key) DO NOTHING',
	del: 'DELETE FROM entries WHERE key = ?',
	delRange: 'DELETE FROM entries WHERE key >= ? AND key < ?',
	hget: 'SELECT value FROM fields WHERE key = ? AND field = ?',
	hset: `INSERT INTO fields (key, field, value) VALUES (?, ?, ?)
		ON CONFLICT (key, field) DO UPDATE SET value = excluded.value`,
	hdel: 'DELETE FROM fields WHERE key = ? AND field = ?',
	hclear: 'DELETE FROM fields WHERE key = ?',
	hclearRange: 'DELETE FROM fields WHERE key >= ? AND key < ?',
	hany: 'SELECT 1 AS n FROM fields WHERE key = ? LIMIT 1',
	hall: 'SELECT field, value FROM fields WHERE key = ?',
	hafter: 'SELECT field, value FROM fields WHERE key = ? AND field > ? ORDER BY field LIMIT ?',
	// listings in key order: the first page from a prefix, the next after the last key given
	keysFrom: `SELECT key, value FROM entries WHERE key >= ? AND key < ?
		AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?`,
	keysAfter: `SELECT key, value FROM entries WHERE key > ? AND key < ?
		AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?`,
	setValue: 'UPDATE entries SET value = ? WHERE key = ?',
	fieldIn: `SELECT e.key AS key, f.value AS value FROM entries e JOIN fields f ON f.key = e.key
		WHERE e.key >= ? AND e.key < ? AND (e.expires_at IS NULL OR e.expires_at > ?) AND f.field = ?
		ORDER BY e.key`,
	htrim: 'DELETE FROM fields WHERE key = ? AND field <= ?',
	hlast: 'SELECT field, value FROM fields WHERE key = ? ORDER BY field DESC LIMIT ?',
	sweepFields: 'DELETE FROM fields WHERE key IN (SELECT key FROM entries WHERE expires_at <= ?)',
	sweepEntries: 'DELETE FROM entries WHERE expires_at <= ?',
} as const;

type Statements = Record<keyof typeof STATEMENTS, SqliteStatement>;

/** an alert's field in the log hash: its number, zero-padded, so text order is publish order */
const alertField = (seq: number) => String(seq).padStart(15, '0');

/** Every key that starts with `prefix` (byte order, as SQLite compares text): [prefix, next). */
function prefixRange(prefix: string): [string, string] {
	const last = prefix.charCodeAt(prefix.length - 1);
	return [prefix, prefix.slice(0, -1) + String.fromCharCode(last + 1)];
}

export interface SqliteStateStoreOptions {
	/** the database file; its folder is made if missing */
	file: string;
	/** the clock, for tests; defaults to Date.now */
	clock?: () => number;
	/** how long a call waits for another process's call before it fails (ms); default 5000 */
	busyTimeoutMs?: number;
	/** node:sqlite itself, loaded on first use when not given */
	driver?: SqliteDriver;
}

/**
 * The embedded store, kept in a SQLite file (node:sqlite) so it outlives the process: duplicate
 * markers, caps, warm-up counts, sticky assignments and circuits are still there after a restart
 * or a kill. Every call is one transaction (BEGIN IMMEDIATE … COMMIT for those that write), so it
 * is atomic against every other call, in this process or another sharing the file. The algorithms
 * are the memory store's own functions (allocate, reserve, applyHealth, claimMarker, settleMarker):
 * one definition of the behaviour, held to it by the contract and differential tests.
 */
export class SqliteStateStore implements StateStore {
	readonly kind = 'sqlite' as const;
	readonly file: string;
	private readonly db: SqliteDatabase;
	private readonly sql: Statements;
	private readonly keys = new StoreKeys('');
	private readonly clock: () => number;
	private readonly busyTimeoutMs: number;
	private readonly secret: string;
	private lastSweep = 0;
	private closed = false;

	/** Opens (and if need be creates) the file; throws an Error saying why it cannot. */
	constructor(options: SqliteStateStoreOptions) {
		this.file = options.file;
		this.clock = options.clock ?? Date.now;
		this.busyTimeoutMs = Math.max(0, Math.round(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS));
		const driver = options.driver ?? SqliteStateStore.driver();
		try {
			mkdirSync(dirname(this.file), { recursive: true });
			// made here, owner-only: it holds the hashing secret (SQLite gives -wal and -shm its mode)
			closeSync(openSync(this.file, 'a', 0o600));
			this.db = new driver.DatabaseSync(this.file);
		} catch (error) {
			throw new Error(`${this.file} could not be opened: ${(error as Error).message}`);
		}
		try {
			this.db.exec(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
			// WAL: readers never wait for the writer. NORMAL: a commit survives a crash or kill of the
			// process without an fsync per call (a power cut may lose the last ones).
			this.db.exec('PRAGMA journal_mode = WAL');
			this.db.exec('PRAGMA synchronous = NORMAL');
			this.secret = this.migrate();
			this.sql = Object.fromEntries(
				Object.entries(STATEMENTS).map(([name, text]) => [name, this.db.prepare(text)]),
			) as Statements;
		} catch (error) {
			this.db.close();
			throw new Error(`${this.file} could not be used: ${(error as Error).message}`);
		}
	}

	private static driver(): SqliteDriver {
		const load = loadSqlite();
		if (!load.ok) throw new Error(load.reason);
		return load.driver;
	}

	/** Creates the tables on a new file and the hashing secret, once for every process sharing it. */
	private migrate(): string {
		return this.transaction('opening the state file', true, () => {
			const version = Number(this.db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
			if (version > SCHEMA_VERSION)
				throw new Error(
					`it was written by a newer n8n-nodes-postal-routes (schema ${version}; this version reads ${SCHEMA_VERSION}): update the package, or move the file away to start afresh`,
				);
			if (version < SCHEMA_VERSION) {
				this.db.exec(SCHEMA);
				this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
			}
			const key = this.keys.secret();
			this.db
				.prepare('INSERT INTO entries (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING')
				.run(key, randomBytes(32).toString('base64url'));
			const row = this.db.prepare('SELECT value FROM entries WHERE key = ?').get(key);
			return String(row?.value);
		});
	}

	/**
	 * Runs one call as one transaction. BEGIN IMMEDIATE takes the write lock first (waiting up to
	 * the busy timeout), so a call never reads state that another process then changes under it;
	 * the clock is read once the lock is held, so clock order is commit order.
	 */
	private transaction<T>(what: string, write: boolean, body: (now: number) => T): T {
		try {
			this.db.exec(write ? 'BEGIN IMMEDIATE' : 'BEGIN');
		} catch (error) {
			throw this.unavailable(error as Error, what);
		}
		try {
			const result = body(this.clock());
			this.db.exec('COMMIT');
			return result;
		} catch (error) {
			try {
				this.db.exec('ROLLBACK');
			} catch {
				// the transaction is already gone (a failed COMMIT rolls back by itself)
			}
			throw isSqliteError(error) ? this.unavailable(error, what) : error;
		}
	}

	/** A call that writes: one write transaction, which first drops what expired, once a minute. */
	private write<T>(what: string, body: (now: number) => T): T {
		return this.transaction(what, true, (now) => {
			if (now - this.lastSweep >= SWEEP_EVERY_MS) {
				this.lastSweep = now;
				this.sql.sweepFields.run(now);
				this.sql.sweepEntries.run(now);
			}
			return body(now);
		});
	}

	/** A call that only reads: one read transaction (a consistent snapshot; WAL lets it run beside a writer). */
	private read<T>(what: string, body: (now: number) => T): T {
		return this.transaction(what, false, body);
	}

	private unavailable(error: Error, what: string): StateUnavailableError {
		if (isBusy(error))
			return new StateUnavailableError(
				`The embedded state file ${this.file} stayed locked by another process for ${this.busyTimeoutMs} ms (${what}): several n8n processes share this n8n user folder. The embedded state store is for one n8n process; for several, set State Store to Redis (with a Postal Routes Redis credential) on every Postal Routes node.`,
				error,
				'sqlite',
			);
		const reason = this.closed ? 'the store was closed' : error.message;
		return new StateUnavailableError(
			`The embedded state file ${this.file} failed (${what}): ${reason}.`,
			error,
			'sqlite',
		);
	}

	/** a string entry, if it has not expired */
	private value(key: string, now: number): string | undefined {
		const row = this.sql.get.get(key, now);
		return row === undefined ? undefined : String(row.value);
	}

	private field(key: string, field: string): string | undefined {
		const row = this.sql.hget.get(key, field);
		return row === undefined ? undefined : String(row.value);
	}

	/** Keeps a hash alive until `expiresAt`; one that had expired starts empty, as on Redis. */
	private touchHash(key: string, expiresAt: number, now: number): void {
		if (this.value(key, now) === undefined) this.sql.hclear.run(key);
		this.sql.put.run(key, '', expiresAt);
	}

	private circuit(route: string): CircuitState | null {
		const text = this.field(this.keys.circuits(), route);
		return text === undefined ? null : (JSON.parse(text) as CircuitState);
	}

	async now(): Promise<number> {
		return this.clock();
	}

	async hashSecret(): Promise<string> {
		return this.secret;
	}

	async allocate(req: AllocateRequest): Promise<AllocateResult> {
		return this.write('routing', (now) => {
			const counters = this.keys.counters(req.scope);
			const spills = this.keys.spills(req.scope);
			const sticky = this.keys.sticky(req.scope, req.stickyKey);
			const countersAlive = this.value(counters, now) !== undefined;
			const spillsAlive = this.value(spills, now) !== undefined;
			const stickyAlive = this.value(sticky, now) !== undefined;
			const view: AllocationState = {
				counter: (k) => (countersAlive ? Number(this.field(counters, k) ?? 0) : 0),
				spillCounts: (k, n) => {
					const text = spillsAlive ? this.field(spills, k) : undefined;
					const s = text === undefined ? undefined : (JSON.parse(text) as number[]);
					return s && s.length === n ? s : new Array<number>(n).fill(0);
				},
				sticky: (k) => (stickyAlive ? this.field(sticky, k) : undefined),
				capUsed: (k) => Number(this.value(this.keys.cap(req.scope, k), now) ?? 0),
				openUntil: (r) => this.circuit(r)?.openUntil ?? 0,
				reputation: (g, r) => this.reputationIn(g, r, now),
			};
			const { result, writes } = allocate(req, view, now);
			if (req.dryRun) return result;

			const until = now + req.ttlMs;
			this.touchHash(counters, until, now);
			this.touchHash(spills, until, now);
			for (const [k, v] of writes.counters) this.sql.hset.run(counters, k, String(v));
			for (const [k, v] of writes.spills) this.sql.hset.run(spills, k, JSON.stringify(v));
			// every call of the partition keeps its sticky assignments alive, a hit as much as a new one
			if (stickyAlive || writes.sticky.keys.length > 0) {
				this.touchHash(sticky, until, now);
				writes.sticky.keys.forEach((k, j) => this.sql.hset.run(sticky, k, writes.sticky.routes[j]));
			}
			for (const [k, c] of writes.caps)
				this.sql.put.run(this.keys.cap(req.scope, k), String(c.used), c.resetAt);
			return result;
		});
	}

	async capUsage(scope: string, keys: string[]): Promise<number[]> {
		return this.read('reading caps', (now) =>
			keys.map((k) => Number(this.value(this.keys.cap(scope, k), now) ?? 0)),
		);
	}

	async reserveRate(
		limits: RateLimit[],
		cost: number,
		maxWaitMs: number,
	): Promise<RateReservation> {
		checkRateArgs(limits, cost, maxWaitMs);
		return this.write('rate limiting', (now) => {
			const stored = limits.map((l) => decodeRateState(this.value(this.keys.rate(l.key), now)));
			const r = reserve(limits, stored, cost, now, maxWaitMs);
			if (r.granted)
				limits.forEach((l, i) =>
					this.sql.put.run(
						this.keys.rate(l.key),
						encodeRateState(r.states[i]),
						rateStateEnd(l, r.states[i]) + 1000,
					),
				);
			return { granted: r.granted, waitMs: r.waitMs, now };
		});
	}

	async claimOnce(scope: string, req: OnceClaimRequest): Promise<OnceClaim[]> {
		if (req.keys.length === 0) return [];
		const run = (now: number) =>
			req.keys.map((k) => {
				const key = this.keys.once(scope, k);
				const { claim, store } = claimMarker(this.value(key, now), req, now);
				if (store !== undefined && !req.peek) this.sql.put.run(key, store, now + req.ttlMs);
				return claim;
			});
		// a peek writes nothing: a read transaction, which waits for no writer
		return req.peek
			? this.read('looking at duplicate markers', run)
			: this.write('claiming duplicate markers', run);
	}

	async settleOnce(scope: string, settlements: OnceSettlement[], ttlMs: number): Promise<void> {
		if (settlements.length === 0) return;
		this.write('settling duplicate markers', (now) => {
			for (const s of settlements) {
				const key = this.keys.once(scope, s.key);
				const next = settleMarker(this.value(key, now), s, now);
				if (next === null) this.sql.del.run(key);
				else if (next !== undefined) this.sql.put.run(key, next, now + ttlMs);
			}
		});
	}

	async listOnce(scope: string, page: OncePageRequest): Promise<Page<OnceEntry>> {
		checkPage(page);
		const head = this.keys.once(scope, '');
		const [, end] = prefixRange(head);
		const chunk = Math.max(page.count + 1, 256);
		return this.read('listing duplicate markers', (now) => {
			const items: OnceEntry[] = [];
			let after = page.cursor ? head + page.cursor : undefined;
			// in key order, a chunk at a time, until `count` are kept: then whether any row is left
			for (;;) {
				const rows =
					after === undefined
						? this.sql.keysFrom.all(head, end, now, chunk)
						: this.sql.keysAfter.all(after, end, now, chunk);
				for (const r of rows) {
					if (items.length === page.count) return { items, cursor: items[items.length - 1].key };
					const marker = readMarker(String(r.value))!;
					if (!page.inDoubt || isInDoubt(marker, now))
						items.push({ key: String(r.key).slice(head.length), marker });
				}
				if (rows.length < chunk) return { items, cursor: null };
				after = String(rows[rows.length - 1].key);
			}
		});
	}

	async releaseOnce(scope: string, keys: string[]): Promise<boolean[]> {
		if (keys.length === 0) return [];
		return this.write('releasing duplicate markers', (now) =>
			keys.map((k) => {
				const key = this.keys.once(scope, k);
				const next = releaseMarker(this.value(key, now), now);
				if (next === undefined) return false;
				// the marker keeps its lifetime
				if (next === null) this.sql.del.run(key);
				else this.sql.setValue.run(next, key);
				return true;
			}),
		);
	}

	async deliveryStep(req: DeliveryStepRequest): Promise<DeliveryStepAnswer> {
		checkStepArgs(req);
		return this.write('starting sends', (now) =>
			runDeliveryStep(
				req,
				{
					marker: (scope, key) => this.value(this.keys.once(scope, key), now),
					putMarker: (scope, key, value, expiresAt) => {
						if (value === null) this.sql.del.run(this.keys.once(scope, key));
						else this.sql.put.run(this.keys.once(scope, key), value, expiresAt);
					},
					rate: (l) => decodeRateState(this.value(this.keys.rate(l.key), now)),
					putRate: (l, state, expiresAt) =>
						this.sql.put.run(this.keys.rate(l.key), encodeRateState(state), expiresAt),
				},
				now,
			),
		);
	}

	async recordHealth(
		route: string,
		ok: boolean,
		policy: HealthPolicy,
	): Promise<{ state: CircuitState; opened: boolean }> {
		return this.write('recording route health', (now) => {
			const result = applyHealth(this.circuit(route), ok, policy, now);
			this.sql.hset.run(this.keys.circuits(), route, JSON.stringify(result.state));
			return result;
		});
	}

	async getCircuits(routes: string[]): Promise<(CircuitState | null)[]> {
		return this.read('reading route health', () => routes.map((r) => this.circuit(r)));
	}

	async setCircuit(route: string, state: CircuitState | null): Promise<void> {
		this.write('writing route health', () => {
			if (state) this.sql.hset.run(this.keys.circuits(), route, JSON.stringify(state));
			else this.sql.hdel.run(this.keys.circuits(), route);
		});
	}

	async setRouteLimits(
		scope: string,
		entries: Array<{ route: string; limit: RouteLimit | null }>,
		ttlMs: number,
	): Promise<void> {
		this.write('recording route limits', (now) => {
			const key = this.keys.routeLimits(scope);
			if (this.value(key, now) === undefined) this.sql.hclear.run(key);
			for (const { route, limit } of entries)
				if (limit) this.sql.hset.run(key, route, JSON.stringify(limit));
				else this.sql.hdel.run(key, route);
			// as a Redis hash: gone when its last field is, else kept ttlMs from this call
			if (this.sql.hany.get(key) === undefined) this.sql.del.run(key);
			else this.sql.put.run(key, '', now + ttlMs);
		});
	}

	async getRouteLimits(scope: string, routes: string[]): Promise<(RouteLimit | null)[]> {
		return this.read('reading route limits', (now) => {
			const key = this.keys.routeLimits(scope);
			if (this.value(key, now) === undefined) return routes.map(() => null);
			return routes.map((r) => {
				const text = this.field(key, r);
				return text === undefined ? null : (JSON.parse(text) as RouteLimit);
			});
		});
	}

	async setWarmup(
		scope: string,
		entries: Array<{ route: string; warmup: WarmupRecord | null }>,
		ttlMs: number,
	): Promise<void> {
		const texts = entries.map((e) => (e.warmup ? warmupRecordText(e.warmup) : null));
		this.write('recording warm-up', (now) => {
			const key = this.keys.warmup(scope);
			if (this.value(key, now) === undefined) this.sql.hclear.run(key);
			entries.forEach(({ route }, i) => {
				const text = texts[i];
				if (text) this.sql.hset.run(key, route, text);
				else this.sql.hdel.run(key, route);
			});
			// as a Redis hash: gone when its last field is, else kept ttlMs from this call
			if (this.sql.hany.get(key) === undefined) this.sql.del.run(key);
			else this.sql.put.run(key, '', now + ttlMs);
		});
	}

	async getWarmup(scope: string, routes: string[]): Promise<(WarmupRecord | null)[]> {
		return this.read('reading warm-up', (now) => {
			const key = this.keys.warmup(scope);
			if (this.value(key, now) === undefined) return routes.map(() => null);
			return routes.map((r) => parseWarmupRecord(this.field(key, r)));
		});
	}

	async getMx(domains: string[]): Promise<(MxCacheEntry | null)[]> {
		return this.read('reading the MX cache', (now) =>
			domains.map((d) => {
				const text = this.value(this.keys.mx(d), now);
				return text === undefined ? null : { hosts: JSON.parse(text) as string[] };
			}),
		);
	}

	async setMx(
		entries: Array<{ domain: string; value: MxCacheEntry }>,
		ttlMs: number,
	): Promise<void> {
		this.write('writing the MX cache', (now) => {
			for (const e of entries)
				this.sql.put.run(this.keys.mx(e.domain), JSON.stringify(e.value.hosts), now + ttlMs);
		});
	}

	async clearScope(scope: string): Promise<void> {
		this.write('clearing a campaign', () => {
			for (const key of [this.keys.counters(scope), this.keys.spills(scope)]) {
				this.sql.del.run(key);
				this.sql.hclear.run(key);
			}
			// every partition's sticky hash and every cap window: the key names' common prefixes
			const sticky = prefixRange(this.keys.sticky(scope, ''));
			this.sql.delRange.run(...sticky);
			this.sql.hclearRange.run(...sticky);
			this.sql.delRange.run(...prefixRange(this.keys.cap(scope, '')));
			// idempotency markers stay: a campaign reset must never make a message go out twice; so do
			// the routes' limits, facts about their connections rather than routing state
		});
	}

	async suppress(list: string, entries: SuppressionEntry[]): Promise<void> {
		checkSuppressionEntries(entries);
		if (entries.length === 0) return;
		const key = this.keys.suppression(list);
		this.write('adding to the suppression list', (now) => {
			for (const e of entries) {
				const next = mergeSuppression(this.field(key, e.key), e, now);
				if (next !== undefined) this.sql.hset.run(key, e.key, next);
			}
		});
	}

	async setCampaignPause(campaign: string, pause: CampaignPause | null): Promise<void> {
		const key = this.keys.campaignPause(campaign);
		this.write('writing a campaign pause', (now) => {
			if (pause && pause.until > now) this.sql.put.run(key, JSON.stringify(pause), pause.until);
			else this.sql.del.run(key);
		});
	}

	async getCampaignPauses(campaigns: string[]): Promise<(CampaignPause | null)[]> {
		if (campaigns.length === 0) return [];
		return this.read('reading campaign pauses', (now) =>
			campaigns.map((c) => {
				const text = this.value(this.keys.campaignPause(c), now);
				return text === undefined ? null : (JSON.parse(text) as CampaignPause);
			}),
		);
	}

	/** a route's reputation for a group, if the group's hash has not expired */
	private reputationIn(group: string, route: string, now: number): ReputationState | null {
		const key = this.keys.reputation(group);
		return this.value(key, now) === undefined ? null : readReputation(this.field(key, route));
	}

	async getReputation(
		pairs: Array<{ route: string; group: string }>,
	): Promise<(ReputationState | null)[]> {
		if (pairs.length === 0) return [];
		return this.read('reading route reputation', (now) =>
			pairs.map(({ route, group }) => this.reputationIn(group, route, now)),
		);
	}

	async updateReputation(
		group: string,
		changes: ReputationChange[],
	): Promise<{ states: Record<string, ReputationState>; events: ReputationEvent[]; now: number }> {
		const key = this.keys.reputation(group);
		return this.write('recording route reputation', (now) => {
			const states = new Map<string, ReputationState>();
			if (this.value(key, now) !== undefined)
				for (const row of this.sql.hall.all(key))
					states.set(String(row.field), readReputation(String(row.value))!);
			const { changed, events } = applyReputationChanges(states, changes, now);
			if (changed.size) {
				this.touchHash(key, now + DEFAULT_REPUTATION_POLICY.keepMs, now);
				for (const [r, st] of changed) this.sql.hset.run(key, r, JSON.stringify(st));
			}
			return { states: Object.fromEntries(changed), events, now };
		});
	}

	async getSuppressions(list: string, keys: string[]): Promise<(SuppressionEntry | null)[]> {
		if (keys.length === 0) return [];
		const key = this.keys.suppression(list);
		return this.read('reading the suppression list', (now) =>
			keys.map((k) => readSuppression(k, this.field(key, k), now)),
		);
	}

	async listSuppressions(list: string, page: PageRequest): Promise<Page<SuppressionEntry>> {
		checkPage(page);
		const key = this.keys.suppression(list);
		return this.read('listing the suppression list', (now) => {
			// fields are never '' (checkSuppressionEntries): the first page starts after it
			const rows = this.sql.hafter.all(key, page.cursor ?? '', page.count + 1);
			const taken = rows.slice(0, page.count);
			return {
				items: taken.flatMap((r) => readSuppression(String(r.field), String(r.value), now) ?? []),
				cursor: rows.length > page.count ? String(taken[taken.length - 1].field) : null,
			};
		});
	}

	async clearOutcomes(pairs: Array<{ route: string; group: string }>): Promise<void> {
		if (pairs.length === 0) return;
		this.write('clearing outcome counters', () => {
			for (const { route, group } of pairs) {
				for (const resolution of ['minute', 'hour'] as const) {
					const range = prefixRange(this.keys.outcomeBuckets(route, group, resolution));
					this.sql.delRange.run(...range);
					this.sql.hclearRange.run(...range);
				}
				this.sql.hdel.run(this.keys.outcomePairs(), pairMember(route, group));
			}
		});
	}

	async stickyRoutes(
		scope: string,
		key: string,
	): Promise<Array<{ partition: string; route: string }>> {
		const head = this.keys.sticky(scope, '');
		return this.read('reading sticky routes', (now) =>
			this.sql.fieldIn
				.all(...prefixRange(head), now, key)
				.map((r) => ({
					partition: unKeyPart(String(r.key).slice(head.length)),
					route: String(r.value),
				}))
				.sort(byPartition),
		);
	}

	async unsuppress(list: string, keys: string[]): Promise<number> {
		if (keys.length === 0) return 0;
		const key = this.keys.suppression(list);
		return this.write('removing from the suppression list', () => {
			let removed = 0;
			for (const k of keys) if (Number(this.sql.hdel.run(key, k).changes) > 0) removed++;
			return removed;
		});
	}

	async countOutcomes(entries: OutcomeEntry[]): Promise<void> {
		checkOutcomeEntries(entries);
		if (entries.length === 0) return;
		this.write('counting outcomes', (now) => {
			for (const w of outcomeWrites(entries, now)) {
				const key = this.keys.outcomes(w.route, w.group, w.resolution, w.start);
				// a bucket's expiry is fixed by its window: set once, as PEXPIREAT does on Redis
				if (this.value(key, now) === undefined) this.touchHash(key, w.expiresAt, now);
				for (const [f, n] of w.counts)
					this.sql.hset.run(key, f, String(Number(this.field(key, f) ?? 0) + n));
			}
			const pairs = pairWrites(entries, now);
			if (pairs.length === 0) return;
			// the pair index as a hash (pair → lastAt) whose header lasts as long as its latest pair
			const key = this.keys.outcomePairs();
			const before = this.pairIndex(now);
			const after = mergeOutcomePairs(before, pairs, now);
			// the header first: an expired index starts empty (touchHash clears its old fields)
			this.touchHash(key, pairExpiry(Math.max(...after.values())), now);
			for (const m of before.keys()) if (!after.has(m)) this.sql.hdel.run(key, m);
			for (const [m, at] of after) if (before.get(m) !== at) this.sql.hset.run(key, m, String(at));
		});
	}

	/** the pair index (member → lastAt), empty once its header expired */
	private pairIndex(now: number): Map<string, number> {
		const key = this.keys.outcomePairs();
		const index = new Map<string, number>();
		if (this.value(key, now) !== undefined)
			for (const row of this.sql.hall.all(key)) index.set(String(row.field), Number(row.value));
		return index;
	}

	async listOutcomePairs(): Promise<OutcomePair[]> {
		return this.read('listing outcome pairs', (now) =>
			outcomePairsOf(listedPairs(this.pairIndex(now), now)),
		);
	}

	async readOutcomes(
		route: string,
		group: string,
		resolution: OutcomeResolution,
		from: number,
		to: number,
	): Promise<OutcomeBucket[]> {
		const starts = bucketRange(from, to, resolution);
		return this.read('reading outcome counters', (now) => {
			const out: OutcomeBucket[] = [];
			for (const start of starts) {
				const key = this.keys.outcomes(route, group, resolution, start);
				if (this.value(key, now) === undefined) continue;
				const fields = Object.fromEntries(
					OUTCOME_FIELDS.map((f) => [f, this.field(key, f) ?? 0] as [string, string | number]),
				);
				const counts = readOutcomeFields(fields);
				if (Object.keys(counts).length) out.push({ start, counts });
			}
			return out;
		});
	}

	async recordLedger(entries: Array<{ key: string; value: string }>, ttlMs: number): Promise<void> {
		if (entries.length === 0) return;
		this.write('writing the message ledger', (now) => {
			for (const e of entries) this.sql.put.run(this.keys.ledger(e.key), e.value, now + ttlMs);
		});
	}

	async readLedger(keys: string[]): Promise<(string | null)[]> {
		if (keys.length === 0) return [];
		return this.read('reading the message ledger', (now) =>
			keys.map((k) => this.value(this.keys.ledger(k), now) ?? null),
		);
	}

	async markSeen(keys: string[], ttlMs: number): Promise<boolean[]> {
		if (keys.length === 0) return [];
		return this.write('marking events seen (webhook dedupe, alert cooldowns)', (now) =>
			keys.map((k) => {
				const key = this.keys.seen(k);
				if (this.value(key, now) !== undefined) return false;
				this.sql.put.run(key, '1', now + ttlMs);
				return true;
			}),
		);
	}

	async publishAlerts(
		alerts: AlertInput[],
		cooldownMs = DEFAULT_ALERT_COOLDOWN_MS,
	): Promise<string[]> {
		checkAlerts(alerts);
		checkCooldown(cooldownMs);
		if (alerts.length === 0) return [];
		return this.write('publishing alerts', (now) => {
			const log = this.keys.alerts();
			let last = Number(this.value(this.keys.alertSeq(), now) ?? 0);
			const ids: string[] = [];
			for (const a of alerts) {
				if (cooldownMs > 0) {
					const key = this.keys.alertCooldown(...alertScope(a));
					if (this.value(key, now) !== undefined) continue;
					this.sql.put.run(key, '1', now + cooldownMs);
				}
				last++;
				this.sql.hset.run(log, alertField(last), encodeAlert(a));
				ids.push(alertId(last));
			}
			if (ids.length) {
				this.sql.put.run(this.keys.alertSeq(), String(last), null);
				this.sql.htrim.run(log, alertField(last - ALERT_LOG_MAX));
			}
			return ids;
		});
	}

	private alertGroup(group: string): AlertGroupState | undefined {
		const text = this.field(this.keys.alertGroups(), group);
		return text === undefined ? undefined : (JSON.parse(text) as AlertGroupState);
	}

	async readAlerts(group: string, consumer: string, options: { count: number }): Promise<Alert[]> {
		checkReadArgs(group, consumer, options.count);
		const log = this.keys.alerts();
		// a write: the group's cursor and pending ids move
		return this.write('reading alerts', (now) => {
			const { state, entries } = readAlertGroup(
				this.alertGroup(group),
				{
					lastSeq: Number(this.value(this.keys.alertSeq(), now) ?? 0),
					get: (seq) => this.field(log, alertField(seq)),
					after: (seq, count) =>
						this.sql.hafter
							.all(log, alertField(seq), count)
							.map((row) => [Number(row.field), String(row.value)] as [number, string]),
				},
				consumer,
				options.count,
			);
			this.sql.hset.run(this.keys.alertGroups(), group, JSON.stringify(state));
			return entries.flatMap(([seq, text]) => decodeAlert(alertId(seq), text) ?? []);
		});
	}

	async recentAlerts(count: number): Promise<Alert[]> {
		checkRecentCount(count);
		return this.read('reading recent alerts', () =>
			this.sql.hlast
				.all(this.keys.alerts(), count)
				.flatMap((row) => decodeAlert(alertId(Number(row.field)), String(row.value)) ?? []),
		);
	}

	async ackAlerts(group: string, ids: string[]): Promise<number> {
		if (ids.length === 0) return 0;
		return this.write('acknowledging alerts', () => {
			const { state, acked } = ackAlertGroup(this.alertGroup(group), ids);
			if (state) this.sql.hset.run(this.keys.alertGroups(), group, JSON.stringify(state));
			return acked;
		});
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		this.db.close();
	}
}
