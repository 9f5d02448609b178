import { RouteHealth } from '../../lib/delivery/health';
import type { DeliveryJob } from '../../lib/delivery/types';
import { resumeRoutes, suspendRoutes } from '../../lib/operations/control';
import { applyChanges, replyChanges } from '../../lib/reputation/recorder';
import { DEFAULT_RULES } from '../../lib/reputation/rules';
import { withLocalFallback } from '../../lib/state/fallback';
import { MemoryStateStore } from '../../lib/state/memory';
import { RedisStateStore } from '../../lib/state/redis';
import { StateUnavailableError } from '../../lib/state/types';
import type { SendFailure } from '../../lib/transports/types';
import { freePort } from '../helpers/redisServer';

/** The emission points (lib/alerts/emit.ts) as the stores' alert log shows them. */
describe('alerts from what happened', () => {
	const read = (store: MemoryStateStore, group = 'ops') =>
		store.readAlerts(group, 'test', { count: 100 });

	it('a reply rule that suspends publishes route.suspended (critical) with its rule and end', async () => {
		const store = new MemoryStateStore();
		await read(store);
		const { notices, alertError } = await applyChanges(
			store,
			replyChanges(
				[
					{
						route: 'Relay A',
						group: 'yahoo',
						text: '421 4.7.0 [TSS04] Messages temporarily deferred',
					},
				],
				DEFAULT_RULES,
			),
		);
		expect(alertError).toBeUndefined();
		expect(notices).toHaveLength(1);
		const [alert] = await read(store);
		expect(alert).toMatchObject({
			id: '0-1',
			type: notices[0].what === 'suspended' ? 'route.suspended' : 'route.throttled',
			route: 'Relay A',
			group: 'yahoo',
			rule: notices[0].rule,
			reason: notices[0].reason,
			until: new Date(notices[0].until).toISOString(),
		});
		expect(alert.severity).toBe(alert.type === 'route.suspended' ? 'critical' : 'warning');
	});

	it("an operator's suspension and resume publish route.suspended then route.restored (info); a repeat within the cooldown is not published", async () => {
		const store = new MemoryStateStore();
		await read(store);
		const pair = { route: 'Relay B', group: 'gmail' };
		await suspendRoutes(store, [{ ...pair, durationMs: 3_600_000, reason: 'maintenance' }]);
		await resumeRoutes(store, [pair]);
		await suspendRoutes(store, [{ ...pair, durationMs: 3_600_000, reason: 'again' }]);
		const alerts = await read(store);
		expect(alerts.map((a) => [a.type, a.severity, a.rule, a.reason])).toEqual([
			['route.suspended', 'critical', 'manual', 'maintenance'],
			['route.restored', 'info', expect.any(String), 'released: full traffic again'],
		]);
	});

	it('a circuit that opens publishes route.ejected (critical); its probe that succeeds, route.recovered', async () => {
		let clock = 1_000_000;
		const store = new MemoryStateStore({ clock: () => clock });
		await read(store);
		const job = { campaign: 'promo', route: 'Relay C' } as DeliveryJob;
		const options = {
			store,
			policy: {
				failureThreshold: 3,
				baseEjectionMs: 30_000,
				maxEjectionMs: 300_000,
				backoff: 2,
				jitterRatio: 0,
			},
			random: () => 0.5,
			clock: () => clock,
		};
		const refused: SendFailure = {
			ok: false,
			kind: 'permanent',
			scope: 'route',
			message: '535 5.7.8 authentication failed',
			opensCircuit: true,
		} as SendFailure;
		const health = await RouteHealth.load([job], options);
		await health.record(job, refused);
		expect(health.isOpen(job)).toBe(true);
		expect(health.alertError).toBeUndefined();
		clock += 31_000;
		const later = await RouteHealth.load([job], options);
		await later.record(job, undefined);
		const alerts = await read(store);
		expect(alerts).toEqual([
			{
				id: '0-1',
				type: 'route.ejected',
				severity: 'critical',
				route: 'Relay C',
				campaign: 'promo',
				reason: '535 5.7.8 authentication failed',
				at: new Date(1_000_000).toISOString(),
				until: new Date(1_030_000).toISOString(),
			},
			{
				id: '0-2',
				type: 'route.recovered',
				severity: 'info',
				route: 'Relay C',
				campaign: 'promo',
				reason: expect.stringContaining('probe'),
				at: new Date(1_031_000).toISOString(),
			},
		]);
	});

	it('with Redis down and Continue on local state, the change stands and the lost alert is reported, not thrown', async () => {
		const redis = new RedisStateStore({
			mode: 'standalone',
			host: '127.0.0.1',
			port: await freePort(),
			connectTimeoutMs: 300,
		});
		const store = withLocalFallback(redis, new MemoryStateStore());
		try {
			const errors: Error[] = [];
			const states = await suspendRoutes(
				store,
				[{ route: 'Relay D', group: 'gmail', durationMs: 60_000, reason: 'test' }],
				(e) => errors.push(e),
			);
			expect(states[0]).toMatchObject({ reputation: 'suspended' });
			expect(errors).toHaveLength(1);
			expect(errors[0]).toBeInstanceOf(StateUnavailableError);
		} finally {
			await store.close();
		}
	});
});
