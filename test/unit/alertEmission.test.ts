import { RouteHealth } from '../../lib/delivery/health';
import { BatchReputation } from '../../lib/delivery/reputation';
import { compareRoutes } from '../../lib/operations/compare';
import type { DeliveryJob } from '../../lib/delivery/types';
import { resumeRoutes, settleCompareVerdict, suspendRoutes } from '../../lib/operations/control';
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

	describe("a campaign's list quality", () => {
		const HOUR = 3_600_000;
		let n = 0;
		/** a batch of the campaign ends: its list quality is checked (a fresh campaign each: the check is memoized per process) */
		async function finishBatch(
			store: MemoryStateStore,
			counts: Record<string, number>,
			now: number,
			pauseMs?: number,
		) {
			const campaign = `list${++n}`;
			await store.countOutcomes([{ route: '', group: campaign, counts, at: now - HOUR }]);
			const batch = await BatchReputation.load(
				store,
				[{ campaign, route: 'Relay A', group: 'gmail' } as DeliveryJob],
				DEFAULT_RULES,
				() => now,
				pauseMs === undefined ? undefined : { pauseMs },
			);
			await batch.finish();
			return { campaign, batch };
		}

		it('over the warning bars: threshold.warning (warning) per rule, for the campaign, no route and no address', async () => {
			const now = Date.parse('2026-12-01T12:00:00Z');
			const store = new MemoryStateStore({ clock: () => now });
			await read(store);
			// 60 of 2000 hard bounces (lower 90% Wilson bound 2.43% ≥ 2%), 5 of 2000 complaints (0.122% ≥ 0.1%)
			const { campaign, batch } = await finishBatch(
				store,
				{ sent: 2000, bounceHard: 60, complained: 5 },
				now,
			);
			expect(batch.alertError).toBeUndefined();
			expect(batch.listQuality.map((q) => [q.rule, q.severity])).toEqual([
				['hard-bounce-rate', 'warning'],
				['complaint-rate', 'warning'],
			]);
			const alerts = await read(store);
			expect(alerts).toEqual([
				{
					id: '0-1',
					type: 'threshold.warning',
					severity: 'warning',
					campaign,
					rule: 'hard-bounce-rate',
					reason: `list quality of campaign "${campaign}": ${batch.listQuality[0].reason}`,
					at: new Date(now).toISOString(),
				},
				{
					id: '0-2',
					type: 'threshold.warning',
					severity: 'warning',
					campaign,
					rule: 'complaint-rate',
					reason: `list quality of campaign "${campaign}": ${batch.listQuality[1].reason}`,
					at: new Date(now).toISOString(),
				},
			]);
			expect(alerts[0].reason).toContain('60 of 2000');
			expect(JSON.stringify(alerts)).not.toMatch(/@/);
		});

		it('over the critical bar with the pause on: critical, saying the campaign is paused and until when', async () => {
			const now = Date.parse('2026-12-01T12:00:00Z');
			const store = new MemoryStateStore({ clock: () => now });
			await read(store);
			// 40 of 600 (lower bound 5.18% ≥ 5%)
			const { campaign } = await finishBatch(store, { sent: 600, bounceHard: 40 }, now, 6 * HOUR);
			const until = new Date(now + 6 * HOUR).toISOString();
			const [alert, ...more] = await read(store);
			expect(more).toEqual([]);
			await store.ackAlerts('ops', [alert.id]);
			expect(alert).toMatchObject({
				type: 'threshold.warning',
				severity: 'critical',
				campaign,
				rule: 'hard-bounce-rate',
				until,
			});
			expect(alert.reason).toMatch(
				new RegExp(
					`^list quality of campaign "${campaign}": hard bounces of the campaign in the last 24 hours: 40 of 600 .*≥ 5\\.00%; the campaign is paused until ${until.replace(/\./g, '\\.')} \\(its messages go to Fallback unsent\\)$`,
				),
			);
			// below the bars (and below the sample): nothing
			await finishBatch(store, { sent: 2000, bounceHard: 10 }, now);
			await finishBatch(store, { sent: 100, bounceHard: 50 }, now);
			expect(await read(store)).toEqual([]);
		});

		it('an alert that cannot be published is reported, and the pause stands', async () => {
			const now = Date.parse('2026-12-01T12:00:00Z');
			const store = new MemoryStateStore({ clock: () => now });
			store.publishAlerts = async () => {
				throw new Error('alert log unavailable');
			};
			const { campaign, batch } = await finishBatch(
				store,
				{ sent: 600, bounceHard: 40 },
				now,
				HOUR,
			);
			expect(batch.alertError?.message).toBe('alert log unavailable');
			const [pause] = await store.getCampaignPauses([campaign]);
			expect(pause).toMatchObject({ rule: 'hard-bounce-rate', until: now + HOUR });
		});
	});

	describe('a Compare Routes verdict', () => {
		const counts = (sent: number, blocked: number) => ({ sent, blocked });

		it('a winner publishes ab.verdict (info) with metric, group and p-value; not applied, no throttle', async () => {
			const store = new MemoryStateStore();
			await read(store);
			const verdict = compareRoutes(
				[
					{ route: 'Relay A', counts: counts(940, 60) },
					{ route: 'Relay B', counts: counts(995, 5) },
				],
				{ group: 'yahoo', metric: 'block', minEffect: 0.05 },
			);
			expect(verdict.verdict).toBe('winner');
			expect(await settleCompareVerdict(store, verdict, undefined)).toBeUndefined();
			const alerts = await read(store);
			expect(alerts.map((a) => [a.type, a.severity, a.route, a.group, a.rule])).toEqual([
				['ab.verdict', 'info', 'Relay B', 'yahoo', 'ab-verdict:block'],
			]);
			expect(alerts[0].reason).toBe(
				`A/B verdict on block rate for yahoo: Relay B wins over Relay A, p-value ${verdict.pValue!.toPrecision(2)} (${verdict.summary})`,
			);
			expect(await store.getReputation([{ route: 'Relay A', group: 'yahoo' }])).toEqual([null]);
		});

		it('not enough data yet publishes nothing, applied or not', async () => {
			const store = new MemoryStateStore();
			await read(store);
			const verdict = compareRoutes(
				[
					{ route: 'Relay A', counts: counts(90, 10) },
					{ route: 'Relay B', counts: counts(99, 1) },
				],
				{ group: 'yahoo', metric: 'block', minEffect: 0.01 },
			);
			expect(verdict.verdict).toBe('not-enough-data');
			expect(await settleCompareVerdict(store, verdict, 24)).toBeUndefined();
			expect(await read(store)).toEqual([]);
		});
	});
});
