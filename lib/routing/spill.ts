import type { AllocClass, AllocRoute, CapWindow } from '../state/types';

/**
 * Why a spilled item did not take the route its sequence (or its hash) named, in the words of the
 * route's settings: "Relay B: warm-up cap 90 for day 3 reached", "Relay B: circuit open until …".
 * Computed after the store's allocate call from what the partitioner sent it and what it answered
 * (each route's circuit), so neither the per-item loop nor the stores' allocate change.
 */

const count = (n: number) => n.toLocaleString('en-US');

/** The label of a route's daily window: the warm-up cap when it is the lower one, else the daily cap. */
export function dailyLabel(
	dailyCap: number | undefined,
	warmup: number | undefined,
	dayNumber: number,
	startDate: string | undefined,
): string {
	if (warmup !== undefined && (dailyCap === undefined || warmup <= dailyCap)) {
		if (dayNumber < 1) return `warm-up not started (day 1 is ${startDate})`;
		return `warm-up cap ${count(warmup)} for day ${dayNumber}`;
	}
	return `daily cap ${count(dailyCap!)}`;
}

export const hourlyLabel = (cap: number) => `hourly cap ${count(cap)}`;

/** What the reasons are made from: the allocate request's routes, its labels, the store's answer. */
export interface SpillFacts {
	routes: AllocRoute[];
	/** per route, one label per cap window, in the order of `routes[r].caps` */
	labels: string[][];
	/** per route: when its circuit closes, or 0 (AllocateResult.openUntil) */
	openUntil: number[];
	/**
	 * per route with more than one cap window, each window's use (after the batch): which one is
	 * full. Absent for a route with one window, which is the full one.
	 */
	usage?: Map<number, number[]>;
}

/** Routes that need `usage` to say which of their windows is full: closed circuit, several windows. */
export function routesNeedingUsage(facts: Omit<SpillFacts, 'usage'>, skipped: Iterable<number>) {
	const out = new Set<number>();
	for (const r of skipped)
		if (facts.openUntil[r] === 0 && facts.routes[r].caps.length > 1) out.add(r);
	return out;
}

/** Why route `r` had no room. */
export function routeReason(facts: SpillFacts, r: number): string {
	const route = facts.routes[r];
	if (facts.openUntil[r] > 0)
		return `${route.name}: circuit open until ${new Date(facts.openUntil[r]).toISOString()}`;
	const labels = facts.labels[r];
	const caps: CapWindow[] = route.caps;
	if (caps.length <= 1) return `${route.name}: ${labels[0] ?? 'no room'} reached`;
	const used = facts.usage?.get(r);
	const full = used ? labels.filter((_, k) => used[k] >= caps[k].limit) : [];
	// a window another worker reset meanwhile: say what may have been full
	return `${route.name}: ${full.length ? full.join(' and ') : labels.join(' or ')} reached`;
}

/**
 * The routes a spilled item passed over: the one its sequence named, and with priority spill
 * (failover) every candidate before the route it took, all of which were full or unhealthy.
 */
export function skippedRoutes(cls: AllocClass, named: number, took: number): number[] {
	if (cls.spill !== 'priority') return [named];
	const out: number[] = [];
	for (const c of cls.candidates) {
		if (c === took) break;
		out.push(c);
	}
	return out.includes(named) ? out : [named, ...out];
}
