import type { IDataObject } from 'n8n-workflow';
import { parseCapTable } from '../../lib/routing/warmup';
import { PlanError, planHint, type RoutePlanInput } from '../../lib/routing/plan';
import type { RateUnit } from '../../lib/throttle/units';
import { pickedGroup, restrictedGroups } from '../shared/groups';
import { splitList } from '../shared/itemValues';
import { ROUTE_DEFAULTS, type PartitionerParameters } from './options';

/** Display names of the plan fields, so errors name the parameter the user sees. */
export const PLAN_FIELD_LABELS: Record<string, string> = {
	routes: 'Routes',
	groupRoutes: 'Domain Group Routing',
	timeZone: 'Options › Time Zone',
	dayStart: 'Options › Day Starts At',
	campaignRate: 'Options › Campaign Rate',
	capacity: "Options › When a Route's Own Limit Is Below Its Share",
	roundRobinBatch: 'Messages per Turn',
	stateTtlDays: 'Options › Keep State (Days)',
	mode: 'Mode',
	sticky: 'Sticky Recipients',
};

const unset = (v: unknown) => v === undefined || v === null || v === '';
/** The descriptions promise "0 = no cap / none"; a negative or NaN is a mistake, so it goes on for parseRoutePlan to reject. */
function zeroMeansNone(v: unknown): number | undefined {
	const n = unset(v) ? 0 : Number(v);
	return n === 0 ? undefined : n;
}

/** The date of YYYY-MM-DD or of an ISO date-time from an expression; anything else is passed on whole, to be rejected. */
function dateOf(v: unknown): string {
	const s = String(v ?? '').trim();
	return /^\d{4}-\d{2}-\d{2}[T ]/.test(s) ? s.slice(0, 10) : s;
}

function warmupOf(r: IDataObject, index: number): IDataObject {
	const kind = (r.warmup as string) || ROUTE_DEFAULTS.warmup;
	const startDate = dateOf(r.warmupStartDate);
	switch (kind) {
		case 'ramp':
			return {
				kind,
				startDate,
				startCap: r.warmupStartCap ?? ROUTE_DEFAULTS.warmupStartCap,
				growth: r.warmupGrowth ?? ROUTE_DEFAULTS.warmupGrowth,
			};
		case 'table':
			try {
				return { kind, startDate, caps: parseCapTable(String(r.warmupTable ?? '')) };
			} catch (e) {
				// execute() turns a PlanError into a NodeOperationError naming the field
				// eslint-disable-next-line @n8n/community-nodes/require-node-api-error
				throw new PlanError(
					`route ${index + 1}${r.name ? ` "${r.name}"` : ''}, Cap Table: ${(e as Error).message}`,
					'routes',
					planHint('caps'),
				);
			}
		case 'share':
			return {
				kind,
				startDate,
				startPercent: r.warmupStartPercent ?? ROUTE_DEFAULTS.warmupStartPercent,
				days: r.warmupDays ?? ROUTE_DEFAULTS.warmupDays,
			};
		default:
			return { kind: 'none' };
	}
}

/** The node's parameters as a route plan (validated afterwards by `parseRoutePlan`). */
export function planInputFromParameters(
	p: Pick<
		PartitionerParameters,
		'mode' | 'routes' | 'roundRobinBatch' | 'sticky' | 'stickyByHash' | 'groupRoutes' | 'options'
	> & { workflowTimeZone: string },
): RoutePlanInput {
	const routes = ((p.routes.values as IDataObject[] | undefined) ?? []).map((r, i) => ({
		name: String(r.name ?? ''),
		enabled: r.enabled === undefined ? ROUTE_DEFAULTS.enabled : r.enabled !== false,
		percentage: typeof r.percentage === 'number' ? r.percentage : undefined,
		weight: typeof r.weight === 'number' ? r.weight : ROUTE_DEFAULTS.weight,
		dailyCap: zeroMeansNone(r.dailyCap),
		hourlyCap: zeroMeansNone(r.hourlyCap),
		groups: restrictedGroups(r, splitList),
		warmup: warmupOf(r, i),
	}));
	const o = p.options;
	const rate = zeroMeansNone(o.campaignRate);
	// the values go on unchecked: parseRoutePlan names what is wrong with them
	return {
		mode: p.mode as RoutePlanInput['mode'],
		routes: routes as RoutePlanInput['routes'],
		roundRobinBatch: p.roundRobinBatch as RoutePlanInput['roundRobinBatch'],
		sticky: p.sticky as RoutePlanInput['sticky'],
		stickyByHash: p.stickyByHash as RoutePlanInput['stickyByHash'],
		groupRoutes: ((p.groupRoutes.values as IDataObject[] | undefined) ?? []).map((g) => ({
			group: pickedGroup(g),
			route: String(g.route ?? ''),
		})),
		// lib's own 'UTC' is for a workflow without a time zone
		timeZone: o.timeZone || p.workflowTimeZone || 'UTC',
		dayStart: o.dayStart,
		campaignRate:
			rate === undefined ? undefined : { limit: rate, per: o.campaignRatePer as RateUnit },
		stateTtlDays: o.stateTtlDays,
		// outside the splitting modes the option is hidden and does nothing
		capacity: p.mode === 'percentage' || p.mode === 'weighted' ? o.capacity : 'exact',
	};
}
