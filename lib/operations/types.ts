/**
 * What the operations side (issue "Eyes and hands for operators") reads and shows: one row per
 * route × domain group × window, the time series a report draws, and the verdict of a comparison
 * between routes. The shared vocabulary of stats.ts, compare.ts, prometheus.ts and report.ts.
 */
import type { RateName } from '../state/outcomeRates';
import type { OutcomeCounts } from '../state/outcomes';

/** A proportion with its 95% Wilson score interval (two-sided); value/low/high are 0 when sample is 0. */
export interface RateEstimate {
	count: number;
	sample: number;
	value: number;
	low: number;
	high: number;
}

/** the rates' definitions (count and sample of each) are in lib/state/outcomeRates.ts */
export type { RateName } from '../state/outcomeRates';

/** A route's reputation for the group as the rules left it (lib/state/reputation.ts). */
export interface RouteGroupState {
	reputation: 'ok' | 'suspended' | 'throttled' | 'ramping';
	/** the share of its traffic the route keeps for the group now (0–1) */
	share: number;
	/** ISO time the suspension, throttle or ramp ends */
	until?: string;
	rule?: string;
	reason?: string;
}

/**
 * A route's circuit in a campaign (lib/state/health.ts): closed (taking traffic), open (ejected
 * until `until`), or half-open (its time is up: the next outcome, or a probe, closes or re-opens it).
 */
export interface CircuitView {
	state: 'closed' | 'open' | 'half-open';
	/** open: ISO time the ejection ends */
	until?: string;
	/** ejections so far (the cool-down grows with them; reset after a healthy spell) */
	ejections: number;
	/** route-level failures in a row since the last success */
	failures: number;
}

/**
 * A route's warm-up today, as its Route Partitioner last recorded it (lib/state/warmupRecord.ts),
 * with the day's usage of the cap from the store.
 */
export interface WarmupView {
	/** the warm-up day: 1 on the start date, 0 before it */
	day: number;
	/** the sending day the record is of (YYYY-MM-DD, the partitioner's time zone and day start) */
	date: string;
	/** that day's daily cap; null: no cap (warm, or a share schedule) */
	cap: number | null;
	/** assignments counted against the cap that day; null when there is no cap or the day is over */
	used: number | null;
	/** cap − used, at least 0; null as used */
	left: number | null;
	/** the route's weight multiplier that day in whole percent (share schedules; 100 otherwise) */
	sharePercent: number;
	/** false when the recorded day is over (the partitioner has not run since): day and cap are that day's */
	current: boolean;
	/** ISO time the partitioner recorded it */
	recordedAt: string;
}

/** A row's state: the reputation, and with a campaign its circuit and warm-up there. */
export interface RouteRowState extends RouteGroupState {
	/** the campaign the circuit and warm-up are of (Stat › Get Many's Campaign ID) */
	campaign?: string;
	circuit?: CircuitView;
	/** only where the campaign's partitioner recorded a warm-up for the route */
	warmup?: WarmupView;
}

/**
 * Accept latency over the window: the mean from the sum and count, the percentiles estimated from
 * the histogram (lib/state/outcomes.ts ACCEPT_LATENCY_BUCKETS, interpolated within a bucket; one in
 * the open last bucket is its lower bound, 10,000 ms). null without samples.
 */
export interface LatencyStats {
	meanMs: number | null;
	p50Ms: number | null;
	p90Ms: number | null;
	p99Ms: number | null;
}

export interface StatsWindow {
	/** ISO times, [from, to) */
	from: string;
	to: string;
	/** what the user chose: 15m, 1h, 24h, 7d, or "since <date>" */
	label: string;
}

/** One route × domain group over one window: an item of the Stats operation. */
export interface StatsRow {
	route: string;
	group: string;
	window: StatsWindow;
	/** every outcome counter, 0 where none */
	counts: Required<OutcomeCounts>;
	rates: Record<RateName, RateEstimate>;
	/** accept latency (send → the server's or API's acceptance) */
	latency: LatencyStats;
	state: RouteRowState;
}

/** A route × group's buckets over a window, oldest first: what a report's charts draw. */
export interface StatsSeries {
	route: string;
	group: string;
	resolution: 'minute' | 'hour';
	buckets: Array<{ start: number; counts: OutcomeCounts }>;
}
