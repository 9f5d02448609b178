/**
 * Events that come from elsewhere, into the same loop: a normalized event as the feedback nodes
 * emit it (`postalEvent`), or a provider's webhook event as another node hands it over (n8n's own
 * Postmark or Brevo Trigger, a Webhook node's body, a queue reader), read by that provider's own
 * `normalize` (./webhooks). Nothing here verifies where it came from: the node that received it
 * is responsible for that. A value that cannot be read throws FeedbackInputError naming the field.
 */
import { z } from 'zod';
import { FEEDBACK_TYPES, type FeedbackEvent } from './types';
import { event as compact, linkReference, obj, recipientOf } from './webhooks/common';
import { WEBHOOK_PROVIDER_IDS, webhookProvider, type WebhookProviderId } from './webhooks';

export type FeedbackInputFormat = 'postal' | WebhookProviderId;

export const FEEDBACK_INPUT_FORMATS = ['postal', ...WEBHOOK_PROVIDER_IDS] as [
	FeedbackInputFormat,
	...FeedbackInputFormat[],
];

/** The value cannot be read as events; the message names the field (never the item's index). */
export class FeedbackInputError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'FeedbackInputError';
	}
}

const SOURCES = [
	'sendgrid',
	'mailgun',
	'ses',
	'postmark',
	'sparkpost',
	'resend',
	'brevo',
	'dsn',
	'arf',
	'bounce-text',
	'custom',
] as const;
const FAULTS = ['recipient', 'route', 'content', 'none', 'unknown'] as const;
const LINKED_BY = ['reference', 'envid', 'verp', 'ledger', 'none'] as const;

const text = z.string().trim().min(1).optional();

/**
 * A normalized event, as the trigger and the parser emit it; written by hand (a queue, a Code
 * node), only `type` is needed: `bounce` for a bounce, the rest has defaults.
 */
export const feedbackEventSchema = z
	.object({
		source: z.enum(SOURCES).default('custom'),
		type: z.enum(FEEDBACK_TYPES),
		bounce: z.enum(['hard', 'soft']).optional(),
		permanent: z.boolean().optional(),
		fault: z.enum(FAULTS).default('unknown'),
		recipient: text,
		messageId: text,
		eventId: text,
		timestamp: z
			.string()
			.refine((t) => Number.isFinite(Date.parse(t)), 'must be a date, e.g. 2026-11-05T12:00:00Z')
			.optional(),
		smtpCode: z.number().int().min(200).max(599).optional(),
		enhancedCode: text,
		diagnostic: z.string().optional(),
		providerType: text,
		reportingMta: text,
		remoteMta: text,
		sendingIp: text,
		reference: z
			.object({
				campaign: z.string().default(''),
				route: z.string().min(1, 'must name the route'),
				group: z.string().default(''),
			})
			.optional(),
		referenceToken: text,
		linkedBy: z.enum(LINKED_BY).optional(),
		confidence: z.number().min(0).max(1).default(1),
	})
	.superRefine((e, ctx) => {
		if (e.type === 'bounced' && !e.bounce)
			ctx.addIssue({
				code: 'custom',
				path: ['bounce'],
				message: 'must be "hard" or "soft" for a bounced event',
			});
	});

/** The first zod issue as `"field.path": message`. */
function issueText(field: string, error: z.ZodError): string {
	const issue = error.issues[0];
	const path = [field, ...issue.path].filter((p) => p !== '').join('.');
	return `"${path}" ${issue.message.replace(/^Required$/, 'is missing')}`;
}

/** A normalized event from an item's field (`field` names it in errors). */
export function parsePostalEvent(value: unknown, field: string, now: number): FeedbackEvent {
	if (!obj(value))
		throw new FeedbackInputError(
			`The field "${field}" of the item holds no event object: set Event Field to the field that holds it (the Postal nodes put it in "postalEvent")`,
		);
	const parsed = feedbackEventSchema.safeParse(value);
	if (!parsed.success)
		throw new FeedbackInputError(
			`The item's event cannot be read: ${issueText(field, parsed.error)}`,
		);
	const e = parsed.data;
	const linked =
		e.reference || !e.referenceToken
			? { reference: e.reference, linkedBy: e.linkedBy ?? (e.reference ? 'reference' : 'none') }
			: linkReference(e.referenceToken);
	return compact({
		...e,
		recipient: recipientOf(e.recipient),
		permanent:
			e.permanent ??
			(e.type === 'complained' ||
				e.type === 'unsubscribed' ||
				(e.type === 'bounced' && e.bounce === 'hard')),
		timestamp: new Date(e.timestamp ? Date.parse(e.timestamp) : now).toISOString(),
		...linked,
		referenceToken: e.referenceToken,
	} as FeedbackEvent);
}

/** What each provider's webhook body looks like, for the error when an item holds none. */
const EXPECTED: Record<WebhookProviderId, string> = {
	sendgrid:
		'an event with an "event" field (or a list of them), as the SendGrid Event Webhook posts',
	mailgun: 'an object with "event-data" and its "event", as Mailgun webhooks post',
	ses: 'an SNS notification ("Type": "Notification", the SES event as its "Message") or an SES event with "eventType" or "notificationType"',
	postmark: 'a webhook record with "RecordType" (Bounce, Delivery, SpamComplaint, …)',
	sparkpost: 'a list of {"msys": {…}} event wrappers, as SparkPost webhooks post',
	resend: 'an object with "type" (e.g. "email.bounced") and "data"',
	brevo: 'an event with an "event" field (e.g. "hard_bounce")',
};

/** An SES event on its own (an SNS reader with raw delivery, a queue): the notification around it. */
function sesEnvelope(payload: unknown): unknown {
	const o = obj(payload);
	if (!o || o.Type !== undefined || (o.eventType === undefined && o.notificationType === undefined))
		return payload;
	return { Type: 'Notification', Message: JSON.stringify(o) };
}

/**
 * A provider's webhook payload (an object, a list, or its JSON text) as events, by the provider's
 * own normalize. `where` names the field (or "the item") in errors.
 */
export function providerEvents(
	provider: WebhookProviderId,
	payload: unknown,
	where: string,
	now: number,
): FeedbackEvent[] {
	const p = webhookProvider(provider);
	let value = payload;
	if (typeof value === 'string') {
		try {
			value = JSON.parse(value);
		} catch {
			throw new FeedbackInputError(
				`${where} holds text that is not JSON: a ${p.displayName} event is JSON (set Payload Field to the field that holds it)`,
			);
		}
	}
	if (value === null || typeof value !== 'object')
		throw new FeedbackInputError(
			`${where} holds no ${p.displayName} event: set Payload Field to the field that holds it (empty: the whole item)`,
		);
	if (provider === 'ses') value = sesEnvelope(value);
	const events = p.normalize(
		{ headers: {}, rawBody: Buffer.from(JSON.stringify(value), 'utf8') },
		{ now: () => now },
	);
	if (events.length === 0)
		throw new FeedbackInputError(
			`${where} holds no ${p.displayName} event: expected ${EXPECTED[provider]}. Check Input Format and Payload Field.`,
		);
	return events;
}
