import { readSeries, readStats, resolveWindow } from '../../lib/operations/stats';
import { Partitioner } from '../../lib/routing/partitioner';
import { parseRoutePlan } from '../../lib/routing/plan';
import { circuitName } from '../../lib/state/keys';
import { MemoryStateStore } from '../../lib/state/memory';
import { ACCEPT_LATENCY_BUCKETS, latencyField, latencyPercentile } from '../../lib/state/outcomes';
import { RedisStateStore } from '../../lib/state/redis';
import type { StateStore } from '../../lib/state/types';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';

const MIN = 60_000;
const HOUR = 60 * MIN;

/*
 * The figures below, by hand: Wilson 95% (z = 1.959963984540054, z² = 3.841458820694124) for k of n
 * is (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
 *
 * Relay A × google, 15 minutes: sent 500 + 440 = 940, blocked 20 + 40 = 60, delivered 900,
 * bounceHard 3, complained 1, accept latency (60,000 + 30,800) / 940 = 96.5957… ms.
 * - block 60 / (940 + 60) = 0.06: centre 0.06 + 3.8414588/2000 = 0.0619207294, spread
 *   1.959964·√(0.06·0.94/1000 + 3.8414588/4e6) = 1.959964·√(5.64e-5 + 9.6036e-7) = 0.0148441059,
 *   over 1 + 3.8414588/1000 = 1.0038414588: [0.0468964727, 0.0764710748]
 * - delivery 900/940 = 0.9574468085: centre 0.9574468 + 3.8414588/1880 = 0.9594901377, spread
 *   1.959964·√(0.9574468·0.0425532/940 + 3.8414588/3534400) = 0.0130642846, over 1.0040866583:
 *   [0.9425738757, 0.9685961010]
 * - hardBounce 3/940: centre 0.0031914894 + 0.0020433292 = 0.0052348185, spread 0.0041444053, over
 *   1.0040866583: [0.0010859752, 0.0093410502]
 * - complaint 1/900 (deliveries reported: over delivered): centre 0.0011111 + 0.0021341438 =
 *   0.0032452549, spread 0.0030482523, over 1.0042682876: [0.0001961653, 0.0062667589]
 * - deferral 0/1000: [0, 2·0.0019207294/1.0038414588] = [0, 0.0038267585]
 * - unsubscribe 0/940: [0, 2·0.0020433292/1.0040866583] = [0, 0.0040700255]
 * Relay A × google, 1 hour: also sent 100 twenty minutes ago: block 60/1100 = 0.0545454545, centre
 * 0.0545454545 + 3.8414588/2200 = 0.0562915722, spread 0.0135330842, over 1.0034922353:
 * [0.0426096850, 0.0695816608]
 * Accept latency histogram of Relay A × google, 15 minutes: ≤100 300 + 100 = 400, ≤250 150 + 300 =
 * 450, ≤500 40 + 30 = 70, ≤1000 8, ≤2500 2, over 10,000 10: 940 in all.
 * - p50: rank 0.5·940 = 470; 400 lie below 100 ms, 850 below 250: in (100, 250], 70 of its 450:
 *   100 + 150·70/450 = 123.3333… ms
 * - p90: rank 846, in (100, 250] still: 100 + 150·446/450 = 248.6666… ms
 * - p99: rank 930.6; 930 lie at or below 2,500 (and 5,000 and 10,000): in the open last bucket, whose
 *   estimate is its lower bound, 10,000 ms
 * Relay B × yahoo: sent 200, deferred 50: deferral 50/250 = 0.2, centre 0.2 + 3.8414588/500 =
 * 0.2076829176, spread 0.0501753014, over 1.0153658353: [0.1551240063, 0.2539559734]; block 0/200:
 * [0, 2·0.0096036471/1.0192072941] = [0, 0.0188453264]; complaint 0/200 (no deliveries: over sent).
 */
const FIRST = { sent: 500, blocked: 20, acceptMsSum: 60_000, acceptN: 500 };
const FIRST_HISTOGRAM = {
	acceptLe100: 300,
	acceptLe250: 150,
	acceptLe500: 40,
	acceptLe1000: 8,
	acceptLe2500: 2,
};
const SECOND = { sent: 440, blocked: 40, acceptMsSum: 30_800, acceptN: 440 };
const SECOND_HISTOGRAM = {
	acceptLe100: 100,
	acceptLe250: 300,
	acceptLe500: 30,
	acceptOver10000: 10,
};

async function seed(store: StateStore, now: number): Promise<void> {
	await store.countOutcomes([
		{
			route: 'Relay A',
			group: 'google',
			counts: { ...FIRST, ...FIRST_HISTOGRAM },
			at: now,
		},
		{
			route: 'Relay A',
			group: 'google',
			counts: { ...SECOND, ...SECOND_HISTOGRAM },
			at: now - 10 * MIN,
		},
		{
			route: 'Relay A',
			group: 'google',
			counts: { delivered: 900, bounceHard: 3, complained: 1 },
			at: now - 5 * MIN,
		},
		// in the hour, not in the 15 minutes
		{ route: 'Relay A', group: 'google', counts: { sent: 100 }, at: now - 20 * MIN },
		{ route: 'Relay B', group: 'yahoo', counts: { sent: 200, deferred: 50 }, at: now - MIN },
		// in the day and the week only
		{ route: 'Relay C', group: '', counts: { sent: 7 }, at: now - 2 * HOUR },
		{ route: 'Relay A', group: 'google', counts: { sent: 5 }, at: now - 4 * HOUR },
	]);
}

function describeStats(
	name: string,
	make: () => Promise<{ store: StateStore; exactClock: boolean }>,
) {
	describe(`readStats / readSeries on ${name}`, () => {
		let store: StateStore;
		let exactClock: boolean;
		let now: number;
		beforeEach(async () => {
			({ store, exactClock } = await make());
			now = await store.now();
			await seed(store, now);
		});
		afterEach(() => store.close());

		it('sums a 15 minute window per route × group, with every rate and its Wilson interval', async () => {
			const rows = await readStats(store, { window: '15m', now });
			expect(rows.map((r) => [r.route, r.group])).toEqual([
				['Relay A', 'google'],
				['Relay B', 'yahoo'],
			]);
			const [a, b] = rows;
			expect(a.window).toEqual({
				from: new Date(Math.floor(now / MIN) * MIN - 14 * MIN).toISOString(),
				to: new Date(now).toISOString(),
				label: '15m',
			});
			expect(a.counts).toEqual({
				sent: 940,
				delivered: 900,
				deferred: 0,
				bounceHard: 3,
				bounceSoft: 0,
				blocked: 60,
				complained: 1,
				unsubscribed: 0,
				suppressed: 0,
				acceptMsSum: 90_800,
				acceptN: 940,
				acceptLe100: 400,
				acceptLe250: 450,
				acceptLe500: 70,
				acceptLe1000: 8,
				acceptLe2500: 2,
				acceptLe5000: 0,
				acceptLe10000: 0,
				acceptOver10000: 10,
			});
			expect(a.latency.meanMs).toBeCloseTo(96.5957447, 6);
			expect(a.latency.p50Ms).toBeCloseTo(123.3333333, 6);
			expect(a.latency.p90Ms).toBeCloseTo(248.6666667, 6);
			expect(a.latency.p99Ms).toBe(10_000);
			const est = (r: (typeof rows)[number], name: keyof (typeof rows)[number]['rates']) => {
				const e = r.rates[name];
				return [e.count, e.sample, e.value, e.low, e.high];
			};
			const close = (got: number[], want: number[]) =>
				got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 9));
			close(est(a, 'block'), [60, 1000, 0.06, 0.0468964727, 0.0764710748]);
			close(est(a, 'delivery'), [900, 940, 0.9574468085, 0.9425738757, 0.968596101]);
			close(est(a, 'hardBounce'), [3, 940, 0.0031914894, 0.0010859752, 0.0093410502]);
			close(est(a, 'softBounce'), [0, 940, 0, 0, 0.0040700255]);
			close(est(a, 'complaint'), [1, 900, 0.0011111111, 0.0001961653, 0.0062667589]);
			close(est(a, 'deferral'), [0, 1000, 0, 0, 0.0038267585]);
			close(est(a, 'unsubscribe'), [0, 940, 0, 0, 0.0040700255]);
			close(est(b, 'deferral'), [50, 250, 0.2, 0.1551240063, 0.2539559734]);
			close(est(b, 'block'), [0, 200, 0, 0, 0.0188453264]);
			close(est(b, 'complaint'), [0, 200, 0, 0, 0.0188453264]);
			// no deliveries reported: delivery 0 of 200 sent, with the same interval as block 0/200
			close(est(b, 'delivery'), [0, 200, 0, 0, 0.0188453264]);
			expect(b.latency).toEqual({ meanMs: null, p50Ms: null, p90Ms: null, p99Ms: null });
			expect(a.state).toEqual({ reputation: 'ok', share: 1 });
		});

		it('reads the hour in minutes and the day and week in hours; filters routes and groups', async () => {
			const hour = await readStats(store, { window: '1h', now, routes: ['Relay A'] });
			expect(hour).toHaveLength(1);
			expect(hour[0].counts.sent).toBe(1040);
			const block = hour[0].rates.block;
			expect([block.count, block.sample]).toEqual([60, 1100]);
			expect(block.value).toBeCloseTo(0.0545454545, 9);
			expect(block.low).toBeCloseTo(0.042609685, 9);
			expect(block.high).toBeCloseTo(0.0695816608, 9);

			const day = await readStats(store, { window: '24h', now });
			expect(day[0].window.from).toBe(
				new Date(Math.floor(now / HOUR) * HOUR - 23 * HOUR).toISOString(),
			);
			expect(day.map((r) => [r.route, r.group, r.counts.sent])).toEqual([
				// 940 + 100 + 5 four hours ago
				['Relay A', 'google', 1045],
				['Relay B', 'yahoo', 200],
				['Relay C', '', 7],
			]);
			const week = await readStats(store, { window: '7d', now, groups: [''] });
			expect(week.map((r) => [r.route, r.counts.sent])).toEqual([['Relay C', 7]]);
			expect(await readStats(store, { window: '7d', now, groups: ['outlook'] })).toEqual([]);
		});

		it("shows each pair's reputation: suspended, throttled, with the rule and until when", async () => {
			await store.updateReputation('yahoo', [
				{
					kind: 'act',
					route: 'Relay B',
					action: 'suspend',
					rule: 'yahoo-tss04',
					reason: 'Yahoo TSS04',
					durationMs: HOUR,
				},
			]);
			await store.updateReputation('google', [
				{
					kind: 'act',
					route: 'Relay A',
					action: 'throttle',
					rule: 'block-rate',
					reason: 'blocks',
					durationMs: 30 * MIN,
					factor: 0.5,
				},
			]);
			const [a, b] = await readStats(store, { window: '15m', now: now + 1 });
			expect(b.state).toMatchObject({
				reputation: 'suspended',
				share: 0,
				rule: 'yahoo-tss04',
				reason: 'Yahoo TSS04',
			});
			expect(a.state).toMatchObject({
				reputation: 'throttled',
				share: 0.5,
				rule: 'block-rate',
				reason: 'blocks',
			});
			const aUntil = Date.parse(a.state.until!);
			const bUntil = Date.parse(b.state.until!);
			if (exactClock) {
				expect(bUntil).toBe(now + HOUR);
				expect(aUntil).toBe(now + 30 * MIN);
			} else {
				// the server's clock moved on a little between the calls
				expect(bUntil - now - HOUR).toBeGreaterThanOrEqual(0);
				expect(bUntil - now - HOUR).toBeLessThan(5000);
				expect(aUntil - now - 30 * MIN).toBeLessThan(5000);
			}
			// after the throttle ends, still within the suspension: the suspended route ramps later
			const later = await readStats(store, { window: '1h', now: now + 45 * MIN });
			expect(later[0].state).toEqual({ reputation: 'ok', share: 1 });
		});

		it("adds the route's circuit and warm-up in a campaign, as its partitioner recorded them", async () => {
			const clock = await store.now();
			const day = (t: number) => new Date(t).toISOString().slice(0, 10);
			// day 3 of a ramp of 50 doubling daily: a cap of 200 today
			const plan = parseRoutePlan({
				mode: 'roundRobin',
				sticky: false,
				timeZone: 'UTC',
				routes: [
					{
						name: 'Relay A',
						warmup: {
							kind: 'ramp',
							startDate: day(clock - 2 * 86_400_000),
							startCap: 50,
							growth: 2,
						},
					},
					{ name: 'Relay B' },
				],
			});
			const items = Array.from({ length: 30 }, () => ({ group: 'google' }));
			const placed = await new Partitioner(plan, store, {
				campaign: 'spring',
				partition: 'n1',
			}).assign(items);
			expect(placed.filter((p) => p.route === 'Relay A')).toHaveLength(15);
			// Relay B ejected for 10 minutes (its second time); Relay A's ejection is over: half-open
			await store.setCircuit(circuitName('spring', 'Relay B'), {
				openUntil: now + 10 * MIN,
				ejections: 2,
				failures: 0,
				probing: true,
			});
			await store.setCircuit(circuitName('spring', 'Relay A'), {
				openUntil: now - MIN,
				ejections: 1,
				failures: 0,
				probing: true,
			});
			// another campaign's circuit is not this one's
			await store.setCircuit(circuitName('autumn', 'Relay A'), {
				openUntil: now + HOUR,
				ejections: 5,
			});
			const [a, b] = await readStats(store, { window: '15m', now, campaign: 'spring' });
			expect(a.state).toMatchObject({
				reputation: 'ok',
				share: 1,
				campaign: 'spring',
				circuit: { state: 'half-open', ejections: 1, failures: 0 },
				warmup: {
					day: 3,
					date: day(clock),
					cap: 200,
					used: 15,
					left: 185,
					sharePercent: 100,
					current: true,
				},
			});
			expect(Date.parse(a.state.warmup!.recordedAt)).toBeGreaterThanOrEqual(clock);
			expect(b.state).toEqual({
				reputation: 'ok',
				share: 1,
				campaign: 'spring',
				circuit: {
					state: 'open',
					until: new Date(now + 10 * MIN).toISOString(),
					ejections: 2,
					failures: 0,
				},
			});
			// a campaign that never ran: circuits closed, no warm-up
			const [other] = await readStats(store, { window: '15m', now, campaign: 'winter' });
			expect(other.state).toEqual({
				reputation: 'ok',
				share: 1,
				campaign: 'winter',
				circuit: { state: 'closed', ejections: 0, failures: 0 },
			});
			// after the sending day ends, the record is that day's: no usage to show
			const tomorrow = Date.parse(`${day(clock)}T00:00:00Z`) + 86_400_000;
			const [stale] = await readStats(store, { window: '7d', now: tomorrow, campaign: 'spring' });
			expect(stale.state.warmup).toMatchObject({
				day: 3,
				cap: 200,
				used: null,
				left: null,
				current: false,
			});
		});

		it('gives series with every bucket of the window, oldest first', async () => {
			const [a] = await readSeries(store, {
				window: '15m',
				pairs: [{ route: 'Relay A', group: 'google' }],
				now,
			});
			const m = Math.floor(now / MIN) * MIN;
			expect(a.resolution).toBe('minute');
			expect(a.buckets).toHaveLength(15);
			expect(a.buckets[0].start).toBe(m - 14 * MIN);
			expect(a.buckets[14]).toEqual({
				start: m,
				counts: { ...FIRST, ...FIRST_HISTOGRAM },
			});
			expect(a.buckets[4]).toEqual({
				start: m - 10 * MIN,
				counts: { ...SECOND, ...SECOND_HISTOGRAM },
			});
			expect(a.buckets[9].counts).toEqual({ delivered: 900, bounceHard: 3, complained: 1 });
			expect(a.buckets.filter((x) => Object.keys(x.counts).length === 0)).toHaveLength(12);
			const [c] = await readSeries(store, {
				window: '24h',
				pairs: [{ route: 'Relay C', group: '' }],
				now,
			});
			expect(c.resolution).toBe('hour');
			expect(c.buckets).toHaveLength(24);
			expect(c.buckets[21]).toEqual({
				start: Math.floor(now / HOUR) * HOUR - 2 * HOUR,
				counts: { sent: 7 },
			});
		});
	});
}

describe('latency percentiles', () => {
	/*
	 * 100 messages: ≤100 10, ≤250 30, ≤500 40, ≤1000 15, ≤2500 4, over 10,000 1. Cumulative 10, 40,
	 * 80, 95, 99, 99, 99, 100.
	 * - p50: rank 50, in (250, 500] with 40 below: 250 + 250·10/40 = 312.5
	 * - p90: rank 90, in (500, 1000] with 80 below: 500 + 500·10/15 = 833.333…
	 * - p99: rank 99, in (1000, 2500] with 95 below: 1000 + 1500·4/4 = 2500
	 * - p10: rank 10, the whole first bucket (0, 100]: 100; p5: 50
	 * - p99.5: rank 99.5, the open bucket: its lower bound, 10,000
	 */
	const counts = {
		acceptLe100: 10,
		acceptLe250: 30,
		acceptLe500: 40,
		acceptLe1000: 15,
		acceptLe2500: 4,
		acceptOver10000: 1,
	};
	it('interpolates within the bucket the rank falls in', () => {
		expect(latencyPercentile(counts, 0.5)).toBe(312.5);
		expect(latencyPercentile(counts, 0.9)).toBeCloseTo(833.3333333, 6);
		expect(latencyPercentile(counts, 0.99)).toBe(2500);
		expect(latencyPercentile(counts, 0.1)).toBe(100);
		expect(latencyPercentile(counts, 0.05)).toBe(50);
		expect(latencyPercentile(counts, 0.995)).toBe(10_000);
	});
	it('is null without samples, and skips empty buckets', () => {
		expect(latencyPercentile({}, 0.5)).toBeNull();
		// the mean's fields alone (counted before the histogram) give no percentile
		expect(latencyPercentile({ acceptMsSum: 500, acceptN: 5 }, 0.5)).toBeNull();
		// 4 in (1000, 2500] alone: p50 rank 2 → 1000 + 1500·2/4 = 1750
		expect(latencyPercentile({ acceptLe2500: 4 }, 0.5)).toBe(1750);
	});
	it('counts a latency in the bucket of its upper bound', () => {
		expect(latencyField(0)).toBe('acceptLe100');
		expect(latencyField(100)).toBe('acceptLe100');
		expect(latencyField(101)).toBe('acceptLe250');
		expect(latencyField(2500)).toBe('acceptLe2500');
		expect(latencyField(10_000)).toBe('acceptLe10000');
		expect(latencyField(10_001)).toBe('acceptOver10000');
		expect(ACCEPT_LATENCY_BUCKETS.map((b) => b.le)).toEqual([
			100,
			250,
			500,
			1000,
			2500,
			5000,
			10_000,
			Infinity,
		]);
	});
});

describe('resolveWindow', () => {
	const now = Date.UTC(2026, 4, 10, 12, 30, 30);
	it('reads minutes within their 3 hours, hours beyond, whole buckets ending with the current one', () => {
		expect(resolveWindow('15m', now)).toMatchObject({
			resolution: 'minute',
			from: '2026-05-10T12:16:00.000Z',
			to: '2026-05-10T12:30:30.000Z',
		});
		expect(resolveWindow('1h', now)).toMatchObject({
			resolution: 'minute',
			from: '2026-05-10T11:31:00.000Z',
		});
		expect(resolveWindow('24h', now)).toMatchObject({
			resolution: 'hour',
			from: '2026-05-09T13:00:00.000Z',
		});
		expect(resolveWindow('7d', now)).toMatchObject({
			resolution: 'hour',
			from: '2026-05-03T13:00:00.000Z',
		});
		expect(resolveWindow({ since: '2026-05-10T10:00:00Z' }, now)).toMatchObject({
			resolution: 'minute',
			from: '2026-05-10T10:00:00.000Z',
			label: 'since 2026-05-10T10:00:00Z',
		});
		expect(resolveWindow({ since: '2026-05-08' }, now)).toMatchObject({
			resolution: 'hour',
			from: '2026-05-08T00:00:00.000Z',
		});
		// older than the hours' 8 days: from the oldest hour kept, 8 days before now's hour
		expect(resolveWindow({ since: '2026-04-01' }, now)).toMatchObject({
			resolution: 'hour',
			from: '2026-05-02T12:00:00.000Z',
		});
	});
	it('refuses what is not a window', () => {
		expect(() => resolveWindow({ since: 'yesterday' }, now)).toThrow(/ISO date/);
		expect(() => resolveWindow('2h' as never, now)).toThrow();
		expect(() => resolveWindow({ since: '2026-06-01' }, now)).toThrow(/future/);
	});
});

describeStats('the memory store', async () => {
	const t = Date.UTC(2026, 4, 10, 12, 30, 30);
	return { store: new MemoryStateStore({ clock: () => t }), exactClock: true };
});

let server: RedisServer;
let n = 0;
beforeAll(async () => {
	server = await startRedisServer();
});
afterAll(async () => {
	await server.stop();
});
describeStats('Redis', async () => ({
	store: new RedisStateStore({
		mode: 'standalone',
		host: '127.0.0.1',
		port: server.port,
		keyPrefix: `stats${++n}:`,
	}),
	exactClock: false,
}));
