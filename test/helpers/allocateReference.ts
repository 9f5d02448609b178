import {
	VIA_DEFERRED,
	VIA_SEQUENCE,
	VIA_SPILL,
	VIA_STICKY,
	type AllocateRequest,
	type AllocateResult,
	type Via,
} from '../../lib/state/types';
import type { AllocationState, AllocationWrites } from '../../lib/state/allocate';

/** what the reference writes: the sticky writes as the Map they were then */
type ReferenceWrites = Omit<AllocationWrites, 'sticky'> & { sticky: Map<string, string> };

/**
 * lib/state/allocate.ts as it was before it was made fast (closures per check, a copy of every
 * write): the straightforward reading of the algorithm, which the fast one must answer exactly as
 * (test/unit/allocate.test.ts). Keep it as it is.
 */
export function referenceAllocate(
	req: AllocateRequest,
	state: AllocationState,
	now: number,
): { result: AllocateResult; writes: ReferenceWrites } {
	const n = req.items.length;
	const route = new Array<number>(n);
	const via = new Array<Via>(n);
	const retryAt = new Array<number>(n).fill(0);
	const position = new Array<number>(n).fill(-1);
	const writes: ReferenceWrites = {
		counters: new Map(),
		spills: new Map(),
		sticky: new Map(),
		caps: new Map(),
	};

	const routeIndex = new Map<string, number>();
	req.routes.forEach((r, i) => routeIndex.set(r.name, i));

	// Route availability is tracked locally as caps fill during the batch.
	const open = req.routes.map((r) => {
		const until = state.openUntil(r.circuit);
		return until > now ? until : 0;
	});
	const capUsed = req.routes.map((r) => r.caps.map((c) => state.capUsed(c.key)));
	const hasRoom = (r: number): boolean => {
		if (open[r] !== 0) return false;
		const caps = req.routes[r].caps;
		for (let k = 0; k < caps.length; k++) if (capUsed[r][k] >= caps[k].limit) return false;
		return true;
	};
	const take = (r: number) => {
		const caps = req.routes[r].caps;
		for (let k = 0; k < caps.length; k++) capUsed[r][k]++;
	};
	const reopensAt = (r: number): number => {
		let t = open[r];
		const caps = req.routes[r].caps;
		for (let k = 0; k < caps.length; k++)
			if (capUsed[r][k] >= caps[k].limit) t = Math.max(t, caps[k].resetAt);
		return t;
	};

	const pos = req.classes.map((c) => state.counter(c.counterKey));
	const spills = req.classes.map((c) => state.spillCounts(c.counterKey, c.candidates.length));
	const stickyLocal = new Map<string, string>();

	for (let i = 0; i < n; i++) {
		const item = req.items[i];
		const ci = item.cls;
		const cls = req.classes[ci];

		if (item.key !== undefined) {
			const prior = stickyLocal.get(item.key) ?? state.sticky(item.key);
			if (prior !== undefined) {
				const r = routeIndex.get(prior);
				if (r !== undefined && cls.candidates.includes(r)) {
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
		if (hasRoom(seqRoute)) {
			chosen = seqRoute;
		} else {
			how = VIA_SPILL;
			const counts = spills[ci];
			let best = -1;
			let bestScore = Infinity;
			for (let k = 0; k < cls.candidates.length; k++) {
				const r = cls.candidates[k];
				if (!hasRoom(r)) continue;
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
			if (best !== -1) {
				chosen = cls.candidates[best];
				counts[best]++;
			}
		}

		if (chosen === -1) {
			route[i] = -1;
			via[i] = VIA_DEFERRED;
			let t = Infinity;
			for (const r of cls.candidates) t = Math.min(t, reopensAt(r));
			retryAt[i] = Number.isFinite(t) ? t : 0;
			continue;
		}
		if (fromSequence) position[i] = pos[ci]++;
		take(chosen);
		route[i] = chosen;
		via[i] = how;
		if (item.key !== undefined) stickyLocal.set(item.key, req.routes[chosen].name);
	}

	req.classes.forEach((c, ci) => {
		writes.counters.set(c.counterKey, pos[ci]);
		writes.spills.set(c.counterKey, spills[ci]);
	});
	for (const [k, v] of stickyLocal) writes.sticky.set(k, v);
	req.routes.forEach((r, ri) =>
		r.caps.forEach((c, k) => writes.caps.set(c.key, { used: capUsed[ri][k], resetAt: c.resetAt })),
	);

	return { result: { route, via, retryAt, now, openUntil: open, pos: position }, writes };
}
