import fc from 'fast-check';
import { allocate, type AllocationState, type StickyBatch } from '../../lib/state/allocate';
import type { AllocClass, AllocItem, AllocRoute, AllocateRequest } from '../../lib/state/types';
import { referenceAllocate } from '../helpers/allocateReference';

const NOW = Date.UTC(2026, 11, 1, 12);
const NAMES = ['a', 'b', 'c', 'gone'];
const CAP_KEYS = ['d:1:a', 'h:1:a', 'd:1:b'];
const KEYS = ['u1', 'u2', 'u3', 'u4', 'u5', ''];
const COUNTERS = ['k1', 'k2'];

interface Stored {
	counters: Record<string, number>;
	spills: Record<string, number[]>;
	sticky: Record<string, string>;
	caps: Record<string, number>;
	circuits: Record<string, number>;
}

/** A fresh view of the same stored state for each run (allocate changes the spill arrays it gets). */
function view(s: Stored): AllocationState {
	return {
		counter: (k) => s.counters[k] ?? 0,
		spillCounts: (k, n) => {
			const v = s.spills[k];
			return v && v.length === n ? v.slice() : new Array<number>(n).fill(0);
		},
		sticky: (k) => (Object.hasOwn(s.sticky, k) ? s.sticky[k] : undefined),
		capUsed: (k) => s.caps[k] ?? 0,
		openUntil: (r) => s.circuits[r] ?? 0,
	};
}

const request: fc.Arbitrary<AllocateRequest> = fc.integer({ min: 1, max: 5 }).chain((nRoutes) => {
	const routeIndex = fc.integer({ min: 0, max: nRoutes - 1 });
	// the same name twice, the same cap window on two routes, limits of every kind
	const route: fc.Arbitrary<AllocRoute> = fc.record({
		name: fc.constantFrom(...NAMES.slice(0, 3)),
		circuit: fc.constantFrom('c:a', 'c:b', 'c:c'),
		caps: fc.array(
			fc.record({
				key: fc.constantFrom(...CAP_KEYS),
				limit: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(Infinity, 2.5)),
				resetAt: fc.constantFrom(NOW + 3_600_000, NOW + 86_400_000),
			}),
			{ maxLength: 3 },
		),
	});
	const cls: fc.Arbitrary<AllocClass> = fc
		.shuffledSubarray([...Array(nRoutes).keys()], { minLength: 1 })
		.chain((candidates) =>
			fc.record({
				counterKey: fc.constantFrom(...COUNTERS),
				cycle: fc.array(routeIndex, { minLength: 1, maxLength: 8 }),
				repeat: fc.integer({ min: 1, max: 3 }),
				candidates: fc.constant(candidates),
				weights: fc.array(fc.constantFrom(1, 2, 3, 0.5, 1 / 3, 1e-9), {
					minLength: candidates.length,
					maxLength: candidates.length,
				}),
				spill: fc.constantFrom('weights' as const, 'priority' as const),
			}),
		);
	return fc.integer({ min: 1, max: 3 }).chain((nClasses) => {
		const item: fc.Arbitrary<AllocItem> = fc.record(
			{
				cls: fc.integer({ min: 0, max: nClasses - 1 }),
				key: fc.constantFrom(...KEYS),
				prefer: routeIndex,
			},
			{ requiredKeys: ['cls'] },
		);
		return fc.record({
			scope: fc.constant('c'),
			stickyKey: fc.constant('p'),
			routes: fc.array(route, { minLength: nRoutes, maxLength: nRoutes }),
			classes: fc.array(cls, { minLength: nClasses, maxLength: nClasses }),
			items: fc.array(item, { maxLength: 60 }),
			dryRun: fc.boolean(),
			ttlMs: fc.constant(3_600_000),
		});
	});
});

const stored: fc.Arbitrary<Stored> = fc.record({
	counters: fc.dictionary(fc.constantFrom(...COUNTERS), fc.integer({ min: 0, max: 50 })),
	spills: fc.dictionary(
		fc.constantFrom(...COUNTERS),
		fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 5 }),
	),
	sticky: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...NAMES)),
	caps: fc.dictionary(fc.constantFrom(...CAP_KEYS), fc.integer({ min: 0, max: 9 })),
	circuits: fc.dictionary(
		fc.constantFrom('c:a', 'c:b', 'c:c'),
		fc.constantFrom(NOW - 1000, NOW + 60_000),
	),
});

const plain = (out: ReturnType<typeof referenceAllocate>) => ({
	result: out.result,
	writes: Object.fromEntries(Object.entries(out.writes).map(([k, m]) => [k, [...m]])),
});

/** What a store that reads a batch at once answers: the stored routes, and each key's first item. */
function batchOf(state: AllocationState, items: readonly AllocItem[]): StickyBatch {
	const first = new Map<string, number>();
	return {
		stored: items.map((it) => (it.key === undefined ? undefined : state.sticky(it.key))),
		first: items.map((it, i) => {
			if (it.key === undefined) return -1;
			if (!first.has(it.key)) first.set(it.key, i);
			return first.get(it.key)!;
		}),
	};
}

describe('allocate: the fast loop answers as the straightforward one', () => {
	it('gives the same routes, vias, retry times, positions and writes for any request and state (fixed seed)', () => {
		fc.assert(
			fc.property(request, stored, fc.boolean(), (req, s, batchRead) => {
				const state = view(s);
				// a store may read the batch's sticky keys at once: the same answers
				if (batchRead) state.stickyBatch = (items) => batchOf(view(s), items);
				const fast = allocate(req, state, NOW);
				const { keys, routes, items } = fast.writes.sticky;
				const writes = {
					...fast.writes,
					sticky: new Map(keys.map((k, j) => [k, routes[j]])),
				};
				expect(keys.length).toBe(writes.sticky.size);
				expect(plain({ result: fast.result, writes })).toEqual(
					plain(referenceAllocate(req, view(s), NOW)),
				);
				// each sticky write names an item with its key
				expect(items.map((i) => req.items[i].key)).toEqual(keys);
			}),
			{ seed: 20261201, numRuns: 3000 },
		);
	});
});
