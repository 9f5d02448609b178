import { alertFilterSchema, alertMatches, pollAlerts } from '../../lib/alerts/consume';
import { MemoryStateStore } from '../../lib/state/memory';
import type { Alert, AlertInput } from '../../lib/state/types';

const at = '2026-12-01T10:00:00.000Z';
const alert = (extra: Partial<AlertInput>): AlertInput => ({
	type: 'route.throttled',
	severity: 'warning',
	route: 'A',
	group: 'gmail',
	reason: 'r',
	at,
	...extra,
});

describe('the alert filter', () => {
	it('reads the node’s parameters: lists comma- or newline-separated, empty = any', () => {
		const f = alertFilterSchema.parse({ routes: ' A, B\nC ,', groups: '' });
		expect(f).toEqual({
			types: [],
			routes: ['A', 'B', 'C'],
			groups: [],
			minimumSeverity: 'info',
			cooldownMinutes: 0,
		});
		expect(alertFilterSchema.parse({ cooldownMinutes: '2.5' }).cooldownMinutes).toBe(2.5);
		expect(alertFilterSchema.safeParse({ cooldownMinutes: -1 }).success).toBe(false);
		expect(
			alertFilterSchema.safeParse({ types: ['warmup.cap-reached', 'ab.verdict'] }).success,
		).toBe(true);
		expect(alertFilterSchema.safeParse({ minimumSeverity: 'loud' }).success).toBe(false);
		expect(alertFilterSchema.safeParse({ types: ['route.gone'] }).success).toBe(false);
	});

	it('matches by type, route, group and minimum severity; a group filter drops route-wide alerts', () => {
		const a = { id: '0-1', ...alert({}) } as Alert;
		const f = (v: object) => alertFilterSchema.parse(v);
		expect(alertMatches(f({}), a)).toBe(true);
		expect(alertMatches(f({ types: ['route.suspended'] }), a)).toBe(false);
		expect(alertMatches(f({ routes: 'B' }), a)).toBe(false);
		expect(alertMatches(f({ groups: 'gmail' }), a)).toBe(true);
		expect(alertMatches(f({ groups: 'gmail' }), { ...a, group: undefined })).toBe(false);
		// a campaign-wide alert (list quality) has no route: a route filter drops it
		expect(alertMatches(f({ routes: 'A' }), { ...a, route: undefined })).toBe(false);
		expect(alertMatches(f({}), { ...a, route: undefined })).toBe(true);
		expect(alertMatches(f({ minimumSeverity: 'warning' }), a)).toBe(true);
		expect(alertMatches(f({ minimumSeverity: 'critical' }), a)).toBe(false);
	});
});

describe('one poll', () => {
	const consumer = { group: 'wf:node', consumer: 'wf:node' };

	it('emits the matching alerts in one call and acknowledges every alert read, the dropped ones too', async () => {
		const store = new MemoryStateStore();
		await store.readAlerts(consumer.group, consumer.consumer, { count: 1 });
		await store.publishAlerts(
			[alert({}), alert({ severity: 'info', type: 'route.restored' }), alert({ route: 'B' })],
			0,
		);
		const calls: Alert[][] = [];
		const filter = alertFilterSchema.parse({ minimumSeverity: 'warning' });
		expect(
			await pollAlerts(store, { ...consumer, count: 2 }, filter, (a) => void calls.push(a)),
		).toEqual({
			read: 3,
			emitted: 2,
		});
		// two reads of at most 2: an emit per read that kept something
		expect(calls.map((c) => c.map((a) => a.route))).toEqual([['A'], ['B']]);
		expect(await pollAlerts(store, consumer, filter, () => undefined)).toEqual({
			read: 0,
			emitted: 0,
		});
	});

	it('acknowledges nothing when emitting fails or the trigger closed: the next poll gets the same alerts', async () => {
		const store = new MemoryStateStore();
		await store.readAlerts(consumer.group, consumer.consumer, { count: 1 });
		const [id] = await store.publishAlerts([alert({})], 0);
		const filter = alertFilterSchema.parse({});
		await expect(
			pollAlerts(store, consumer, filter, () => {
				throw new Error('the engine refused the run');
			}),
		).rejects.toThrow('refused');
		expect(
			await pollAlerts(store, { ...consumer, stopped: () => true }, filter, () => undefined),
		).toEqual({
			read: 1,
			emitted: 0,
		});
		const got: string[] = [];
		await pollAlerts(store, consumer, filter, (a) => void got.push(...a.map((x) => x.id)));
		expect(got).toEqual([id]);
	});

	describe('the trigger’s cooldown (kept in the store)', () => {
		const MIN = 60_000;
		const ids = (alerts: Alert[][]) => alerts.flat().map((a) => a.id);

		it('emits one alert per type, route, group, campaign, rule and severity per cooldown; the repeats are acknowledged and dropped', async () => {
			let now = Date.parse(at);
			const store = new MemoryStateStore({ clock: () => now });
			const other = { group: 'wf2:node', consumer: 'wf2:node' };
			for (const c of [consumer, other]) await store.readAlerts(c.group, c.consumer, { count: 1 });
			const list = (campaign: string, severity: 'warning' | 'critical' = 'warning') =>
				alert({
					type: 'threshold.warning',
					route: undefined,
					group: undefined,
					campaign,
					rule: 'hard-bounce-rate',
					severity,
				});
			// published with no store cooldown: the trigger's is the only one here
			const published = await store.publishAlerts(
				[
					alert({ rule: 'r1' }),
					alert({ rule: 'r1' }), // the same: dropped
					alert({ rule: 'r2' }), // another rule
					alert({ rule: 'r1', route: 'B' }), // another route
					alert({ rule: 'r1', group: 'yahoo' }), // another group
					list('winter'),
					list('winter'), // the same: dropped
					list('spring'), // another campaign
					list('winter', 'critical'), // worse: heard
				],
				0,
			);
			const filter = alertFilterSchema.parse({ cooldownMinutes: 1 });
			const calls: Alert[][] = [];
			expect(await pollAlerts(store, consumer, filter, (a) => void calls.push(a))).toEqual({
				read: 9,
				emitted: 7,
			});
			expect(ids(calls)).toEqual([0, 2, 3, 4, 5, 7, 8].map((i) => published[i]));
			// everything read was acknowledged, the dropped ones too
			expect(await pollAlerts(store, consumer, filter, () => undefined)).toEqual({
				read: 0,
				emitted: 0,
			});
			// another trigger (its own consumer group) has its own cooldown
			const otherCalls: Alert[][] = [];
			await pollAlerts(store, other, filter, (a) => void otherCalls.push(a));
			expect(ids(otherCalls)).toEqual(ids(calls));

			// 30 s later the same alert is still inside the cooldown
			now += 0.5 * MIN;
			await store.publishAlerts([alert({ rule: 'r1' })], 0);
			calls.length = 0;
			expect(await pollAlerts(store, consumer, filter, (a) => void calls.push(a))).toEqual({
				read: 1,
				emitted: 0,
			});
			// a minute after the first, it is emitted again
			now += 0.5 * MIN + 1;
			const [again] = await store.publishAlerts([alert({ rule: 'r1' })], 0);
			await pollAlerts(store, consumer, filter, (a) => void calls.push(a));
			expect(ids(calls)).toEqual([again]);

			// cooldown 0: every alert
			const zero = alertFilterSchema.parse({});
			const both = await store.publishAlerts([alert({ rule: 'r1' }), alert({ rule: 'r1' })], 0);
			calls.length = 0;
			await pollAlerts(store, consumer, zero, (a) => void calls.push(a));
			expect(ids(calls)).toEqual(both);
		});

		it('an alert whose emit failed after it took its mark is emitted when read again, once', async () => {
			const store = new MemoryStateStore();
			await store.readAlerts(consumer.group, consumer.consumer, { count: 1 });
			const [id] = await store.publishAlerts([alert({})], 0);
			const filter = alertFilterSchema.parse({ cooldownMinutes: 10 });
			const claimed = new Set<string>();
			await expect(
				pollAlerts(store, { ...consumer, claimed }, filter, () => {
					throw new Error('the engine refused the run');
				}),
			).rejects.toThrow('refused');
			expect([...claimed]).toEqual([id]);
			const got: string[] = [];
			await pollAlerts(
				store,
				{ ...consumer, claimed },
				filter,
				(a) => void got.push(...a.map((x) => x.id)),
			);
			expect(got).toEqual([id]);
			expect(claimed.size).toBe(0);
			// its mark stands: the same alert again is dropped
			await store.publishAlerts([alert({})], 0);
			expect(await pollAlerts(store, { ...consumer, claimed }, filter, () => undefined)).toEqual({
				read: 1,
				emitted: 0,
			});
		});
	});
});
