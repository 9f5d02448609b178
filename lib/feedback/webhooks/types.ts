/**
 * What a provider's delivery webhook hands us and what we answer, in plain types: the trigger
 * node reads the HTTP request into a `WebhookRequest`, asks the provider's `verify`, answers
 * `status` when it refuses, and turns the body into events with `normalize`.
 */
import type { z } from 'zod';
import type { FeedbackEvent, FeedbackSource } from '../types';

export interface WebhookRequest {
	/** header names lower-cased (Node's `IncomingMessage.headers`) */
	headers: Record<string, string | string[] | undefined>;
	/** the body exactly as received: signatures are over these bytes, not re-serialized JSON */
	rawBody: Buffer;
	query?: Record<string, string | string[] | undefined>;
	remoteIp?: string;
}

export interface Accepted {
	ok: true;
	/**
	 * Mailgun's signature token: the caller keeps it in its seen-set (with the events' ids), so a
	 * captured request replayed later is refused even with a valid signature
	 */
	replayToken?: string;
	/**
	 * An SNS subscription confirmation that passed the signature and topic checks: the caller GETs
	 * `url` (on an allow-listed SNS host) to confirm, then answers 200
	 */
	confirmSubscription?: { url: string; topicArn: string };
}

export interface Refused {
	ok: false;
	/** the HTTP status to answer, chosen for how the provider treats it (see ./status.ts) */
	status: number;
	/** why, for the log and the node's output: never a secret or a signature */
	reason: string;
}

export type Verification = Accepted | Refused;

/** Fetches a PEM certificate; see ./certs.ts for the default (HTTPS, timeout, size limit). */
export type CertFetcher = (url: string) => Promise<string>;

export interface VerifyContext {
	/** milliseconds since the epoch; tests pass a fixed clock */
	now?: () => number;
	/** SNS: how signing certificates are fetched */
	fetchCert?: CertFetcher;
	/** SNS: where fetched certificates are kept (default: one cache per process) */
	certCache?: Map<string, { pem: string; until: number }>;
	/**
	 * Mailgun: true when this signature token was seen before (the caller records it atomically,
	 * e.g. SET NX in the state store). A throw counts as our own failure.
	 */
	seenToken?: (token: string) => boolean | Promise<boolean>;
}

export interface NormalizeContext {
	/** the time an event without its own timestamp gets (default: now) */
	now?: () => number;
}

export interface WebhookProvider<Config> {
	id: Exclude<FeedbackSource, 'dsn' | 'arf' | 'bounce-text' | 'custom'>;
	displayName: string;
	/** the user's settings; an unset secret parses (n8n leaves fields empty) and verify refuses */
	configSchema: z.ZodType<Config, z.ZodTypeDef, unknown>;
	/** configSchema.parse with errors that name the field, never the value */
	parseConfig(data: unknown): Config;
	verify(request: WebhookRequest, config: Config, context?: VerifyContext): Promise<Verification>;
	/**
	 * The body as events, one per event per recipient. Unknown event types come back as `other`;
	 * a body that is not JSON throws WebhookPayloadError (answer 400); any other JSON never throws.
	 */
	normalize(request: WebhookRequest, context?: NormalizeContext): FeedbackEvent[];
	/**
	 * What to answer when our own side fails after the request verified (the state store is down):
	 * a status the provider retries
	 */
	unavailableStatus: number;
}

/** The body is not what the provider sends (not JSON): answer 400. */
export class WebhookPayloadError extends Error {
	readonly status = 400;
	constructor(message: string) {
		super(message);
		this.name = 'WebhookPayloadError';
	}
}
