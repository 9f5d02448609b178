import type { VerpTemplate } from '../feedback/verp';
import type { RateLimit, StateStore } from '../state/types';
import type { Sleep } from '../throttle/limits';
import type { OutgoingMessage, Transport } from '../transports/types';
import type { MarkerPolicy } from './idempotency';
import type { RetryPolicy } from './retry';
import type { ReputationRule } from '../reputation/rules';

export interface DeliveryJob {
	/** the item's index, carried through for pairing */
	index: number;
	message: OutgoingMessage;
	route: string;
	campaign: string;
	/** what makes the message unique in its campaign (recipients, plus a message key), hashed before
	 * it is stored; absent = no duplicate protection */
	idempotencyKey?: string;
	limits: RateLimit[];
	/** the recipient's domain group (the classifier's), for the reference and the outcome counters */
	group?: string;
	/**
	 * with feedback tracking, the envelope sender is this VERP bounce address carrying the message's
	 * reference (OutgoingMessage.returnPath: SMTP routes only; an API route has no envelope to set)
	 */
	verp?: VerpTemplate;
}

export type DeliveryStatus =
	| 'sent'
	/** accepted for some recipients and refused for others (see accepted / refused) */
	| 'partially-sent'
	| 'skipped-duplicate'
	/** another run holds a live claim on it: it is being sent right now */
	| 'skipped-in-flight'
	/** a recipient is on the suppression list (bounced, complained, unsubscribed): not sent */
	| 'suppressed'
	/** it may or may not have gone: a send cut off after the whole message went */
	| 'in-doubt'
	| 'dry-run'
	| 'failed'
	/** not tried: the state store failed before its turn */
	| 'not-sent'
	| 'deferred'
	| 'blocked'
	| 'circuit-open'
	/** the route is suspended for the recipient's domain group (a reputation rule): not sent */
	| 'route-suspended'
	/** the campaign is paused (its list quality, or an operator): not sent */
	| 'campaign-paused'
	| 'rate-deferred';
export type DeliveryOutput = 'sent' | 'failed' | 'fallback' | 'skipped';

/** Why an item left on Skipped, and for a claim of another run, whose and since when. */
export interface SkipRecord {
	/** already-sent: delivered before in this campaign; in-flight: another run is sending it now;
	 * in-doubt: a run may have delivered it and the policy is not to resend (or it happened in this run) */
	reason: 'already-sent' | 'in-flight' | 'in-doubt' | 'suppressed';
	/** what happened and what to do, for people */
	detail: string;
	/** when the claim of the earlier (or this) run was made */
	since?: string;
	/** which run: "execution 42 · Send via A" */
	by?: string;
	/** in-flight: when that run's claim runs out */
	leaseUntil?: string;
	/** suppressed: each suppressed recipient, why, from where, since and until when */
	suppressed?: Array<{
		recipient: string;
		reason: string;
		source: string;
		since: string;
		until?: string;
	}>;
}

/** A recipient the server refused while it accepted the message for others. */
export interface RefusedRecipientRecord {
	recipient: string;
	kind: 'permanent' | 'transient' | 'blocked' | 'unknown';
	responseCode?: number;
	enhancedCode?: string;
	error: string;
}

/** What each item carries out of the send node. Never a credential. */
export interface DeliveryRecord {
	route: string;
	provider: string;
	status: DeliveryStatus;
	messageId?: string;
	responseCode?: number;
	enhancedCode?: string;
	response?: string;
	error?: string;
	/** every mailbox this send put in the envelope (To, CC, BCC; after a partial delivery, only those left) */
	recipients?: string[];
	/** partially-sent: the recipients that accepted it (this send) and those that refused it */
	accepted?: string[];
	refused?: RefusedRecipientRecord[];
	/** recipients an earlier run already delivered this message to (not sent again) */
	deliveredEarlier?: string[];
	/** Skipped: why */
	skip?: SkipRecord;
	/** sent again although an earlier run may have sent it (policy "Resend"): that run's claim */
	resentAfter?: { since: string; by: string };
	/** route: the connection's problem; recipient: this address's problem */
	failureScope?: 'route' | 'recipient';
	attempts: number;
	latencyMs: number;
	queuedAt: string;
	sentAt?: string;
	/** when a deferred item may be tried again */
	retryAt?: string;
	/** what the reputation rules did for this message's reply, or why it was held */
	reputation?: Array<{
		what: 'suspended' | 'throttled' | 'downgraded' | 'cleared' | 'released';
		rule: string;
		group: string;
		until: string;
		/** a throttle: the share of its traffic the route keeps for the group */
		share?: number;
		reason: string;
	}>;
}

export interface DeliveryResult {
	index: number;
	output: DeliveryOutput;
	record: DeliveryRecord;
}

export interface HealthOptions {
	failureThreshold: number;
	baseEjectionMs: number;
	maxEjectionMs: number;
	backoff: number;
	/** ±ratio of random spread on the cool-down (0.1 = ±10%) */
	jitterRatio: number;
}

export interface DeliveryOptions {
	transport: Transport;
	store: StateStore;
	concurrency: number;
	retry: RetryPolicy;
	health: HealthOptions;
	/** duplicate protection: the window, the lease, the in-doubt policy and who claims */
	duplicates: MarkerPolicy;
	/** the longest a message may wait for its rate limits before it is deferred */
	maxRateWaitMs: number;
	/** skip messages to a recipient on this suppression list ('' is the default list); absent: no check */
	suppression?: { list: string };
	/**
	 * make every message traceable (a reference on it, its message id in the ledger for
	 * `ledgerTtlMs`) and count the batch's outcomes per route × group; absent: none of it
	 */
	feedback?: { ledgerTtlMs: number };
	/** route × group reputation (../reputation/rules.ts): hold suspended pairs, slow throttled ones, act on replies */
	reputation?: { rules: readonly ReputationRule[]; pauseCampaign?: { pauseMs: number } };
	dryRun?: boolean;
	sleep?: Sleep;
	random?: () => number;
	clock?: () => number;
}
