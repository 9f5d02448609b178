/**
 * Route stats (issue "Eyes and hands for operators" §1 Stats): per route × domain group over a
 * window, the outcome counters summed, every rate with its 95% Wilson interval, the mean accept
 * latency and the pair's reputation now. Reads only the StateStore: the pair index
 * (listOutcomePairs), the counters (readOutcomes) and the reputation (getReputation).
 *
 * Windows: 15m, 1h, 24h, 7d, or since a date. A window reads minute buckets while it fits in their
 * lifetime (3 h: 15m, 1h, a recent date), hour buckets otherwise (24h, 7d, an older date): the
 * minutes of a 24 h window are gone after 3 h. The window is whole buckets ending with the current
 * one (15m: the current minute and the 14 before it; 24h: the current hour and the 23 before), so
 * `window.from` is the first bucket's start and `window.to` is now. A date older than the hours
 * reach (8 days) reads from the oldest hour kept, and `window.from` says so.
 */
import { z } from 'zod';
import {
	OUTCOME_BUCKETS,
	bucketStart,
	bucketRange,
	latencyPercentile,
	sumCounts,
} from '../state/outcomes';
// the sums live with the counters' definition; re-exported for the operations' callers
export { sumCounts, zeroCounts } from '../state/outcomes';
import type { OutcomeCounts, OutcomeResolution } from '../state/outcomes';
import { RATE_NAMES, rateOf, wilsonInterval } from '../state/outcomeRates';
import { reputationShare, type ReputationState } from '../state/reputation';
import { capKeys, circuitName } from '../state/keys';
import type { CircuitState, StateStore, WarmupRecord } from '../state/types';
import type {
	CircuitView,
	LatencyStats,
	RateEstimate,
	RateName,
	RouteGroupState,
	RouteRowState,
	WarmupView,
	StatsRow,
	StatsSeries,
	StatsWindow,
} from './types';

const MIN = 60_000;
const HOUR = 3_600_000;
const PRESETS = { '15m': 15 * MIN, '1h': HOUR, '24h': 24 * HOUR, '7d': 7 * 24 * HOUR } as const;

export type StatsWindowPreset = keyof typeof PRESETS;

/** What a caller chooses: a preset, or `{ since: <ISO date> }`. */
export const statsWindowChoice = z.union([
	z.enum(['15m', '1h', '24h', '7d']),
	z.object({
		since: z.string().refine((s) => !Number.isNaN(Date.parse(s)), {
			message: 'since must be an ISO date, e.g. 2026-05-01 or 2026-05-01T08:00:00Z',
		}),
	}),
]);
export type StatsWindowChoice = z.infer<typeof statsWindowChoice>;

/** A window resolved at `now`: its ISO edges and label, and the buckets it reads. */
export interface ResolvedWindow extends StatsWindow {
	resolution: OutcomeResolution;
	/** epoch ms of from and to */
	fromMs: number;
	toMs: number;
}

/** Resolves a window choice at `now` (epoch ms); throws a zod error for a bad one. */
export function resolveWindow(choice: StatsWindowChoice, now: number): ResolvedWindow {
	const c = statsWindowChoice.parse(choice);
	let resolution: OutcomeResolution;
	let fromMs: number;
	let label: string;
	if (typeof c === 'string') {
		const span = PRESETS[c];
		resolution = span <= OUTCOME_BUCKETS.minute.keepMs ? 'minute' : 'hour';
		const size = OUTCOME_BUCKETS[resolution].ms;
		fromMs = bucketStart(now, resolution) + size - span;
		label = c;
	} else {
		const since = Date.parse(c.since);
		if (since > now) throw new Error(`since (${c.since}) is in the future: choose a past date`);
		resolution = now - since <= OUTCOME_BUCKETS.minute.keepMs ? 'minute' : 'hour';
		// the hours are kept 8 days after they end: nothing older can be read
		const oldest = bucketStart(now - OUTCOME_BUCKETS.hour.keepMs, 'hour');
		fromMs = Math.max(bucketStart(since, resolution), resolution === 'hour' ? oldest : -Infinity);
		label = `since ${c.since}`;
	}
	return {
		from: new Date(fromMs).toISOString(),
		to: new Date(now).toISOString(),
		label,
		resolution,
		fromMs,
		toMs: now,
	};
}

export interface ReadStatsOptions {
	window: StatsWindowChoice;
	/** only these routes / groups (by name; '' is the unknown group); all when absent or empty */
	routes?: string[];
	groups?: string[];
	/** a campaign: each row's state adds the route's circuit and warm-up in it */
	campaign?: string;
	/** epoch ms; the store's clock when absent */
	now?: number;
}

/** Accept latency of summed counts: the mean, and p50/p90/p99 estimated from the histogram. */
export function latencyStats(counts: OutcomeCounts): LatencyStats {
	const n = counts.acceptN ?? 0;
	return {
		meanMs: n > 0 ? (counts.acceptMsSum ?? 0) / n : null,
		p50Ms: latencyPercentile(counts, 0.5),
		p90Ms: latencyPercentile(counts, 0.9),
		p99Ms: latencyPercentile(counts, 0.99),
	};
}

/** A route's circuit at `now`, as a row shows it (no state: closed, never ejected). */
export function circuitView(c: CircuitState | null, now: number): CircuitView {
	const ejections = c?.ejections ?? 0;
	const failures = c?.failures ?? 0;
	if (c && c.openUntil > now)
		return { state: 'open', until: new Date(c.openUntil).toISOString(), ejections, failures };
	return { state: c?.probing ? 'half-open' : 'closed', ejections, failures };
}

/** A warm-up record with its day's usage (`used` of the cap window; ignored without a cap). */
export function warmupView(r: WarmupRecord, used: number, now: number): WarmupView {
	const current = r.endsAt > now;
	const counted = current && r.cap !== null;
	return {
		day: r.day,
		date: r.date,
		cap: r.cap,
		used: counted ? used : null,
		left: counted ? Math.max(0, r.cap! - used) : null,
		sharePercent: r.sharePercent,
		current,
		recordedAt: new Date(r.at).toISOString(),
	};
}

/**
 * Per route, its circuit and warm-up in a campaign: one getCircuits, one getWarmup and (for the
 * routes with a cap today) one capUsage call, whatever the number of routes.
 */
export async function routeStatesIn(
	store: StateStore,
	campaign: string,
	routes: readonly string[],
	now: number,
): Promise<Map<string, { circuit: CircuitView; warmup?: WarmupView }>> {
	const out = new Map<string, { circuit: CircuitView; warmup?: WarmupView }>();
	if (routes.length === 0) return out;
	const [circuits, warmups] = await Promise.all([
		store.getCircuits(routes.map((r) => circuitName(campaign, r))),
		store.getWarmup(campaign, [...routes]),
	]);
	const counted = routes.flatMap((route, i) => {
		const w = warmups[i];
		return w && w.cap !== null && w.endsAt > now ? [{ i, key: capKeys.daily(w.date, route) }] : [];
	});
	const usage = counted.length
		? await store.capUsage(
				campaign,
				counted.map((c) => c.key),
			)
		: [];
	const used = new Map(counted.map((c, k) => [c.i, usage[k]]));
	routes.forEach((route, i) => {
		const w = warmups[i];
		out.set(route, {
			circuit: circuitView(circuits[i], now),
			...(w ? { warmup: warmupView(w, used.get(i) ?? 0, now) } : {}),
		});
	});
	return out;
}

/** A rate's estimate: count, sample, value and its 95% Wilson interval. */
export function rateEstimate(name: RateName, counts: OutcomeCounts): RateEstimate {
	const { k, n } = rateOf(name, counts);
	if (n === 0) return { count: k, sample: 0, value: 0, low: 0, high: 0 };
	return { count: k, sample: n, value: k / n, ...wilsonInterval(k, n) };
}

export function rateEstimates(counts: OutcomeCounts): Record<RateName, RateEstimate> {
	return Object.fromEntries(RATE_NAMES.map((r) => [r, rateEstimate(r, counts)])) as Record<
		RateName,
		RateEstimate
	>;
}

/** A route × group's reputation at `now`, as a row shows it. */
export function routeGroupState(s: ReputationState | null, now: number): RouteGroupState {
	const share = reputationShare(s, now);
	const iso = (t: number) => new Date(t).toISOString();
	if (!s) return { reputation: 'ok', share };
	const why = { ...(s.rule ? { rule: s.rule } : {}), ...(s.reason ? { reason: s.reason } : {}) };
	if (s.suspendedUntil > now)
		return { reputation: 'suspended', share, until: iso(s.suspendedUntil), ...why };
	if (s.throttledUntil > now)
		return { reputation: 'throttled', share, until: iso(s.throttledUntil), ...why };
	if (s.rampUntil > now) return { reputation: 'ramping', share, until: iso(s.rampUntil), ...why };
	return { reputation: 'ok', share };
}

/** How many store reads run at once (one per pair) */
const READ_CONCURRENCY = 16;

async function inChunks<T, R>(xs: readonly T[], fn: (x: T) => Promise<R>): Promise<R[]> {
	const out: R[] = [];
	for (let i = 0; i < xs.length; i += READ_CONCURRENCY)
		out.push(...(await Promise.all(xs.slice(i, i + READ_CONCURRENCY).map(fn))));
	return out;
}

/**
 * One row per route × group counted in the window (the pair index's pairs, filtered by routes
 * and groups; a pair last counted before the window has nothing in it and is left out), ordered
 * by route, then group.
 */
export async function readStats(store: StateStore, options: ReadStatsOptions): Promise<StatsRow[]> {
	const now = options.now ?? (await store.now());
	const w = resolveWindow(options.window, now);
	const window: StatsWindow = { from: w.from, to: w.to, label: w.label };
	const routes = options.routes?.length ? new Set(options.routes) : undefined;
	const groups = options.groups?.length ? new Set(options.groups) : undefined;
	const pairs = (await store.listOutcomePairs())
		.filter((p) => p.lastAt >= w.fromMs)
		.filter((p) => (!routes || routes.has(p.route)) && (!groups || groups.has(p.group)))
		.sort((a, b) => cmp(a.route, b.route) || cmp(a.group, b.group));
	if (pairs.length === 0) return [];
	const campaign = options.campaign;
	const [buckets, states, inCampaign] = await Promise.all([
		inChunks(pairs, (p) =>
			store.readOutcomes(p.route, p.group, w.resolution, w.fromMs, w.toMs + 1),
		),
		store.getReputation(pairs.map(({ route, group }) => ({ route, group }))),
		campaign === undefined
			? undefined
			: routeStatesIn(store, campaign, [...new Set(pairs.map((p) => p.route))], now),
	]);
	return pairs.map((p, i) => {
		const counts = sumCounts(buckets[i]);
		const state: RouteRowState = routeGroupState(states[i], now);
		const route = inCampaign?.get(p.route);
		if (campaign !== undefined && route) Object.assign(state, { campaign, ...route });
		return {
			route: p.route,
			group: p.group,
			window,
			counts,
			rates: rateEstimates(counts),
			latency: latencyStats(counts),
			state,
		};
	});
}

export interface ReadSeriesOptions {
	window: StatsWindowChoice;
	pairs: Array<{ route: string; group: string }>;
	now?: number;
}

/**
 * Per pair, every bucket of the window oldest first (those without counts as `{}`, so a chart's
 * x axis is whole), at the window's resolution.
 */
export async function readSeries(
	store: StateStore,
	options: ReadSeriesOptions,
): Promise<StatsSeries[]> {
	const now = options.now ?? (await store.now());
	const w = resolveWindow(options.window, now);
	const starts = bucketRange(w.fromMs, w.toMs + 1, w.resolution);
	const read = await inChunks(options.pairs, (p) =>
		store.readOutcomes(p.route, p.group, w.resolution, w.fromMs, w.toMs + 1),
	);
	return options.pairs.map((p, i) => {
		const byStart = new Map(read[i].map((b) => [b.start, b.counts]));
		return {
			route: p.route,
			group: p.group,
			resolution: w.resolution,
			buckets: starts.map((start) => ({ start, counts: byStart.get(start) ?? {} })),
		};
	});
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
