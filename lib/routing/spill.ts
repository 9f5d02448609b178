import {
	VIA_DEFERRED,
	VIA_STICKY,
	type AllocateResult,
	type AllocClass,
	type AllocItem,
	type AllocRoute,
	type CapWindow,
	type ReputationState,
} from '../state/types';
import { reputationShare } from '../state/reputation';

/** the part of an Assignment a reason is written to (./partitioner.ts) */
interface Explained {
	reason?: string;
}

/**
 * Why a spilled item did not take the route its sequence (or its hash) named, in the words of the
 * route's settings: "Relay B: warm-up cap 90 for day 3 reached", "Relay B: circuit open until …".
 * Computed after the store's allocate call from what the partitioner sent it and what it answered
 * (each route's circuit), so neither the per-item loop nor the stores' allocate change.
 */

const count = (n: number) => n.toLocaleString('en-US');

/** Whether a route's daily window is its warm-up cap for the day: the warm-up's is the lower one, and the warm-up has started. */
export function isWarmupWindow(
	dailyCap: number | undefined,
	warmup: number | undefined,
	dayNumber: number,
): boolean {
	return warmup !== undefined && (dailyCap === undefined || warmup <= dailyCap) && dayNumber >= 1;
}

/** The label of a route's daily window: the warm-up cap when it is the lower one, else the daily cap. */
export function dailyLabel(
	dailyCap: number | undefined,
	warmup: number | undefined,
	dayNumber: number,
	startDate: string | undefined,
): string {
	if (isWarmupWindow(dailyCap, warmup, dayNumber))
		return `warm-up cap ${count(warmup!)} for day ${dayNumber}`;
	if (warmup !== undefined && (dailyCap === undefined || warmup <= dailyCap))
		return `warm-up not started (day 1 is ${startDate})`;
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
	/** per route: whether its first cap window is its warm-up cap for the day (`isWarmupWindow`) */
	warmup?: readonly boolean[];
}

/** Routes that need `usage` to say which of their windows is full: closed circuit, several windows. */
export function routesNeedingUsage(facts: Omit<SpillFacts, 'usage'>, skipped: Iterable<number>) {
	const out = new Set<number>();
	for (const r of skipped)
		if (facts.openUntil[r] === 0 && facts.routes[r].caps.length > 1) out.add(r);
	return out;
}

/**
 * Which cap windows of route `r` (closed circuit) are full: its one window, or with several those
 * whose use reached their limit; [] when none is (another worker reset one meanwhile).
 */
function fullWindows(facts: SpillFacts, r: number): number[] {
	const caps: CapWindow[] = facts.routes[r].caps;
	if (caps.length <= 1) return [0];
	const used = facts.usage?.get(r);
	return used ? caps.flatMap((c, k) => (used[k] >= c.limit ? [k] : [])) : [];
}

/** Why route `r` had no room. */
export function routeReason(facts: SpillFacts, r: number): string {
	const route = facts.routes[r];
	if (facts.openUntil[r] > 0)
		return `${route.name}: circuit open until ${new Date(facts.openUntil[r]).toISOString()}`;
	const labels = facts.labels[r];
	if (route.caps.length <= 1) return `${route.name}: ${labels[0] ?? 'no room'} reached`;
	const full = fullWindows(facts, r).map((k) => labels[k]);
	// a window another worker reset meanwhile: say what may have been full
	return `${route.name}: ${full.length ? full.join(' and ') : labels.join(' or ')} reached`;
}

/** Whether route `r` had no room because its warm-up cap for the day is reached. */
export function warmupCapReached(facts: SpillFacts, r: number): boolean {
	return (
		facts.openUntil[r] === 0 &&
		facts.warmup?.[r] === true &&
		facts.routes[r].caps.length > 0 &&
		fullWindows(facts, r).includes(0)
	);
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

/**
 * Why a route did not take an item of a domain group for its reputation, or undefined when it
 * had its full share: "Relay A: suspended for yahoo until … (yahoo-tss04: …)".
 */
export function reputationReason(
	route: string,
	group: string,
	state: ReputationState | null | undefined,
	now: number,
): string | undefined {
	if (!state) return undefined;
	const share = reputationShare(state, now);
	if (share >= 1) return undefined;
	const why = `(${state.rule}: ${state.reason})`;
	if (share === 0)
		return `${route}: suspended for ${group} until ${new Date(state.suspendedUntil).toISOString()} ${why}`;
	const pct = `${Math.round(share * 100)}%`;
	if (state.throttledUntil > now)
		return `${route}: throttled to ${pct} of its share for ${group} until ${new Date(state.throttledUntil).toISOString()} ${why}`;
	return `${route}: starting again after a suspension for ${group}, at ${pct} of its share until ${new Date(state.rampUntil).toISOString()} ${why}`;
}

/** One batch's allocate call and its answer, as the partitioner made and got them. */
export interface SpillBatch {
	items: readonly AllocItem[];
	classes: readonly AllocClass[];
	routes: AllocRoute[];
	/** per route, one label per cap window (see `dailyLabel`, `hourlyLabel`) */
	labels: string[][];
	result: AllocateResult;
	dryRun: boolean;
	/** the store's count per cap key (StateStore.capUsage for the campaign) */
	capUsage(keys: string[]): Promise<number[]>;
	/** the request's domain groups (AllocItem.group indexes them) */
	groups?: readonly string[];
	/** per route: whether its first cap window is its warm-up cap (see `isWarmupWindow`) */
	warmup?: readonly boolean[];
}

/** What explainSpills found besides the reasons. */
export interface SpillFindings {
	/** the indices (in `out`) of the items moved by their route's reputation for their group */
	byReputation: Set<number>;
	/** the routes passed over because their warm-up cap for the day is reached, with that reason */
	warmupFull: Map<number, string>;
}

/**
 * Writes each spilled item's reason. `spilled` lists pairs: the item's index in `out`, its index in
 * the store's answer. One store read at most, only for routes with several cap windows. Answers
 * the items moved by their route's reputation for their group, and the routes whose warm-up cap
 * was reached.
 */
export async function explainSpills(
	spilled: readonly number[],
	out: Explained[],
	batch: SpillBatch,
): Promise<SpillFindings> {
	const { items, classes, routes, result } = batch;
	const byReputation = new Set<number>();
	const facts: SpillFacts = {
		routes,
		labels: batch.labels,
		openUntil: result.openUntil,
		...(batch.warmup ? { warmup: batch.warmup } : {}),
	};
	const nr = routes.length;
	// the passed-over routes depend only on the class, the route named and the route taken
	const skippedBy = new Map<number, number[]>();
	const keyOf = new Array<number>(spilled.length / 2);
	for (let j = 0; j < spilled.length; j += 2) {
		const k = spilled[j + 1];
		const item = items[k];
		const cls = classes[item.cls];
		const named =
			item.prefer ?? cls.cycle[Math.floor(result.pos[k] / cls.repeat) % cls.cycle.length];
		const took = result.route[k];
		if (item.group !== undefined && result.reputation) {
			const why = reputationReason(
				routes[named].name,
				batch.groups![item.group],
				result.reputation[item.group][named],
				result.now,
			);
			if (why) {
				out[spilled[j]].reason = why;
				byReputation.add(spilled[j]);
				keyOf[j / 2] = -1;
				continue;
			}
		}
		const key = (item.cls * nr + named) * nr + took;
		keyOf[j / 2] = key;
		if (!skippedBy.has(key)) skippedBy.set(key, skippedRoutes(cls, named, took));
	}
	const need = routesNeedingUsage(facts, [...skippedBy.values()].flat());
	if (need.size) facts.usage = await capUse([...need], batch);
	const reasons = new Map<number, string>();
	const warmupFull = new Map<number, string>();
	for (const [key, skipped] of skippedBy) {
		const why = skipped.map((r) => {
			const text = routeReason(facts, r);
			if (!warmupFull.has(r) && warmupCapReached(facts, r)) warmupFull.set(r, text);
			return text;
		});
		reasons.set(key, why.join('; '));
	}
	for (let j = 0; j < spilled.length; j += 2)
		if (keyOf[j / 2] !== -1) out[spilled[j]].reason = reasons.get(keyOf[j / 2]);
	return { byReputation, warmupFull };
}

/**
 * The use of each window of routes with several cap windows, after the batch: the store's counts,
 * which a dry run did not write, so its placements are added to them (sticky items take no cap).
 */
async function capUse(need: number[], batch: SpillBatch): Promise<Map<number, number[]>> {
	const { routes, result } = batch;
	const used = await batch.capUsage(need.flatMap((r) => routes[r].caps.map((c) => c.key)));
	const placed = new Map(need.map((r) => [r, 0]));
	if (batch.dryRun)
		result.route.forEach((r, k) => {
			const n = placed.get(r);
			if (n !== undefined && result.via[k] !== VIA_STICKY && result.via[k] !== VIA_DEFERRED)
				placed.set(r, n + 1);
		});
	const usage = new Map<number, number[]>();
	let at = 0;
	for (const r of need)
		usage.set(
			r,
			routes[r].caps.map(() => used[at++] + placed.get(r)!),
		);
	return usage;
}
