import type { RateLimit } from './types';

/**
 * GCRA over several limits at once (redis-cell's algorithm, one stored time per key). Returns the
 * new arrival times when every limit allows `cost`, or how long to wait. Mirrored by
 * lua/consume_rate.lua.
 */
export function gcra(
	limits: readonly RateLimit[],
	tats: ReadonlyArray<number | undefined>,
	cost: number,
	now: number,
): { newTats: number[]; waitMs: number } {
	let wait = 0;
	const newTats = limits.map((l, i) => {
		const tat = Math.max(tats[i] ?? now, now);
		const next = tat + cost * l.intervalMs;
		const over = next - now - l.burst * l.intervalMs;
		if (over > wait) wait = over;
		return next;
	});
	return { newTats, waitMs: wait };
}

export function checkRateArgs(limits: readonly RateLimit[], cost: number): void {
	if (!Number.isInteger(cost) || cost < 1) throw new RangeError('cost must be a whole number ≥ 1');
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
