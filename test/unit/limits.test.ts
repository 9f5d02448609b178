import { RATE_UNITS as PLAN_RATE_UNITS } from '../../lib/routing/plan';
import { MemoryStateStore } from '../../lib/state/memory';
import { limitsFor, shareOf, type LimitsInput } from '../../lib/throttle/applicable';
import { isRateUnit, RATE_UNITS } from '../../lib/throttle/units';

const base: LimitsInput = {
	provider: 'smtp',
	node: 'node-1',
	campaign: 'winter',
	route: 'Relay A',
	campaignBurstSeconds: 60,
	groupLimits: [],
};

describe('limitsFor: which rate limits a message is sent under', () => {
	it('is none when nothing is limited', () => {
		expect(limitsFor(base)).toEqual([]);
		expect(
			limitsFor({
				...base,
				credential: { id: 'abc', limit: 0, per: 'second' },
				connection: { limit: 0, per: 'second', burst: 5 },
				group: 'yahoo',
			}),
		).toEqual([]);
	});

	it('the SMTP credential’s own limit, keyed by the credential, one second’s worth of burst', () => {
		expect(limitsFor({ ...base, credential: { id: 'abc', limit: 10, per: 'second' } })).toEqual([
			{ key: 'smtp:abc', intervalMs: 100, burst: 10 },
		]);
		expect(limitsFor({ ...base, credential: { id: 'abc', limit: 120, per: 'hour' } })).toEqual([
			{ key: 'smtp:abc', intervalMs: 30_000, burst: 1 },
		]);
	});

	it('the connection limit of the send node, with its burst; burst 0 = one second’s worth', () => {
		expect(limitsFor({ ...base, connection: { limit: 5, per: 'second', burst: 0 } })).toEqual([
			{ key: 'conn:smtp:node-1', intervalMs: 200, burst: 5 },
		]);
		expect(limitsFor({ ...base, connection: { limit: 5, per: 'second' } })).toEqual([
			{ key: 'conn:smtp:node-1', intervalMs: 200, burst: 5 },
		]);
		expect(limitsFor({ ...base, connection: { limit: 60, per: 'minute', burst: 20 } })).toEqual([
			{ key: 'conn:smtp:node-1', intervalMs: 1000, burst: 20 },
		]);
		expect(
			limitsFor({
				...base,
				provider: 'sendgrid',
				node: 'Send',
				connection: { limit: 1, per: 'day', burst: 0 },
			}),
		).toEqual([{ key: 'conn:sendgrid:Send', intervalMs: 86_400_000, burst: 1 }]);
	});

	it('the route’s campaign share, keyed by campaign and route, with campaignBurstSeconds of catch-up', () => {
		expect(limitsFor({ ...base, share: { limit: 3600, per: 'hour' } })).toEqual([
			{ key: 'campaign:winter:Relay A', intervalMs: 1000, burst: 60 },
		]);
		expect(
			limitsFor({ ...base, share: { limit: 3600, per: 'hour' }, campaignBurstSeconds: 10 }),
		).toEqual([{ key: 'campaign:winter:Relay A', intervalMs: 1000, burst: 10 }]);
		// less than one message in the burst window: still one may go
		expect(limitsFor({ ...base, share: { limit: 2, per: 'day' } })).toEqual([
			{ key: 'campaign:winter:Relay A', intervalMs: 43_200_000, burst: 1 },
		]);
	});

	it('the campaign’s whole rate, one key for every route of the campaign, a burst of 1: a ceiling', () => {
		const a = limitsFor({ ...base, share: { limit: 420, per: 'minute', campaignLimit: 600 } });
		const b = limitsFor({
			...base,
			route: 'Relay B',
			share: { limit: 180, per: 'minute', campaignLimit: 600 },
		});
		expect(a).toEqual([
			{ key: 'campaign:winter', intervalMs: 100, burst: 1 },
			{ key: 'campaign:winter:Relay A', intervalMs: 60_000 / 420, burst: 420 },
		]);
		expect(b[0]).toEqual(a[0]);
		expect(b[1].key).toBe('campaign:winter:Relay B');
		// another campaign has its own
		expect(
			limitsFor({
				...base,
				campaign: 'spring',
				share: { limit: 1, per: 'second', campaignLimit: 2 },
			})[0].key,
		).toBe('campaign:spring');
	});

	it('the domain group’s limit on the route, only for a message of that group', () => {
		const groupLimits = [
			{ group: 'yahoo', limit: 600, per: 'hour' as const },
			{ group: 'google', limit: 10, per: 'second' as const },
		];
		expect(limitsFor({ ...base, groupLimits, group: 'yahoo' })).toEqual([
			{ key: 'group:winter:Relay A:yahoo', intervalMs: 6000, burst: 1 },
		]);
		expect(limitsFor({ ...base, groupLimits, group: 'google' })).toEqual([
			{ key: 'group:winter:Relay A:google', intervalMs: 100, burst: 10 },
		]);
		expect(limitsFor({ ...base, groupLimits, group: 'microsoft' })).toEqual([]);
		expect(limitsFor({ ...base, groupLimits })).toEqual([]);
	});

	it('all of them together, credential first, each on its own key', () => {
		const limits = limitsFor({
			...base,
			credential: { id: 'abc', limit: 20, per: 'second' },
			connection: { limit: 10, per: 'second', burst: 0 },
			share: { limit: 360, per: 'minute', campaignLimit: 600 },
			group: 'yahoo',
			groupLimits: [{ group: 'yahoo', limit: 600, per: 'hour' }],
		});
		expect(limits).toEqual([
			{ key: 'smtp:abc', intervalMs: 50, burst: 20 },
			{ key: 'conn:smtp:node-1', intervalMs: 100, burst: 10 },
			{ key: 'campaign:winter', intervalMs: 100, burst: 1 },
			{ key: 'campaign:winter:Relay A', intervalMs: 1000 / 6, burst: 360 },
			{ key: 'group:winter:Relay A:yahoo', intervalMs: 6000, burst: 1 },
		]);
	});

	it('keys campaign and route injectively: campaign "a:b" route "c" is not campaign "a" route "b:c"', () => {
		const one = limitsFor({
			...base,
			campaign: 'a:b',
			route: 'c',
			share: { limit: 1, per: 'second' },
			group: 'g',
			groupLimits: [{ group: 'g', limit: 1, per: 'second' }],
		});
		const two = limitsFor({
			...base,
			campaign: 'a',
			route: 'b:c',
			share: { limit: 1, per: 'second' },
			group: 'g',
			groupLimits: [{ group: 'g', limit: 1, per: 'second' }],
		});
		for (let k = 0; k < one.length; k++) expect(one[k].key).not.toBe(two[k].key);
	});

	it('makes two limits for one group one limit that keeps both, whichever is listed first', () => {
		const perMinute = { group: 'yahoo', limit: 30, per: 'minute' as const };
		const perSecond = { group: 'yahoo', limit: 1, per: 'second' as const };
		for (const groupLimits of [
			[perMinute, perSecond],
			[perSecond, perMinute],
		])
			expect(limitsFor({ ...base, group: 'yahoo', groupLimits })).toEqual([
				{ key: 'group:winter:Relay A:yahoo', intervalMs: 2000, burst: 1 },
			]);
		// the longer interval with the smaller tolerance: 150/minute (400 ms, burst 3: 800 ms) and 200/minute (300 ms, burst 3: 600 ms)
		expect(
			limitsFor({
				...base,
				group: 'g',
				groupLimits: [
					{ group: 'g', limit: 150, per: 'minute' },
					{ group: 'g', limit: 200, per: 'minute' },
				],
			}),
		).toEqual([{ key: 'group:winter:Relay A:g', intervalMs: 400, burst: 2 }]);
	});

	it('holds both limits of a group in the state store (30/minute listed before 1/second once let 60 a minute through)', async () => {
		const perMinute = { group: 'yahoo', limit: 30, per: 'minute' as const };
		const perSecond = { group: 'yahoo', limit: 1, per: 'second' as const };
		for (const groupLimits of [
			[perMinute, perSecond],
			[perSecond, perMinute],
		]) {
			let now = 1_000_000;
			const store = new MemoryStateStore({ clock: () => now });
			const limits = limitsFor({ ...base, group: 'yahoo', groupLimits });
			let sent = 0;
			// a try every 100 ms for a minute
			for (let k = 0; k < 600; k++, now += 100)
				if ((await store.reserveRate(limits, 1, 0)).granted) sent++;
			expect(sent).toBe(30);
		}
	});
});

describe('shareOf: the partitioner’s share as the item carries it', () => {
	it('takes a positive rate in a known unit, and the campaign’s whole rate (nothing else of the record)', () => {
		expect(shareOf({ limit: 4.5, per: 'minute', intervalMs: 60_000 })).toEqual({
			limit: 4.5,
			per: 'minute',
		});
		expect(shareOf({ limit: 4.5, per: 'minute', intervalMs: 60_000, campaignLimit: 9 })).toEqual({
			limit: 4.5,
			per: 'minute',
			campaignLimit: 9,
		});
		// a campaign rate that is no usable number is left out; the share still applies
		for (const campaignLimit of [0, -1, NaN, Infinity, '9', null])
			expect(shareOf({ limit: 4.5, per: 'minute', campaignLimit })).toEqual({
				limit: 4.5,
				per: 'minute',
			});
	});

	it.each([
		undefined,
		null,
		'fast',
		5,
		{},
		{ limit: 0, per: 'hour' },
		{ limit: -1, per: 'hour' },
		{ limit: NaN, per: 'hour' },
		{ limit: Infinity, per: 'hour' },
		{ limit: '5', per: 'hour' },
		{ limit: 5, per: 'week' },
		{ limit: 5 },
	])('ignores %p', (rate) => expect(shareOf(rate)).toBeUndefined());

	it('ignores a unit that is only inherited: an item saying per "toString" used to stop the whole batch', () => {
		for (const per of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])
			expect(shareOf({ limit: 5, per })).toBeUndefined();
	});
});

describe('rate units', () => {
	it('belong to lib/throttle; lib/routing/plan re-exports the same table', () => {
		expect(PLAN_RATE_UNITS).toBe(RATE_UNITS);
		expect(RATE_UNITS).toEqual({ second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 });
		expect(['second', 'minute', 'hour', 'day'].every(isRateUnit)).toBe(true);
		expect(['toString', 'week', '', 1, undefined].some(isRateUnit)).toBe(false);
	});
});
