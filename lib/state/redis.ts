import { randomBytes } from 'node:crypto';
import Redis, { Cluster, type RedisOptions } from 'ioredis';
import { StateUnavailableError } from './errors';
import { checkRateArgs } from './gcra';
import { scrubSecrets } from '../util/secrets';
import { StoreKeys, unKeyPart } from './keys';
import { byPartition } from './page';
import { isInDoubt, readMarker, type Marker } from './once';
import { checkPage } from './page';
import { loadLuaScript, SCRIPTS } from './luaScripts';
import {
	ALERT_LOG_MAX,
	alertScope,
	checkAlerts,
	checkCooldown,
	checkReadArgs,
	checkRecentCount,
	decodeAlert,
	DEFAULT_ALERT_COOLDOWN_MS,
	encodeAlert,
	type Alert,
	type AlertInput,
} from './alerts';
import { checkStepArgs, composeDeliveryStep } from './step';
import {
	applyReputationChanges,
	DEFAULT_REPUTATION_POLICY,
	readReputation,
	type ReputationChange,
	type ReputationEvent,
	type ReputationState,
} from './reputation';
import {
	bucketRange,
	checkOutcomeEntries,
	comparePairs,
	MAX_OUTCOME_PAIRS,
	bucketStart,
	OUTCOME_BUCKETS,
	outcomePairsOf,
	pairMember,
	outcomeWrites,
	pairExpiry,
	pairWrites,
	readOutcomeFields,
	type OutcomeBucket,
	type OutcomeEntry,
	type OutcomePair,
	type OutcomeResolution,
} from './outcomes';
import {
	checkSuppressionEntries,
	encodeSuppression,
	readSuppression,
	type SuppressionEntry,
} from './suppression';
import type {
	AllocateRequest,
	AllocateResult,
	CampaignPause,
	CircuitState,
	DeliveryStepRequest,
	DeliveryStepAnswer,
	HealthPolicy,
	MxCacheEntry,
	OnceClaim,
	OnceClaimRequest,
	OnceEntry,
	OncePageRequest,
	Page,
	PageRequest,
	OnceSettlement,
	RateLimit,
	RateReservation,
	RouteLimit,
	WarmupRecord,
	StateStore,
	Via,
} from './types';
import { parseWarmupRecord, warmupRecordText } from './warmupRecord';
import { VIA_DEFERRED, VIA_SEQUENCE, VIA_SPILL } from './types';

// the error belongs to the contract now (./errors.ts); still exported here for older imports
export { StateUnavailableError };

export interface RedisConnection {
	mode: 'standalone' | 'sentinel' | 'cluster';
	host: string;
	port: number;
	username?: string;
	password?: string;
	db?: number;
	tls?: boolean;
	/** with tls: accept a certificate that cannot be verified (n8n's "Disable TLS Verification") */
	tlsInsecure?: boolean;
	/** sentinel / cluster nodes as host:port */
	nodes?: string[];
	/** the Sentinel master name */
	sentinelName?: string;
	keyPrefix?: string;
	connectTimeoutMs?: number;
	/** a command with no answer by then fails (a stalled server, not a dead one); default 5000 */
	commandTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_COMMAND_TIMEOUT_MS = 5000;

/** Redis refusing the credential: a wrong password, no AUTH sent, or an ACL without the right */
const AUTH_ERROR = /\b(WRONGPASS|NOAUTH|NOPERM)\b|invalid password|invalid username-password/i;

type ScriptClient = (Redis | Cluster) & {
	postalAllocate(
		numKeys: number,
		keys: string[],
		payload: string,
		itemKeys: string[],
	): Promise<[string, number, number[], number[], number[], string[]]>;
	postalReserveRate(numKeys: number, ...args: string[]): Promise<[number, string, string]>;
	postalClaimOnce(numKeys: number, ...args: string[]): Promise<string[]>;
	postalSettleOnce(numKeys: number, ...args: string[]): Promise<number>;
	postalDeliveryStep(numKeys: number, ...args: string[]): Promise<string[]>;
	postalRecordHealth(numKeys: number, ...args: string[]): Promise<[string, number]>;
	postalSuppress(numKeys: number, ...args: string[]): Promise<number>;
	postalLedgerPut(numKeys: number, ...args: string[]): Promise<number>;
	postalCountOutcomes(numKeys: number, ...args: string[]): Promise<number>;
	postalReputationCas(numKeys: number, ...args: string[]): Promise<number>;
	postalPublishAlerts(numKeys: number, ...args: string[]): Promise<string[]>;
	postalReadAlerts(numKeys: number, ...args: string[]): Promise<string[]>;
	postalReleaseOnce(numKeys: number, ...args: string[]): Promise<number[]>;
};

/** the most SCAN calls one page makes (a sparse keyspace may give empty batches) */
const MAX_SCAN_CALLS = 64;

/** a text as a SCAN MATCH pattern that matches only itself */
const globLiteral = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

function hostLabel(c: RedisConnection): string {
	if (c.mode === 'standalone') return `${c.host}:${c.port}`;
	return `${c.mode} ${(c.nodes ?? []).join(', ')}`;
}

function parseNodes(
	nodes: string[] | undefined,
	fallback: { host: string; port: number },
): Array<{ host: string; port: number }> {
	const list = (nodes ?? []).map((n) => {
		const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(n.trim());
		return m ? { host: m[1], port: Number(m[2]) } : { host: n.trim(), port: fallback.port };
	});
	return list.length ? list : [fallback];
}

/** Builds the ioredis client for a connection; fails fast (no offline queue) so callers see outages. */
export function createRedisClient(c: RedisConnection): Redis | Cluster {
	const base: RedisOptions = {
		username: c.username || undefined,
		password: c.password || undefined,
		db: c.db ?? 0,
		tls: c.tls ? (c.tlsInsecure ? { rejectUnauthorized: false } : {}) : undefined,
		connectTimeout: c.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
		// a stopped (SIGSTOP) or overloaded server keeps the socket open and never answers
		commandTimeout: c.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
		// no CLIENT SETINFO before the ready check: one round trip (and one timeout) less per connect
		disableClientInfo: true,
		lazyConnect: true,
		enableOfflineQueue: false,
		maxRetriesPerRequest: 1,
		// keep reconnecting in the background; calls made while down fail at once
		retryStrategy: (times) => Math.min(times * 200, 2000),
	};
	if (c.mode === 'cluster') {
		return new Cluster(parseNodes(c.nodes, c), {
			redisOptions: base,
			lazyConnect: true,
			enableOfflineQueue: false,
			clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
		});
	}
	if (c.mode === 'sentinel') {
		return new Redis({
			...base,
			sentinels: parseNodes(c.nodes, c),
			name: c.sentinelName || 'mymaster',
			sentinelPassword: c.password || undefined,
		});
	}
	return new Redis({ ...base, host: c.host, port: c.port });
}

/** JSON has no Infinity (a long warm-up ramp's cap overflows to it): the largest double is as unreachable. */
/** a duration for a Redis argument: whole ms, at least 1 */
const ms = (v: number) => String(Math.max(1, Math.round(v)));

const jsonLimit = (limit: number) => (limit === Infinity ? Number.MAX_VALUE : limit);

/**
 * allocate.lua's compact reply as an AllocateResult: per item, fixed-width base-94 digits of
 * (route + 1) * 4 + via; positions follow from each class's first one (every item its class
 * sequence placed takes the next); retry times come for the deferred items only.
 */
function decodeAllocation(
	req: AllocateRequest,
	codes: string,
	now: number,
	open: number[],
	firstPos: number[],
	retry: number[],
	reputation: string[],
): AllocateResult {
	let width = 1;
	for (let span = 94; span <= req.routes.length * 4 + 3; span *= 94) width++;
	const n = req.items.length;
	if (codes.length !== n * width)
		throw new Error(`allocate.lua answered for ${codes.length / width} of ${n} items`);
	const route = new Array<number>(n);
	const via = new Array<Via>(n);
	const retryAt = new Array<number>(n);
	const pos = new Array<number>(n);
	const next = firstPos.map(Number);
	let deferred = 0;
	for (let i = 0; i < n; i++) {
		let code = 0;
		for (let d = i * width; d < (i + 1) * width; d++) code = code * 94 + codes.charCodeAt(d) - 33;
		const v = (code & 3) as Via;
		route[i] = (code >> 2) - 1;
		via[i] = v;
		retryAt[i] = v === VIA_DEFERRED ? Number(retry[deferred++]) : 0;
		const item = req.items[i];
		pos[i] =
			(v === VIA_SEQUENCE || v === VIA_SPILL) && item.prefer === undefined ? next[item.cls]++ : -1;
	}
	const result: AllocateResult = { route, via, retryAt, now, openUntil: open.map(Number), pos };
	if (req.groups) {
		const nRoutes = req.routes.length;
		result.reputation = req.groups.map((_, g) =>
			req.routes.map((__, r) => readReputation(reputation[g * nRoutes + r] || null)),
		);
	}
	return result;
}

/**
 * The Redis store: every call is one Lua script or one command — one round trip per batch. Keys
 * live under the prefix, campaign keys under a `{campaign}` hash tag (valid on Redis Cluster).
 * Time comes from the server: TIME inside the scripts, and `now()` follows the server clock by an
 * offset measured with TIME.
 */
export class RedisStateStore implements StateStore {
	readonly kind = 'redis' as const;
	private readonly client: ScriptClient;
	/** every key this store writes (./keys.ts) */
	private readonly keys: StoreKeys;
	private readonly label: string;
	/**
	 * every key on one server (not a Cluster): a script may touch keys of any hash slot — the
	 * allocate script the circuits hash, the send step markers and rate limits together
	 */
	private readonly oneServer: boolean;
	private readonly password?: string;
	private readonly connectTimeoutMs: number;
	private readonly commandTimeoutMs: number;
	/** ioredis reports why a connection failed only as an 'error' event; its promises say "closed" */
	private lastError?: { error: Error; at: number };
	private offset?: { ms: number; measuredAt: number };
	private connecting?: Promise<void>;
	private readyWait?: Promise<void>;
	private secret?: Promise<string>;

	constructor(connection: RedisConnection, client?: Redis | Cluster) {
		this.client = (client ?? createRedisClient(connection)) as ScriptClient;
		this.keys = new StoreKeys(connection.keyPrefix ?? 'postal:');
		this.label = hostLabel(connection);
		this.oneServer = connection.mode !== 'cluster';
		this.password = connection.password;
		this.connectTimeoutMs = connection.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
		this.commandTimeoutMs = connection.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
		// surfaced per call (an unhandled 'error' event would crash n8n); kept to name the cause
		this.client.on('error', (error: Error) => (this.lastError = { error, at: Date.now() }));
		this.client.defineCommand('postalAllocate', {
			lua: loadLuaScript(SCRIPTS.allocate),
		});
		this.client.defineCommand('postalReserveRate', {
			lua: loadLuaScript(SCRIPTS.reserveRate),
		});
		this.client.defineCommand('postalClaimOnce', {
			lua: loadLuaScript(SCRIPTS.claimOnce),
		});
		this.client.defineCommand('postalSettleOnce', {
			lua: loadLuaScript(SCRIPTS.settleOnce),
		});
		this.client.defineCommand('postalDeliveryStep', {
			lua: loadLuaScript(SCRIPTS.deliveryStep),
		});
		this.client.defineCommand('postalRecordHealth', {
			lua: loadLuaScript(SCRIPTS.recordHealth),
		});
		this.client.defineCommand('postalSuppress', {
			lua: loadLuaScript(SCRIPTS.suppress),
		});
		this.client.defineCommand('postalLedgerPut', {
			lua: loadLuaScript(SCRIPTS.ledgerPut),
		});
		this.client.defineCommand('postalCountOutcomes', {
			lua: loadLuaScript(SCRIPTS.countOutcomes),
		});
		this.client.defineCommand('postalReputationCas', {
			lua: loadLuaScript(SCRIPTS.reputationCas),
		});
		this.client.defineCommand('postalPublishAlerts', {
			lua: loadLuaScript(SCRIPTS.publishAlerts),
		});
		this.client.defineCommand('postalReadAlerts', {
			lua: loadLuaScript(SCRIPTS.readAlerts),
		});
		this.client.defineCommand('postalReleaseOnce', {
			lua: loadLuaScript(SCRIPTS.releaseOnce),
		});
	}

	/** Runs a call, connecting first if needed, and turns failures into one clear error. */
	private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
		try {
			await this.ready();
		} catch (error) {
			throw this.unavailable(error as Error, `Could not reach Redis at ${this.label}`);
		}
		try {
			return await fn();
		} catch (error) {
			throw this.unavailable(error as Error, `Redis at ${this.label} failed during ${what}`);
		}
	}

	/** One StateUnavailableError that names the server and the cause, never the password. */
	private unavailable(error: Error, context: string): StateUnavailableError {
		let cause = error instanceof StateUnavailableError ? (error.cause ?? error) : error;
		// "Connection is closed." hides the reason: the last 'error' event of this attempt has it
		const recent = this.lastError;
		if (
			/Connection is closed|Stream isn't writeable|still connecting/.test(cause.message) &&
			recent &&
			Date.now() - recent.at < this.connectTimeoutMs + this.commandTimeoutMs
		)
			cause = recent.error;
		const reason = this.describe(cause);
		let message: string;
		if (AUTH_ERROR.test(reason))
			message = `Redis at ${this.label} refused the credential's user/password (${reason})`;
		else if (/Command timed out/.test(reason))
			message = `${context}: no answer within ${this.commandTimeoutMs} ms (the credential's Command Timeout); the server may be stalled or overloaded`;
		else if (error instanceof StateUnavailableError && cause === error) message = error.message;
		else message = `${context}: ${reason}`;
		return new StateUnavailableError(this.redact(message), cause);
	}

	/** In words, not Node's codes: n8n replaces a message containing ECONNREFUSED & co. wholesale */
	private describe(error: Error): string {
		const code = (error as NodeJS.ErrnoException).code;
		const words: Record<string, string> = {
			ECONNREFUSED: 'connection refused (is Redis running on that host and port?)',
			ECONNRESET: 'connection reset by the server',
			ETIMEDOUT: `no connection within ${this.connectTimeoutMs} ms`,
			ENOTFOUND: 'host name not found',
			EAI_AGAIN: 'host name lookup failed',
			EHOSTUNREACH: 'host unreachable',
			ECONNABORTED: 'connection aborted',
		};
		if (code && words[code]) return words[code];
		return error.message.replace(/\s+/g, ' ').trim();
	}

	private redact(message: string): string {
		const p = this.password;
		// very short passwords would match ordinary text; ioredis never echoes them anyway
		return p && p.length >= 3 ? scrubSecrets(message, [p]) : message;
	}

	private async ready(): Promise<void> {
		const status = this.client.status;
		if (status === 'ready') return;
		// every wait is stored once and awaited by each caller: a stored promise nobody awaited was
		// what rejected unhandled (and ended the process) when Redis stayed down past 5 s
		if (this.connecting) return this.connecting;
		if (status === 'connecting' || status === 'connect') {
			// ioredis's own background reconnect: one wait shared by every call made meanwhile
			this.readyWait ??= this.waitForReady(status).finally(() => (this.readyWait = undefined));
			return this.readyWait;
		}
		// never connected, or dropped and waiting for its next retry: try now, so a restarted Redis
		// is picked up at once and a dead one fails this call at once
		if (status === 'reconnecting') this.client.disconnect();
		this.connecting = this.connect().finally(() => (this.connecting = undefined));
		return this.connecting;
	}

	private async connect(): Promise<void> {
		// a stalled server (SIGSTOP) accepts the TCP connection and never answers the ready check:
		// ioredis times the check out but closes the socket only after its disconnect timeout
		await new Promise<void>((resolve, reject) => {
			const onError = (error: Error) => {
				if (!/Command timed out/.test(error.message)) return;
				this.client.off('error', onError);
				reject(error);
			};
			this.client.on('error', onError);
			this.client.connect().then(
				() => {
					this.client.off('error', onError);
					resolve();
				},
				(error: Error) => {
					this.client.off('error', onError);
					reject(error);
				},
			);
		});
		// a cluster client opens each master's connection on its first command, and without an
		// offline queue it refuses (and retries 100 ms later) commands sent while one is opening:
		// open them all now
		if (this.client instanceof Cluster) {
			await Promise.all(
				this.client
					.nodes('master')
					.map((node) =>
						node.status === 'wait' ? node.connect().catch(() => undefined) : undefined,
					),
			);
		}
	}

	private waitForReady(status: string): Promise<void> {
		return new Promise<void>((resolve, reject) => {
			const fail = (error: Error) => {
				cleanup();
				reject(error);
			};
			// the attempt fails at once when its socket closes; the timer only backs up a stalled one
			const onClose = () => fail(new Error('Connection is closed.'));
			const timer = setTimeout(
				() =>
					fail(
						new StateUnavailableError(`Could not reach Redis at ${this.label} (still ${status})`),
					),
				this.connectTimeoutMs + this.commandTimeoutMs,
			);
			const onReady = () => {
				cleanup();
				resolve();
			};
			const cleanup = () => {
				clearTimeout(timer);
				this.client.off('ready', onReady);
				this.client.off('close', onClose);
				this.client.off('end', onClose);
			};
			this.client.once('ready', onReady);
			this.client.once('close', onClose);
			this.client.once('end', onClose);
		});
	}

	async hashSecret(): Promise<string> {
		// created once per prefix by whichever worker comes first; every worker then reads the same one
		this.secret ??= this.call('reading the hashing secret', async () => {
			const key = this.keys.secret();
			await this.client.set(key, randomBytes(32).toString('base64url'), 'NX');
			const value = await this.client.get(key);
			if (!value) throw new Error('the hashing secret could not be stored');
			return value;
		}).catch((error: unknown) => {
			this.secret = undefined;
			throw error;
		});
		return this.secret;
	}

	async ping(): Promise<string> {
		return this.call('PING', () => this.client.ping());
	}

	async now(): Promise<number> {
		const local = Date.now();
		if (!this.offset || local - this.offset.measuredAt > 30_000) {
			await this.call('reading the server time', async () => {
				const t0 = Date.now();
				const [sec, usec] = await this.client.time();
				const t1 = Date.now();
				const server = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
				this.offset = { ms: server - (t0 + t1) / 2, measuredAt: t1 };
			});
		}
		return Math.round(Date.now() + this.offset!.ms);
	}

	async allocate(req: AllocateRequest): Promise<AllocateResult> {
		const capKeys = req.routes.flatMap((r) => r.caps.map((c) => this.keys.cap(req.scope, c.key)));
		const keys = [
			this.keys.counters(req.scope),
			this.keys.spills(req.scope),
			this.keys.sticky(req.scope, req.stickyKey),
			this.keys.index(req.scope),
			...capKeys,
		];
		let openUntil: number[] | undefined;
		// reputation states: read by the script on one server, else read first and passed along
		let groupStates: Array<Array<string | false>> | undefined;
		const groups = req.groups ?? [];
		if (this.oneServer) {
			for (const g of groups) keys.push(this.keys.reputation(g));
			keys.push(this.keys.circuits());
		} else {
			openUntil = (await this.getCircuits(req.routes.map((r) => r.circuit))).map(
				(c) => c?.openUntil ?? 0,
			);
			if (groups.length)
				groupStates = await this.reputationTexts(
					groups,
					req.routes.map((r) => r.name),
				);
		}
		// the items as runs of alike ones, their sticky keys as arguments of their own (allocate.lua)
		const runs: Array<[number, number | false, 0 | 1, number, number | false]> = [];
		const itemKeys: string[] = [];
		let run: [number, number | false, 0 | 1, number, number | false] | undefined;
		for (const it of req.items) {
			const prefer = it.prefer ?? false;
			const keyed = it.key === undefined ? 0 : 1;
			const group = it.group ?? false;
			if (keyed) itemKeys.push(it.key!);
			if (run && run[0] === it.cls && run[1] === prefer && run[2] === keyed && run[4] === group)
				run[3]++;
			else runs.push((run = [it.cls, prefer, keyed, 1, group]));
		}
		// keys of one width in bytes (recipient digests are) travel joined, as one argument
		let width = itemKeys.length > 0 ? itemKeys[0].length : 0;
		for (const k of itemKeys) if (k.length !== width) width = 0;
		const joined = width > 0 ? itemKeys.join('') : '';
		if (/[^\x00-\x7f]/.test(joined)) width = 0;
		const payload = JSON.stringify({
			h: this.oneServer ? 1 : 0,
			r: req.routes.map((r, i) => ({
				n: r.name,
				u: r.circuit,
				o: openUntil?.[i] ?? 0,
				c: r.caps.map((c) => [jsonLimit(c.limit), c.resetAt]),
			})),
			k: req.classes.map((c) => ({
				k: c.counterKey,
				y: c.cycle,
				n: c.repeat,
				c: c.candidates,
				w: c.weights,
				p: c.spill === 'priority' ? 1 : 0,
			})),
			i: runs,
			...(groups.length
				? { g: groups.map((n, gi) => (groupStates ? { n, s: groupStates[gi] } : { n })) }
				: {}),
			w: width,
			u: new Set(itemKeys).size === itemKeys.length ? 1 : 0,
			d: req.dryRun ? 1 : 0,
			t: Math.round(req.ttlMs),
		});
		const [codes, now, open, firstPos, retry, reputation] = await this.call('routing', () =>
			// arrays, not spread arguments: ioredis flattens them, and a batch may be longer than a call's argument limit
			this.client.postalAllocate(keys.length, keys, payload, width > 0 ? [joined] : itemKeys),
		);
		return decodeAllocation(req, codes, Number(now), open, firstPos, retry, reputation ?? []);
	}

	async setCampaignPause(campaign: string, pause: CampaignPause | null): Promise<void> {
		const key = this.keys.campaignPause(campaign);
		await this.call('writing a campaign pause', async () => {
			// an end already past is no pause (SET … PXAT in the past would be an error)
			if (pause && pause.until > (await this.now()))
				await this.client.set(key, JSON.stringify(pause), 'PXAT', Math.round(pause.until));
			else await this.client.del(key);
		});
	}

	async getCampaignPauses(campaigns: string[]): Promise<(CampaignPause | null)[]> {
		if (campaigns.length === 0) return [];
		// one slot ({circuits}): one MGET, also on a Cluster
		const values = await this.call('reading campaign pauses', () =>
			this.client.mget(...campaigns.map((c) => this.keys.campaignPause(c))),
		);
		return values.map((v) => (v ? (JSON.parse(v) as CampaignPause) : null));
	}

	/** per group, per route: the stored state's JSON or false (one transaction) */
	private async reputationTexts(
		groups: string[],
		routes: string[],
	): Promise<Array<Array<string | false>>> {
		if (routes.length === 0) return groups.map(() => []);
		return this.call('reading route reputation', async () => {
			const multi = this.client.multi();
			for (const g of groups) multi.hmget(this.keys.reputation(g), ...routes);
			const replies = await multi.exec();
			if (!replies) throw new Error('the transaction was aborted');
			return replies.map(([error, values]) => {
				if (error) throw error;
				return (values as Array<string | null>).map((v) => v ?? false);
			});
		});
	}

	async getReputation(
		pairs: Array<{ route: string; group: string }>,
	): Promise<(ReputationState | null)[]> {
		if (pairs.length === 0) return [];
		return this.call('reading route reputation', async () => {
			const multi = this.client.multi();
			for (const p of pairs) multi.hget(this.keys.reputation(p.group), p.route);
			const replies = await multi.exec();
			if (!replies) throw new Error('the transaction was aborted');
			return replies.map(([error, value]) => {
				if (error) throw error;
				return readReputation(value as string | null);
			});
		});
	}

	/**
	 * Read the group's routes and the server's clock, apply the changes here (./reputation.ts, the
	 * rules every store runs), and write them with a compare-and-set script that refuses when
	 * another caller changed the group meanwhile (its version moved): then read again and re-apply.
	 */
	async updateReputation(
		group: string,
		changes: ReputationChange[],
	): Promise<{ states: Record<string, ReputationState>; events: ReputationEvent[]; now: number }> {
		const key = this.keys.reputation(group);
		const versionKey = this.keys.reputationVersion(group);
		for (let attempt = 0; ; attempt++) {
			const [time, fields, version] = await this.call('reading route reputation', async () => {
				const replies = await this.client.multi().time().hgetall(key).get(versionKey).exec();
				if (!replies) throw new Error('the transaction was aborted');
				for (const [error] of replies) if (error) throw error;
				return [
					replies[0][1] as [string, string],
					replies[1][1] as Record<string, string>,
					(replies[2][1] as string | null) ?? '',
				];
			});
			const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
			const states = new Map<string, ReputationState>();
			for (const [r, text] of Object.entries(fields)) states.set(r, readReputation(text)!);
			const { changed, events } = applyReputationChanges(states, changes, now);
			if (changed.size === 0) return { states: {}, events, now };
			const args = [version, ms(DEFAULT_REPUTATION_POLICY.keepMs)];
			for (const [r, st] of changed) args.push(r, JSON.stringify(st));
			const written = await this.call('recording route reputation', () =>
				this.client.postalReputationCas(2, key, versionKey, ...args),
			);
			if (Number(written) === 1) return { states: Object.fromEntries(changed), events, now };
			if (attempt >= 20)
				throw new StateUnavailableError(
					`route reputation for the group "${group}" kept changing under this call (20 tries)`,
					undefined,
					'redis',
				);
		}
	}

	async capUsage(scope: string, keys: string[]): Promise<number[]> {
		if (keys.length === 0) return [];
		const values = await this.call('reading caps', () =>
			this.client.mget(...keys.map((k) => this.keys.cap(scope, k))),
		);
		return values.map((v) => Number(v ?? 0));
	}

	async reserveRate(
		limits: RateLimit[],
		cost: number,
		maxWaitMs: number,
	): Promise<RateReservation> {
		checkRateArgs(limits, cost, maxWaitMs);
		const keys = limits.map((l) => this.keys.rate(l.key));
		const args = limits.flatMap((l) => [String(l.intervalMs), String(l.burst)]);
		// Lua reads no "Infinity": a wait longer than any calendar is the same answer
		const longest = Number.isFinite(maxWaitMs) ? String(maxWaitMs) : '1e300';
		const [granted, wait, now] = await this.call('rate limiting', () =>
			this.client.postalReserveRate(keys.length, ...keys, String(cost), longest, ...args),
		);
		return { granted: Number(granted) === 1, waitMs: Number(wait), now: Number(now) };
	}

	async claimOnce(scope: string, req: OnceClaimRequest): Promise<OnceClaim[]> {
		if (req.keys.length === 0) return [];
		const redisKeys = req.keys.map((k) => this.keys.once(scope, k));
		const args = [
			req.token,
			req.owner,
			String(Math.max(0, Math.round(req.leaseMs))),
			ms(req.ttlMs),
			req.takeExpired ? '1' : '0',
			req.peek ? '1' : '0',
		];
		const out = await this.call('claiming duplicate markers', () =>
			this.client.postalClaimOnce(redisKeys.length, ...redisKeys, ...args),
		);
		return out.map((v) => JSON.parse(v) as OnceClaim);
	}

	async settleOnce(scope: string, settlements: OnceSettlement[], ttlMs: number): Promise<void> {
		if (settlements.length === 0) return;
		const redisKeys = settlements.map((s) => this.keys.once(scope, s.key));
		const args = settlements.flatMap((s) => [
			s.token,
			s.outcome,
			s.delivered && s.delivered.length > 0 ? JSON.stringify(s.delivered) : '',
		]);
		await this.call('settling duplicate markers', () =>
			this.client.postalSettleOnce(redisKeys.length, ...redisKeys, ms(ttlMs), ...args),
		);
	}

	/**
	 * One page of a SCAN-like listing, exactly at most `page.count` long. `scan(source, cursor)` is
	 * one SCAN or HSCAN on a server (a Cluster's masters are the sources, in host order): the next
	 * scan cursor and the batch's entries that the listing keeps; `load(keys)` reads such entries
	 * again. A batch's extent depends on what the hash or keyspace holds, so a page never stops at
	 * a position inside one: the batch's entries not given yet travel in the cursor
	 * (`<source>:<next scan cursor>:<their keys>`) and are read again first — one removed meanwhile
	 * is gone, none is lost — and the scan goes on from where Redis said.
	 */
	private async scanPage<T extends { key: string }>(
		sources: number,
		scan: (source: number, cursor: string) => Promise<[string, T[]]>,
		load: (keys: string[]) => Promise<T[]>,
		page: PageRequest,
	): Promise<{ items: T[]; cursor: string | null }> {
		const m = /^(\d+):(\d+)(?::([A-Za-z0-9_-]*))?$/.exec(page.cursor ?? '0:0');
		let pending: string[] = [];
		try {
			if (!m) throw new Error();
			if (m[3]) pending = JSON.parse(Buffer.from(m[3], 'base64url').toString('utf8')) as string[];
			if (!Array.isArray(pending) || pending.some((k) => typeof k !== 'string')) throw new Error();
		} catch {
			throw new Error(`"${page.cursor}" is not a cursor this store gave`);
		}
		let source = Number(m![1]);
		let cursor = m![2];
		const items: T[] = [];
		const cut = (batch: T[]): { items: T[]; cursor: string } | undefined => {
			const room = page.count - items.length;
			if (batch.length <= room) {
				items.push(...batch);
				return undefined;
			}
			items.push(...batch.slice(0, room));
			const rest = batch.slice(room).map((e) => e.key);
			return {
				items,
				cursor: `${source}:${cursor}:${Buffer.from(JSON.stringify(rest), 'utf8').toString('base64url')}`,
			};
		};
		const byKey = (a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
		if (pending.length) {
			const stop = cut((await load(pending)).sort(byKey));
			if (stop) return stop;
		}
		for (let calls = 0; calls < MAX_SCAN_CALLS && source < sources; calls++) {
			if (items.length === page.count) break;
			const [next, batch] = await scan(source, cursor);
			// the cursor after this batch: where the scan goes on
			if (next === '0') {
				source++;
				cursor = '0';
			} else cursor = next;
			const stop = cut(batch.sort(byKey));
			if (stop) return stop;
		}
		return { items, cursor: source >= sources ? null : `${source}:${cursor}` };
	}

	/** the servers a key SCAN must visit: this one, or every master of a Cluster (in host order) */
	private scanServers(): Redis[] {
		if (!(this.client instanceof Cluster)) return [this.client as Redis];
		const name = (r: Redis) => `${r.options.host}:${r.options.port}`;
		return this.client.nodes('master').sort((a, b) => (name(a) < name(b) ? -1 : 1));
	}

	async listOnce(scope: string, page: OncePageRequest): Promise<Page<OnceEntry>> {
		checkPage(page);
		const head = this.keys.once(scope, '');
		return this.call('listing duplicate markers', async () => {
			const servers = this.scanServers();
			const now = page.inDoubt ? await this.now() : 0;
			// the campaign's keys share one slot: one MGET, on the server that holds them
			const load = async (keys: string[]): Promise<Array<{ key: string; marker: Marker }>> => {
				if (keys.length === 0) return [];
				const values = await this.client.mget(...keys);
				return keys.flatMap((key, i) => {
					const marker = readMarker(values[i]);
					if (!marker || (page.inDoubt && !isInDoubt(marker, now))) return [];
					return [{ key, marker }];
				});
			};
			const found = await this.scanPage(
				servers.length,
				async (source, cursor) => {
					const [next, keys] = await servers[source].scan(
						cursor,
						'MATCH',
						`${globLiteral(head)}*`,
						'COUNT',
						String(Math.max(page.count, 100)),
					);
					return [next, await load([...new Set(keys)])];
				},
				load,
				page,
			);
			return {
				items: found.items.map((f) => ({ key: f.key.slice(head.length), marker: f.marker })),
				cursor: found.cursor,
			};
		});
	}

	async releaseOnce(scope: string, keys: string[]): Promise<boolean[]> {
		if (keys.length === 0) return [];
		const redisKeys = keys.map((k) => this.keys.once(scope, k));
		const out = await this.call('releasing duplicate markers', () =>
			this.client.postalReleaseOnce(redisKeys.length, ...redisKeys),
		);
		return out.map((n) => n === 1);
	}

	async deliveryStep(req: DeliveryStepRequest): Promise<DeliveryStepAnswer> {
		checkStepArgs(req);
		if (req.settle.length + req.claim.length + req.reserve.length === 0)
			return { claims: [], reservations: [] };
		if (this.oneServer) return this.stepScript(req);
		// on a Cluster the markers (each campaign's slot) and the limits ({rates}) are apart: the
		// markers per campaign, the slots together in one script on the {rates} slot
		return composeDeliveryStep(this, req, async (all) => {
			const { reservations } = await this.stepScript({
				...req,
				settle: [],
				claim: [],
				reserve: all.map((limits) => ({ limits })),
			});
			return reservations.map((r) => (r as { rate: RateReservation }).rate);
		});
	}

	/** The step as one delivery_step.lua call: every key on one server. */
	private async stepScript(req: DeliveryStepRequest): Promise<DeliveryStepAnswer> {
		const keys: string[] = [];
		const args = [
			String(req.settle.length),
			String(req.claim.length),
			String(req.reserve.length),
			ms(req.ttlMs),
			req.owner,
			String(Math.max(0, Math.round(req.leaseMs))),
			req.takeExpired ? '1' : '0',
			Number.isFinite(req.maxWaitMs) ? String(req.maxWaitMs) : '1e300',
		];
		for (const { scope, settlement: s } of req.settle) {
			keys.push(this.keys.once(scope, s.key));
			args.push(
				s.token,
				s.outcome,
				s.delivered && s.delivered.length > 0 ? JSON.stringify(s.delivered) : '',
			);
		}
		for (const c of req.claim) {
			keys.push(this.keys.once(c.scope, c.key));
			args.push(c.token);
		}
		for (const r of req.reserve) {
			if (r.marker) keys.push(this.keys.once(r.marker.scope, r.marker.key));
			args.push(r.marker ? '1' : '0', String(r.limits.length));
			for (const l of r.limits) {
				keys.push(this.keys.rate(l.key));
				args.push(String(l.intervalMs), String(l.burst));
			}
		}
		const out = await this.call('starting sends', () =>
			this.client.postalDeliveryStep(keys.length, ...keys, ...args),
		);
		const now = Number(out[out.length - 1]);
		const C = req.claim.length;
		return {
			claims: out.slice(0, C).map((v) => JSON.parse(v) as OnceClaim),
			reservations: req.reserve.map((_, r) => {
				const [held, granted, wait] = out.slice(C + 3 * r, C + 3 * r + 3);
				return held !== ''
					? { held: JSON.parse(held) as OnceClaim }
					: { rate: { granted: granted === '1', waitMs: Number(wait), now } };
			}),
		};
	}

	async recordHealth(
		route: string,
		ok: boolean,
		policy: HealthPolicy,
	): Promise<{ state: CircuitState; opened: boolean }> {
		const args = [
			route,
			ok ? '1' : '0',
			policy.failureThreshold,
			policy.baseEjectionMs,
			policy.maxEjectionMs,
			policy.backoff,
			policy.jitter,
		].map(String);
		const [text, opened] = await this.call('recording route health', () =>
			this.client.postalRecordHealth(1, this.keys.circuits(), ...args),
		);
		return { state: JSON.parse(text) as CircuitState, opened: Number(opened) === 1 };
	}

	async getCircuits(routes: string[]): Promise<(CircuitState | null)[]> {
		if (routes.length === 0) return [];
		const values = await this.call('reading route health', () =>
			this.client.hmget(this.keys.circuits(), ...routes),
		);
		return values.map((v) => (v ? (JSON.parse(v) as CircuitState) : null));
	}

	async setCircuit(route: string, state: CircuitState | null): Promise<void> {
		// every field, as the memory store keeps it: recordHealth goes on from failures and probing too
		const fields = state && {
			openUntil: state.openUntil,
			ejections: state.ejections,
			failures: state.failures,
			probing: state.probing,
			lastEjectedAt: state.lastEjectedAt,
			probePasses: state.probePasses,
			enforcement: state.enforcement,
		};
		await this.call('writing route health', () =>
			fields
				? this.client.hset(this.keys.circuits(), route, JSON.stringify(fields))
				: this.client.hdel(this.keys.circuits(), route),
		);
	}

	async setRouteLimits(
		scope: string,
		entries: Array<{ route: string; limit: RouteLimit | null }>,
		ttlMs: number,
	): Promise<void> {
		if (entries.length === 0) return;
		const key = this.keys.routeLimits(scope);
		await this.call('recording route limits', async () => {
			const multi = this.client.multi();
			for (const { route, limit } of entries)
				if (limit)
					multi.hset(
						key,
						route,
						JSON.stringify({ limit: limit.limit, per: limit.per, kind: limit.kind }),
					);
				else multi.hdel(key, route);
			multi.pexpire(key, ms(ttlMs));
			await multi.exec();
		});
	}

	async getRouteLimits(scope: string, routes: string[]): Promise<(RouteLimit | null)[]> {
		if (routes.length === 0) return [];
		const values = await this.call('reading route limits', () =>
			this.client.hmget(this.keys.routeLimits(scope), ...routes),
		);
		return values.map((v) => (v ? (JSON.parse(v) as RouteLimit) : null));
	}

	async setWarmup(
		scope: string,
		entries: Array<{ route: string; warmup: WarmupRecord | null }>,
		ttlMs: number,
	): Promise<void> {
		if (entries.length === 0) return;
		const key = this.keys.warmup(scope);
		const texts = entries.map((e) => (e.warmup ? warmupRecordText(e.warmup) : null));
		await this.call('recording warm-up', async () => {
			const multi = this.client.multi();
			entries.forEach(({ route }, i) => {
				const text = texts[i];
				if (text) multi.hset(key, route, text);
				else multi.hdel(key, route);
			});
			multi.pexpire(key, ms(ttlMs));
			await multi.exec();
		});
	}

	async getWarmup(scope: string, routes: string[]): Promise<(WarmupRecord | null)[]> {
		if (routes.length === 0) return [];
		const values = await this.call('reading warm-up', () =>
			this.client.hmget(this.keys.warmup(scope), ...routes),
		);
		return values.map((v) => parseWarmupRecord(v));
	}

	async getMx(domains: string[]): Promise<(MxCacheEntry | null)[]> {
		if (domains.length === 0) return [];
		const values = await this.call('reading the MX cache', () =>
			this.client.mget(...domains.map((d) => this.keys.mx(d))),
		);
		return values.map((v) => (v === null ? null : { hosts: v ? v.split(' ') : [] }));
	}

	async setMx(
		entries: Array<{ domain: string; value: MxCacheEntry }>,
		ttlMs: number,
	): Promise<void> {
		if (entries.length === 0) return;
		const ttl = Math.max(1, Math.round(ttlMs));
		await this.call('writing the MX cache', async () => {
			const multi = this.client.multi();
			for (const e of entries)
				multi.set(this.keys.mx(e.domain), e.value.hosts.join(' '), 'PX', ttl);
			await multi.exec();
		});
	}

	async clearScope(scope: string): Promise<void> {
		await this.call('clearing a campaign', async () => {
			const idx = this.keys.index(scope);
			const members = await this.client.smembers(idx);
			// idempotency markers stay (as in the memory store): a reset must never make a message go out twice
			await this.client.del(idx, this.keys.counters(scope), this.keys.spills(scope), ...members);
		});
	}

	async suppress(list: string, entries: SuppressionEntry[]): Promise<void> {
		checkSuppressionEntries(entries);
		if (entries.length === 0) return;
		const args = entries.flatMap((e) => [
			e.key,
			encodeSuppression(e),
			e.until === undefined ? '' : String(e.until),
		]);
		await this.call('adding to the suppression list', () =>
			this.client.postalSuppress(1, this.keys.suppression(list), ...args),
		);
	}

	async getSuppressions(list: string, keys: string[]): Promise<(SuppressionEntry | null)[]> {
		if (keys.length === 0) return [];
		// the server's clock with the values, in one transaction: the same now for every key
		const [time, values] = await this.call('reading the suppression list', async () => {
			const replies = await this.client
				.multi()
				.time()
				.hmget(this.keys.suppression(list), ...keys)
				.exec();
			if (!replies) throw new Error('the transaction was aborted');
			for (const [error] of replies) if (error) throw error;
			return [replies[0][1] as [string, string], replies[1][1] as Array<string | null>];
		});
		const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
		return keys.map((k, i) => readSuppression(k, values[i], now));
	}

	async listSuppressions(list: string, page: PageRequest): Promise<Page<SuppressionEntry>> {
		checkPage(page);
		const key = this.keys.suppression(list);
		return this.call('listing the suppression list', async () => {
			const now = await this.now();
			const keep = (fields: string[], values: Array<string | null>) =>
				fields.flatMap((k, i) => readSuppression(k, values[i], now) ?? []);
			const found = await this.scanPage(
				1,
				async (_, cursor) => {
					const [next, flat] = await this.client.hscan(key, cursor, 'COUNT', String(page.count));
					const fields: string[] = [];
					const values: string[] = [];
					for (let i = 0; i < flat.length; i += 2) {
						fields.push(flat[i]);
						values.push(flat[i + 1]);
					}
					return [next, keep(fields, values)];
				},
				async (fields) =>
					fields.length ? keep(fields, await this.client.hmget(key, ...fields)) : [],
				page,
			);
			return found;
		});
	}

	async clearOutcomes(pairs: Array<{ route: string; group: string }>): Promise<void> {
		if (pairs.length === 0) return;
		const now = await this.now();
		// every bucket that can still live: from the oldest kept to the one after now
		const keys = pairs.flatMap(({ route, group }) =>
			(['minute', 'hour'] as const).flatMap((resolution) => {
				const b = OUTCOME_BUCKETS[resolution];
				return bucketRange(
					bucketStart(now - b.keepMs - b.ms, resolution),
					now + b.ms + 1,
					resolution,
				).map((start) => this.keys.outcomes(route, group, resolution, start));
			}),
		);
		await this.call('clearing outcome counters', async () => {
			// one slot ({rep}): one transaction, also on a Cluster
			const replies = await this.client
				.multi()
				.del(...keys)
				.zrem(this.keys.outcomePairs(), ...pairs.map((p) => pairMember(p.route, p.group)))
				.exec();
			if (!replies) throw new Error('the transaction was aborted');
			for (const [error] of replies) if (error) throw error;
		});
	}

	async stickyRoutes(
		scope: string,
		key: string,
	): Promise<Array<{ partition: string; route: string }>> {
		const head = this.keys.sticky(scope, '');
		return this.call('reading sticky routes', async () => {
			// the campaign's index lists its partitioners' sticky hashes (allocate.lua adds them)
			const tables = (await this.client.smembers(this.keys.index(scope)))
				.filter((k) => k.startsWith(head))
				.sort();
			if (tables.length === 0) return [];
			const multi = this.client.multi();
			for (const t of tables) multi.hget(t, key);
			const replies = await multi.exec();
			if (!replies) throw new Error('the transaction was aborted');
			return tables
				.flatMap((t, i) => {
					const [error, route] = replies[i];
					if (error) throw error;
					return route === null
						? []
						: [{ partition: unKeyPart(t.slice(head.length)), route: String(route) }];
				})
				.sort(byPartition);
		});
	}

	async unsuppress(list: string, keys: string[]): Promise<number> {
		if (keys.length === 0) return 0;
		return this.call('removing from the suppression list', () =>
			this.client.hdel(this.keys.suppression(list), ...keys),
		);
	}

	async countOutcomes(entries: OutcomeEntry[]): Promise<void> {
		checkOutcomeEntries(entries);
		// every bucket (the script drops those whose time is over, by the server's clock)
		const writes = outcomeWrites(entries, -Infinity);
		if (writes.length === 0) return;
		const pairs = pairWrites(entries, -Infinity);
		const keys = [
			...writes.map((w) => this.keys.outcomes(w.route, w.group, w.resolution, w.start)),
			this.keys.outcomePairs(),
		];
		const args = [
			...writes.flatMap((w) => [
				String(w.expiresAt),
				String(w.counts.length),
				...w.counts.flatMap(([f, n]) => [f, String(n)]),
			]),
			String(OUTCOME_BUCKETS.hour.ms),
			String(OUTCOME_BUCKETS.hour.keepMs),
			String(MAX_OUTCOME_PAIRS),
			String(pairs.length),
			...pairs.flatMap((p) => [p.member, String(p.lastAt), String(p.expiresAt)]),
		];
		// one slot ({rep}): one script for the buckets and the pair index, also on a Cluster
		await this.call('counting outcomes', () =>
			this.client.postalCountOutcomes(keys.length, ...keys, ...args),
		);
	}

	async listOutcomePairs(): Promise<OutcomePair[]> {
		// the server's clock with the index, in one transaction: what has expired by then is left out
		const [time, flat] = await this.call('listing outcome pairs', async () => {
			const replies = await this.client
				.multi()
				.time()
				.zrevrange(this.keys.outcomePairs(), 0, MAX_OUTCOME_PAIRS - 1, 'WITHSCORES')
				.exec();
			if (!replies) throw new Error('the transaction was aborted');
			for (const [error] of replies) if (error) throw error;
			return [replies[0][1] as [string, string], replies[1][1] as string[]];
		});
		const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
		const listed: Array<{ member: string; lastAt: number }> = [];
		for (let i = 0; i < flat.length; i += 2)
			listed.push({ member: flat[i], lastAt: Number(flat[i + 1]) });
		// sorted again in JS: the same order as the embedded stores, whatever the set's tie order
		return outcomePairsOf(listed.filter((p) => pairExpiry(p.lastAt) > now).sort(comparePairs));
	}

	async readOutcomes(
		route: string,
		group: string,
		resolution: OutcomeResolution,
		from: number,
		to: number,
	): Promise<OutcomeBucket[]> {
		const starts = bucketRange(from, to, resolution);
		if (starts.length === 0) return [];
		const replies = await this.call('reading outcome counters', async () => {
			const multi = this.client.multi();
			for (const start of starts)
				multi.hgetall(this.keys.outcomes(route, group, resolution, start));
			const r = await multi.exec();
			if (!r) throw new Error('the transaction was aborted');
			return r.map(([error, value]) => {
				if (error) throw error;
				return value as Record<string, string>;
			});
		});
		const out: OutcomeBucket[] = [];
		starts.forEach((start, i) => {
			const counts = readOutcomeFields(replies[i]);
			if (Object.keys(counts).length) out.push({ start, counts });
		});
		return out;
	}

	async recordLedger(entries: Array<{ key: string; value: string }>, ttlMs: number): Promise<void> {
		if (entries.length === 0) return;
		// one slot ({ledger}): one script for the batch, also on a Cluster
		await this.call('writing the message ledger', () =>
			this.client.postalLedgerPut(
				entries.length,
				...entries.map((e) => this.keys.ledger(e.key)),
				ms(ttlMs),
				...entries.map((e) => e.value),
			),
		);
	}

	async readLedger(keys: string[]): Promise<(string | null)[]> {
		if (keys.length === 0) return [];
		// one slot ({ledger}): one MGET, also on a Cluster
		return this.call('reading the message ledger', () =>
			this.client.mget(...keys.map((k) => this.keys.ledger(k))),
		);
	}

	async markSeen(keys: string[], ttlMs: number): Promise<boolean[]> {
		if (keys.length === 0) return [];
		const ttl = ms(ttlMs);
		// one slot ({seen}); MULTI runs the SET NX in order, so a key twice is new only once
		return this.call('marking events seen (webhook dedupe, alert cooldowns)', async () => {
			const multi = this.client.multi();
			for (const k of keys) multi.set(this.keys.seen(k), '1', 'PX', ttl, 'NX');
			const replies = (await multi.exec()) ?? [];
			if (replies.length !== keys.length) throw new Error('the transaction was discarded');
			return replies.map(([error, reply]) => {
				if (error) throw error;
				return reply === 'OK';
			});
		});
	}

	async publishAlerts(
		alerts: AlertInput[],
		cooldownMs = DEFAULT_ALERT_COOLDOWN_MS,
	): Promise<string[]> {
		checkAlerts(alerts);
		checkCooldown(cooldownMs);
		if (alerts.length === 0) return [];
		// one slot ({alerts}): the cooldown marks are set in the script that appends, so a mark
		// never stands without its alert, nor an alert twice within the cooldown
		return this.call('publishing alerts', () =>
			this.client.postalPublishAlerts(
				2 + alerts.length,
				this.keys.alerts(),
				this.keys.alertSeq(),
				...alerts.map((a) => this.keys.alertCooldown(...alertScope(a))),
				String(Math.round(cooldownMs)),
				String(ALERT_LOG_MAX),
				...alerts.map(encodeAlert),
			),
		);
	}

	async readAlerts(group: string, consumer: string, options: { count: number }): Promise<Alert[]> {
		checkReadArgs(group, consumer, options.count);
		const flat = await this.call('reading alerts', () =>
			this.client.postalReadAlerts(1, this.keys.alerts(), group, consumer, String(options.count)),
		);
		const alerts: Alert[] = [];
		const foreign: string[] = [];
		for (let i = 0; i < flat.length; i += 2) {
			const alert = decodeAlert(flat[i], flat[i + 1]);
			if (alert) alerts.push(alert);
			else foreign.push(flat[i]);
		}
		// an entry this package did not write would stay pending and be read first forever
		if (foreign.length) await this.ackAlerts(group, foreign);
		return alerts;
	}

	async recentAlerts(count: number): Promise<Alert[]> {
		checkRecentCount(count);
		const entries = await this.call('reading recent alerts', () =>
			this.client.xrevrange(this.keys.alerts(), '+', '-', 'COUNT', count),
		);
		// each entry's one field is `a`, the alert's JSON (alerts_publish.lua)
		return entries.flatMap(([id, fields]) => decodeAlert(id, fields[1]) ?? []);
	}

	async ackAlerts(group: string, ids: string[]): Promise<number> {
		if (ids.length === 0) return 0;
		return this.call('acknowledging alerts', () =>
			this.client.xack(this.keys.alerts(), group, ...ids),
		);
	}

	async close(): Promise<void> {
		this.client.disconnect();
	}

	/** For tests and benchmarks: the underlying client. */
	get redis(): Redis | Cluster {
		return this.client;
	}
}
