import { randomBytes } from 'node:crypto';
import { allocate, type AllocationState } from './allocate';
import { checkRateArgs, rateStateEnd, reserve, type RateState } from './gcra';
import { applyHealth } from './health';
import { claimMarker, isInDoubt, readMarker, releaseMarker, settleMarker } from './once';
import { byPartition, checkPage, keysPage } from './page';
import { checkStepArgs, runDeliveryStep } from './step';
import { StickyTable } from './stickyTable';
import { StoreKeys } from './keys';
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
import {
	bucketRange,
	checkOutcomeEntries,
	listedPairs,
	mergeOutcomePairs,
	outcomePairsOf,
	outcomeWrites,
	pairMember,
	pairWrites,
	readOutcomeFields,
	type OutcomeBucket,
	type OutcomeEntry,
	type OutcomeField,
	type OutcomePair,
	type OutcomeResolution,
} from './outcomes';
import {
	applyReputationChanges,
	DEFAULT_REPUTATION_POLICY,
	type ReputationChange,
	type ReputationEvent,
	type ReputationState,
} from './reputation';
import {
	checkSuppressionEntries,
	mergeSuppression,
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

/** A marker's map key: a tuple, so no campaign text can reach into another campaign's markers. */
const onceId = (scope: string, key: string) => JSON.stringify([scope, key]);

interface Expiring<T> {
	value: T;
	expiresAt: number;
}

/**
 * One campaign's state. Each part expires on its own, as its Redis key does: the counters (and
 * spills) the TTL after the campaign's last call, a partition's sticky assignments the TTL after
 * that partition's last call, a cap window when the window ends.
 */
interface ScopeState {
	counters: Map<string, number>;
	spills: Map<string, number[]>;
	/** when the counters and spills expire */
	expiresAt: number;
	sticky: Map<string, Expiring<StickyTable>>;
	caps: Map<string, Expiring<number>>;
}

export interface MemoryStateStoreOptions {
	/** the clock, for tests; defaults to Date.now */
	clock?: () => number;
}

/**
 * The embedded store: state lives in this n8n process. Each call runs synchronously between two
 * awaits, so it is atomic with respect to every other call in the process.
 */
export class MemoryStateStore implements StateStore {
	readonly kind = 'memory' as const;
	private readonly scopes = new Map<string, ScopeState>();
	private readonly circuits = new Map<string, CircuitState>();
	/** campaign pauses, until they end */
	private readonly pauses = new Map<string, CampaignPause>();
	/** route reputation: group → route → state, as ./reputation.ts keeps it */
	private readonly reputations = new Map<string, Expiring<Map<string, ReputationState>>>();
	private readonly mx = new Map<string, Expiring<MxCacheEntry>>();
	private readonly rates = new Map<string, Expiring<RateState>>();
	/** the routes' own limits per campaign, as their send nodes report them */
	private readonly routeLimits = new Map<string, Expiring<Map<string, RouteLimit>>>();
	/** per campaign: route → the warm-up record's text */
	private readonly warmups = new Map<string, Expiring<Map<string, string>>>();
	/** duplicate markers, as ./once.ts writes them */
	private readonly once = new Map<string, Expiring<string>>();
	/** suppression lists: list → digest → entry, as ./suppression.ts encodes it */
	private readonly suppressions = new Map<string, Map<string, string>>();
	/** the message ledger */
	private readonly ledger = new Map<string, Expiring<string>>();
	/** seen marks (webhook dedupe) */
	private readonly seen = new Map<string, Expiring<true>>();
	/** the alert log (seq → alert JSON, in order; the oldest dropped past ALERT_LOG_MAX) */
	private readonly alertLog = new Map<number, string>();
	private alertLast = 0;
	private readonly alertGroups = new Map<string, AlertGroupState>();
	/** alert cooldown marks under their StoreKeys names */
	private readonly alertCooldowns = new Map<string, Expiring<true>>();
	/** outcome buckets under their StoreKeys names */
	private readonly outcomes = new Map<string, Expiring<Map<OutcomeField, number>>>();
	/** the pair index (./outcomes.ts): pair member → lastAt */
	private outcomePairs = new Map<string, number>();
	private readonly keys = new StoreKeys('');
	private readonly clock: () => number;
	private lastSweep = 0;
	/** the state lives in this process, and so does the key its recipient hashes are made with */
	private readonly secret = randomBytes(32).toString('base64url');

	constructor(options: MemoryStateStoreOptions = {}) {
		this.clock = options.clock ?? Date.now;
	}

	async now(): Promise<number> {
		return this.clock();
	}

	async hashSecret(): Promise<string> {
		return this.secret;
	}

	async allocate(req: AllocateRequest): Promise<AllocateResult> {
		const now = this.clock();
		this.sweep(now);
		const scope = this.scope(req.scope, now);
		const stored = scope.sticky.get(req.stickyKey);
		const sticky = stored && stored.expiresAt > now ? stored.value : undefined;
		// the batch's keys are looked up together (./stickyTable.ts), and written the same way
		const table = sticky ?? new StickyTable();
		const view: AllocationState = {
			counter: (k) => scope.counters.get(k) ?? 0,
			spillCounts: (k, n) => {
				const s = scope.spills.get(k);
				return s && s.length === n ? s.slice() : new Array<number>(n).fill(0);
			},
			sticky: (k) => table.get(k),
			stickyBatch: (items) => table.lookUp(items),
			capUsed: (k) => {
				const c = scope.caps.get(k);
				return c && c.expiresAt > now ? c.value : 0;
			},
			openUntil: (r) => this.circuits.get(r)?.openUntil ?? 0,
			reputation: (g, r) => this.reputationOf(g, now)?.get(r) ?? null,
		};
		const { result, writes } = allocate(req, view, now);
		if (req.dryRun) return result;

		scope.expiresAt = now + req.ttlMs;
		for (const [k, v] of writes.counters) scope.counters.set(k, v);
		for (const [k, v] of writes.spills) scope.spills.set(k, v);
		// every call of the partition keeps its sticky assignments alive, a hit as much as a new one
		if (sticky || writes.sticky.keys.length > 0) {
			table.insert(writes.sticky.items, writes.sticky.routes);
			scope.sticky.set(req.stickyKey, { value: table, expiresAt: now + req.ttlMs });
		}
		for (const [k, c] of writes.caps) scope.caps.set(k, { value: c.used, expiresAt: c.resetAt });
		return result;
	}

	async capUsage(scopeName: string, keys: string[]): Promise<number[]> {
		const now = this.clock();
		const scope = this.scopes.get(scopeName);
		return keys.map((k) => {
			const c = scope?.caps.get(k);
			return c && c.expiresAt > now ? c.value : 0;
		});
	}

	async reserveRate(
		limits: RateLimit[],
		cost: number,
		maxWaitMs: number,
	): Promise<RateReservation> {
		checkRateArgs(limits, cost, maxWaitMs);
		const now = this.clock();
		const stored = limits.map((l) => {
			const e = this.rates.get(l.key);
			return e && e.expiresAt > now ? e.value : undefined;
		});
		const r = reserve(limits, stored, cost, now, maxWaitMs);
		if (r.granted)
			limits.forEach((l, i) =>
				this.rates.set(l.key, {
					value: r.states[i],
					expiresAt: rateStateEnd(l, r.states[i]) + 1000,
				}),
			);
		return { granted: r.granted, waitMs: r.waitMs, now };
	}

	async claimOnce(scope: string, req: OnceClaimRequest): Promise<OnceClaim[]> {
		const now = this.clock();
		return req.keys.map((k) => {
			const id = onceId(scope, k);
			const { claim, store } = claimMarker(this.onceValue(id, now), req, now);
			if (store !== undefined && !req.peek)
				this.once.set(id, { value: store, expiresAt: now + req.ttlMs });
			return claim;
		});
	}

	async settleOnce(scope: string, settlements: OnceSettlement[], ttlMs: number): Promise<void> {
		const now = this.clock();
		for (const s of settlements) {
			const id = onceId(scope, s.key);
			const next = settleMarker(this.onceValue(id, now), s, now);
			if (next === null) this.once.delete(id);
			else if (next !== undefined) this.once.set(id, { value: next, expiresAt: now + ttlMs });
		}
	}

	async deliveryStep(req: DeliveryStepRequest): Promise<DeliveryStepAnswer> {
		checkStepArgs(req);
		const now = this.clock();
		return runDeliveryStep(
			req,
			{
				marker: (scope, key) => this.onceValue(onceId(scope, key), now),
				putMarker: (scope, key, value, expiresAt) => {
					if (value === null) this.once.delete(onceId(scope, key));
					else this.once.set(onceId(scope, key), { value, expiresAt });
				},
				rate: (l) => {
					const e = this.rates.get(l.key);
					return e && e.expiresAt > now ? e.value : undefined;
				},
				putRate: (l, value, expiresAt) => this.rates.set(l.key, { value, expiresAt }),
			},
			now,
		);
	}

	async listOnce(scope: string, page: OncePageRequest): Promise<Page<OnceEntry>> {
		checkPage(page);
		const now = this.clock();
		// onceId is JSON of [scope, key]: the scope's ids all start with its first element
		const head = JSON.stringify([scope]).slice(0, -1) + ',';
		const keys: string[] = [];
		for (const [id, e] of this.once)
			if (
				e.expiresAt > now &&
				id.startsWith(head) &&
				(!page.inDoubt || isInDoubt(readMarker(e.value), now))
			)
				keys.push((JSON.parse(id) as string[])[1]);
		const { keys: taken, cursor } = keysPage(keys, page);
		return {
			items: taken.map((key) => ({
				key,
				marker: readMarker(this.onceValue(onceId(scope, key), now))!,
			})),
			cursor,
		};
	}

	async releaseOnce(scope: string, keys: string[]): Promise<boolean[]> {
		const now = this.clock();
		return keys.map((k) => {
			const id = onceId(scope, k);
			const next = releaseMarker(this.onceValue(id, now), now);
			if (next === undefined) return false;
			if (next === null) this.once.delete(id);
			else this.once.get(id)!.value = next;
			return true;
		});
	}

	private onceValue(id: string, now: number): string | undefined {
		const e = this.once.get(id);
		return e && e.expiresAt > now ? e.value : undefined;
	}

	async recordHealth(
		route: string,
		ok: boolean,
		policy: HealthPolicy,
	): Promise<{ state: CircuitState; opened: boolean }> {
		const result = applyHealth(this.circuits.get(route) ?? null, ok, policy, this.clock());
		this.circuits.set(route, result.state);
		return { state: { ...result.state }, opened: result.opened };
	}

	async getCircuits(routes: string[]): Promise<(CircuitState | null)[]> {
		return routes.map((r) => {
			const c = this.circuits.get(r);
			return c ? { ...c } : null;
		});
	}

	async setCircuit(route: string, state: CircuitState | null): Promise<void> {
		if (state) this.circuits.set(route, { ...state });
		else this.circuits.delete(route);
	}

	async setRouteLimits(
		scope: string,
		entries: Array<{ route: string; limit: RouteLimit | null }>,
		ttlMs: number,
	): Promise<void> {
		const now = this.clock();
		const e = this.routeLimits.get(scope);
		const map = e && e.expiresAt > now ? e.value : new Map<string, RouteLimit>();
		for (const { route, limit } of entries)
			if (limit) map.set(route, { ...limit });
			else map.delete(route);
		// as a Redis hash: gone when its last field is, else kept ttlMs from this call
		if (map.size === 0) this.routeLimits.delete(scope);
		else this.routeLimits.set(scope, { value: map, expiresAt: now + ttlMs });
	}

	async getRouteLimits(scope: string, routes: string[]): Promise<(RouteLimit | null)[]> {
		const now = this.clock();
		const e = this.routeLimits.get(scope);
		const map = e && e.expiresAt > now ? e.value : undefined;
		return routes.map((r) => {
			const limit = map?.get(r);
			return limit ? { ...limit } : null;
		});
	}

	async setWarmup(
		scope: string,
		entries: Array<{ route: string; warmup: WarmupRecord | null }>,
		ttlMs: number,
	): Promise<void> {
		const now = this.clock();
		const e = this.warmups.get(scope);
		const map = e && e.expiresAt > now ? e.value : new Map<string, string>();
		for (const { route, warmup } of entries)
			if (warmup) map.set(route, warmupRecordText(warmup));
			else map.delete(route);
		// as a Redis hash: gone when its last field is, else kept ttlMs from this call
		if (map.size === 0) this.warmups.delete(scope);
		else this.warmups.set(scope, { value: map, expiresAt: now + ttlMs });
	}

	async getWarmup(scope: string, routes: string[]): Promise<(WarmupRecord | null)[]> {
		const now = this.clock();
		const e = this.warmups.get(scope);
		const map = e && e.expiresAt > now ? e.value : undefined;
		return routes.map((r) => parseWarmupRecord(map?.get(r)));
	}

	async getMx(domains: string[]): Promise<(MxCacheEntry | null)[]> {
		const now = this.clock();
		return domains.map((d) => {
			const e = this.mx.get(d);
			return e && e.expiresAt > now ? { hosts: [...e.value.hosts] } : null;
		});
	}

	async setMx(
		entries: Array<{ domain: string; value: MxCacheEntry }>,
		ttlMs: number,
	): Promise<void> {
		const expiresAt = this.clock() + ttlMs;
		for (const e of entries)
			this.mx.set(e.domain, { value: { hosts: [...e.value.hosts] }, expiresAt });
	}

	async clearScope(scope: string): Promise<void> {
		// idempotency markers stay: a campaign reset must never make a message go out twice; the
		// routes' limits are facts about their connections, not routing state
		this.scopes.delete(scope);
	}

	private reputationOf(group: string, now: number): Map<string, ReputationState> | undefined {
		const e = this.reputations.get(group);
		return e && e.expiresAt > now ? e.value : undefined;
	}

	async setCampaignPause(campaign: string, pause: CampaignPause | null): Promise<void> {
		if (pause && pause.until > this.clock()) this.pauses.set(campaign, { ...pause });
		else this.pauses.delete(campaign);
	}

	async getCampaignPauses(campaigns: string[]): Promise<(CampaignPause | null)[]> {
		const now = this.clock();
		return campaigns.map((c) => {
			const p = this.pauses.get(c);
			return p && p.until > now ? { ...p } : null;
		});
	}

	async getReputation(
		pairs: Array<{ route: string; group: string }>,
	): Promise<(ReputationState | null)[]> {
		const now = this.clock();
		return pairs.map(({ route, group }) => {
			const s = this.reputationOf(group, now)?.get(route);
			return s ? structuredClone(s) : null;
		});
	}

	async updateReputation(
		group: string,
		changes: ReputationChange[],
	): Promise<{ states: Record<string, ReputationState>; events: ReputationEvent[]; now: number }> {
		const now = this.clock();
		const map = this.reputationOf(group, now) ?? new Map<string, ReputationState>();
		const { changed, events } = applyReputationChanges(map, changes, now);
		for (const [r, st] of changed) map.set(r, st);
		if (changed.size)
			this.reputations.set(group, {
				value: map,
				expiresAt: now + DEFAULT_REPUTATION_POLICY.keepMs,
			});
		return { states: structuredClone(Object.fromEntries(changed)), events, now };
	}

	async close(): Promise<void> {
		// nothing to release: the state belongs to the process
	}

	async suppress(list: string, entries: SuppressionEntry[]): Promise<void> {
		checkSuppressionEntries(entries);
		const now = this.clock();
		let map = this.suppressions.get(list);
		if (!map) this.suppressions.set(list, (map = new Map()));
		for (const e of entries) {
			const next = mergeSuppression(map.get(e.key), e, now);
			if (next !== undefined) map.set(e.key, next);
		}
	}

	async getSuppressions(list: string, keys: string[]): Promise<(SuppressionEntry | null)[]> {
		const now = this.clock();
		const map = this.suppressions.get(list);
		return keys.map((k) => readSuppression(k, map?.get(k), now));
	}

	async recordLedger(entries: Array<{ key: string; value: string }>, ttlMs: number): Promise<void> {
		const now = this.clock();
		this.sweep(now);
		for (const e of entries) this.ledger.set(e.key, { value: e.value, expiresAt: now + ttlMs });
	}

	async readLedger(keys: string[]): Promise<(string | null)[]> {
		const now = this.clock();
		return keys.map((k) => {
			const e = this.ledger.get(k);
			return e && e.expiresAt > now ? e.value : null;
		});
	}

	async markSeen(keys: string[], ttlMs: number): Promise<boolean[]> {
		const now = this.clock();
		this.sweep(now);
		return keys.map((k) => {
			const e = this.seen.get(k);
			if (e && e.expiresAt > now) return false;
			this.seen.set(k, { value: true, expiresAt: now + ttlMs });
			return true;
		});
	}

	async publishAlerts(
		alerts: AlertInput[],
		cooldownMs = DEFAULT_ALERT_COOLDOWN_MS,
	): Promise<string[]> {
		checkAlerts(alerts);
		checkCooldown(cooldownMs);
		const now = this.clock();
		this.sweep(now);
		const ids: string[] = [];
		for (const a of alerts) {
			if (cooldownMs > 0) {
				const key = this.keys.alertCooldown(...alertScope(a));
				const mark = this.alertCooldowns.get(key);
				if (mark && mark.expiresAt > now) continue;
				this.alertCooldowns.set(key, { value: true, expiresAt: now + cooldownMs });
			}
			const seq = ++this.alertLast;
			this.alertLog.set(seq, encodeAlert(a));
			this.alertLog.delete(seq - ALERT_LOG_MAX);
			ids.push(alertId(seq));
		}
		return ids;
	}

	async readAlerts(group: string, consumer: string, options: { count: number }): Promise<Alert[]> {
		checkReadArgs(group, consumer, options.count);
		const { state, entries } = readAlertGroup(
			this.alertGroups.get(group),
			{
				lastSeq: this.alertLast,
				get: (seq) => this.alertLog.get(seq),
				after: (seq, count) => {
					const out: Array<[number, string]> = [];
					// the log holds a contiguous run of numbers, the oldest trimmed
					for (
						let s = Math.max(seq + 1, this.alertLast - ALERT_LOG_MAX + 1);
						s <= this.alertLast;
						s++
					) {
						const text = this.alertLog.get(s);
						if (text !== undefined) out.push([s, text]);
						if (out.length === count) break;
					}
					return out;
				},
			},
			consumer,
			options.count,
		);
		this.alertGroups.set(group, state);
		return entries.flatMap(([seq, text]) => decodeAlert(alertId(seq), text) ?? []);
	}

	async recentAlerts(count: number): Promise<Alert[]> {
		checkRecentCount(count);
		const out: Alert[] = [];
		for (let s = this.alertLast; s > 0 && out.length < count; s--) {
			const text = this.alertLog.get(s);
			if (text === undefined) break;
			const alert = decodeAlert(alertId(s), text);
			if (alert) out.push(alert);
		}
		return out;
	}

	async ackAlerts(group: string, ids: string[]): Promise<number> {
		const { state, acked } = ackAlertGroup(this.alertGroups.get(group), ids);
		if (state) this.alertGroups.set(group, state);
		return acked;
	}

	async countOutcomes(entries: OutcomeEntry[]): Promise<void> {
		checkOutcomeEntries(entries);
		const now = this.clock();
		this.sweep(now);
		for (const w of outcomeWrites(entries, now)) {
			const key = this.keys.outcomes(w.route, w.group, w.resolution, w.start);
			let bucket = this.outcomes.get(key);
			if (!bucket || bucket.expiresAt <= now)
				this.outcomes.set(key, (bucket = { value: new Map(), expiresAt: w.expiresAt }));
			for (const [f, n] of w.counts) bucket.value.set(f, (bucket.value.get(f) ?? 0) + n);
		}
		const pairs = pairWrites(entries, now);
		if (pairs.length) this.outcomePairs = mergeOutcomePairs(this.outcomePairs, pairs, now);
	}

	async listOutcomePairs(): Promise<OutcomePair[]> {
		return outcomePairsOf(listedPairs(this.outcomePairs, this.clock()));
	}

	async readOutcomes(
		route: string,
		group: string,
		resolution: OutcomeResolution,
		from: number,
		to: number,
	): Promise<OutcomeBucket[]> {
		const now = this.clock();
		const out: OutcomeBucket[] = [];
		for (const start of bucketRange(from, to, resolution)) {
			const b = this.outcomes.get(this.keys.outcomes(route, group, resolution, start));
			if (!b || b.expiresAt <= now) continue;
			const counts = readOutcomeFields(Object.fromEntries(b.value));
			if (Object.keys(counts).length) out.push({ start, counts });
		}
		return out;
	}

	async listSuppressions(list: string, page: PageRequest): Promise<Page<SuppressionEntry>> {
		checkPage(page);
		const now = this.clock();
		const map = this.suppressions.get(list);
		const { keys, cursor } = keysPage(map?.keys() ?? [], page);
		return {
			items: keys.flatMap((k) => readSuppression(k, map!.get(k), now) ?? []),
			cursor,
		};
	}

	async clearOutcomes(pairs: Array<{ route: string; group: string }>): Promise<void> {
		for (const { route, group } of pairs) {
			const heads = (['minute', 'hour'] as const).map((r) =>
				this.keys.outcomeBuckets(route, group, r),
			);
			for (const k of [...this.outcomes.keys()])
				if (heads.some((h) => k.startsWith(h))) this.outcomes.delete(k);
			this.outcomePairs.delete(pairMember(route, group));
		}
	}

	async stickyRoutes(
		scopeName: string,
		key: string,
	): Promise<Array<{ partition: string; route: string }>> {
		const now = this.clock();
		const scope = this.scopes.get(scopeName);
		if (!scope) return [];
		const out: Array<{ partition: string; route: string }> = [];
		for (const [partition, e] of scope.sticky) {
			if (e.expiresAt <= now) continue;
			const route = e.value.get(key);
			if (route !== undefined) out.push({ partition, route });
		}
		return out.sort(byPartition);
	}

	async unsuppress(list: string, keys: string[]): Promise<number> {
		const map = this.suppressions.get(list);
		if (!map) return 0;
		let removed = 0;
		for (const k of keys) if (map.delete(k)) removed++;
		return removed;
	}

	private scope(name: string, now: number): ScopeState {
		let s = this.scopes.get(name);
		if (!s) {
			s = {
				counters: new Map(),
				spills: new Map(),
				expiresAt: now,
				sticky: new Map(),
				caps: new Map(),
			};
			this.scopes.set(name, s);
		} else if (s.expiresAt <= now) {
			// the counters expired; sticky assignments and cap windows have their own ends
			s.counters = new Map();
			s.spills = new Map();
		}
		return s;
	}

	/** Drops expired campaign parts and entries once a minute, so a long-lived process does not grow. */
	private sweep(now: number): void {
		if (now - this.lastSweep < 60_000) return;
		this.lastSweep = now;
		for (const [k, s] of this.scopes) {
			for (const map of [s.sticky, s.caps] as Array<Map<string, Expiring<unknown>>>)
				for (const [key, e] of map) if (e.expiresAt <= now) map.delete(key);
			if (s.expiresAt > now) continue;
			if (s.sticky.size === 0 && s.caps.size === 0) this.scopes.delete(k);
			else if (s.counters.size > 0) {
				s.counters = new Map();
				s.spills = new Map();
			}
		}
		for (const map of [
			this.mx,
			this.rates,
			this.once,
			this.routeLimits,
			this.warmups,
			this.ledger,
			this.outcomes,
			this.seen,
			this.alertCooldowns,
		] as Array<Map<string, Expiring<unknown>>>)
			for (const [k, e] of map) if (e.expiresAt <= now) map.delete(k);
	}
}
