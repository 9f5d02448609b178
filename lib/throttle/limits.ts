import { RATE_UNITS, type RateUnit } from './units';
import type { RateLimit, StateStore } from '../state/types';

export interface RateSpec {
	limit: number;
	per: RateUnit;
	/** messages that may go at once after a quiet spell; default: one second's worth (at least 1) */
	burst?: number;
}

/** A rate as a GCRA limit on a key. */
export function gcraLimit(key: string, spec: RateSpec): RateLimit {
	const unitMs = RATE_UNITS[spec.per];
	const intervalMs = unitMs / spec.limit;
	const burst = spec.burst ?? Math.max(1, Math.round(1000 / intervalMs));
	return { key, intervalMs, burst: Math.max(1, Math.floor(burst)) };
}

export type Sleep = (ms: number) => Promise<void>;
export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reserves `cost` messages' slot in every limit (one store call) and waits until it: first come,
 * first served across every worker, and no polling. A wait that runs long (a busy machine wakes
 * late) costs nobody else anything: the slots after this one are already fixed in the store.
 * When the slot would be more than `maxWaitMs` away nothing is reserved, and the answer says when
 * that slot would have been (come back then).
 */
export async function acquire(
	store: StateStore,
	limits: RateLimit[],
	cost: number,
	options: { maxWaitMs: number; sleep?: Sleep },
): Promise<{ ok: true; waitedMs: number } | { ok: false; retryAt: number }> {
	if (limits.length === 0) return { ok: true, waitedMs: 0 };
	const slot = await store.reserveRate(limits, cost, options.maxWaitMs);
	if (!slot.granted) return { ok: false, retryAt: slot.now + slot.waitMs };
	if (slot.waitMs > 0) await (options.sleep ?? sleep)(slot.waitMs);
	return { ok: true, waitedMs: slot.waitMs };
}
