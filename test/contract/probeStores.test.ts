import { probeRoute, type ProbeSettings } from '../../lib/delivery/probe';
import { Partitioner } from '../../lib/routing/partitioner';
import { circuitName } from '../../lib/state/keys';
import { parseRoutePlan } from '../../lib/routing/plan';
import { MemoryStateStore } from '../../lib/state/memory';
import { RedisStateStore } from '../../lib/state/redis';
import type { StateStore } from '../../lib/state/types';
import type { ProbeResult } from '../../lib/transports/probe';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';

/**
 * A probe's circuit as each store's allocate reads it (memory: allocate.ts; Redis: allocate.lua):
 * a failed probe takes the route out of the partitioner's split, a passing one brings it back.
 * The probe uses no StateStore method of its own (recordHealth, getCircuits, setCircuit).
 */
let server: RedisServer;
let n = 0;
beforeAll(async () => {
	server = await startRedisServer();
});
afterAll(async () => {
	await server.stop();
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
];

const answer = (ok: boolean) => ({
	probe: async (): Promise<ProbeResult> => ({ ok, steps: [], latencyMs: 1 }),
});
const settings: ProbeSettings = {
	campaign: 'winter',
	route: 'b',
	timeoutMs: 1000,
	fall: 1,
	probeEveryMs: 60_000,
	updateCircuit: true,
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
