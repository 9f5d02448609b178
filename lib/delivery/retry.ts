export interface RetryPolicy {
	/** tries in all, the first included */
	maxAttempts: number;
	baseDelayMs: number;
	maxDelayMs: number;
}

/**
 * The wait before attempt `attempt + 1`: exponential backoff with "equal jitter" (half fixed, half
 * random, so retries of many workers spread out), never shorter than a server's Retry-After.
 */
export function retryDelay(
	attempt: number,
	policy: RetryPolicy,
	retryAfterMs = 0,
	random: () => number = Math.random,
): number {
	const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * Math.pow(2, attempt - 1));
	const jittered = exp / 2 + (random() * exp) / 2;
	return Math.max(jittered, retryAfterMs);
}
