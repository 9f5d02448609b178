import type { RouteLimit } from '../state/types';
import { isRateUnit, RATE_UNITS, type RateUnit } from '../throttle/units';

/**
 * "Move the excess to routes with room": a route whose own limit (its send node's connection or
 * credential limit, as reported to the state store) is below its share of the campaign rate keeps
 * only what its limit allows; the rest of its share goes to the routes with room, each up to its
 * own limit, in proportion to their shares (water-filling). Plain functions: the partitioner turns
 * the result into its sequences.
 */

const EPS = 1e-9;

/** A reported limit in messages per `per` (the campaign's unit), if it is a usable one. */
export function limitIn(limit: RouteLimit | null | undefined, per: RateUnit): number | undefined {
	if (!limit || !isRateUnit(limit.per) || !(limit.limit > 0) || !Number.isFinite(limit.limit))
		return undefined;
	return (limit.limit * RATE_UNITS[per]) / RATE_UNITS[limit.per];
}

export interface CapacityMove {
	/** per route: the rate it gets now (campaign unit); at most its own limit */
	rates: number[];
	/** per route: the part of its items it keeps (1, or its limit / its share when below it) */
	keep: number[];
	/** per route: the rate it takes over from routes below their share (0 for most) */
	extra: number[];
	/** of all the excess, the part some route had room for (1 = all moved; below 1 the campaign slows) */
	placed: number;
}

/**
 * Caps each route at its limit and spreads the excess over the routes with room. `shares` are the
 * routes' shares of the campaign rate (0 for a disabled route), `limits` their own limits in the
 * same unit (undefined: none known).
 */
export function moveExcess(
	shares: readonly number[],
	limits: ReadonlyArray<number | undefined>,
): CapacityMove {
	const over = shares.map((s, r) => s > 0 && limits[r] !== undefined && limits[r]! < s - EPS);
	const rates = shares.map((s, r) => (over[r] ? limits[r]! : s));
	const excess = shares.reduce((sum, s, r) => sum + (over[r] ? s - rates[r] : 0), 0);
	let active = shares
		.map((_, r) => r)
		.filter((r) => shares[r] > 0 && !over[r] && (limits[r] ?? Infinity) > shares[r] + EPS);
	let left = excess;
	while (left > EPS && active.length > 0) {
		const total = active.reduce((sum, q) => sum + shares[q], 0);
		const full = active.filter(
			(q) => (left * shares[q]) / total >= (limits[q] ?? Infinity) - rates[q] - EPS,
		);
		if (full.length === 0) {
			for (const q of active) rates[q] += (left * shares[q]) / total;
			left = 0;
			break;
		}
		// those with less room than their part fill up; the rest share what is left next round
		for (const q of full) {
			left -= limits[q]! - rates[q];
			rates[q] = limits[q]!;
		}
		active = active.filter((q) => !full.includes(q));
	}
	return {
		rates,
		keep: shares.map((s, r) => (over[r] ? rates[r] / s : 1)),
		extra: shares.map((s, r) => (over[r] ? 0 : rates[r] - s)),
		placed: excess > EPS ? (excess - Math.max(0, left)) / excess : 1,
	};
}

/** One entry of a class's sequence with moves: the route, and the route it takes over from (-1: its own). */
export interface CycleEntry {
	route: number;
	from: number;
}

/**
 * A class's weighted entries: each candidate's own part (its weight × what it keeps), and for each
 * candidate with room a part taken over from each candidate below its share, in proportion to the
 * room the move gave it. A class only moves among its own candidates (a domain group that only two
 * routes may take moves only between those two).
 */
export function classEntries(
	candidates: readonly number[],
	weights: readonly number[],
	move: CapacityMove,
): { entries: CycleEntry[]; weights: number[] } {
	const entries: CycleEntry[] = [];
	const out: number[] = [];
	candidates.forEach((r, k) => {
		const w = weights[k] * move.keep[r];
		if (w > EPS) {
			entries.push({ route: r, from: -1 });
			out.push(w);
		}
	});
	const takers = candidates.filter((r) => move.extra[r] > EPS);
	const room = takers.reduce((sum, q) => sum + move.extra[q], 0);
	if (room > EPS)
		candidates.forEach((b, k) => {
			const given = weights[k] * (1 - move.keep[b]) * move.placed;
			if (given <= EPS) return;
			for (const q of takers) {
				entries.push({ route: q, from: b });
				out.push((given * move.extra[q]) / room);
			}
		});
	return { entries, weights: out };
}

/**
 * Positive weights as whole numbers summing to about `total` (largest remainders), for the
 * sequence builders; an entry too small for one position in `total` is left out.
 */
export function wholeWeights(weights: readonly number[], total = 10_000): number[] {
	const sum = weights.reduce((a, b) => a + b, 0);
	const exact = weights.map((w) => (w * total) / sum);
	const whole = exact.map(Math.floor);
	let short = total - whole.reduce((a, b) => a + b, 0);
	const order = exact.map((e, k) => [e - whole[k], k] as const).sort((x, y) => y[0] - x[0]);
	for (const [, k] of order) {
		if (short <= 0) break;
		whole[k]++;
		short--;
	}
	return whole;
}

const UNIT_TEXT: Record<RateUnit, string> = { second: 's', minute: 'min', hour: 'h', day: 'day' };
const num = (v: number) => String(Math.round(v * 1000) / 1000);

/** Why a route's items moved: "Relay B: its connection limit 60/min is below its share 180/min". */
export function capacityReason(
	route: string,
	kind: string,
	limit: number,
	share: number,
	per: RateUnit,
): string {
	const unit = UNIT_TEXT[per];
	return `${route}: its ${kind} limit ${num(limit)}/${unit} is below its share ${num(share)}/${unit}`;
}
