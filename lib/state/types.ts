/**
 * The StateStore contract: everything routing remembers between items, batches, executions and
 * workers. Each call is atomic and batch-oriented — one call per batch, never one per item — so
 * the Redis implementation can run it as one Lua script in one round trip.
 */

/** what any store throws when its state cannot be reached (./errors.ts) */
export { StateUnavailableError } from './errors';
import type { SuppressionEntry } from './suppression';
import type { OutcomeBucket, OutcomeEntry, OutcomePair, OutcomeResolution } from './outcomes';
import type { ReputationChange, ReputationEvent, ReputationState } from './reputation';
import type { Alert, AlertInput } from './alerts';
import type { WarmupRecord } from './warmupRecord';
export type { WarmupRecord } from './warmupRecord';
import type { Marker } from './once';
export type { Alert, AlertInput, AlertSeverity, AlertType } from './alerts';
export type { SuppressionEntry, SuppressionReason } from './suppression';
export type {
	OutcomeBucket,
	OutcomeCounts,
	OutcomeEntry,
	OutcomePair,
	OutcomeResolution,
} from './outcomes';
export type { ReputationChange, ReputationEvent, ReputationState } from './reputation';

/** A per-route counter that resets when its window ends (warm-up day, daily or hourly cap). */
export interface CapWindow {
	/** unique per route and window, built by capKeys in ./keys.ts, e.g. `d:2026-11-22:SendGrid` */
	key: string;
	/** how many assignments the window allows */
	limit: number;
	/** when the window ends (epoch ms): the counter expires then, and deferred items retry then */
	resetAt: number;
}

export interface AllocRoute {
	name: string;
	/** the route's circuit name (./keys.ts circuitName): the store skips the route while that circuit is open */
	circuit: string;
	caps: CapWindow[];
}

/**
 * Items that share the same eligible routes and the same sequence. The route for the item at
 * sequence position `pos` is `routes[cycle[floor(pos / repeat) % cycle.length]]`.
 */
export interface AllocClass {
	/** the sequence counter, unique per campaign, node and split */
	counterKey: string;
	cycle: number[];
	repeat: number;
	/** eligible route indices, in priority order */
	candidates: number[];
	/** spill weights, one per candidate (used when spill is `weights`) */
	weights: number[];
	/** how to choose when the sequence's route is unavailable */
	spill: 'weights' | 'priority';
}

export interface AllocItem {
	cls: number;
	/** sticky key (normalized recipient); absent = not sticky */
	key?: string;
	/** a route chosen for this item by the caller (rendezvous hashing) instead of the class sequence */
	prefer?: number;
	/** the item's domain group, an index into the request's `groups`: its routes' reputation applies */
	group?: number;
}

export interface AllocateRequest {
	/** the campaign: every key of the call lives under it (one hash slot on Redis Cluster) */
	scope: string;
	/** the partitioner within the campaign: its sticky assignments are its own */
	stickyKey: string;
	routes: AllocRoute[];
	classes: AllocClass[];
	items: AllocItem[];
	/**
	 * the domain groups the items name (AllocItem.group): a route suspended for an item's group is
	 * unavailable to it, and a throttled one keeps only its share (./reputation.ts reputationShare)
	 */
	groups?: string[];
	/** compute the answer, write nothing */
	dryRun?: boolean;
	/**
	 * how long state lives after its last use: the campaign's counters after its last call, this
	 * partitioner's sticky assignments after its last call (cap windows live until their resetAt)
	 */
	ttlMs: number;
}

export const VIA_SEQUENCE = 0;
export const VIA_STICKY = 1;
export const VIA_SPILL = 2;
export const VIA_DEFERRED = 3;
export type Via = typeof VIA_SEQUENCE | typeof VIA_STICKY | typeof VIA_SPILL | typeof VIA_DEFERRED;

export interface AllocateResult {
	/** route index per item; -1 when deferred */
	route: number[];
	via: Via[];
	/** for deferred items, when a route has room again (epoch ms); 0 if unknown */
	retryAt: number[];
	/** the store's clock when the call ran */
	now: number;
	/** per route, when its circuit closes (epoch ms) if it was open during the call, else 0 */
	openUntil: number[];
	/**
	 * per item, the position of its class sequence it took (so the caller can tell which cycle
	 * entry placed it); -1 for a sticky, preferred or deferred item
	 */
	pos: number[];
	/** per request group, per route: the reputation state the call read (null: none) */
	reputation?: (ReputationState | null)[][];
}

/** A campaign held back: until when, by which rule, why, since when. */
export interface CampaignPause {
	until: number;
	rule: string;
	reason: string;
	since: number;
}

/** The circuit of a route, written by the send node and read when routing. */
export interface CircuitState {
	/** the route takes no traffic until then (epoch ms) */
	openUntil: number;
	/** ejections so far, for the growing cool-down (reset after a healthy spell) */
	ejections: number;
	/** route-level failures in a row since the last success */
	failures?: number;
	/** after an ejection: the next outcome is a probe that closes or re-opens the circuit */
	probing?: boolean;
	lastEjectedAt?: number;
	/**
	 * passing probes in a row while the circuit is open (Load-Balanced Send › Probe Connection's
	 * Rise: it closes at `rise`); any failure ends the count (../state/health applyHealth)
	 */
	probePasses?: number;
	/** the provider account's enforcement status a probe last saw (SES: HEALTHY, PROBATION, SHUTDOWN) */
	enforcement?: string;
}

/**
 * Envoy-style outlier detection: `failureThreshold` route-level failures in a row eject the route
 * for base × backoff^(ejections−1), capped at max, times `jitter` (a factor the caller draws, e.g.
 * 0.9–1.1, so workers do not all return at once). A failed probe re-ejects at once.
 */
export interface HealthPolicy {
	failureThreshold: number;
	baseEjectionMs: number;
	maxEjectionMs: number;
	backoff: number;
	jitter: number;
}

/**
 * A GCRA rate limit on one key: at most one message per `intervalMs` on average, and up to `burst`
 * at once after an idle spell. The key holds its state (./gcra.ts RateState).
 */
export interface RateLimit {
	key: string;
	intervalMs: number;
	burst: number;
}

/** What `reserveRate` answers. */
export interface RateReservation {
	/**
	 * true: the slot `waitMs` from now is reserved in every limit — go then, not before;
	 * false: the slot would be more than the longest wait away, and nothing was reserved
	 */
	granted: boolean;
	/** granted: how long until the reserved slot; refused: until the slot it would have had */
	waitMs: number;
	/** the store's clock (epoch ms) when the call ran: the slot is at now + waitMs */
	now: number;
}

/**
 * A route's own rate limit, as its send node reports it for the Route Partitioner (*Move the excess
 * to routes with room*): the tighter of the node's Connection Rate Limit and its SMTP credential's.
 */
export interface RouteLimit {
	/** messages per `per` */
	limit: number;
	/** a rate unit name (lib/throttle/units.ts): second, minute, hour or day */
	per: string;
	/** which limit it is, for the reason the partitioner gives */
	kind: 'connection' | 'credential';
}

/**
 * What a claim of a duplicate marker found (./once.ts has the rules):
 * - claimed: this call took the key under the caller's lease; `reclaimed` when it took over an
 *   earlier run's lease that ran out or ended in doubt (policy "resend"), `delivered` when an
 *   earlier run delivered to some recipients already (send to the others only);
 * - sent: delivered before, to every recipient;
 * - leased: another run holds a live lease (it is sending it now): leave the item alone;
 * - in-doubt: an earlier run's lease ran out or its send ended without an answer, and the caller's
 *   policy is "don't resend".
 */
export type OnceState = 'claimed' | 'sent' | 'leased' | 'in-doubt';

export interface OnceClaim {
	state: OnceState;
	/** leased, in-doubt, or claimed over a partial delivery: when the earlier claim was made (epoch ms) */
	since?: number;
	/** leased, in-doubt: the run that made it (e.g. "execution 42 · Send via A") */
	owner?: string;
	/** leased: when that lease runs out (epoch ms) */
	leaseUntil?: number;
	/** claimed over an expired lease or an in-doubt marker: whose, and since when */
	reclaimed?: { since: number; owner: string };
	/** claimed: digests (./keys.ts recipientDigest) of the recipients an earlier run delivered to */
	delivered?: string[];
}

export interface OnceClaimRequest {
	keys: string[];
	/** this claim's own token: settlements other than 'sent' only apply over it */
	token: string;
	/** who claims, for people: shown to a later run that meets the lease */
	owner: string;
	/** how long the lease protects the claim (one transaction with its retries) */
	leaseMs: number;
	/** how long the marker lives in any state: the duplicate window */
	ttlMs: number;
	/** what to do with an expired lease or an in-doubt marker: true = take it (resend), false = leave it */
	takeExpired: boolean;
	/** answer what the claim would find, and write nothing (a look before a rate wait) */
	peek?: boolean;
}

/**
 * How a claim ended: sent (every recipient accepted; written whatever the marker holds); partial
 * (only the recipients in `delivered`, which includes earlier deliveries); release (nothing went:
 * the marker goes back to what the claim found); doubt (it may have gone: an unknown outcome).
 */
export interface OnceSettlement {
	key: string;
	token: string;
	outcome: 'sent' | 'partial' | 'release' | 'doubt';
	delivered?: string[];
}

/**
 * One step of the send pipeline in one store call (./step.ts has the rules): first the
 * settlements of tries that ended, then the claims of tries whose rate slot has come, then the
 * reservations of rate slots for tries to come (a reservation whose marker is not free — sent,
 * leased, in doubt — reserves nothing). The pipeline puts a worker's settlement, its next claim
 * and a reservation ahead into one step, so a sent message costs one store call, limits or not.
 */
export interface DeliveryStepRequest {
	/** the duplicate window: every marker the step writes lives this long */
	ttlMs: number;
	/** who claims, for people (see OnceClaimRequest) */
	owner: string;
	/** how long a claim protects its try */
	leaseMs: number;
	/** an expired lease or an in-doubt marker: true = take it (resend), false = leave it */
	takeExpired: boolean;
	/** a rate slot further away than this is not reserved */
	maxWaitMs: number;
	settle: Array<{ scope: string; settlement: OnceSettlement }>;
	claim: Array<{ scope: string; key: string; token: string }>;
	reserve: Array<{ limits: RateLimit[]; marker?: { scope: string; key: string } }>;
}

export interface DeliveryStepAnswer {
	/** per claim, what it found (see OnceState) */
	claims: OnceClaim[];
	/** per reservation: `held`, what the marker holds when it is not free (nothing reserved), or the reservation of one message in every limit */
	reservations: Array<{ held: OnceClaim } | { rate: RateReservation }>;
}

/**
 * One page of a listing (listOnce, listSuppressions): at most the `count` asked for, and the
 * cursor of the next page (null: nothing left). As Redis's SCAN: every entry there from the first
 * page to the last is given at least once (the caller drops a repeat); one added or removed meanwhile
 * may or may not be.
 */
export interface Page<T> {
	items: T[];
	cursor: string | null;
}

export interface PageRequest {
	/** the previous page's cursor; absent or null: the first page */
	cursor?: string | null;
	/** the most entries the page holds (1–1000) */
	count: number;
}

export interface OncePageRequest extends PageRequest {
	/** only markers in doubt at the store's now (./once.ts isInDoubt): `count` counts those */
	inDoubt?: boolean;
}

/** A duplicate marker as listed: its digest (the marker's key) and what it holds (./once.ts). */
export interface OnceEntry {
	key: string;
	marker: Marker;
}

/** An MX cache entry; `hosts` empty = the domain has no MX. */
export interface MxCacheEntry {
	hosts: string[];
}

export interface StateStore {
	readonly kind: 'memory' | 'redis' | 'sqlite';
	/** the store's clock (epoch ms): Redis server time for the Redis store */
	now(): Promise<number>;
	/**
	 * The store's own secret for keyed hashes of recipients (./keys.ts recipientDigest): made once,
	 * the same for every caller of the store (every worker on one Redis), never shown.
	 */
	hashSecret(): Promise<string>;
	/** Assigns a batch of items to routes, atomically, skipping routes whose circuit is open: see ./allocate.ts. */
	allocate(request: AllocateRequest): Promise<AllocateResult>;
	/** How many assignments each cap window has used (0 for unknown keys). */
	capUsage(scope: string, keys: string[]): Promise<number[]>;
	/**
	 * Reserves `cost` messages in every limit at the earliest slot all of them allow, or in none:
	 * one atomic call per message, no polling. Callers are served in the order their calls reach
	 * the store (first come, first served across every worker); the caller waits `waitMs`, and a
	 * caller that goes late pushes nobody back. When the slot is more than `maxWaitMs` away nothing
	 * is reserved and the answer says when that slot would have been. The algorithm is ./gcra.ts.
	 */
	reserveRate(limits: RateLimit[], cost: number, maxWaitMs: number): Promise<RateReservation>;
	/** Claims duplicate markers in a campaign as leases: one answer per key (see OnceState). */
	claimOnce(scope: string, request: OnceClaimRequest): Promise<OnceClaim[]>;
	/** Settles claims, each by its outcome (see OnceSettlement); markers live `ttlMs` from now. */
	settleOnce(scope: string, settlements: OnceSettlement[], ttlMs: number): Promise<void>;
	/**
	 * A page of a campaign's duplicate markers, in every state or (`inDoubt`) those in doubt only.
	 * Bounded: Redis SCANs (every master of a Cluster), the embedded stores read the keys in order.
	 */
	listOnce(scope: string, page: OncePageRequest): Promise<Page<OnceEntry>>;
	/**
	 * An operator's release of markers (./once.ts releaseMarker): each one in doubt goes back to
	 * what its recipients had before, so a re-run sends it; per key, true when it was in doubt and
	 * released, false when it was not (left as it is). Atomic; a marker keeps its lifetime.
	 */
	releaseOnce(scope: string, keys: string[]): Promise<boolean[]>;
	/** Settles finished tries and starts new ones, in one atomic call (see DeliveryStepRequest). */
	deliveryStep(request: DeliveryStepRequest): Promise<DeliveryStepAnswer>;
	/** Records a send outcome for a route's health, atomically; says whether this call opened the circuit. */
	recordHealth(
		route: string,
		ok: boolean,
		policy: HealthPolicy,
	): Promise<{ state: CircuitState; opened: boolean }>;
	getCircuits(routes: string[]): Promise<(CircuitState | null)[]>;
	setCircuit(route: string, state: CircuitState | null): Promise<void>;
	/**
	 * Records each route's own limit in a campaign (null: the route has none now), replacing what
	 * was there; the campaign's limits live `ttlMs` after the last call.
	 */
	setRouteLimits(
		scope: string,
		entries: Array<{ route: string; limit: RouteLimit | null }>,
		ttlMs: number,
	): Promise<void>;
	/** The limits last recorded for these routes of a campaign (null: none recorded). */
	getRouteLimits(scope: string, routes: string[]): Promise<(RouteLimit | null)[]>;
	/**
	 * Records each route's warm-up today in a campaign, as its Route Partitioner knows it (null: the
	 * route has no warm-up), replacing what was there; the campaign's records live `ttlMs` after the
	 * last call. What stats and the report show (./warmupRecord.ts); routing never reads it.
	 */
	setWarmup(
		scope: string,
		entries: Array<{ route: string; warmup: WarmupRecord | null }>,
		ttlMs: number,
	): Promise<void>;
	/** The warm-up records of these routes of a campaign (null: none recorded). */
	getWarmup(scope: string, routes: string[]): Promise<(WarmupRecord | null)[]>;
	getMx(domains: string[]): Promise<(MxCacheEntry | null)[]>;
	setMx(entries: Array<{ domain: string; value: MxCacheEntry }>, ttlMs: number): Promise<void>;
	/**
	 * Forgets a campaign's counters, caps and sticky assignments (a reset); idempotency markers and
	 * the routes' recorded limits stay.
	 */
	clearScope(scope: string): Promise<void>;
	/**
	 * Adds entries to a suppression list ('' is the default list), each merged with what the list
	 * holds for its key (./suppression.ts mergeSuppression). Never expires as a whole.
	 */
	suppress(list: string, entries: SuppressionEntry[]): Promise<void>;
	/** Per key: the entry that applies now (its `until` not passed), or null. */
	getSuppressions(list: string, keys: string[]): Promise<(SuppressionEntry | null)[]>;
	/** A page of a list's entries that apply now, in every store's own order (see Page). */
	listSuppressions(list: string, page: PageRequest): Promise<Page<SuppressionEntry>>;
	/** Removes keys from a list; resolves to how many of them it held. */
	unsuppress(list: string, keys: string[]): Promise<number>;
	/**
	 * The message ledger: what a sent message's feedback needs to find its way back (a provider
	 * message id, or a digest reference → the reference's text), each entry living `ttlMs`; a key
	 * written again is replaced. Keys from ./keys.ts ledgerKeys.
	 */
	recordLedger(entries: Array<{ key: string; value: string }>, ttlMs: number): Promise<void>;
	/** Per key: the value, or null when none (or it expired). */
	readLedger(keys: string[]): Promise<(string | null)[]>;
	/**
	 * Marks keys seen for `ttlMs`, atomically (SET NX PX): per key, true when it was not seen before
	 * (or its mark expired), false when it was; a key twice in one call is new only the first time.
	 * What dedupes redelivered webhook events and Mailgun's replay tokens, and keeps a Postal Alert
	 * Trigger's cooldown (../alerts/consume.ts). Keys from ./keys.ts seenKeys.
	 */
	markSeen(keys: string[], ttlMs: number): Promise<boolean[]>;
	/**
	 * Adds outcome counts per route × domain group to their minute and hour buckets
	 * (./outcomes.ts: the fields, bucket sizes and lifetimes), and each pair it counts into to the
	 * pair index (with the latest time counted). One call for a batch.
	 */
	countOutcomes(entries: OutcomeEntry[]): Promise<void>;
	/**
	 * The route × group pairs with counters (the pair index, ./outcomes.ts): latest counted first,
	 * at most MAX_OUTCOME_PAIRS (5000); an entry lasts as long as the hour bucket of its lastAt.
	 */
	listOutcomePairs(): Promise<OutcomePair[]>;
	/**
	 * Drops every bucket of these route × group pairs (minutes and hours) and their pair index
	 * entries: the counts start again from nothing.
	 */
	clearOutcomes(pairs: Array<{ route: string; group: string }>): Promise<void>;
	/**
	 * Where a sticky key (a recipientDigest, as the partitioner hashes it) is assigned in a
	 * campaign: per partitioner (its node id, as the Route Partitioner names its sticky table)
	 * that holds it, the route; in partitioner order.
	 */
	stickyRoutes(scope: string, key: string): Promise<Array<{ partition: string; route: string }>>;
	/** The buckets of [from, to) at a resolution that hold counts, oldest first. */
	readOutcomes(
		route: string,
		group: string,
		resolution: OutcomeResolution,
		from: number,
		to: number,
	): Promise<OutcomeBucket[]>;
	/**
	 * Holds a campaign (its list quality, or an operator) until `pause.until`: Load-Balanced Send
	 * sends none of its messages meanwhile. null lifts it. Gone by itself when it ends.
	 */
	setCampaignPause(campaign: string, pause: CampaignPause | null): Promise<void>;
	/** the pauses in force, null where none */
	getCampaignPauses(campaigns: string[]): Promise<(CampaignPause | null)[]>;
	/** route × domain group reputation (./reputation.ts), null where there is none */
	getReputation(
		pairs: Array<{ route: string; group: string }>,
	): Promise<(ReputationState | null)[]>;
	/**
	 * Applies changes to one domain group's routes in one atomic call (applyReputationChanges over
	 * every route the store has for the group): the states that changed, what happened, and when.
	 */
	updateReputation(
		group: string,
		changes: ReputationChange[],
	): Promise<{ states: Record<string, ReputationState>; events: ReputationEvent[]; now: number }>;
	/**
	 * Appends alerts to the alert log (./alerts.ts; at most ALERT_LOG_MAX kept), each unless the
	 * same type, route and group was published within `cooldownMs` (default 15 min): the cooldown
	 * mark is set in the same atomic call (SET NX PX). The ids of those published, in order.
	 */
	publishAlerts(alerts: AlertInput[], cooldownMs?: number): Promise<string[]>;
	/**
	 * Reads for a consumer of a consumer group (XREADGROUP): the group is made on first use at the
	 * log's end; the consumer's pending alerts (read, not acknowledged: it restarted) come first,
	 * then new ones, each given to one consumer of the group once. At most `count`, oldest first.
	 */
	readAlerts(group: string, consumer: string, options: { count: number }): Promise<Alert[]>;
	/**
	 * The latest alerts of the log, newest first, at most `count` (XREVRANGE): a look that consumes
	 * nothing — no group is made, nothing becomes pending. What the report shows as state changes.
	 */
	recentAlerts(count: number): Promise<Alert[]>;
	/** Acknowledges alerts of a group (XACK): they are not read again; how many were pending. */
	ackAlerts(group: string, ids: string[]): Promise<number>;
	close(): Promise<void>;
}
