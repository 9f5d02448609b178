import type { IDataObject } from 'n8n-workflow';
import { parseRoutePlan, PlanError, type RoutePlanInput } from '../../lib/routing/plan';
import { partitionerOptionsSchema } from '../../nodes/RoutePartitioner/options';
import { planInputFromParameters } from '../../nodes/RoutePartitioner/plan';

/** `field: message` of the PlanError the input raises. */
function planError(parse: () => unknown): string {
	try {
		parse();
	} catch (e) {
		expect(e).toBeInstanceOf(PlanError);
		return `${(e as PlanError).field}: ${(e as Error).message}`;
	}
	throw new Error('expected a PlanError');
}

/** The plan the Route Partitioner builds from its parameters. */
function fromNode(route: IDataObject, options: IDataObject = {}) {
	return parseRoutePlan(
		planInputFromParameters({
			mode: 'weighted',
			routes: {
				values: [
					{ name: 'SendGrid', weight: 1, ...route },
					{ name: 'Relay', weight: 1 },
				],
			},
			roundRobinBatch: 1,
			sticky: false,
			stickyByHash: false,
			groupRoutes: {},
			options: partitionerOptionsSchema.parse(options),
			workflowTimeZone: 'UTC',
		}),
	);
}

const withWarmup = (warmup: RoutePlanInput['routes'][number]['warmup']): RoutePlanInput => ({
	mode: 'weighted',
	timeZone: 'UTC',
	routes: [{ name: 'SendGrid', warmup }, { name: 'Relay' }],
});
const schedules = (startDate: string) => [
	{ kind: 'ramp' as const, startDate, startCap: 50, growth: 1.5 },
	{ kind: 'table' as const, startDate, caps: [{ day: 1, cap: 50 }] },
	{ kind: 'share' as const, startDate, startPercent: 10, days: 14 },
];

describe('warm-up start dates', () => {
	it.each([
		'2026-02-31',
		'2026-13-45',
		'2026-02-29',
		'1900-02-29',
		'2026-04-31',
		'2026-00-10',
		'2026-06-00',
	])('rejects %s, which is not a real date, for every schedule', (date) => {
		for (const warmup of schedules(date))
			expect(planError(() => parseRoutePlan(withWarmup(warmup)))).toBe(
				`routes: route 1 "SendGrid", Warm-Up Start Date: "${date}" is not a real date (use YYYY-MM-DD)`,
			);
	});

	it('accepts leap days in leap years', () => {
		for (const warmup of schedules('2024-02-29'))
			expect(parseRoutePlan(withWarmup(warmup)).routes[0].warmup).toMatchObject({
				startDate: '2024-02-29',
			});
		expect(parseRoutePlan(withWarmup(schedules('2000-02-29')[0])).routes[0].warmup).toMatchObject({
			startDate: '2000-02-29',
		});
	});

	it('rejects an impossible date typed into the node, naming the route and the field', () => {
		expect(planError(() => fromNode({ warmup: 'ramp', warmupStartDate: '2026-02-31' }))).toBe(
			'routes: route 1 "SendGrid", Warm-Up Start Date: "2026-02-31" is not a real date (use YYYY-MM-DD)',
		);
		expect(
			planError(() =>
				fromNode({ warmup: 'table', warmupStartDate: '2026-13-45', warmupTable: '1:50' }),
			),
		).toMatch(/Warm-Up Start Date: "2026-13-45" is not a real date/);
	});

	it('takes the date of an ISO date-time from an expression, but not a date with extra digits', () => {
		expect(
			fromNode({ warmup: 'share', warmupStartDate: '2026-11-22T08:00:00.000+01:00' }).routes[0]
				.warmup,
		).toMatchObject({ startDate: '2026-11-22' });
		expect(planError(() => fromNode({ warmup: 'share', warmupStartDate: '2026-11-223' }))).toMatch(
			/^routes: must be a date like 2026-11-22 \(route 1 "SendGrid", warmup\)/,
		);
	});
});

describe('limits, caps and rates', () => {
	it('rejects a negative or non-finite campaign rate; 0 means none', () => {
		expect(planError(() => fromNode({}, { campaignRate: -5 }))).toBe(
			'campaignRate: must be a number of messages above 0, not -5',
		);
		expect(planError(() => fromNode({}, { campaignRate: NaN }))).toBe(
			'campaignRate: must be a number of messages above 0, not NaN',
		);
		expect(planError(() => fromNode({}, { campaignRate: Infinity }))).toBe(
			'campaignRate: must be a number of messages above 0, not Infinity',
		);
		expect(
			planError(() =>
				parseRoutePlan({
					mode: 'single',
					routes: [{ name: 'a' }],
					campaignRate: { limit: Infinity, per: 'hour' },
				}),
			),
		).toBe('campaignRate: must be a number of messages above 0, not Infinity');
		expect(fromNode({}, { campaignRate: 0 }).campaignRate).toBeUndefined();
		expect(fromNode({}, {}).campaignRate).toBeUndefined();
		expect(fromNode({}, { campaignRate: 120, campaignRatePer: 'minute' }).campaignRate).toEqual({
			limit: 120,
			per: 'minute',
		});
	});

	it('rejects negative or non-finite daily and hourly caps; 0 means no cap', () => {
		expect(planError(() => fromNode({ dailyCap: -1 }))).toBe(
			'routes: route 1 "SendGrid", Daily Cap: must be a whole number of 0 or more, not -1',
		);
		expect(planError(() => fromNode({ hourlyCap: -10 }))).toBe(
			'routes: route 1 "SendGrid", Hourly Cap: must be a whole number of 0 or more, not -10',
		);
		expect(planError(() => fromNode({ dailyCap: NaN }))).toBe(
			'routes: route 1 "SendGrid", Daily Cap: must be a whole number of 0 or more, not NaN',
		);
		expect(planError(() => fromNode({ hourlyCap: Infinity }))).toBe(
			'routes: route 1 "SendGrid", Hourly Cap: must be a whole number of 0 or more, not Infinity',
		);
		expect(planError(() => fromNode({ dailyCap: 'lots' }))).toBe(
			'routes: route 1 "SendGrid", Daily Cap: must be a whole number of 0 or more, not NaN',
		);
		const plan = fromNode({ dailyCap: 0, hourlyCap: ' ' });
		expect([plan.routes[0].dailyCap, plan.routes[0].hourlyCap]).toEqual([undefined, undefined]);
		expect(fromNode({ dailyCap: 500, hourlyCap: 50 }).routes[0]).toMatchObject({
			dailyCap: 500,
			hourlyCap: 50,
		});
	});

	it('rejects a state lifetime that is not a positive number of days', () => {
		expect(planError(() => fromNode({}, { stateTtlDays: -1 }))).toBe(
			'stateTtlDays: must be a number of days above 0, not -1',
		);
		expect(planError(() => fromNode({}, { stateTtlDays: 0 }))).toBe(
			'stateTtlDays: must be a number of days above 0, not 0',
		);
		expect(
			planError(() =>
				parseRoutePlan({ mode: 'single', routes: [{ name: 'a' }], stateTtlDays: Infinity }),
			),
		).toBe('stateTtlDays: must be a number of days above 0, not Infinity');
		expect(fromNode({}, {}).stateTtlDays).toBe(30);
		expect(fromNode({}, { stateTtlDays: 7 }).stateTtlDays).toBe(7);
	});

	it('still rejects negative weights and percentages', () => {
		expect(planError(() => fromNode({ weight: -1 }))).toMatch(
			/^routes: .*route 1 "SendGrid", weight/,
		);
		expect(
			planError(() =>
				parseRoutePlan({
					mode: 'percentage',
					routes: [
						{ name: 'a', percentage: -10 },
						{ name: 'b', percentage: 110 },
					],
				}),
			),
		).toMatch(/^routes: .*route 1 "a", percentage/);
	});
});

describe('every plan error says how to fix it', () => {
	const base = (extra: Partial<RoutePlanInput>): RoutePlanInput => ({
		mode: 'percentage',
		timeZone: 'UTC',
		routes: [
			{ name: 'A', percentage: 50 },
			{ name: 'B', percentage: 50 },
		],
		...extra,
	});
	const route = (r: IDataObject) =>
		base({
			mode: 'weighted',
			routes: [{ name: 'A', ...r }, { name: 'B' }] as RoutePlanInput['routes'],
		});
	const cases: Array<[string, RoutePlanInput, RegExp]> = [
		['no routes', base({ routes: [] }), /^Add a route under Routes/],
		[
			'a route without a name',
			base({ routes: [{ name: ' ', percentage: 100 }] }),
			/Give every route a name/,
		],
		[
			'two routes with one name',
			base({
				routes: [
					{ name: 'A', percentage: 50 },
					{ name: 'A', percentage: 50 },
				],
			}),
			/^Rename one of the two routes/,
		],
		[
			'every route disabled',
			base({ routes: [{ name: 'A', percentage: 100, enabled: false }] }),
			/^Turn Enabled on/,
		],
		[
			'a missing percentage',
			base({ routes: [{ name: 'A', percentage: 100 }, { name: 'B' }] }),
			/^Enter a Percentage for each enabled route/,
		],
		[
			'percentages not adding up',
			base({
				routes: [
					{ name: 'A', percentage: 60 },
					{ name: 'B', percentage: 30 },
				],
			}),
			/add up to 100/,
		],
		[
			'three decimals',
			base({
				routes: [
					{ name: 'A', percentage: 33.333 },
					{ name: 'B', percentage: 66.667 },
				],
			}),
			/two decimals/,
		],
		[
			'a percentage above 100',
			base({ routes: [{ name: 'A', percentage: 150 }] }),
			/between 0 and 100/,
		],
		[
			'weights all 0',
			base({ mode: 'weighted', routes: [{ name: 'A', weight: 0 }] }),
			/Weight of 1 or more/,
		],
		['a fractional weight', route({ weight: 1.5 }), /whole number/],
		['a negative daily cap', route({ dailyCap: -1 }), /Daily Cap as a whole number, or 0/],
		['a fractional hourly cap', route({ hourlyCap: 2.5 }), /Hourly Cap as a whole number/],
		[
			'a bad warm-up date',
			route({ warmup: { kind: 'ramp', startDate: '22.11.2026', startCap: 5, growth: 1.5 } }),
			/YYYY-MM-DD/,
		],
		[
			'a first day cap of 0',
			route({ warmup: { kind: 'ramp', startDate: '2026-11-22', startCap: 0, growth: 1.5 } }),
			/First Day Cap/,
		],
		[
			'growth below 1',
			route({ warmup: { kind: 'ramp', startDate: '2026-11-22', startCap: 5, growth: 0.5 } }),
			/Daily Growth/,
		],
		[
			'a share above 100',
			route({ warmup: { kind: 'share', startDate: '2026-11-22', startPercent: 120, days: 3 } }),
			/Starting Share/,
		],
		[
			'0 days to full share',
			route({ warmup: { kind: 'share', startDate: '2026-11-22', startPercent: 10, days: 0 } }),
			/Days to Full Share/,
		],
		[
			'an empty cap table',
			route({ warmup: { kind: 'table', startDate: '2026-11-22', caps: [] } }),
			/Cap Table/,
		],
		[
			'a group routed to no route',
			base({ groupRoutes: [{ group: 'google', route: 'Z' }] }),
			/enabled route \(A, B\)/,
		],
		[
			'a group row without a group',
			base({ groupRoutes: [{ group: '', route: 'A' }] }),
			/Pick a domain group/,
		],
		['an unknown time zone', base({ timeZone: 'Mars/Olympus' }), /IANA time zone/],
		['a bad day start', base({ dayStart: '25:00' }), /24-hour clock/],
		[
			'a campaign rate of -5',
			base({ campaignRate: { limit: -5, per: 'hour' } }),
			/Campaign Rate above 0/,
		],
		['keep state 0 days', base({ stateTtlDays: 0 }), /Keep State \(Days\)/],
		['messages per turn 0', base({ mode: 'roundRobin', roundRobinBatch: 0 }), /Messages per Turn/],
		['an unknown mode', base({ mode: 'random' as RoutePlanInput['mode'] }), /Pick a Mode/],
	];
	it.each(cases)('%s', (_, input, hint) => {
		let error: unknown;
		try {
			parseRoutePlan(input);
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(PlanError);
		expect((error as PlanError).hint).toMatch(hint);
	});

	it('a bad Cap Table in the node gets the Cap Table hint', () => {
		let error: unknown;
		try {
			fromNode({ warmup: 'table', warmupStartDate: '2026-11-22', warmupTable: '1-50' });
		} catch (e) {
			error = e;
		}
		expect((error as PlanError).hint).toMatch(/^Write the Cap Table as day:cap pairs/);
	});
});
