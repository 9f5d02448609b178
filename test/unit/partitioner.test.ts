import fc from 'fast-check';
import { dailyLabel, hourlyLabel } from '../../lib/routing/spill';
import { Partitioner, type PartitionInput } from '../../lib/routing/partitioner';
import { parseRoutePlan, PlanError, type RoutePlanInput } from '../../lib/routing/plan';
import { circuitName } from '../../lib/state/keys';
import { MemoryStateStore } from '../../lib/state/memory';

const NOW = Date.UTC(2026, 10, 22, 12, 0);
const ids = { campaign: 'c1', partition: 'node-1' };

function setup(
	input: Partial<RoutePlanInput> & Pick<RoutePlanInput, 'mode' | 'routes'>,
	clock = () => NOW,
) {
	const store = new MemoryStateStore({ clock });
	const plan = parseRoutePlan({ timeZone: 'UTC', ...input });
	return { store, partitioner: new Partitioner(plan, store, ids) };
}
const items = (n: number, group = 'google', prefix = 'u'): PartitionInput[] =>
	Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}@x.com`, group }));
const tally = (routes: Array<string | undefined>) =>
	routes.reduce<Record<string, number>>(
		(acc, r) => ((acc[r ?? 'deferred'] = (acc[r ?? 'deferred'] ?? 0) + 1), acc),
		{},
	);

describe('Partitioner', () => {
	it('percentage: conserves items and keeps every prefix within ±1, across any batch sizes', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 4 }).map((ws) => {
					// whole percentages adding up to 100
					const total = ws.reduce((a, b) => a + b, 0);
					const pct = ws.map((w) => Math.floor((w * 100) / total));
					pct[0] += 100 - pct.reduce((a, b) => a + b, 0);
					return pct;
				}),
				fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 12 }),
				async (pct, batches) => {
					const { partitioner } = setup({
						mode: 'percentage',
						sticky: false,
						routes: pct.map((p, i) => ({ name: `R${i}`, percentage: p })),
					});
					const stream: number[] = [];
					let n = 0;
					for (const size of batches) {
						const out = await partitioner.assign(items(size, 'google', `b${n++}-`));
						expect(out.every((a) => a.routeIndex >= 0)).toBe(true);
						stream.push(...out.map((a) => a.routeIndex));
					}
					const counts = pct.map(() => 0);
					stream.forEach((r, i) => {
						counts[r]++;
						pct.forEach((p, k) =>
							expect(Math.abs(counts[k] - (p / 100) * (i + 1))).toBeLessThan(1),
						);
					});
					expect(counts.reduce((a, b) => a + b, 0)).toBe(batches.reduce((a, b) => a + b, 0));
				},
			),
			{ numRuns: 60 },
		);
	});

	it('groups with the same eligible routes share one sequence, even within one batch', async () => {
		const { partitioner } = setup({
			mode: 'roundRobin',
			roundRobinBatch: 2,
			routes: [{ name: 'a' }, { name: 'b' }],
		});
		const mixed = ['apple', 'gmx', 'other', 'apple', 'gmx', 'other', 'apple', 'gmx'].map(
			(group, i) => ({ key: `m${i}@x.com`, group }),
		);
		expect((await partitioner.assign(mixed)).map((a) => a.route)).toEqual([
			'a',
			'a',
			'b',
			'b',
			'a',
			'a',
			'b',
			'b',
		]);
		expect((await partitioner.assign(mixed.slice(0, 2))).map((a) => a.route)).toEqual(['a', 'a']);
	});

	it('weighted: interleaves smoothly by weight', async () => {
		const { partitioner } = setup({
			mode: 'weighted',
			routes: [
				{ name: 'a', weight: 5 },
				{ name: 'b', weight: 1 },
				{ name: 'c', weight: 1 },
			],
		});
		const out = await partitioner.assign(items(7));
		expect(out.map((a) => a.route)).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
	});

	it('single: everything to the first enabled route', async () => {
		const { partitioner } = setup({
			mode: 'single',
			routes: [{ name: 'off', enabled: false }, { name: 'only' }, { name: 'other' }],
		});
		expect(tally((await partitioner.assign(items(20))).map((a) => a.route))).toEqual({ only: 20 });
	});

	it('failover: the first healthy route with room, in order', async () => {
		const { store, partitioner } = setup({
			mode: 'failover',
			routes: [{ name: 'primary', dailyCap: 3 }, { name: 'backup' }, { name: 'last' }],
		});
		expect((await partitioner.assign(items(5))).map((a) => a.route)).toEqual([
			'primary',
			'primary',
			'primary',
			'backup',
			'backup',
		]);
		await store.setCircuit(circuitName(ids.campaign, 'backup'), {
			openUntil: NOW + 60_000,
			ejections: 1,
		});
		const fresh = new Partitioner(partitioner.plan, store, ids); // circuit state is cached for a second per instance
		expect((await fresh.assign(items(2, 'google', 'v'))).map((a) => a.route)).toEqual([
			'last',
			'last',
		]);
	});

	it('skips unhealthy routes and gives their share to the healthy ones', async () => {
		const { store, partitioner } = setup({
			mode: 'percentage',
			sticky: false,
			routes: [
				{ name: 'a', percentage: 50 },
				{ name: 'b', percentage: 25 },
				{ name: 'c', percentage: 25 },
			],
		});
		await store.setCircuit(circuitName(ids.campaign, 'a'), {
			openUntil: NOW + 60_000,
			ejections: 1,
		});
		const out = await partitioner.assign(items(400));
		const t = tally(out.map((a) => a.route));
		expect(t.a).toBeUndefined();
		expect(t.b + t.c).toBe(400);
		expect(Math.abs(t.b - t.c)).toBeLessThanOrEqual(2);
		await store.setCircuit(circuitName(ids.campaign, 'b'), {
			openUntil: NOW + 60_000,
			ejections: 1,
		});
		await store.setCircuit(circuitName(ids.campaign, 'c'), {
			openUntil: NOW + 90_000,
			ejections: 1,
		});
		const none = await new Partitioner(partitioner.plan, store, ids).assign(
			items(3, 'google', 'w'),
		);
		expect(none.every((a) => a.via === 'deferred' && a.retryAt === NOW + 60_000)).toBe(true);
		expect(none[0].reason).toBe('every route is unhealthy (a, b, c)');
	});

	it('routes domain groups by the table, others by the mode, and honours restrictions', async () => {
		const { partitioner } = setup({
			mode: 'percentage',
			sticky: false,
			routes: [
				{ name: 'gmail-pool', percentage: 50, groups: ['google'] },
				{ name: 'ms-pool', percentage: 25 },
				{ name: 'general', percentage: 25 },
			],
			groupRoutes: [{ group: 'microsoft', route: 'ms-pool' }],
		});
		const out = await partitioner.assign([
			...items(100, 'microsoft', 'm'),
			...items(100, 'yahoo', 'y'),
			...items(100, 'google', 'g'),
		]);
		expect(tally(out.slice(0, 100).map((a) => a.route))).toEqual({ 'ms-pool': 100 });
		expect(out[0].via).toBe('group-table');
		// yahoo may not use gmail-pool: ms-pool and general share it 25:25
		expect(tally(out.slice(100, 200).map((a) => a.route))).toEqual({ 'ms-pool': 50, general: 50 });
		expect(tally(out.slice(200).map((a) => a.route))).toEqual({
			'gmail-pool': 50,
			'ms-pool': 25,
			general: 25,
		});
	});

	it('says which group no route accepts', async () => {
		const { partitioner } = setup({
			mode: 'weighted',
			routes: [{ name: 'g', groups: ['google'] }],
		});
		const [a] = await partitioner.assign(items(1, 'yahoo'));
		expect(a).toEqual({
			routeIndex: -1,
			via: 'unroutable',
			reason: 'no enabled route accepts the domain group "yahoo"',
		});
	});

	it('ramps a warming route by share (slow start) and caps it by a ramp', async () => {
		const { partitioner } = setup({
			mode: 'weighted',
			routes: [
				{
					name: 'new',
					weight: 1,
					warmup: { kind: 'share', startDate: '2026-11-22', startPercent: 10, days: 10 },
				},
				{ name: 'old', weight: 1 },
			],
		});
		const t = tally((await partitioner.assign(items(110))).map((a) => a.route));
		expect(t).toEqual({ new: 10, old: 100 });
		const ramp = setup({
			mode: 'roundRobin',
			routes: [
				{
					name: 'new',
					warmup: { kind: 'ramp', startDate: '2026-11-21', startCap: 40, growth: 1.5 },
				},
				{ name: 'old' },
			],
		});
		expect(tally((await ramp.partitioner.assign(items(200))).map((a) => a.route))).toEqual({
			new: 60,
			old: 140,
		});
	});

	it("records each route's warm-up today for stats; none without warm-up, nothing on a dry run", async () => {
		// NOW is 2026-11-22 12:00 UTC. A ramp from 11-20 of 40 × 1.5: day 3, cap floor(40 · 2.25) = 90,
		// under a Daily Cap of 80; a share from 11-22 of 10% over 10 days: day 1, 10%, no cap; a table
		// from 11-23: day 0, cap 0; a route without warm-up: null
		const { store, partitioner } = setup({
			mode: 'weighted',
			routes: [
				{
					name: 'ramp',
					weight: 1,
					dailyCap: 80,
					warmup: { kind: 'ramp', startDate: '2026-11-20', startCap: 40, growth: 1.5 },
				},
				{
					name: 'share',
					weight: 1,
					warmup: { kind: 'share', startDate: '2026-11-22', startPercent: 10, days: 10 },
				},
				{
					name: 'table',
					weight: 1,
					warmup: { kind: 'table', startDate: '2026-11-23', caps: [{ day: 1, cap: 50 }] },
				},
				{ name: 'warm', weight: 1 },
			],
		});
		await store.setWarmup(
			ids.campaign,
			[{ route: 'warm', warmup: { day: 9, date: 'x', cap: 1, sharePercent: 1, endsAt: 0, at: 0 } }],
			60_000,
		);
		await partitioner.assign(items(4));
		const endsAt = Date.UTC(2026, 10, 23);
		const at = { date: '2026-11-22', endsAt, at: NOW };
		expect(await store.getWarmup(ids.campaign, ['ramp', 'share', 'table', 'warm'])).toEqual([
			{ day: 3, cap: 80, sharePercent: 100, ...at },
			{ day: 1, cap: null, sharePercent: 10, ...at },
			{ day: 0, cap: 0, sharePercent: 100, ...at },
			null,
		]);

		const plain = setup({ mode: 'roundRobin', routes: [{ name: 'a' }, { name: 'b' }] });
		const writes = jest.spyOn(plain.store, 'setWarmup');
		await plain.partitioner.assign(items(2));
		expect(writes).not.toHaveBeenCalled();
		const dry = setup({
			mode: 'single',
			routes: [
				{ name: 'a', warmup: { kind: 'ramp', startDate: '2026-11-20', startCap: 5, growth: 2 } },
			],
		});
		await dry.partitioner.assign(items(1), { dryRun: true });
		expect(await dry.store.getWarmup(ids.campaign, ['a'])).toEqual([null]);
	});

	it('records the warm-up once per day, not once per batch', async () => {
		let now = NOW;
		const { partitioner, store } = setup(
			{
				mode: 'single',
				routes: [
					{ name: 'a', warmup: { kind: 'ramp', startDate: '2026-11-20', startCap: 5, growth: 2 } },
				],
			},
			() => now,
		);
		const writes = jest.spyOn(store, 'setWarmup');
		for (let batch = 0; batch < 3; batch++) await partitioner.assign(items(1));
		expect(writes).toHaveBeenCalledTimes(1);
		// the next sending day has other figures: written again
		now += 86_400_000;
		await partitioner.assign(items(1));
		expect(writes).toHaveBeenCalledTimes(2);
		expect((await store.getWarmup(ids.campaign, ['a']))[0]).toMatchObject({ cap: 40 });
	});

	it('defers until the next sending day when warm-up has not started', async () => {
		const { partitioner } = setup({
			mode: 'single',
			routes: [
				{ name: 'new', warmup: { kind: 'ramp', startDate: '2026-11-23', startCap: 50, growth: 2 } },
			],
			timeZone: 'America/New_York',
		});
		const [a] = await partitioner.assign(items(1));
		expect(a.via).toBe('deferred');
		expect(a.retryAt).toBe(Date.UTC(2026, 10, 23, 5, 0)); // midnight in New York
	});

	it('resets caps on a new sending day', async () => {
		let now = NOW;
		const { partitioner } = setup(
			{ mode: 'single', routes: [{ name: 'r', dailyCap: 2, hourlyCap: 10 }] },
			() => now,
		);
		expect((await partitioner.assign(items(3))).map((a) => a.via)).toEqual([
			'sequence',
			'sequence',
			'deferred',
		]);
		now += 86_400_000;
		expect((await partitioner.assign(items(3, 'google', 'n'))).map((a) => a.via)).toEqual([
			'sequence',
			'sequence',
			'deferred',
		]);
	});

	it('divides the campaign rate by route share, and gives every item the whole rate too', async () => {
		const { partitioner } = setup({
			mode: 'percentage',
			routes: [
				{ name: 'a', percentage: 70 },
				{ name: 'b', percentage: 30 },
			],
			campaignRate: { limit: 6000, per: 'hour' },
		});
		const out = await partitioner.assign(items(10));
		expect(out.find((a) => a.route === 'a')!.rate).toEqual({
			limit: 4200,
			per: 'hour',
			intervalMs: 3_600_000,
			campaignLimit: 6000,
		});
		expect(out.find((a) => a.route === 'b')!.rate).toEqual({
			limit: 1800,
			per: 'hour',
			intervalMs: 3_600_000,
			campaignLimit: 6000,
		});
	});
});

describe('parseRoutePlan', () => {
	const bad = (input: unknown) => {
		try {
			parseRoutePlan(input);
		} catch (e) {
			expect(e).toBeInstanceOf(PlanError);
			return `${(e as PlanError).field}: ${(e as Error).message}`;
		}
		throw new Error('expected a PlanError');
	};
	it('names the field and the route', () => {
		expect(
			bad({
				mode: 'percentage',
				routes: [
					{ name: 'a', percentage: 60 },
					{ name: 'b', percentage: 30 },
				],
			}),
		).toBe('routes: the percentages of the enabled routes add up to 90, not 100 (a 60% + b 30%)');
		expect(bad({ mode: 'weighted', routes: [{ name: 'a' }, { name: 'a' }] })).toBe(
			'routes: the name "a" is used by two routes (route 2 "a", name)',
		);
		expect(bad({ mode: 'weighted', routes: [{ name: '' }] })).toBe(
			'routes: every route needs a name (route 1, name)',
		);
		expect(bad({ mode: 'weighted', routes: [{ name: 'a', enabled: false }] })).toBe(
			'routes: every route is disabled; enable at least one',
		);
		expect(
			bad({
				mode: 'weighted',
				routes: [{ name: 'a' }],
				groupRoutes: [{ group: 'google', route: 'zz' }],
			}),
		).toBe('groupRoutes: group "google" is sent to "zz", which is not an enabled route');
		expect(bad({ mode: 'weighted', routes: [{ name: 'a' }], timeZone: 'Mars/Base' })).toMatch(
			/^timeZone: is not a known time zone/,
		);
		expect(
			bad({
				mode: 'weighted',
				routes: [
					{ name: 'a', warmup: { kind: 'ramp', startDate: 'soon', startCap: 5, growth: 2 } },
				],
			}),
		).toMatch(/must be a date like 2026-11-22 \(route 1 "a", warmup\)/);
	});
	it('ignores disabled routes in the percentage sum', () => {
		expect(
			parseRoutePlan({
				mode: 'percentage',
				routes: [
					{ name: 'a', percentage: 100 },
					{ name: 'b', percentage: 40, enabled: false },
				],
			}).routes,
		).toHaveLength(2);
	});
});

describe('spill reason labels', () => {
	it('writes caps with thousands separators and names a warm-up before its first day', () => {
		expect(dailyLabel(10_000, undefined, 0, undefined)).toBe('daily cap 10,000');
		expect(dailyLabel(10_000, 90, 3, '2026-11-20')).toBe('warm-up cap 90 for day 3');
		expect(dailyLabel(50, 90, 3, '2026-11-20')).toBe('daily cap 50');
		expect(dailyLabel(undefined, 0, -1, '2026-12-05')).toBe(
			'warm-up not started (day 1 is 2026-12-05)',
		);
		expect(hourlyLabel(1500)).toBe('hourly cap 1,500');
	});
});

describe('spill reasons in a batch with unroutable items', () => {
	it('gives each spilled item the reason of its own route, past items no route accepts', async () => {
		const { partitioner } = setup({
			mode: 'percentage',
			routes: [
				{ name: 'A', percentage: 50, groups: ['google'] },
				{ name: 'B', percentage: 50, groups: ['google'], dailyCap: 1 },
			],
		});
		const batch = [
			{ key: 'y1@yahoo.com', group: 'yahoo' },
			{ key: 'y2@yahoo.com', group: 'yahoo' },
			...items(8, 'google'),
		];
		const out = await partitioner.assign(batch);
		expect(out.slice(0, 2).map((a) => a.via)).toEqual(['unroutable', 'unroutable']);
		const spilled = out.filter((a) => a.via === 'spill');
		expect(spilled).toHaveLength(3);
		for (const a of spilled) expect(a.reason).toBe('B: daily cap 1 reached');
	});
});
