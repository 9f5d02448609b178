/**
 * Feedback events into the outcome counters of their route × domain group (../state/outcomes.ts),
 * in the bucket of when they happened: the second half of what route stats and reputation rules
 * read (the send node counts the first: what it sent, and what was refused on the spot). An event
 * not tied to a route (no reference) counts nowhere: there is no route to blame or credit.
 */
import { CAMPAIGN_TOTALS_ROUTE, withCampaignTotals } from '../state/outcomes';
import type { OutcomeCounts, OutcomeEntry, StateStore } from '../state/types';
import type { FeedbackEvent } from './types';

/** What an event adds to its route × group's counters. */
export function eventCounts(
	event: Pick<FeedbackEvent, 'type' | 'bounce'>,
): OutcomeCounts | undefined {
	switch (event.type) {
		case 'delivered':
			return { delivered: 1 };
		case 'deferred':
			return { deferred: 1 };
		case 'bounced':
			return event.bounce === 'hard' ? { bounceHard: 1 } : { bounceSoft: 1 };
		case 'blocked':
			return { blocked: 1 };
		case 'complained':
			return { complained: 1 };
		case 'unsubscribed':
			return { unsubscribed: 1 };
		default:
			return undefined;
	}
}

/** The counter entries of a batch of events (the ones tied to a route), nothing written. */
export function eventOutcomes(events: readonly FeedbackEvent[], now: number): OutcomeEntry[] {
	const entries: Array<OutcomeEntry & { campaign: string }> = [];
	for (const e of events) {
		const counts = e.reference ? eventCounts(e) : undefined;
		if (!counts) continue;
		const at = Date.parse(e.timestamp);
		entries.push({
			route: e.reference!.route,
			group: e.reference!.group,
			campaign: e.reference!.campaign,
			counts,
			// an event dated in the future (a skewed clock) counts now
			at: Number.isFinite(at) ? Math.min(at, now) : now,
		});
	}
	return withCampaignTotals(entries);
}

/** Counts a batch of events in one store call; resolves to how many were counted. */
export async function countEvents(
	store: StateStore,
	events: readonly FeedbackEvent[],
): Promise<number> {
	const entries = eventOutcomes(events, await store.now());
	if (entries.length) await store.countOutcomes(entries);
	// the events counted (each also adds to its campaign's totals)
	return entries.filter((e) => e.route !== CAMPAIGN_TOTALS_ROUTE).length;
}
