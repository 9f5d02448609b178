import type { RateLimit } from './types';

/**
 * GCRA by reservation over several limits at once: the algorithm every store runs inside its one
 * atomic call (memory.ts calls it, lua/reserve_rate.lua mirrors it line by line).
 *
 * Each limit keeps a theoretical arrival time `tat` (redis-cell's GCRA: one message per interval,
 * `burst` at once after a quiet spell). A message takes the earliest slot every limit allows and
 * is written into all of them at that slot, so the next caller queues behind it: first come,
 * first served, whichever worker asks, and a message that wakes late for its slot pushes nobody
 * back (the slots are fixed in the store, not taken when the message finally goes).
 *
 * A slot is often set by one slow limit (a domain group's 600/hour) while a wider one (the
 * connection's 200/second) has room long before it. Moving the wide limit's `tat` to that slot
 * would hold every other message on the connection behind it; taking the wide limit's room now
 * while the message goes later would let it bunch up with later messages there. So the slot goes
 * into the wide limit as a **held** reservation: the chain before it stays free for others, who
 * may take it only while every held slot still keeps to the limit. Once its time has passed, a
 * held slot joins the chain.
 */

/** One limit's state: the chain's arrival time and the slots held past a gap in it. */
export interface RateState {
	/** the GCRA time after every reservation in the chain (epoch ms) */
	tat: number;
	/** reservations past a gap in the chain, in time order: [slot (epoch ms), cost] */
	held: Array<[number, number]>;
}

export interface Reservation {
	/** true: the slot is reserved in every limit; false: nothing was written */
	granted: boolean;
	/** how long until the slot (granted), or until the slot it would have had (refused) */
	waitMs: number;
	/** granted: each limit's new state, in the order of the limits */
	states: RateState[];
}

/** the stores keep times to the microsecond (Redis: '%.3f'); comparisons allow that much */
const EPS = 1e-3;
/** more held slots than this on one limit join the chain, earliest first (safe: only gaps are lost) */
export const MAX_HELD = 256;
/** rounds of "every limit's earliest slot at or after t" before taking the slot after all of them */
const MAX_ROUNDS = 16;

export const roundMs = (v: number): number => Math.round(v * 1000) / 1000;

/** A limit's state with the held slots that have come due joined to the chain. */
export function settleRate(l: RateLimit, s: RateState | undefined, now: number): RateState {
	if (!s) return { tat: now, held: [] };
	let tat = s.tat;
	const held: Array<[number, number]> = [];
	for (const [at, c] of s.held) {
		if (at <= now) tat = Math.max(tat, at) + c * l.intervalMs;
		else held.push([at, c]);
	}
	return { tat, held };
}

/** Whether the held slots from index k on still keep to the limit after the chain reached `tat`. */
function heldFit(l: RateLimit, tat: number, held: ReadonlyArray<[number, number]>, k: number) {
	const room = l.burst * l.intervalMs;
	let t = tat;
	for (let m = k; m < held.length; m++) {
		const [q, qc] = held[m];
		t = Math.max(t, q) + qc * l.intervalMs;
		if (t - q > room + EPS) return false;
	}
	return true;
}

/** The earliest slot at or after `lower` where `cost` more messages keep to the limit. */
export function earliestSlot(l: RateLimit, s: RateState, cost: number, lower: number): number {
	const room = l.burst * l.intervalMs;
	let tat = s.tat;
	let from = lower;
	for (let k = 0; ; k++) {
		const x = Math.max(from, tat + cost * l.intervalMs - room);
		if (k === s.held.length) return x;
		const [p, pc] = s.held[k];
		// before the k-th held slot, if every held slot still fits after this one
		if (x < p - EPS && heldFit(l, Math.max(tat, x) + cost * l.intervalMs, s.held, k)) return x;
		// otherwise after it
		tat = Math.max(tat, p) + pc * l.intervalMs;
		from = Math.max(from, p);
	}
}

/** The earliest slot at or after `lower` past every held slot: always one every limit takes. */
function slotAfterAll(l: RateLimit, s: RateState, cost: number, lower: number): number {
	let tat = s.tat;
	let last = lower;
	for (const [p, pc] of s.held) {
		tat = Math.max(tat, p) + pc * l.intervalMs;
		last = Math.max(last, p);
	}
	return Math.max(last, tat + cost * l.intervalMs - l.burst * l.intervalMs);
}

/** Writes a reservation at `at` into a limit: at the chain's end, or held past a gap. */
export function placeSlot(
	l: RateLimit,
	s: RateState,
	at: number,
	cost: number,
	now: number,
): RateState {
	let tat = s.tat;
	const held = s.held.slice();
	if ((held.length === 0 || at < held[0][0] - EPS) && at <= Math.max(tat, now) + EPS) {
		tat = Math.max(tat, at) + cost * l.intervalMs;
	} else {
		let k = 0;
		while (k < held.length && held[k][0] <= at + EPS) k++;
		held.splice(k, 0, [roundMs(at), cost]);
		while (held.length > MAX_HELD) {
			const [p, pc] = held.shift()!;
			tat = Math.max(tat, p) + pc * l.intervalMs;
		}
	}
	return { tat: roundMs(tat), held };
}

/** When a limit's state says nothing any more (everything in it has passed): its expiry. */
export function rateStateEnd(l: RateLimit, s: RateState): number {
	let tat = s.tat;
	for (const [p, pc] of s.held) tat = Math.max(tat, p) + pc * l.intervalMs;
	return tat;
}

/**
 * Reserves `cost` messages in every limit at the earliest slot all of them allow, or nothing if
 * that slot is more than `maxWaitMs` away. `states` are the stored states (undefined = none).
 */
export function reserve(
	limits: readonly RateLimit[],
	states: ReadonlyArray<RateState | undefined>,
	cost: number,
	now: number,
	maxWaitMs: number,
): Reservation {
	const settled = limits.map((l, i) => settleRate(l, states[i], now));
	let at = now;
	let agreed = false;
	for (let round = 0; round < MAX_ROUNDS && !agreed; round++) {
		let next = at;
		limits.forEach((l, i) => (next = Math.max(next, earliestSlot(l, settled[i], cost, at))));
		agreed = next <= at + EPS;
		at = next;
	}
	if (!agreed) limits.forEach((l, i) => (at = Math.max(at, slotAfterAll(l, settled[i], cost, at))));
	const waitMs = roundMs(Math.max(0, at - now));
	if (waitMs > maxWaitMs) return { granted: false, waitMs, states: [] };
	return {
		granted: true,
		waitMs,
		states: limits.map((l, i) => placeSlot(l, settled[i], at, cost, now)),
	};
}

/**
 * A state as the Redis store keeps it (and a SQL store may): `tat`, then `;slot,cost` per held
 * slot. A bare number is a state without held slots (what consume_rate.lua stored before).
 */
export function encodeRateState(s: RateState): string {
	return [s.tat.toFixed(3), ...s.held.map(([at, c]) => `${at.toFixed(3)},${c}`)].join(';');
}

export function decodeRateState(text: string | null | undefined): RateState | undefined {
	if (text === null || text === undefined || text === '') return undefined;
	const [tat, ...held] = text.split(';');
	return {
		tat: Number(tat),
		held: held.map((h) => {
			const [at, c] = h.split(',');
			return [Number(at), Number(c)] as [number, number];
		}),
	};
}

export function checkRateArgs(limits: readonly RateLimit[], cost: number, maxWaitMs = 0): void {
	if (!Number.isInteger(cost) || cost < 1) throw new RangeError('cost must be a whole number ≥ 1');
	if (!(maxWaitMs >= 0)) throw new RangeError('the longest wait must be 0 ms or more');
	for (const l of limits) {
		if (!(l.intervalMs > 0))
			throw new RangeError(`rate limit ${l.key}: the interval must be above 0`);
		if (!(l.burst >= 1)) throw new RangeError(`rate limit ${l.key}: burst must be at least 1`);
		if (cost > l.burst)
			throw new RangeError(
				`rate limit ${l.key}: a batch of ${cost} can never pass a burst of ${l.burst}`,
			);
	}
}
