import type { RateLimit, StateStore } from '../lib/state/types';
import { sleep as realSleep, type Sleep } from '../lib/throttle/limits';

/**
 * The "before" of the throttle benchmark: how acquire() paced messages until reservations —
 * take a token if one is free now, else sleep until the store says one will be, and ask again
 * (first asker wins). A reservation with a longest wait of 0 is exactly the old "take it if it is
 * free" call (consumeRate), so this runs on today's stores. Same signature as acquire().
 */
export async function pollingAcquire(
	store: StateStore,
	limits: RateLimit[],
	cost: number,
	options: { maxWaitMs: number; sleep?: Sleep },
): Promise<{ ok: true; waitedMs: number } | { ok: false; retryAt: number }> {
	if (limits.length === 0) return { ok: true, waitedMs: 0 };
	const pause = options.sleep ?? realSleep;
	let waited = 0;
	for (;;) {
		const d = await store.reserveRate(limits, cost, 0);
		if (d.granted) return { ok: true, waitedMs: waited };
		if (waited + d.waitMs > options.maxWaitMs) return { ok: false, retryAt: d.now + d.waitMs };
		await pause(d.waitMs);
		waited += d.waitMs;
	}
}
