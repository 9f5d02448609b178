import { MemoryStateStore } from '../../lib/state/memory';
import {
	VIA_SEQUENCE,
	VIA_STICKY,
	type AllocateRequest,
	type AllocItem,
} from '../../lib/state/types';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Expiry on the memory store's own clock, where the sweep can be seen too (Redis expires keys itself). */
describe('MemoryStateStore: each part of a campaign expires on its own', () => {
	let t = Date.UTC(2026, 10, 22);
	const t0 = t;
	const store = new MemoryStateStore({ clock: () => t });
	const scopes = (store as unknown as { scopes: Map<string, unknown> }).scopes;
	const request = (scope: string, items: AllocItem[]): AllocateRequest => ({
		scope,
		stickyKey: 'p1',
		routes: [
			{ name: 'a', circuit: 'a', caps: [{ key: 'd:1:a', limit: 10, resetAt: t0 + DAY }] },
			{ name: 'b', circuit: 'b', caps: [] },
		],
		classes: [
			{
				counterKey: 'k',
				cycle: [0, 1],
				repeat: 1,
				candidates: [0, 1],
				weights: [1, 1],
				spill: 'weights',
			},
		],
		items,
		ttlMs: HOUR,
	});

	it('keeps a cap window past the counters and sticky assignments, through the sweep, until the window ends', async () => {
		expect((await store.allocate(request('c', [{ cls: 0 }, { cls: 0, key: 'u1' }]))).route).toEqual(
			[0, 1],
		);
		expect((await store.allocate(request('c', [{ cls: 0, key: 'u1' }]))).via).toEqual([VIA_STICKY]);

		t += 2 * HOUR; // counters and sticky assignments expired; the next call sweeps
		await store.allocate(request('other', []));
		expect(scopes.has('c')).toBe(true);
		expect(await store.capUsage('c', ['d:1:a'])).toEqual([1]);
		const again = await store.allocate(request('c', [{ cls: 0, key: 'u1' }]));
		expect(again.route).toEqual([0]); // the sequence starts over, u1 is assigned afresh
		expect(again.via).toEqual([VIA_SEQUENCE]);
		expect(await store.capUsage('c', ['d:1:a'])).toEqual([2]);

		t += DAY; // the window ended: nothing of the campaign is left after the sweep
		expect(await store.capUsage('c', ['d:1:a'])).toEqual([0]);
		await store.allocate(request('other', []));
		expect(scopes.has('c')).toBe(false);
	});
});
