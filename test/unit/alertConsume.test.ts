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
		expect(f).toEqual({ types: [], routes: ['A', 'B', 'C'], groups: [], minimumSeverity: 'info' });
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
});
