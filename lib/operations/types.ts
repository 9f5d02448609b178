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
	latency: { meanMs: number | null };
	state: RouteGroupState;
}

/** A route × group's buckets over a window, oldest first: what a report's charts draw. */
export interface StatsSeries {
	route: string;
	group: string;
	resolution: 'minute' | 'hour';
	buckets: Array<{ start: number; counts: OutcomeCounts }>;
}
