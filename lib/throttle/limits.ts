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
 * Waits until every limit allows `cost` messages and takes them (all or none, in one store call
 * per try). Gives up when the wait would pass `maxWaitMs`, returning when to come back.
 */
export async function acquire(
	store: StateStore,
	limits: RateLimit[],
	cost: number,
	options: { maxWaitMs: number; sleep?: Sleep },
): Promise<{ ok: true; waitedMs: number } | { ok: false; retryAt: number }> {
	if (limits.length === 0) return { ok: true, waitedMs: 0 };
	const pause = options.sleep ?? sleep;
	let waited = 0;
	for (;;) {
		const decision = await store.consumeRate(limits, cost);
		if (decision.allowed) return { ok: true, waitedMs: waited };
		if (waited + decision.retryAfterMs > options.maxWaitMs)
			return { ok: false, retryAt: decision.now + decision.retryAfterMs };
		await pause(decision.retryAfterMs);
		waited += decision.retryAfterMs;
	}
}
