/**
 * Which feedback events put an address on the suppression list, for how long, and recording them:
 * the one place the feedback nodes (webhook trigger, bounce parser, "record events") go through.
 *
 * A careful sender's rules: a hard bounce, a complaint and an unsubscribe keep the address off
 * for good; a soft bounce (a full mailbox, given up after retries) for a few days; a block is the
 * route's problem, not the address's, and suppresses nothing (it feeds route reputation instead).
 * An event read from free text suppresses only when it quoted the server's reply.
 */
import { parseAddress } from '../domains/address';
import { suppressionDigest } from '../state/keys';
import { maskAddress, type SuppressionEntry } from '../state/suppression';
import type { StateStore, SuppressionReason } from '../state/types';
import type { FeedbackEvent } from './types';

export interface SuppressionPolicy {
	/** days a soft bounce keeps the address off; 0: soft bounces suppress nothing. Default 3 */
	softBounceDays: number;
	/** events read from free text suppress only from this confidence. Default 0.6 (a quoted reply) */
	minConfidence: number;
}

export const DEFAULT_SUPPRESSION_POLICY: SuppressionPolicy = {
	softBounceDays: 3,
	minConfidence: 0.6,
};

const DAY_MS = 86_400_000;

/** What an event means for the list: the reason and whether it lasts; undefined: nothing. */
export function suppressionReason(
	event: Pick<FeedbackEvent, 'type' | 'bounce' | 'confidence'>,
	policy: SuppressionPolicy = DEFAULT_SUPPRESSION_POLICY,
): { reason: SuppressionReason; lasting: boolean } | undefined {
	if (event.confidence < policy.minConfidence) return undefined;
	if (event.type === 'complained') return { reason: 'complaint', lasting: true };
	if (event.type === 'unsubscribed') return { reason: 'unsubscribe', lasting: true };
	if (event.type !== 'bounced') return undefined;
	if (event.bounce === 'hard') return { reason: 'hard-bounce', lasting: true };
	return policy.softBounceDays > 0 ? { reason: 'soft-bounce', lasting: false } : undefined;
}

export interface SuppressionOutcome {
	/** per event: the reason it added (or extended), or why not */
	perEvent: Array<{ suppressed: SuppressionReason } | { skipped: string }>;
	entries: SuppressionEntry[];
}

/** The entries for a list of events (keyed with the store's secret); nothing is written. */
export function suppressionEntries(
	events: readonly FeedbackEvent[],
	secret: string,
	now: number,
	policy: SuppressionPolicy = DEFAULT_SUPPRESSION_POLICY,
): SuppressionOutcome {
	const entries: SuppressionEntry[] = [];
	const perEvent = events.map((event): SuppressionOutcome['perEvent'][number] => {
		const verdict = suppressionReason(event, policy);
		if (!verdict)
			return {
				skipped:
					event.confidence < policy.minConfidence
						? `read from free text with confidence ${event.confidence}, below ${policy.minConfidence}`
						: `a ${event.type}${event.bounce ? ` (${event.bounce})` : ''} event suppresses nothing`,
			};
		const parsed = event.recipient ? parseAddress(event.recipient) : undefined;
		if (!parsed?.ok) return { skipped: 'the event names no valid recipient address' };
		const at = Date.parse(event.timestamp);
		entries.push({
			key: suppressionDigest(secret, parsed.address),
			reason: verdict.reason,
			source: event.source,
			hint: maskAddress(parsed.address),
			at: Number.isFinite(at) ? at : now,
			...(verdict.lasting ? {} : { until: now + policy.softBounceDays * DAY_MS }),
		});
		return { suppressed: verdict.reason };
	});
	return { perEvent, entries };
}

/** Records what the events say on the store's list: one store call for all of them. */
export async function recordSuppressions(
	store: StateStore,
	list: string,
	events: readonly FeedbackEvent[],
	policy: SuppressionPolicy = DEFAULT_SUPPRESSION_POLICY,
): Promise<SuppressionOutcome> {
	const [secret, now] = await Promise.all([store.hashSecret(), store.now()]);
	const outcome = suppressionEntries(events, secret, now, policy);
	if (outcome.entries.length) await store.suppress(list, outcome.entries);
	return outcome;
}
