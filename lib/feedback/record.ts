/**
 * Recording feedback events: the one sequence every feedback node goes through (the webhook
 * trigger, the bounce parser's two operations), so an event means the same wherever it came from.
 *
 *   1. link     the ledger gives events their route, group and campaign (./link.ts)
 *   2. suppress the list gets what the rules say (./suppression.ts), in one store call
 *   3. seen     the caller's dedupe marks (the trigger's seen-set), after the list: a failure in
 *               between is retried by the provider and suppresses again (idempotent) instead of
 *               being dropped as already seen
 *   4. count    the new events into their route × group's outcome counters (./counts.ts)
 *   5. reputation the new events' replies through the reputation rules, then the rate rules of
 *               the pairs they touched, which read what `count` wrote (../reputation/events.ts)
 *
 * A step that fails stops the sequence when what follows relies on it (link, suppress, seen: the
 * caller reports it and the source sends or runs again); counting is statistics, so its failure is
 * returned and the events stand recorded; so is reputation's (the next events act again).
 */
import { reputationFromEvents } from '../reputation/events';
import type { ReputationNotice } from '../reputation/recorder';
import type { ReputationRule } from '../reputation/rules';
import type { StateStore } from '../state/types';
import { countEvents } from './counts';
import { linkThroughLedger } from './link';
import {
	DEFAULT_SUPPRESSION_POLICY,
	recordSuppressions,
	type SuppressionOutcome,
	type SuppressionPolicy,
} from './suppression';
import type { FeedbackEvent } from './types';

export type RecordStage = 'link' | 'suppress' | 'seen' | 'count' | 'reputation' | 'alerts';

export interface RecordFailure {
	stage: RecordStage;
	error: Error;
	/** true: the steps after it did not run (the events are not recorded); false: statistics only */
	stopped: boolean;
}

export interface RecordOptions {
	/** put what the events say on a suppression list; undefined: the list is not touched */
	suppression?: { list: string; policy?: Partial<SuppressionPolicy> };
	/**
	 * Marks the events as received, after the list is written; answers per event whether it is new
	 * (a redelivery is `false` and is not counted again). Undefined: every event is new.
	 */
	markSeen?: (events: readonly FeedbackEvent[]) => Promise<boolean[]>;
	/** count the new events into the outcome counters (default true) */
	count?: boolean;
	/** run the new events through these reputation rules; undefined: no reputation step */
	reputation?: { rules: readonly ReputationRule[] };
}

export interface RecordResult {
	/** the events, linked through the ledger (the input as it was when linking failed) */
	events: FeedbackEvent[];
	/** per event what it did to the list; undefined when the list was not touched (or failed) */
	suppression?: SuppressionOutcome;
	/** per event: new (true) or a redelivery the seen-set knew (false) */
	fresh: boolean[];
	/** how many events went into the outcome counters */
	counted: number;
	/** the steps that failed, in order; the last one with `stopped` ended the sequence */
	errors: RecordFailure[];
	/** what the reputation rules did (suspensions, throttles, clears) */
	reputation: ReputationNotice[];
}

/** Links, suppresses, marks seen and counts a batch of events: one store call per step at most. */
export async function recordFeedback(
	store: StateStore,
	events: readonly FeedbackEvent[],
	options: RecordOptions = {},
): Promise<RecordResult> {
	const result: RecordResult = {
		events: [...events],
		fresh: events.map(() => true),
		counted: 0,
		errors: [],
		reputation: [],
	};
	if (events.length === 0) return result;
	const stop = (stage: RecordStage, error: unknown) => {
		result.errors.push({ stage, error: error as Error, stopped: true });
		return result;
	};

	// 1. link: events that quote only a message id (or carry a digest) get their route
	try {
		result.events = await linkThroughLedger(store, events);
	} catch (error) {
		return stop('link', error);
	}

	// 2. suppress
	if (options.suppression) {
		try {
			result.suppression = await recordSuppressions(
				store,
				options.suppression.list,
				result.events,
				{ ...DEFAULT_SUPPRESSION_POLICY, ...options.suppression.policy },
			);
		} catch (error) {
			return stop('suppress', error);
		}
	}

	// 3. seen: only once the list is written
	if (options.markSeen) {
		try {
			const fresh = await options.markSeen(result.events);
			result.fresh = result.events.map((_, i) => fresh[i] !== false);
		} catch (error) {
			return stop('seen', error);
		}
	}

	// 4. count what is new (a redelivery was counted when it first came)
	if (options.count !== false) {
		try {
			result.counted = await countEvents(
				store,
				result.events.filter((_, i) => result.fresh[i]),
			);
		} catch (error) {
			result.errors.push({ stage: 'count', error: error as Error, stopped: false });
		}
	}

	// 5. reputation: the new events' replies, then the rate rules over the counters just written
	if (options.reputation) {
		try {
			result.reputation = await reputationFromEvents(
				store,
				result.events.filter((_, i) => result.fresh[i]),
				options.reputation.rules,
				(error) => result.errors.push({ stage: 'alerts', error, stopped: false }),
			);
		} catch (error) {
			result.errors.push({ stage: 'reputation', error: error as Error, stopped: false });
		}
	}
	return result;
}
