import type { IDataObject } from 'n8n-workflow';
import { parseCapTable } from '../../lib/routing/warmup';
import { PlanError, type RoutePlanInput } from '../../lib/routing/plan';
import { splitList } from '../shared/itemValues';

/** Display names of the plan fields, so errors name the parameter the user sees. */
export const PLAN_FIELD_LABELS: Record<string, string> = {
	routes: 'Routes',
	groupRoutes: 'Domain Group Routing',
	timeZone: 'Options › Time Zone',
	dayStart: 'Options › Day Starts At',
	campaignRate: 'Options › Campaign Rate',
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
	const kind = (r.warmup as string) || 'none';
	const startDate = dateOf(r.warmupStartDate);
	switch (kind) {
		case 'ramp':
			return { kind, startDate, startCap: r.warmupStartCap ?? 50, growth: r.warmupGrowth ?? 1.5 };
		case 'table':
			try {
				return { kind, startDate, caps: parseCapTable(String(r.warmupTable ?? '')) };
			} catch (e) {
				throw new PlanError(`route ${index + 1}${r.name ? ` "${r.name}"` : ''}, Cap Table: ${(e as Error).message}`, 'routes');
			}
		case 'share':
			return { kind, startDate, startPercent: r.warmupStartPercent ?? 10, days: r.warmupDays ?? 14 };
		default:
			return { kind: 'none' };
	}
}

/** The node's parameters as a route plan (validated afterwards by `parseRoutePlan`). */
export function planInputFromParameters(p: {
	mode: string;
	routes: IDataObject;
	roundRobinBatch: number;
	sticky: boolean;
	stickyByHash: boolean;
	groupRoutes: IDataObject;
	options: IDataObject;
	workflowTimeZone: string;
}): RoutePlanInput {
	const routes = ((p.routes.values as IDataObject[] | undefined) ?? []).map((r, i) => ({
		name: String(r.name ?? ''),
		enabled: r.enabled !== false,
		percentage: typeof r.percentage === 'number' ? r.percentage : undefined,
		weight: typeof r.weight === 'number' ? r.weight : 1,
		dailyCap: zeroMeansNone(r.dailyCap),
		hourlyCap: zeroMeansNone(r.hourlyCap),
		groups: splitList(r.groups).map((g) => g.toLowerCase()),
		warmup: warmupOf(r, i),
	}));
	const rate = zeroMeansNone(p.options.campaignRate);
	return {
		mode: p.mode as RoutePlanInput['mode'],
		routes: routes as RoutePlanInput['routes'],
		roundRobinBatch: p.roundRobinBatch,
		sticky: p.sticky,
		stickyByHash: p.stickyByHash,
		groupRoutes: ((p.groupRoutes.values as IDataObject[] | undefined) ?? []).map((g) => ({ group: String(g.group ?? ''), route: String(g.route ?? '') })),
		timeZone: String(p.options.timeZone || p.workflowTimeZone || 'UTC'),
		dayStart: String(p.options.dayStart || '00:00'),
		campaignRate: rate === undefined ? undefined : { limit: rate, per: (p.options.campaignRatePer as 'hour') || 'hour' },
		stateTtlDays: unset(p.options.stateTtlDays) ? 30 : Number(p.options.stateTtlDays),
	};
}
