import type { RateLimit, StateStore } from '../state/types';
import type { Sleep } from '../throttle/limits';
import type { OutgoingMessage, Transport } from '../transports/types';
import type { MarkerPolicy } from './idempotency';
import type { RetryPolicy } from './retry';

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
}

export type DeliveryStatus =
	| 'sent'
	| 'skipped-duplicate'
	| 'dry-run'
	| 'failed'
	| 'deferred'
	| 'blocked'
	| 'circuit-open'
	| 'rate-deferred';
export type DeliveryOutput = 'sent' | 'failed' | 'fallback';

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
	/** every mailbox the message is addressed to (To, CC, BCC): exactly the envelope recipients */
	recipients?: string[];
	/** route: the connection's problem; recipient: this address's problem */
	failureScope?: 'route' | 'recipient';
	attempts: number;
	latencyMs: number;
	queuedAt: string;
	sentAt?: string;
	/** when a deferred item may be tried again */
	retryAt?: string;
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
	dryRun?: boolean;
	sleep?: Sleep;
	random?: () => number;
	clock?: () => number;
}
