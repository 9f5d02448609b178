/**
 * Comparing routes for one domain group and one metric (issue "Eyes and hands for operators" §1
 * Compare routes): pure functions over counts (a StatsRow's `counts`, or any OutcomeCounts).
 *
 * What is tested: the best route (lowest rate; for every metric here lower is better) against the
 * worst (highest), with a pooled two-proportion z-test. Picking the extremes after looking is the
 * largest of the m = k(k−1)/2 pairwise tests between k routes, so the test runs at α/m
 * (Bonferroni): with two routes, plain α. The required sample per arm uses the same α/m, and the
 * verdict waits until both compared arms reach it, whatever the p-value meanwhile (no peeking:
 * Evan Miller, "How Not To Run an A/B Test"). Then: the winner (p < α/m) or no difference, the
 * difference worst − best with its 95% unpooled Wald interval, and the two-sided p-value.
 */
import { z } from 'zod';
import { LATENCY_BOUNDS_MS, slowerThan, type OutcomeCounts } from '../state/outcomes';
import { rateOf, Z95 } from '../state/outcomeRates';

/**
 * What routes are compared on: a rate (../state/outcomeRates.ts), or delivery latency as the share
 * of accepted messages slower than a bound (`latency`, with `slowerThanMs`; the accept-latency
 * histogram's buckets, ../state/outcomes.ts slowerThan). Lower is better for each.
 */
export const COMPARE_METRICS = ['block', 'deferral', 'hardBounce', 'complaint', 'latency'] as const;
export type CompareMetric = (typeof COMPARE_METRICS)[number];

/** the default latency bound: the share of accepts that took over a second */
export const DEFAULT_SLOWER_THAN_MS = 1000;

/** A metric's count and sample in one route's counters. */
function metricOf(
	metric: CompareMetric,
	counts: OutcomeCounts,
	slowerThanMs: number,
): { k: number; n: number } {
	return metric === 'latency' ? slowerThan(counts, slowerThanMs) : rateOf(metric, counts);
}

/** how a metric is said in a summary */
const metricLabel = (metric: CompareMetric, slowerThanMs: number) =>
	metric === 'latency' ? `share of accepts slower than ${slowerThanMs} ms` : `${metric} rate`;

/**
 * Φ(x), the standard normal CDF: Hart's algorithm 5666 (1968) in the double-precision form of
 * G. West, "Better approximations to cumulative normal functions" (Wilmott, 2005). The tail is
 * computed directly (never 1 − something), so small p-values keep their digits: relative error
 * below 1e-14 for |x| ≤ 3 and below 1e-8 out to |x| = 14, checked against erfc.
 */
export function normalCdf(x: number): number {
	const a = Math.abs(x);
	let tail: number;
	if (a > 37) tail = 0;
	else {
		const e = Math.exp((-a * a) / 2);
		if (a < 7.07106781186547) {
			let n = 3.52624965998911e-2 * a + 0.700383064443688;
			n = n * a + 6.37396220353165;
			n = n * a + 33.912866078383;
			n = n * a + 112.079291497871;
			n = n * a + 221.213596169931;
			n = n * a + 220.206867912376;
			let d = 8.83883476483184e-2 * a + 1.75566716318264;
			d = d * a + 16.064177579207;
			d = d * a + 86.7807322029461;
			d = d * a + 296.564248779674;
			d = d * a + 637.333633378831;
			d = d * a + 793.826512519948;
			d = d * a + 440.413735824752;
			tail = (e * n) / d;
		} else {
			let b = a + 0.65;
			b = a + 4 / b;
			b = a + 3 / b;
			b = a + 2 / b;
			b = a + 1 / b;
			tail = e / b / 2.506628274631;
		}
	}
	return x > 0 ? 1 - tail : tail;
}

/**
 * Φ⁻¹(p) for 0 < p < 1: P. J. Acklam's rational approximation (relative error 1.15e-9), then one
 * Halley step on normalCdf, which brings it to about full double precision.
 */
export function normalQuantile(p: number): number {
	if (!(p > 0 && p < 1)) throw new Error(`a normal quantile needs 0 < p < 1, not ${p}`);
	const a = [
		-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
		2.506628277459239,
	];
	const b = [
		-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
		-13.28068155288572,
	];
	const c = [
		-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
		4.374664141464968, 2.938163982698783,
	];
	const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
	const low = 0.02425;
	let x: number;
	if (p < low || p > 1 - low) {
		const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
		x =
			(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
		if (p > 1 - low) x = -x;
	} else {
		const q = p - 0.5;
		const r = q * q;
		x =
			((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
			(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	}
	// Halley: e = Φ(x) − p, u = e·√(2π)·exp(x²/2), x ← x − u / (1 + x·u/2)
	const e = normalCdf(x) - p;
	const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
	return x - u / (1 + (x * u) / 2);
}

/**
 * The sample per arm to detect p1 → p2 = p1 + d (two-sided α, power 1 − β):
 * n = (z_{1−α/2}·√(2p̄(1−p̄)) + z_{1−β}·√(p1(1−p1) + p2(1−p2)))² / d², p̄ = (p1 + p2)/2, rounded up.
 */
export function sampleSizePerArm(
	baseline: number,
	effect: number,
	alpha = 0.05,
	power = 0.8,
): number {
	const p1 = baseline;
	const p2 = baseline + effect;
	if (!(p1 >= 0 && p2 <= 1 && effect > 0))
		throw new Error(
			`the baseline rate and the minimum effect must keep both rates within 0–1 with an effect above 0 (baseline ${baseline}, effect ${effect})`,
		);
	const za = normalQuantile(1 - alpha / 2);
	const zb = normalQuantile(power);
	const pBar = (p1 + p2) / 2;
	const root =
		za * Math.sqrt(2 * pBar * (1 - pBar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
	return Math.ceil((root * root) / (effect * effect));
}

/** The pooled two-proportion z-test: z = (p1 − p2)/√(p̄(1−p̄)(1/n1 + 1/n2)), two-sided p-value. */
export function twoProportionZTest(
	k1: number,
	n1: number,
	k2: number,
	n2: number,
): { z: number; pValue: number } {
	const pooled = (k1 + k2) / (n1 + n2);
	const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
	if (se === 0) return { z: 0, pValue: 1 };
	const z = (k1 / n1 - k2 / n2) / se;
	return { z, pValue: 2 * normalCdf(-Math.abs(z)) };
}

/** p1 − p2 with its unpooled Wald interval at z (95% by default). */
export function differenceInterval(
	k1: number,
	n1: number,
	k2: number,
	n2: number,
	z = Z95,
): { value: number; low: number; high: number } {
	const p1 = k1 / n1;
	const p2 = k2 / n2;
	const half = z * Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
	return { value: p1 - p2, low: p1 - p2 - half, high: p1 - p2 + half };
}

export const compareOptions = z.object({
	group: z.string(),
	metric: z.enum(COMPARE_METRICS),
	/** the smallest absolute difference worth finding, e.g. 0.01 for one percentage point */
	minEffect: z.number().gt(0).lt(1),
	/** the rate the effect is added to; default: the pooled rate of the compared routes */
	baseline: z.number().min(0).lt(1).optional(),
	alpha: z.number().gt(0).lt(1).default(0.05),
	power: z.number().gt(0).lt(1).default(0.8),
	/** latency only: the bound, one of the histogram's (100, 250, 500, 1000, 2500, 5000, 10000 ms) */
	slowerThanMs: z
		.number()
		.refine((ms) => LATENCY_BOUNDS_MS.includes(ms), {
			message: `must be one of ${LATENCY_BOUNDS_MS.join(', ')} ms (the latency histogram's buckets)`,
		})
		.default(DEFAULT_SLOWER_THAN_MS),
});
export type CompareOptions = z.input<typeof compareOptions>;

export interface CompareArm {
	route: string;
	count: number;
	sample: number;
	rate: number;
}

export interface CompareVerdict {
	group: string;
	metric: CompareMetric;
	/** latency: the bound the share of slower accepts is counted at */
	slowerThanMs?: number;
	/** every route with a sample, best (lowest rate) first */
	arms: CompareArm[];
	best?: string;
	worst?: string;
	/** pairs among the routes (m), and the α each test runs at (α/m) */
	comparisons: number;
	alpha: number;
	power: number;
	baseline: number;
	minEffect: number;
	requiredPerArm: number;
	verdict: 'too-few-routes' | 'not-enough-data' | 'no-difference' | 'winner';
	/** not-enough-data: per compared route, how many more (in the metric's sample) */
	moreNeeded?: Record<string, number>;
	winner?: string;
	/** worst − best, with its 95% interval */
	difference?: { value: number; low: number; high: number };
	z?: number;
	pValue?: number;
	summary: string;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** Compares the routes of one group on one metric: rows as route → counts over the same window. */
export function compareRoutes(
	rows: ReadonlyArray<{ route: string; counts: OutcomeCounts }>,
	options: CompareOptions,
): CompareVerdict {
	const o = compareOptions.parse(options);
	const arms = rows
		.map((r) => {
			const { k, n } = metricOf(o.metric, r.counts, o.slowerThanMs);
			return { route: r.route, count: k, sample: n, rate: n ? k / n : 0 };
		})
		.filter((a) => a.sample > 0)
		.sort((a, b) => a.rate - b.rate || (a.route < b.route ? -1 : 1));
	const m = (arms.length * (arms.length - 1)) / 2;
	const alpha = o.alpha / Math.max(1, m);
	const pooledK = arms.reduce((s, a) => s + a.count, 0);
	const pooledN = arms.reduce((s, a) => s + a.sample, 0);
	const baseline = o.baseline ?? (pooledN ? pooledK / pooledN : 0);
	const label = metricLabel(o.metric, o.slowerThanMs);
	const base = {
		group: o.group,
		metric: o.metric,
		...(o.metric === 'latency' ? { slowerThanMs: o.slowerThanMs } : {}),
		arms,
		comparisons: m,
		alpha,
		power: o.power,
		baseline,
		minEffect: o.minEffect,
	};
	if (arms.length < 2)
		return {
			...base,
			requiredPerArm: 0,
			verdict: 'too-few-routes',
			summary: `${label} at ${o.group || 'the unknown group'}: ${arms.length} route with data; a comparison needs two`,
		};
	// the effect added to the baseline, kept within 0–1 (a baseline near 1 subtracts it)
	const p1 = baseline + o.minEffect <= 1 ? baseline : baseline - o.minEffect;
	const requiredPerArm = sampleSizePerArm(p1, o.minEffect, alpha, o.power);
	const best = arms[0];
	const worst = arms[arms.length - 1];
	const compared = { ...base, best: best.route, worst: worst.route, requiredPerArm };
	if (best.sample < requiredPerArm || worst.sample < requiredPerArm) {
		const moreNeeded = Object.fromEntries(
			[best, worst].map((a) => [a.route, Math.max(0, requiredPerArm - a.sample)]),
		);
		return {
			...compared,
			verdict: 'not-enough-data',
			moreNeeded,
			summary: `not enough data yet: ${requiredPerArm.toLocaleString('en')} per route to see ${pct(o.minEffect)}; ${[best, worst].map((a) => `${a.route} needs ${moreNeeded[a.route].toLocaleString('en')} more`).join(', ')}`,
		};
	}
	const { z: zScore, pValue } = twoProportionZTest(
		worst.count,
		worst.sample,
		best.count,
		best.sample,
	);
	const difference = differenceInterval(worst.count, worst.sample, best.count, best.sample);
	const figures = `${pct(best.rate)} vs ${pct(worst.rate)}, p = ${pValue.toPrecision(2)}, n = ${best.sample.toLocaleString('en')}/${worst.sample.toLocaleString('en')}`;
	if (pValue < alpha)
		return {
			...compared,
			verdict: 'winner',
			winner: best.route,
			difference,
			z: zScore,
			pValue,
			summary: `${best.route} has the lower ${label} at ${o.group || 'the unknown group'} than ${worst.route}: ${figures}`,
		};
	return {
		...compared,
		verdict: 'no-difference',
		difference,
		z: zScore,
		pValue,
		summary: `no difference in ${label} at ${o.group || 'the unknown group'} between ${best.route} and ${worst.route}: ${figures}`,
	};
}
