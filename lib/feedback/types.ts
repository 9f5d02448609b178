/**
 * Delivery feedback, normalized: what a provider's webhook, a DSN or an ARF report says about one
 * message to one recipient, in one shape (after django-anymail's event model, plus whose fault it
 * is, which routing needs). ../../../shared/research/feedback-and-reputation.md §1.9 maps every
 * provider's types onto these.
 */

/** where an event came from */
export type FeedbackSource =
	| 'sendgrid'
	| 'mailgun'
	| 'ses'
	| 'postmark'
	| 'sparkpost'
	| 'resend'
	| 'brevo'
	/** a delivery status notification (RFC 3464) read from a bounce mailbox */
	| 'dsn'
	/** an abuse / feedback report (RFC 5965) */
	| 'arf'
	/** a bounce that follows no standard, read by heuristics (confidence < 1) */
	| 'bounce-text'
	/** recorded from elsewhere (another trigger, a queue) */
	| 'custom';

export const FEEDBACK_TYPES = [
	'delivered',
	'deferred',
	'bounced',
	'blocked',
	'complained',
	'unsubscribed',
	'suppressed',
	'other',
] as const;
/**
 * delivered: the receiving server accepted it. deferred: a temporary failure, the sender retries.
 * bounced: refused for the recipient (hard: the address is bad; soft: full mailbox, gave up after
 * retries). blocked: refused for the sender (reputation, block list, policy, content).
 * complained: marked as spam. unsubscribed: asked to get no more. suppressed: the provider did not
 * send (the address is on its own suppression list). other: anything else (opens, clicks …).
 */
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

/** whose problem the event shows: the list (recipient), the route's reputation, the content */
export type FeedbackFault = 'recipient' | 'route' | 'content' | 'none' | 'unknown';

/** what a message carried to find its way back: see ./reference.ts */
export interface PostalReference {
	campaign: string;
	route: string;
	/** the recipient's domain group (classifier), or '' */
	group: string;
}

/** how an event was tied back to what was sent */
export type LinkedBy =
	/** the reference the message carried (provider metadata, X-Postal-Ref header) */
	| 'reference'
	/** the reference in the DSN's Original-Envelope-Id (SMTP ENVID) */
	| 'envid'
	/** the reference in the bounce address (VERP) */
	| 'verp'
	/** the message ledger (provider message id → reference) */
	| 'ledger'
	| 'none';

export interface FeedbackEvent {
	source: FeedbackSource;
	type: FeedbackType;
	/** bounced only */
	bounce?: 'hard' | 'soft';
	/** the failure is final for this recipient (a hard bounce, a complaint, an unsubscribe) */
	permanent: boolean;
	fault: FeedbackFault;
	/** the recipient's address as the report gives it (lower-cased domain) */
	recipient?: string;
	/** the provider's or the message's id, to link through the ledger */
	messageId?: string;
	/** the report's own id, for telling a redelivered event from a new one */
	eventId?: string;
	/** when it happened (ISO 8601) */
	timestamp: string;
	/** the SMTP reply code and RFC 3463 status, when known */
	smtpCode?: number;
	enhancedCode?: string;
	/** the receiving server's reply or the provider's reason, capped */
	diagnostic?: string;
	/** the provider's own name for it (e.g. `bounce/blocked`, `HardBounce`, DSN `failed`) */
	providerType?: string;
	/** the server that reported it (DSN Reporting-MTA / Remote-MTA), the sending IP */
	reportingMta?: string;
	remoteMta?: string;
	sendingIp?: string;
	/** the route, group and campaign it was sent for, when linked */
	reference?: PostalReference;
	/** the reference as found (a digest form `h.…` is resolved through the message ledger) */
	referenceToken?: string;
	linkedBy: LinkedBy;
	/** 1 for a standard report; lower when read from free text */
	confidence: number;
}
