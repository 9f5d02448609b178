import { probeRoute, type ProbeSettings } from '../../lib/delivery/probe';
import { Partitioner } from '../../lib/routing/partitioner';
import { circuitName } from '../../lib/state/keys';
import { parseRoutePlan } from '../../lib/routing/plan';
import { MemoryStateStore } from '../../lib/state/memory';
import { RedisStateStore } from '../../lib/state/redis';
import { SqliteStateStore } from '../../lib/state/sqlite';
import type { StateStore } from '../../lib/state/types';
import type { ProbeResult } from '../../lib/transports/probe';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { hasSqlite, tempFolders } from '../helpers/sqlite';

/**
 * A probe's circuit as each store's allocate reads it (memory: allocate.ts; Redis: allocate.lua):
 * a failed probe takes the route out of the partitioner's split, a passing one brings it back.
 * The probe uses no StateStore method of its own (recordHealth, getCircuits, setCircuit; for the
 * skip, listOutcomePairs and readOutcomes; publishAlerts): Rise's pass count and the enforcement
 * status live in the circuit's state, which every store keeps whole.
 */
let server: RedisServer;
let n = 0;
beforeAll(async () => {
	server = await startRedisServer();
});
const folders = tempFolders();
afterAll(async () => {
	await server.stop();
	folders.cleanup();
});

const stores: Array<[string, () => StateStore]> = [
	['memory', () => new MemoryStateStore()],
	[
		'redis',
		() =>
			new RedisStateStore({
				mode: 'standalone',
				host: '127.0.0.1',
				port: server.port,
				keyPrefix: `probe${++n}:`,
			}),
	],
	// on the Node 20 of `npm test` node:sqlite is missing: the SQLite row runs under npm run test:node24
	...(hasSqlite
		? [
				['sqlite', () => new SqliteStateStore({ file: `${folders.make()}/state.sqlite` })] as [
					string,
					() => StateStore,
				],
			]
		: []),
];

const answer = (ok: boolean) => ({
	probe: async (): Promise<ProbeResult> => ({ ok, steps: [], latencyMs: 1 }),
});
const settings: ProbeSettings = {
	campaign: 'winter',
	route: 'b',
	timeoutMs: 1000,
	fall: 1,
	rise: 1,
	probeEveryMs: 60_000,
	updateCircuit: true,
	skipIfSentWithinMs: 0,
};
const plan = parseRoutePlan({
	mode: 'percentage',
	sticky: false,
	timeZone: 'UTC',
	routes: [
		{ name: 'a', percentage: 50 },
		{ name: 'b', percentage: 50 },
	],
});

describe.each(stores)('probe → circuit → partitioner on the %s store', (_name, make) => {
	it('takes the route out on a failed probe and brings it back on a passing one', async () => {
		const store = make();
		try {
			const toB = async () =>
				(
					await new Partitioner(plan, store, { campaign: 'winter', partition: 'p' }).assign(
						Array.from({ length: 20 }, () => ({})),
					)
				).filter((a) => a.route === 'b').length;
			expect(await toB()).toBe(10);
			const failed = await probeRoute(answer(false), store, settings);
			expect(failed.circuit.open).toBe(true);
			const now = await store.now();
			expect(failed.circuit.openUntil! - now).toBeGreaterThan(119_000);
			expect(failed.circuit.openUntil! - now).toBeLessThanOrEqual(120_000);
			expect(await toB()).toBe(0);
			expect((await probeRoute(answer(true), store, settings)).circuit).toEqual({ open: false });
			expect(await toB()).toBe(10);
			const [state] = await store.getCircuits([circuitName('winter', 'b')]);
			expect(state).toMatchObject({ probing: true, failures: 0, ejections: 1 });
		} finally {
			await store.close();
		}
	});
});

describe.each(stores)(
	'Rise, the skip and the enforcement status on the %s store',
	(_name, make) => {
		const toB = async (store: StateStore) =>
			(
				await new Partitioner(plan, store, { campaign: 'winter', partition: 'p' }).assign(
					Array.from({ length: 20 }, () => ({})),
				)
			).filter((a) => a.route === 'b').length;

		it('keeps the route out until Rise passes in a row, then brings it back', async () => {
			const store = make();
			try {
				await store.readAlerts('ops', 'test', { count: 10 });
				const rise = { ...settings, rise: 2 };
				expect((await probeRoute(answer(false), store, rise)).circuit.open).toBe(true);
				const one = await probeRoute(answer(true), store, rise);
				expect(one.circuit).toMatchObject({ open: true, passes: 1 });
				expect(one.circuit.openUntil! - (await store.now())).toBeGreaterThan(119_000);
				expect(await toB(store)).toBe(0);
				// a failure starts the count again: one pass is still not enough
				await probeRoute(answer(false), store, rise);
				expect((await probeRoute(answer(true), store, rise)).circuit).toMatchObject({
					open: true,
					passes: 1,
				});
				expect(await toB(store)).toBe(0);
				expect((await probeRoute(answer(true), store, rise)).circuit).toEqual({ open: false });
				expect(await toB(store)).toBe(10);
				const [state] = await store.getCircuits([circuitName('winter', 'b')]);
				expect(state).not.toHaveProperty('probePasses');
				expect(state).toMatchObject({ probing: true, failures: 0 });
				expect((await store.readAlerts('ops', 'test', { count: 10 })).map((a) => a.type)).toEqual([
					'probe.down',
					'probe.up',
				]);
			} finally {
				await store.close();
			}
		});

		it('skips a closed route that sent within the window; keeps the enforcement status across writes', async () => {
			const store = make();
			try {
				const now = await store.now();
				await store.countOutcomes([
					{ route: 'b', group: 'gmail', counts: { sent: 3 }, at: now - 60_000 },
				]);
				const skip = { ...settings, skipIfSentWithinMs: 5 * 60_000 };
				expect(await probeRoute(answer(true), store, skip)).toMatchObject({
					skipped: true,
					sent: 3,
				});
				const probation = {
					probe: async (): Promise<ProbeResult> => ({
						ok: true,
						steps: [],
						latencyMs: 1,
						details: { enforcementStatus: 'PROBATION', sendingEnabled: true },
					}),
				};
				const first = await probeRoute(probation, store, settings);
				expect(first.skipped === false && first.alerts.map((a) => a.type)).toEqual([
					'provider.enforcement',
				]);
				// a failed probe (recordHealth) keeps it: the next PROBATION is no change
				await probeRoute(answer(false), store, settings);
				const [state] = await store.getCircuits([circuitName('winter', 'b')]);
				expect(state).toMatchObject({ enforcement: 'PROBATION' });
				const again = await probeRoute(probation, store, settings);
				// the route comes back (probe.up); the status did not change: no enforcement alert
				expect(again.skipped === false && again.alerts.map((a) => a.type)).toEqual(['probe.up']);
			} finally {
				await store.close();
			}
		});
	},
);
