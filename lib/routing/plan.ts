import { z } from 'zod';
import { RATE_UNIT_NAMES } from '../throttle/units';
import { isIsoDate, isValidTimeZone, parseDayStart } from './calendar';

// the rate units are lib/throttle's; re-exported for code that took them from here
export { RATE_UNITS, type RateUnit } from '../throttle/units';

export const MODES = ['single', 'percentage', 'roundRobin', 'weighted', 'failover'] as const;
export type PartitionMode = (typeof MODES)[number];

/** `label` is the field's name in the node, so parseRoutePlan can name what the user typed */
const labelled = (label: string, message: string) => ({ message, params: { label } });

const isoDate = z
	.string()
	.trim()
	.regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-11-22')
	// the format alone lets 2026-02-31 through, and day counting would shift it into March
	.refine(isIsoDate, (s) =>
		labelled('Warm-Up Start Date', `"${s}" is not a real date (use YYYY-MM-DD)`),
	);

const shown = (v: unknown) => (typeof v === 'string' ? `"${v}"` : String(v));
/** A cap in whole messages; 0 lets nothing through (the node maps its "0 = no cap" to no cap before this). */
const cap = (label: string) =>
	z.custom<number>(
		(v) => Number.isInteger(v) && (v as number) >= 0,
		(v) => labelled(label, `must be a whole number of 0 or more, not ${shown(v)}`),
	);
/** Positive and finite: z.number().positive() lets Infinity through, which makes rates and TTLs meaningless. */
const aboveZero = (unit: string) =>
	z.custom<number>(
		(v) => typeof v === 'number' && Number.isFinite(v) && v > 0,
		(v) => ({ message: `must be a number of ${unit} above 0, not ${shown(v)}` }),
	);

const warmupSchema = z.discriminatedUnion('kind', [
	z.object({ kind: z.literal('none') }),
	z.object({
		kind: z.literal('ramp'),
		startDate: isoDate,
		startCap: z.number().int().min(1, 'the first day must allow at least 1 message'),
		growth: z.number().min(1, 'growth must be at least 1 (1.5 = +50% a day)').max(10),
	}),
	z.object({
		kind: z.literal('table'),
		startDate: isoDate,
		caps: z.array(z.object({ day: z.number().int().min(1), cap: z.number().int().min(0) })).min(1),
	}),
	z.object({
		kind: z.literal('share'),
		startDate: isoDate,
		startPercent: z.number().int().min(1).max(100),
		days: z.number().int().min(1),
	}),
]);

// The defaults below are for lib's own callers (tests, bench). The Route Partitioner passes every
// field, defaulted from its description, so the node's defaults win; it leaves out only what its
// mode hides (roundRobinBatch, sticky, stickyByHash), where these neutral ones apply.
const routeSchema = z.object({
	name: z.string().trim().min(1, 'every route needs a name'),
	enabled: z.boolean().default(true),
	percentage: z.number().min(0).max(100).optional(),
	weight: z.number().int('weights are whole numbers').min(0).default(1),
	dailyCap: cap('Daily Cap').optional(),
	hourlyCap: cap('Hourly Cap').optional(),
	/** only items of these domain groups may take the route; empty = any */
	groups: z.array(z.string().trim().toLowerCase()).default([]),
	warmup: warmupSchema.default({ kind: 'none' }),
});

export const routePlanSchema = z
	.object({
		mode: z.enum(MODES),
		routes: z.array(routeSchema).min(1, 'add at least one route'),
		roundRobinBatch: z.number().int().min(1).default(1),
		sticky: z.boolean().default(false),
		/** weighted mode: keep recipients on their route by rendezvous hashing instead of stored assignments */
		stickyByHash: z.boolean().default(false),
		groupRoutes: z
			.array(
				z.object({
					group: z.string().trim().toLowerCase().min(1),
					route: z.string().trim().min(1),
				}),
			)
			.default([]),
		timeZone: z
			.string()
			.refine(isValidTimeZone, 'is not a known time zone (use an IANA name such as Europe/Berlin)')
			.default('UTC'),
		dayStart: z
			.string()
			.default('00:00')
			.refine((s) => {
				try {
					parseDayStart(s);
					return true;
				} catch {
					return false;
				}
			}, 'must be a time of day like 00:00 or 06:30'),
		campaignRate: z
			.object({ limit: aboveZero('messages'), per: z.enum(RATE_UNIT_NAMES) })
			.optional(),
		/**
		 * a route whose own limit (reported by its send node) is below its share of the campaign
		 * rate: keep the exact split (the campaign slows) or move the excess to routes with room
		 */
		capacity: z.enum(['exact', 'move']).default('exact'),
		stateTtlDays: aboveZero('days').default(30),
	})
	.superRefine((plan, ctx) => {
		const seen = new Set<string>();
		plan.routes.forEach((r, i) => {
			if (seen.has(r.name))
				ctx.addIssue({
					code: 'custom',
					path: ['routes', i, 'name'],
					message: `the name "${r.name}" is used by two routes`,
					...withHint('Rename one of the two routes: every route needs a name of its own.'),
				});
			seen.add(r.name);
		});
		const enabled = plan.routes.filter((r) => r.enabled);
		if (enabled.length === 0)
			ctx.addIssue({
				code: 'custom',
				path: ['routes'],
				message: 'every route is disabled; enable at least one',
				...withHint('Turn Enabled on for at least one route.'),
			});
		if (plan.mode === 'percentage') {
			const missing = enabled.filter((r) => r.percentage === undefined).map((r) => r.name);
			if (missing.length)
				ctx.addIssue({
					code: 'custom',
					path: ['routes'],
					message: `set a percentage for ${missing.join(', ')}`,
					...withHint('Enter a Percentage for each enabled route; together they make 100.'),
				});
			const sum = enabled.reduce((a, r) => a + (r.percentage ?? 0), 0);
			if (Math.abs(sum - 100) > 1e-9) {
				const parts = enabled.map((r) => `${r.name} ${r.percentage ?? 0}%`).join(' + ');
				ctx.addIssue({
					code: 'custom',
					path: ['routes'],
					message: `the percentages of the enabled routes add up to ${+sum.toFixed(4)}, not 100 (${parts})`,
					...withHint(
						'Change the Percentage of the routes so the enabled ones add up to 100 (a disabled route does not count).',
					),
				});
			}
			for (const r of enabled) {
				if (
					r.percentage !== undefined &&
					Math.round(r.percentage * 100) !== r.percentage * 100 &&
					Math.abs(Math.round(r.percentage * 100) - r.percentage * 100) > 1e-6
				)
					ctx.addIssue({
						code: 'custom',
						path: ['routes'],
						message: `${r.name}: percentages may have at most two decimals`,
						...withHint('Round the Percentage to two decimals, e.g. 33.33.'),
					});
			}
		}
		if (plan.mode === 'weighted' && enabled.every((r) => r.weight === 0))
			ctx.addIssue({
				code: 'custom',
				path: ['routes'],
				message: 'at least one enabled route needs a weight above 0',
				...withHint('Give at least one enabled route a Weight of 1 or more.'),
			});
		const names = new Set(enabled.map((r) => r.name));
		plan.groupRoutes.forEach((g, i) => {
			if (!names.has(g.route))
				ctx.addIssue({
					code: 'custom',
					path: ['groupRoutes', i, 'route'],
					message: `group "${g.group}" is sent to "${g.route}", which is not an enabled route`,
					...withHint(
						`Under Domain Group Routing, enter the name of an enabled route (${[...names].join(', ') || 'none is enabled'}), or enable the route "${g.route}".`,
					),
				});
		});
	});

export type RoutePlanInput = z.input<typeof routePlanSchema>;
export type RoutePlan = z.output<typeof routePlanSchema>;
export type RouteConfig = RoutePlan['routes'][number];

export class PlanError extends Error {
	/** how to fix it, in the panel's words */
	readonly hint: string;
	constructor(
		message: string,
		/** the top-level plan field at fault (`routes`, `groupRoutes`, `timeZone`, …) */
		readonly field: string,
		hint?: string,
	) {
		super(message);
		this.name = 'PlanError';
		this.hint = hint ?? planHint(field);
	}
}

/**
 * How to fix a plan field, by the field's last path element (a route's own field, a warm-up
 * field) or its top-level name. Every PlanError gets one: the node puts it under the message.
 */
const HINTS: Record<string, string> = {
	name: 'Give every route a name: it names the output and the route the send node reports on.',
	percentage: 'Enter a Percentage between 0 and 100 for each enabled route.',
	weight: 'Enter a Weight that is a whole number of 0 or more (3 and 1 = 75% and 25%).',
	startDate: 'Enter Warm-Up Start Date as YYYY-MM-DD (e.g. 2026-11-22), or set Warm-Up to None.',
	startCap: 'Set First Day Cap to 1 or more.',
	growth: 'Set Daily Growth between 1 and 10 (1.5 = 50% more each day).',
	caps: 'Write the Cap Table as day:cap pairs, e.g. 1:50, 2:100, 3:200.',
	startPercent: 'Set Starting Share (%) between 1 and 100.',
	days: 'Set Days to Full Share to 1 or more.',
	dailyCap: 'Enter Daily Cap as a whole number, or 0 for no cap.',
	hourlyCap: 'Enter Hourly Cap as a whole number, or 0 for no cap.',
	routes: 'Check the routes under Routes (Add Route adds one).',
	groupRoutes:
		'Pick a domain group and the name of an enabled route for every Domain Group Routing row, or remove the row.',
	group: 'Pick a domain group for every Domain Group Routing row, or remove the empty row.',
	route:
		'Enter the name of an enabled route (as written under Routes) for every Domain Group Routing row.',
	timeZone: "Use an IANA time zone such as Europe/Berlin, or leave it empty for the workflow's.",
	dayStart: 'Enter a time of day on the 24-hour clock, like 00:00 or 06:30.',
	campaignRate: 'Set Campaign Rate above 0, or to 0 for no campaign rate.',
	limit: 'Set Campaign Rate above 0, or to 0 for no campaign rate.',
	per: 'Pick a unit for Campaign Rate Per.',
	stateTtlDays: 'Set Keep State (Days) above 0.',
	roundRobinBatch: 'Set Messages per Turn to a whole number of 1 or more.',
	mode: 'Pick a Mode from the list.',
	sticky: 'Turn Sticky Recipients on or off.',
	stickyByHash: 'Turn Sticky Without State on or off.',
	capacity: "Pick one of the choices of When a Route's Own Limit Is Below Its Share.",
};

export function planHint(...path: Array<string | number | undefined>): string {
	for (let k = path.length - 1; k >= 0; k--) {
		const p = path[k];
		if (typeof p === 'string' && HINTS[p]) return HINTS[p];
	}
	return HINTS.routes;
}

/** A refinement's issue with its own fix. */
const withHint = (hint: string) => ({ params: { hint } });

/** Validates a plan; the error names the field and, for a route, the route. */
export function parseRoutePlan(input: unknown): RoutePlan {
	const result = routePlanSchema.safeParse(input);
	if (result.success) return result.data;
	const issue = result.error.issues[0];
	const [field, index, sub] = issue.path;
	const params = issue.code === 'custom' ? issue.params : undefined;
	const hint =
		(params?.hint as string | undefined) ??
		(issue.code === 'too_small' && issue.path.length === 1 && field === 'routes'
			? 'Add a route under Routes (Add Route): a Route Partitioner needs at least one, each an output of its own.'
			: undefined) ??
		planHint(...issue.path.map((p) => (typeof p === 'number' ? undefined : String(p))));
	let where = '';
	if (field === 'routes' && typeof index === 'number') {
		const routes = (input as { routes?: Array<{ name?: string }> }).routes;
		const name = routes?.[index]?.name;
		const route = `route ${index + 1}${name ? ` "${name}"` : ''}`;
		const label = params?.label as string | undefined;
		// same shape as the node's Cap Table errors: route, then the field as the user sees it
		if (label) throw new PlanError(`${route}, ${label}: ${issue.message}`, 'routes', hint);
		where = ` (${route}${sub ? `, ${sub.toString()}` : ''})`;
	}
	throw new PlanError(`${issue.message}${where}`, String(field ?? 'routes'), hint);
}
