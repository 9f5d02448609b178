import fc from 'fast-check';
import {
	capacityReason,
	classEntries,
	limitIn,
	moveExcess,
	wholeWeights,
} from '../../lib/routing/capacity';
import { Partitioner, type PartitionInput } from '../../lib/routing/partitioner';
import { parseRoutePlan, type RoutePlanInput } from '../../lib/routing/plan';
import { MemoryStateStore } from '../../lib/state/memory';
import { routeLimitOf } from '../../lib/throttle/applicable';

describe('moveExcess: a route below its share keeps what its limit allows, the rest goes to routes with room', () => {
	it('gives a route’s excess to the others, in proportion to their shares', () => {
		// 600/minute split 70/30; Relay B can do 60/minute
		const m = moveExcess([420, 180], [undefined, 60]);
		expect(m.rates).toEqual([540, 60]);
		expect(m.keep).toEqual([1, 60 / 180]);
		expect(m.extra).toEqual([120, 0]);
		expect(m.placed).toBe(1);
		const three = moveExcess([300, 200, 100], [undefined, undefined, 20]);
		expect(three.rates).toEqual([348, 232, 20]);
	});

	it('fills a route with little room first, and gives the rest to the others (water-filling)', () => {
		const m = moveExcess([100, 100, 100], [110, undefined, 40]);
		expect(m.rates).toEqual([110, 150, 40]);
		expect(m.placed).toBe(1);
	});

	it('places what it can when there is not room enough: every route at its limit, the campaign slower', () => {
		const m = moveExcess([50, 50], [20, 30]);
		expect(m.rates).toEqual([20, 30]);
		expect(m.placed).toBe(0);
		const some = moveExcess([50, 50], [20, 60]);
		expect(some.rates).toEqual([20, 60]);
		expect(some.placed).toBeCloseTo(10 / 30, 12);
	});

	it('keeps every route within its own limit and loses no rate there was room for (property)', () => {
		const route = fc.record({
			share: fc.oneof(fc.constant(0), fc.double({ min: 1, max: 1000, noNaN: true })),
			limit: fc.option(fc.double({ min: 0.5, max: 1000, noNaN: true }), { nil: undefined }),
		});
		fc.assert(
			fc.property(fc.array(route, { minLength: 1, maxLength: 6 }), (routes) => {
				const shares = routes.map((r) => r.share);
				const limits = routes.map((r) => r.limit);
				const m = moveExcess(shares, limits);
				const total = shares.reduce((a, b) => a + b, 0);
				const room = shares.reduce(
					(sum, s, r) => sum + (s > 0 ? Math.min(limits[r] ?? Infinity, Infinity) : 0),
					0,
				);
				m.rates.forEach((rate, r) => {
					if (limits[r] !== undefined && shares[r] > 0)
						expect(rate).toBeLessThanOrEqual(limits[r]! + 1e-6);
					if (shares[r] === 0) expect(rate).toBe(0);
				});
				const sum = m.rates.reduce((a, b) => a + b, 0);
				// the campaign keeps its rate, or every route with a share is at its limit
				expect(sum).toBeCloseTo(Math.min(total, room), 6);
			}),
			{ numRuns: 2000, seed: 7 },
		);
	});
});

describe('the pieces the partitioner builds its sequences from', () => {
	it('a class’s entries: each route’s own part, and the part it takes over from the route below its share', () => {
		const m = moveExcess([420, 180], [undefined, 60]);
		const { entries, weights } = classEntries([0, 1], [70, 30], m);
		expect(entries).toEqual([
			{ route: 0, from: -1 },
			{ route: 1, from: -1 },
			{ route: 0, from: 1 },
		]);
		expect(weights.map((w) => Math.round(w * 1e9) / 1e9)).toEqual([70, 10, 20]);
		// a class only Relay B may take moves nothing: it has nowhere to go
		expect(classEntries([1], [30], m)).toEqual({
			entries: [{ route: 1, from: -1 }],
			weights: [10],
		});
	});

	it('whole weights keep the proportions and add up to the total', () => {
		expect(wholeWeights([70, 10, 20])).toEqual([7000, 1000, 2000]);
		const w = wholeWeights([1, 1, 1]);
		expect(w.reduce((a, b) => a + b, 0)).toBe(10_000);
		expect(Math.max(...w) - Math.min(...w)).toBeLessThanOrEqual(1);
	});

	it('a reported limit in the campaign’s unit; a limit that makes no sense is none', () => {
		expect(limitIn({ limit: 1, per: 'second', kind: 'connection' }, 'minute')).toBe(60);
		expect(limitIn({ limit: 120, per: 'hour', kind: 'credential' }, 'minute')).toBe(2);
		for (const bad of [
			{ limit: 0, per: 'second' },
			{ limit: -1, per: 'second' },
			{ limit: 5, per: 'week' },
			{ limit: 5, per: 'toString' },
			{ limit: Infinity, per: 'second' },
		])
			expect(limitIn({ ...bad, kind: 'connection' }, 'minute')).toBeUndefined();
		expect(limitIn(null, 'minute')).toBeUndefined();
	});

	it('says why an item moved, in the campaign’s unit', () => {
		expect(capacityReason('Relay B', 'connection', 60, 180, 'minute')).toBe(
			'Relay B: its connection limit 60/min is below its share 180/min',
		);
		expect(capacityReason('SES', 'credential', 14, 100 / 3, 'second')).toBe(
			'SES: its credential limit 14/s is below its share 33.333/s',
		);
	});

	it('a send node reports the tighter of its connection and credential limits, or none', () => {
		expect(routeLimitOf({})).toBeNull();
		expect(routeLimitOf({ connection: { limit: 0, per: 'second' } })).toBeNull();
		expect(routeLimitOf({ connection: { limit: 60, per: 'minute', burst: 10 } })).toEqual({
			limit: 60,
			per: 'minute',
			kind: 'connection',
		});
		expect(
			routeLimitOf({
				connection: { limit: 2, per: 'second' },
				credential: { id: 'x', limit: 100, per: 'minute' },
			}),
		).toEqual({ limit: 100, per: 'minute', kind: 'credential' });
	});
});

describe('Route Partitioner: Move the excess to routes with room', () => {
	const NOW = Date.UTC(2026, 10, 22, 12, 0);
	const ids = { campaign: 'c1', partition: 'node-1' };
	const items = (n: number, prefix = 'u'): PartitionInput[] =>
		Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}@x.com`, group: 'google' }));
	const plan = (over: Partial<RoutePlanInput> = {}) =>
		parseRoutePlan({
			mode: 'percentage',
			timeZone: 'UTC',
			routes: [
				{ name: 'Relay A', percentage: 70 },
				{ name: 'Relay B', percentage: 30 },
			],
			campaignRate: { limit: 600, per: 'minute' },
			capacity: 'move',
			...over,
		});
	const relayB = { limit: 1, per: 'second', kind: 'connection' as const };

	async function route(p: ReturnType<typeof plan>, n: number, limits = true) {
		const store = new MemoryStateStore({ clock: () => NOW });
		if (limits)
			await store.setRouteLimits(ids.campaign, [{ route: 'Relay B', limit: relayB }], 86_400_000);
		const partitioner = new Partitioner(p, store, ids);
		return { store, partitioner, out: await partitioner.assign(items(n)) };
	}

	it('gives a route below its share only what its limit allows, exactly, and says why the rest moved', async () => {
		const { out } = await route(plan(), 100);
		const on = (r: string) => out.filter((a) => a.route === r);
		// Relay B keeps 60 of its 180/minute: 10% of the items; Relay A takes the other 20%
		expect(on('Relay B')).toHaveLength(10);
		expect(on('Relay A')).toHaveLength(90);
		const moved = out.filter((a) => a.via === 'capacity');
		expect(moved).toHaveLength(20);
		expect(new Set(moved.map((a) => a.route))).toEqual(new Set(['Relay A']));
		expect(new Set(moved.map((a) => a.reason))).toEqual(
			new Set(['Relay B: its connection limit 60/min is below its share 180/min']),
		);
		// and the shares on the items follow: each route within its own limit, the campaign at 600
		expect(on('Relay B')[0].rate).toEqual({
			limit: 60,
			per: 'minute',
			intervalMs: 60_000,
			campaignLimit: 600,
		});
		expect(on('Relay A')[0].rate!.limit).toBe(540);
	});

	it('keeps every prefix of the stream within one item of the moved split, across batches', async () => {
		const store = new MemoryStateStore({ clock: () => NOW });
		await store.setRouteLimits(ids.campaign, [{ route: 'Relay B', limit: relayB }], 86_400_000);
		const partitioner = new Partitioner(plan({ sticky: false }), store, ids);
		let onB = 0;
		let total = 0;
		for (const size of [7, 1, 13, 29, 3, 50]) {
			for (const a of await partitioner.assign(items(size, `b${total}-`))) {
				total++;
				if (a.route === 'Relay B') onB++;
				expect(Math.abs(onB - total * 0.1)).toBeLessThan(1);
			}
		}
	});

	it('changes nothing with the default (Keep the exact split), or while no limit was reported', async () => {
		for (const [p, limits] of [
			[plan({ capacity: 'exact' }), true],
			[plan(), false],
		] as const) {
			const { out } = await route(p, 100, limits);
			expect(out.filter((a) => a.route === 'Relay B')).toHaveLength(30);
			expect(out.some((a) => a.via === 'capacity')).toBe(false);
			expect(out.find((a) => a.route === 'Relay B')!.rate!.limit).toBe(180);
		}
	});

	it('moves between the routes a domain group may take only', async () => {
		const p = plan({
			routes: [
				{ name: 'Relay A', percentage: 50, groups: ['google'] },
				{ name: 'Relay B', percentage: 25, groups: ['yahoo'] },
				{ name: 'Relay C', percentage: 25, groups: ['yahoo'] },
			],
		});
		const store = new MemoryStateStore({ clock: () => NOW });
		await store.setRouteLimits(ids.campaign, [{ route: 'Relay B', limit: relayB }], 86_400_000);
		const out = await new Partitioner(p, store, ids).assign(
			Array.from({ length: 60 }, (_, i) => ({ key: `y${i}@yahoo.com`, group: 'yahoo' })),
		);
		// Relay B (150/minute share, limit 60) keeps 40% of its part; Yahoo mail may not take Relay
		// A, so all of its excess goes to Relay C
		const tally = (r: string) => out.filter((a) => a.route === r).length;
		expect(tally('Relay B')).toBe(12);
		expect(tally('Relay C')).toBe(48);
		expect(tally('Relay A')).toBe(0);
		expect(out.filter((a) => a.via === 'capacity').length).toBe(18);
	});

	it('rendezvous hashing: moves only recipients the hash gave the slow route, and the same ones every time', async () => {
		const p = plan({
			mode: 'weighted',
			stickyByHash: true,
			routes: [
				{ name: 'Relay A', weight: 7 },
				{ name: 'Relay B', weight: 3 },
			],
		});
		const people = items(2000);
		const exact = await new Partitioner(
			{ ...p, capacity: 'exact' },
			new MemoryStateStore({ clock: () => NOW }),
			ids,
		).assign(people);
		const store = new MemoryStateStore({ clock: () => NOW });
		await store.setRouteLimits(ids.campaign, [{ route: 'Relay B', limit: relayB }], 86_400_000);
		const first = await new Partitioner(p, store, ids).assign(people);
		const again = await new Partitioner(p, store, ids).assign(people);
		expect(again.map((a) => a.route)).toEqual(first.map((a) => a.route));
		first.forEach((a, i) => {
			if (a.via === 'capacity') expect(exact[i].route).toBe('Relay B');
			else expect(a.route).toBe(exact[i].route);
		});
		const onB = first.filter((a) => a.route === 'Relay B').length;
		// about 10% (a hash, not a sequence: within a few percent)
		expect(Math.abs(onB / people.length - 0.1)).toBeLessThan(0.03);
	});
});
