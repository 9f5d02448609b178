/**
 * The rates over the outcome counters (./outcomes.ts): the one definition of each rate's count and
 * sample, and of the Wilson score interval. The reputation rules (lib/reputation/rules.ts) and the
 * operations' stats and comparisons (lib/operations/) both read them here, so a block rate is the
 * same number wherever it is shown or acted on.
 */
import type { OutcomeCounts } from './outcomes';

export const RATE_NAMES = [
	'delivery',
	'deferral',
	'block',
	'hardBounce',
	'softBounce',
	'complaint',
	'unsubscribe',
] as const;
export type RateName = (typeof RATE_NAMES)[number];

/**
 * A rate's count k and sample n from a window's counters:
 * - delivery: delivered / sent
 * - deferral: deferred / (sent + blocked + deferred), every attempt
 * - block: blocked / (sent + blocked), the attempts the server answered for good
 * - hardBounce, softBounce, unsubscribe: their count / sent
 * - complaint: complained / delivered, or / sent when no deliveries are reported (an SMTP route
 *   without delivery feedback)
 */
export function rateOf(name: RateName, c: OutcomeCounts): { k: number; n: number } {
	const sent = c.sent ?? 0;
	const blocked = c.blocked ?? 0;
	const deferred = c.deferred ?? 0;
	const delivered = c.delivered ?? 0;
	switch (name) {
		case 'delivery':
			return { k: delivered, n: sent };
		case 'deferral':
			return { k: deferred, n: sent + blocked + deferred };
		case 'block':
			return { k: blocked, n: sent + blocked };
		case 'hardBounce':
			return { k: c.bounceHard ?? 0, n: sent };
		case 'softBounce':
			return { k: c.bounceSoft ?? 0, n: sent };
		case 'complaint':
			return { k: c.complained ?? 0, n: delivered > 0 ? delivered : sent };
		case 'unsubscribe':
			return { k: c.unsubscribed ?? 0, n: sent };
	}
}

/** z of a two-sided 95% interval: Φ⁻¹(0.975) */
export const Z95 = 1.959963984540054;
/** z of a one-sided 90% bound: Φ⁻¹(0.9) */
export const Z90 = 1.2815515655446004;

/**
 * The Wilson score interval for k of n at z: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n),
 * clamped to [0, 1]; [0, 0] when n is 0.
 */
export function wilsonInterval(k: number, n: number, z = Z95): { low: number; high: number } {
	if (n === 0) return { low: 0, high: 0 };
	const p = k / n;
	const z2 = z * z;
	const centre = p + z2 / (2 * n);
	const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
	const d = 1 + z2 / n;
	return { low: Math.max(0, (centre - spread) / d), high: Math.min(1, (centre + spread) / d) };
}

/** The lower end of the Wilson interval (one-sided 90% by default: the reputation rules' bar). */
export function wilsonLower(k: number, n: number, z = Z90): number {
	return wilsonInterval(k, n, z).low;
}
