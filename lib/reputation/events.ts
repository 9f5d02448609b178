/**
 * Feedback events into route reputation: what comes back after a message left (an ESP's deferral
 * or block event, a bounce's diagnostic) acts like the same reply on the spot. An event tied to
 * its route and domain group (its reference) whose reply text a reply rule matches acts on that
 * route × group; then the rate rules run for every pair the events touched (their counters have
 * just been counted). Events not tied to a route, or without a group, change nothing.
 */
import type { FeedbackEvent } from '../feedback/types';
import type { StateStore } from '../state/types';
import {
	applyChanges,
	mergeChanges,
	rateChanges,
	replyChanges,
	type ReplySignal,
	type ReputationNotice,
} from './recorder';
import type { ReputationRule } from './rules';

/** the event types whose reply text speaks about the route */
const SIGNAL_TYPES = new Set<FeedbackEvent['type']>(['blocked', 'deferred', 'bounced']);

/** The reply signals of a batch of events. */
export function eventSignals(events: readonly FeedbackEvent[]): ReplySignal[] {
	const out: ReplySignal[] = [];
	for (const e of events) {
		const ref = e.reference;
		if (!ref || !ref.group || !SIGNAL_TYPES.has(e.type)) continue;
		const text = [e.smtpCode, e.enhancedCode, e.diagnostic].filter(Boolean).join(' ');
		if (text) out.push({ route: ref.route, group: ref.group, text });
	}
	return out;
}

/** Applies the events' reply signals and the rate rules of the pairs they touched. */
export async function reputationFromEvents(
	store: StateStore,
	events: readonly FeedbackEvent[],
	rules: readonly ReputationRule[],
	/** told of a failure to publish the changes' alerts (the changes stand) */
	onAlertError?: (error: Error) => void,
): Promise<ReputationNotice[]> {
	const pairs = new Map<string, { route: string; group: string }>();
	for (const e of events)
		if (e.reference?.group)
			pairs.set(JSON.stringify([e.reference.route, e.reference.group]), {
				route: e.reference.route,
				group: e.reference.group,
			});
	if (pairs.size === 0) return [];
	const list = [...pairs.values()];
	const [states, now] = await Promise.all([store.getReputation(list), store.now()]);
	const rates = await rateChanges(
		store,
		list.map((p, i) => ({ ...p, evaluatedAt: states[i]?.evaluatedAt ?? 0 })),
		rules,
		now,
	);
	const { notices, alertError } = await applyChanges(
		store,
		mergeChanges(replyChanges(eventSignals(events), rules), rates),
	);
	if (alertError) onAlertError?.(alertError);
	return notices;
}
