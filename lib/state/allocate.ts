import {
	VIA_DEFERRED,
	VIA_SEQUENCE,
	VIA_SPILL,
	VIA_STICKY,
	type AllocateRequest,
	type AllocateResult,
	type AllocItem,
	type Via,
} from './types';
import { reputationShare, type ReputationState } from './reputation';

/** the golden ratio's fraction: x·φ mod 1 spreads any run of whole numbers evenly over [0, 1) */
const WEYL = 0.6180339887498949;

/**
 * Whether the item at sequence position `x` stays on a route that keeps `share` (0–1) of its
 * traffic for the item's group: a Weyl sequence, so over any run of positions the kept part is
 * `share` to within a few items, with no state of its own. Mirrored in lua/allocate.lua.
 */
export function keepsShare(x: number, share: number): boolean {
	const y = x * WEYL;
	return y - Math.floor(y) < share;
}

/**
 * What `allocate` reads and writes. The memory store passes its maps; the Redis store runs the same
 * algorithm in Lua (lua/allocate.lua) — the contract suite holds both to the same answers.
 */
export interface AllocationState {
	counter(key: string): number;
	spillCounts(key: string, n: number): number[];
	sticky(key: string): string | undefined;
	/**
	 * For a store that reads a batch's sticky keys faster at once: per item, the stored route of its
	 * key (undefined: none, or no key) and the first item of the batch with the same key (-1: no
	 * key). allocate then asks nothing of sticky() and needs no map of the batch's keys.
	 */
	stickyBatch?(items: readonly AllocItem[]): StickyBatch;
	capUsed(key: string): number;
	/** when the route's circuit closes, or 0 */
	openUntil(route: string): number;
	/** the route's reputation for a domain group (./reputation.ts), or null */
	reputation?(group: string, route: string): ReputationState | null;
}

export interface StickyBatch {
	stored: ReadonlyArray<string | undefined>;
	first: ArrayLike<number>;
}

export interface AllocationWrites {
	counters: Map<string, number>;
	spills: Map<string, number[]>;
	/**
	 * the batch's sticky assignments, one per key in the order first made: the key, its route (the
	 * last one the batch gave it) and the item that made it
	 */
	sticky: { keys: string[]; routes: string[]; items: number[] };
	caps: Map<string, { used: number; resetAt: number }>;
}

/**
 * The allocation algorithm, per item in order:
 * 1. a sticky item already assigned to a route that is still a candidate keeps it;
 * 2. otherwise the class sequence (or the item's own `prefer`red route) names a route; if it is
 *    available (circuit closed, every cap window below its limit) the item takes it and the
 *    sequence advances (a preferred route leaves the sequence alone);
 * 3. otherwise the item spills to an available candidate — the first in priority order, or the one
 *    furthest behind its weight among spills — and the sequence still advances;
 *    (an item placed by its class sequence, in 2 or 3, is told the position it took)
 * 4. when no candidate is available the item is deferred (the sequence does not advance) with the
 *    earliest time a candidate reopens.
 * An item with a domain group sees its routes' reputation for that group: a suspended route is
 * unavailable to it (a sticky assignment to it moves too), and a throttled or slowly starting one
 * keeps only its share of the items its sequence names (keepsShare; the rest spill, to routes at
 * full share first), so the split stays exact among the others.
 * All reads happen first and all writes at the end, so it is atomic wherever the caller makes the
 * whole call atomic.
 */
export function allocate(
	req: AllocateRequest,
	state: AllocationState,
	now: number,
): { result: AllocateResult; writes: AllocationWrites } {
	const { items, classes, routes } = req;
	const n = items.length;
	const route = new Array<number>(n);
	const via = new Array<Via>(n);
	const retryAt = new Array<number>(n).fill(0);
	const position = new Array<number>(n).fill(-1);

	const routeIndex = new Map<string, number>();
	routes.forEach((r, i) => routeIndex.set(r.name, i));

	// Route availability is tracked locally as caps fill during the batch: `room[r]` is what
	// "circuit closed and every cap window below its limit" says now, updated when r is taken, so
	// the per-item test is one read.
	const open = routes.map((r) => {
		const until = state.openUntil(r.circuit);
		return until > now ? until : 0;
	});
	const capUsed = routes.map((r) => r.caps.map((c) => state.capUsed(c.key)));
	const room = routes.map((r, ri) => {
		if (open[ri] !== 0) return false;
		for (let k = 0; k < r.caps.length; k++) if (capUsed[ri][k] >= r.caps[k].limit) return false;
		return true;
	});
	const reopensAt = (r: number): number => {
		let t = open[r];
		const caps = routes[r].caps;
		for (let k = 0; k < caps.length; k++)
			if (capUsed[r][k] >= caps[k].limit) t = Math.max(t, caps[k].resetAt);
		return t;
	};

	// per request group, per route: the reputation read, its share now, and when a suspension ends
	const groups = req.groups ?? [];
	const reputation = groups.map((g) =>
		routes.map((r) => (state.reputation ? state.reputation(g, r.name) : null)),
	);
	const share = reputation.map((states) => states.map((s) => reputationShare(s, now)));
	// a batch whose routes all keep their full share for every group routes as if it had no groups
	// (the same answers: a full share changes no choice), without a per-item look
	const reduced = share.some((row) => row.some((x) => x < 1));
	const suspendedUntil = reputation.map((states, g) =>
		states.map((s, r) => (share[g][r] === 0 && s ? s.suspendedUntil : 0)),
	);
	/** per class, the items placed on a preferred route so far (their keepsShare position) */
	const preferred = classes.map(() => 0);

	const pos = classes.map((c) => state.counter(c.counterKey));
	const spills = classes.map((c) => state.spillCounts(c.counterKey, c.candidates.length));
	// a stored route is kept only while it is still one of the class's candidates
	const isCandidate = classes.map((c) => {
		const set = new Uint8Array(routes.length);
		for (const r of c.candidates) if (r >= 0 && r < routes.length) set[r] = 1;
		return set;
	});
	// this call's sticky assignments (they are also the writes); items with the same key share the
	// index of the first of them, and `written` says which write that key has (-1: none yet)
	// (sized for the batch and cut to what was written: growing them made most of allocate's garbage)
	const sticky: AllocationWrites['sticky'] = {
		keys: new Array<string>(n),
		routes: new Array<string>(n),
		items: new Array<number>(n),
	};
	let made = 0;
	const batch = state.stickyBatch?.(items);
	const firstOf = batch ? undefined : new Map<string, number>();
	const written = new Int32Array(n).fill(-1);

	for (let i = 0; i < n; i++) {
		const item = items[i];
		const ci = item.cls;
		const cls = classes[ci];
		const key = item.key;
		const sh = reduced && item.group !== undefined ? share[item.group] : undefined;

		let first = -1;
		if (key !== undefined) {
			if (batch) first = batch.first[i];
			else {
				first = firstOf!.get(key) ?? -1;
				if (first === -1) firstOf!.set(key, (first = i));
			}
			const w = written[first];
			const prior = w !== -1 ? sticky.routes[w] : batch ? batch.stored[i] : state.sticky(key);
			if (prior !== undefined) {
				const r = routeIndex.get(prior);
				if (r !== undefined && isCandidate[ci][r] === 1 && (sh === undefined || sh[r] > 0)) {
					route[i] = r;
					via[i] = VIA_STICKY;
					continue;
				}
			}
		}

		let chosen = -1;
		let how: Via = VIA_SEQUENCE;
		const fromSequence = item.prefer === undefined;
		const seqRoute = fromSequence
			? cls.cycle[Math.floor(pos[ci] / cls.repeat) % cls.cycle.length]
			: item.prefer!;
		let takes = room[seqRoute] === true;
		if (takes && sh !== undefined && sh[seqRoute] < 1)
			takes =
				sh[seqRoute] > 0 &&
				keepsShare(fromSequence ? pos[ci] : pos[ci] + preferred[ci]++, sh[seqRoute]);
		if (takes) {
			chosen = seqRoute;
		} else {
			how = VIA_SPILL;
			const counts = spills[ci];
			const candidates = cls.candidates;
			let best = -1;
			// routes at their full share first; a throttled one takes a spill only when none is left
			for (let pass = sh === undefined ? 1 : 0; pass < 2 && best === -1; pass++) {
				let bestScore = Infinity;
				for (let k = 0; k < candidates.length; k++) {
					const c = candidates[k];
					if (room[c] !== true) continue;
					if (sh !== undefined && (pass === 0 ? sh[c] < 1 : sh[c] === 0)) continue;
					if (cls.spill === 'priority') {
						best = k;
						break;
					}
					const score = (counts[k] + 1) / cls.weights[k];
					if (score < bestScore) {
						bestScore = score;
						best = k;
					}
				}
			}
			if (best !== -1) {
				chosen = candidates[best];
				counts[best]++;
			}
		}

		if (chosen === -1) {
			route[i] = -1;
			via[i] = VIA_DEFERRED;
			let t = Infinity;
			for (const r of cls.candidates)
				t = Math.min(
					t,
					item.group === undefined
						? reopensAt(r)
						: Math.max(reopensAt(r), suspendedUntil[item.group][r]),
				);
			retryAt[i] = Number.isFinite(t) ? t : 0;
			continue;
		}
		if (fromSequence) position[i] = pos[ci]++;
		const caps = routes[chosen].caps;
		const used = capUsed[chosen];
		for (let k = 0; k < caps.length; k++) if (++used[k] >= caps[k].limit) room[chosen] = false;
		route[i] = chosen;
		via[i] = how;
		if (key !== undefined) {
			const w = written[first];
			if (w !== -1) sticky.routes[w] = routes[chosen].name;
			else {
				written[first] = made;
				sticky.keys[made] = key;
				sticky.routes[made] = routes[chosen].name;
				sticky.items[made++] = i;
			}
		}
	}

	sticky.keys.length = sticky.routes.length = sticky.items.length = made;
	const writes: AllocationWrites = {
		counters: new Map(),
		spills: new Map(),
		sticky,
		caps: new Map(),
	};
	classes.forEach((c, ci) => {
		writes.counters.set(c.counterKey, pos[ci]);
		writes.spills.set(c.counterKey, spills[ci]);
	});
	routes.forEach((r, ri) =>
		r.caps.forEach((c, k) => writes.caps.set(c.key, { used: capUsed[ri][k], resetAt: c.resetAt })),
	);

	const result: AllocateResult = { route, via, retryAt, now, openUntil: open, pos: position };
	if (req.groups) result.reputation = reputation;
	return { result, writes };
}
