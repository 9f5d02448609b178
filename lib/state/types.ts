/**
 * The StateStore contract: everything routing remembers between items, batches, executions and
 * workers. Each call is atomic and batch-oriented — one call per batch, never one per item — so
 * the Redis implementation can run it as one Lua script in one round trip.
 */

/** A per-route counter that resets when its window ends (warm-up day, daily or hourly cap). */
export interface CapWindow {
	/** unique per route and window, e.g. `day:2026-11-22:SendGrid` */
	key: string;
	/** how many assignments the window allows */
	limit: number;
	/** when the window ends (epoch ms): the counter expires then, and deferred items retry then */
	resetAt: number;
}

export interface AllocRoute {
	name: string;
	caps: CapWindow[];
	/** the route's circuit is open until then (epoch ms); 0 = closed. Read by the caller from `getCircuits`. */
	openUntil: number;
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
}

export interface AllocateRequest {
	/** the campaign: every key of the call lives under it (one hash slot on Redis Cluster) */
	scope: string;
	/** the partitioner within the campaign: its sticky assignments are its own */
	stickyKey: string;
	routes: AllocRoute[];
	classes: AllocClass[];
	items: AllocItem[];
	/** compute the answer, write nothing */
	dryRun?: boolean;
	/** how long the campaign's sticky assignments and counters live after their last use */
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
}

/** The circuit of a route, written by the send node and read when routing. */
export interface CircuitState {
	/** the route takes no traffic until then (epoch ms) */
	openUntil: number;
	/** consecutive ejections so far, for the growing cool-down */
	ejections: number;
}

/** An MX cache entry; `hosts` empty = the domain has no MX. */
export interface MxCacheEntry {
	hosts: string[];
}

export interface StateStore {
	readonly kind: 'memory' | 'redis';
	/** the store's clock (epoch ms): Redis server time for the Redis store */
	now(): Promise<number>;
	/** Assigns a batch of items to routes, atomically: see `allocate` in ./allocate.ts. */
	allocate(request: AllocateRequest): Promise<AllocateResult>;
	/** How many assignments each cap window has used (0 for unknown keys). */
	capUsage(scope: string, keys: string[]): Promise<number[]>;
	getCircuits(routes: string[]): Promise<(CircuitState | null)[]>;
	setCircuit(route: string, state: CircuitState | null): Promise<void>;
	getMx(domains: string[]): Promise<(MxCacheEntry | null)[]>;
	setMx(entries: Array<{ domain: string; value: MxCacheEntry }>, ttlMs: number): Promise<void>;
	/** Forgets everything under a scope (a campaign reset). */
	clearScope(scope: string): Promise<void>;
	close(): Promise<void>;
}
