import { join } from 'node:path';
import { Partitioner, type Assignment } from '../../lib/routing/partitioner';
import { parseRoutePlan, type RoutePlanInput } from '../../lib/routing/plan';
import { circuitName } from '../../lib/state/keys';
import { MemoryStateStore } from '../../lib/state/memory';
import { RedisStateStore } from '../../lib/state/redis';
import { SqliteStateStore } from '../../lib/state/sqlite';
import type { StateStore } from '../../lib/state/types';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { describeSqlite, tempFolders } from '../helpers/sqlite';

/**
 * Spilled items say why their route passed them on. The reason is made after the allocate call,
 * from what each store answers (its circuits, its cap counts), so every store is run: memory and
 * SQLite share lib/state/allocate.ts, Redis answers from Lua.
 */
const DAY = 86_400_000;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
let n = 0;

function describeSpillReasons(name: string, create: () => Promise<StateStore>) {
	describe(`spill reasons (${name})`, () => {
		let store: StateStore;
		beforeEach(async () => {
			store = await create();
		});
		afterEach(() => store.close());

		let campaign = '';
		const split = (routes: RoutePlanInput['routes'], extra: Partial<RoutePlanInput> = {}) =>
			new Partitioner(
				parseRoutePlan({ mode: 'percentage', timeZone: 'UTC', routes, ...extra }),
				store,
				{ campaign: (campaign = `spill${++n}`), partition: 'p1' },
			);
		const batch = (count: number) =>
			Array.from({ length: count }, (_, i) => ({ key: `u${i}@x.com`, group: 'google' }));
		const spills = (out: Assignment[]) => out.filter((a) => a.via === 'spill');

		it('names the warm-up cap and its day', async () => {
			const now = await store.now();
			const p = split([
				{ name: 'Relay A', percentage: 50 },
				{
					name: 'Relay B',
					percentage: 50,
					// day 3 of 2 × 1.5 a day: 4
					warmup: { kind: 'ramp', startDate: isoDay(now - 2 * DAY), startCap: 2, growth: 1.5 },
				},
			]);
			const out = await p.assign(batch(20));
			expect(out.filter((a) => a.route === 'Relay B')).toHaveLength(4);
			expect(spills(out)).toHaveLength(6);
			for (const a of spills(out)) {
				expect(a.route).toBe('Relay A');
				expect(a.reason).toBe('Relay B: warm-up cap 4 for day 3 reached');
			}
			// items that took their own slot carry no reason
			expect(out.filter((a) => a.via === 'sequence').every((a) => a.reason === undefined)).toBe(
				true,
			);
		});

		it('publishes warmup.cap-reached once per run per route, and the store cooldown stops the next run’s', async () => {
			const now = await store.now();
			const group = `spill-alerts-${++n}`;
			await store.readAlerts(group, 'test', { count: 1 });
			const routes: RoutePlanInput['routes'] = [
				{ name: 'Relay A', percentage: 50 },
				{
					name: 'Relay B',
					percentage: 50,
					warmup: { kind: 'ramp', startDate: isoDay(now - 2 * DAY), startCap: 2, growth: 1.5 },
				},
			];
			// a dry run counts nothing: no alert
			await split(routes).assign(batch(20), { dryRun: true });
			const p = split(routes);
			await p.assign(batch(20));
			await p.assign(batch(10)); // the same run, again over the cap
			expect(p.alertError).toBeUndefined();
			const alerts = await store.readAlerts(group, 'test', { count: 10 });
			expect(alerts).toEqual([
				{
					id: expect.stringMatching(/^0-\d+$/),
					type: 'warmup.cap-reached',
					severity: 'warning',
					route: 'Relay B',
					campaign,
					rule: 'warm-up',
					reason:
						'Relay B: warm-up cap 4 for day 3 reached: its items go to the other routes until the sending day ends',
					at: expect.any(String),
					until: `${isoDay(now + DAY)}T00:00:00.000Z`,
				},
			]);
			await store.ackAlerts(
				group,
				alerts.map((a) => a.id),
			);
			// the next run of the same campaign, inside the store's cooldown: nothing new
			const next = new Partitioner(
				parseRoutePlan({ mode: 'percentage', timeZone: 'UTC', routes }),
				store,
				{ campaign, partition: 'p1' },
			);
			expect((await next.assign(batch(10))).filter((a) => a.via === 'spill')).toHaveLength(5);
			expect(await store.readAlerts(group, 'test', { count: 10 })).toEqual([]);
			// a daily cap below the warm-up cap is no warm-up alert
			await split([
				{ name: 'Relay A', percentage: 50 },
				{
					name: 'Relay B',
					percentage: 50,
					dailyCap: 3,
					warmup: { kind: 'ramp', startDate: isoDay(now), startCap: 50, growth: 1.5 },
				},
			]).assign(batch(20));
			expect(await store.readAlerts(group, 'test', { count: 10 })).toEqual([]);
		});

		it('names the daily cap when it is below the warm-up cap', async () => {
			const now = await store.now();
			const p = split([
				{ name: 'Relay A', percentage: 50 },
				{
					name: 'Relay B',
					percentage: 50,
					dailyCap: 3,
					warmup: { kind: 'ramp', startDate: isoDay(now), startCap: 50, growth: 1.5 },
				},
			]);
			const reasons = new Set(spills(await p.assign(batch(20))).map((a) => a.reason));
			expect([...reasons]).toEqual(['Relay B: daily cap 3 reached']);
		});

		it('names the open circuit and when it closes', async () => {
			const now = await store.now();
			const until = now + 10 * 60_000;
			const p = split([
				{ name: 'Relay A', percentage: 50 },
				{ name: 'Relay B', percentage: 50 },
			]);
			await store.setCircuit(circuitName(campaign, 'Relay B'), {
				openUntil: until,
				ejections: 1,
			});
			const out = await p.assign(batch(10));
			expect(spills(out)).toHaveLength(5);
			for (const a of spills(out))
				expect(a.reason).toBe(`Relay B: circuit open until ${new Date(until).toISOString()}`);
		});

		it('tells a full hourly cap from a full daily cap, in a dry run too', async () => {
			for (const dryRun of [false, true]) {
				const hourly = split([
					{ name: 'Relay A', percentage: 50 },
					{ name: 'Relay B', percentage: 50, dailyCap: 100, hourlyCap: 2 },
				]);
				const daily = split([
					{ name: 'Relay A', percentage: 50 },
					{ name: 'Relay B', percentage: 50, dailyCap: 2, hourlyCap: 100 },
				]);
				const byHour = spills(await hourly.assign(batch(10), { dryRun }));
				const byDay = spills(await daily.assign(batch(10), { dryRun }));
				expect(byHour.length).toBe(3);
				expect(new Set(byHour.map((a) => a.reason))).toEqual(
					new Set(['Relay B: hourly cap 2 reached']),
				);
				expect(new Set(byDay.map((a) => a.reason))).toEqual(
					new Set(['Relay B: daily cap 2 reached']),
				);
			}
		});

		it('failover: names every route passed over before the one taken', async () => {
			const now = await store.now();
			const until = now + 60_000;
			const p = split(
				[
					{ name: 'Primary', dailyCap: 0 },
					{ name: 'Secondary', dailyCap: 1 },
					{ name: 'Last Resort' },
				],
				{ mode: 'failover' },
			);
			await store.setCircuit(circuitName(campaign, 'Primary'), {
				openUntil: until,
				ejections: 1,
			});
			const out = await p.assign(batch(3));
			const open = `Primary: circuit open until ${new Date(until).toISOString()}`;
			expect(out.map((a) => [a.route, a.via, a.reason])).toEqual([
				['Secondary', 'spill', open],
				['Last Resort', 'spill', `${open}; Secondary: daily cap 1 reached`],
				['Last Resort', 'spill', `${open}; Secondary: daily cap 1 reached`],
			]);
		});

		it('weighted with rendezvous hashing: names the route the hash picked', async () => {
			const p = split(
				[
					{ name: 'Relay A', weight: 1 },
					{ name: 'Relay B', weight: 1, dailyCap: 1 },
				],
				{ mode: 'weighted', stickyByHash: true },
			);
			const out = await p.assign(batch(40));
			expect(spills(out).length).toBeGreaterThan(0);
			for (const a of spills(out)) expect(a.reason).toBe('Relay B: daily cap 1 reached');
		});
	});
}

describeSpillReasons('memory', async () => new MemoryStateStore());

const folders = tempFolders();
afterAll(() => folders.cleanup());
describeSqlite('SqliteStateStore', () => {
	describeSpillReasons(
		'sqlite',
		async () => new SqliteStateStore({ file: join(folders.make(), 's.sqlite') }),
	);
});

describe('RedisStateStore', () => {
	let server: RedisServer;
	beforeAll(async () => {
		server = await startRedisServer();
	});
	afterAll(() => server.stop());
	describeSpillReasons(
		'redis',
		async () =>
			new RedisStateStore({
				mode: 'standalone',
				host: '127.0.0.1',
				port: server.port,
				keyPrefix: `spill${++n}:`,
			}),
	);
});
