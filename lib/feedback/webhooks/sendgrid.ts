/**
 * SendGrid Event Webhook: a JSON array of events, signed with ECDSA P-256 / SHA-256 over
 * `timestamp + rawBody` (the Signed Event Webhook; headers X-Twilio-Email-Event-Webhook-Signature,
 * base64 DER, and -Timestamp). The public key is the base64 DER SubjectPublicKeyInfo SendGrid
 * shows (GET /v3/user/webhooks/event/settings/signed).
 * https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 * Events: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 */
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { parseCredentialData } from '../../util/credential';
import type { FeedbackEvent } from '../types';
import {
	arr,
	diagnostic,
	event,
	fromUnix,
	header,
	linkReference,
	nowIso,
	obj,
	parseJsonBody,
	recipientOf,
	replyCodes,
	str,
	type Json,
} from './common';
import { UNAUTHENTICATED, UNAVAILABLE } from './status';
import type { NormalizeContext, Verification, WebhookProvider, WebhookRequest } from './types';
import * as v from './verdict';

const SIGNATURE = 'x-twilio-email-event-webhook-signature';
const TIMESTAMP = 'x-twilio-email-event-webhook-timestamp';

/** A PEM or the bare base64 DER key SendGrid shows; an EC P-256 key, or the setting is refused. */
function readKey(text: string): KeyObject {
	const key = text.includes('-----BEGIN')
		? createPublicKey(text)
		: createPublicKey({
				key: Buffer.from(text.replace(/\s+/g, ''), 'base64'),
				format: 'der',
				type: 'spki',
			});
	if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
		throw new Error('not a P-256 key');
	return key;
}

export const sendgridConfigSchema = z.object({
	/** the "Verification Key" of the Signed Event Webhook */
	publicKey: z
		.string()
		.optional()
		.transform((text, ctx) => {
			if (!text || !text.trim()) return undefined;
			try {
				return readKey(text.trim());
			} catch {
				ctx.addIssue({
					code: 'custom',
					message: 'must be the base64 (DER) ECDSA P-256 public key SendGrid shows',
				});
				return z.NEVER;
			}
		}),
	/**
	 * off (0) by default: SendGrid retries for 24 h and it is not documented whether retries are
	 * signed afresh; duplicates are caught by sg_event_id instead
	 */
	maxAgeSeconds: z.number().int().min(0).optional().default(0),
});
export type SendGridWebhookConfig = z.output<typeof sendgridConfigSchema>;

async function verify(
	request: WebhookRequest,
	config: SendGridWebhookConfig,
	context: { now?: () => number } = {},
): Promise<Verification> {
	if (!config.publicKey)
		return {
			ok: false,
			status: UNAVAILABLE,
			reason:
				'SendGrid webhook verification is not configured: set "publicKey" (the Signed Event Webhook verification key)',
		};
	const signature = header(request, SIGNATURE);
	const timestamp = header(request, TIMESTAMP);
	if (!signature || !timestamp)
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: 'SendGrid webhook: the request is not signed (no signature or timestamp header)',
		};
	let valid = false;
	try {
		valid = verifySignature(
			'sha256',
			Buffer.concat([Buffer.from(timestamp, 'utf8'), request.rawBody]),
			config.publicKey,
			Buffer.from(signature, 'base64'),
		);
	} catch {
		valid = false; // a signature that is not DER at all
	}
	if (!valid)
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: 'SendGrid webhook: the signature does not match the body',
		};
	if (config.maxAgeSeconds > 0) {
		const now = (context.now ?? Date.now)();
		const age = now / 1000 - Number(timestamp);
		if (!Number.isFinite(age) || Math.abs(age) > config.maxAgeSeconds)
			return {
				ok: false,
				status: UNAUTHENTICATED,
				reason: `SendGrid webhook: the signature timestamp is more than ${config.maxAgeSeconds} s old`,
			};
	}
	return { ok: true };
}

const DELIVERY_EVENTS = new Set(['processed', 'dropped', 'delivered', 'deferred', 'bounce']);

/** bounce_classification (SendGrid's "bounce and block classifications") */
function bounceVerdict(e: Json, codes: ReturnType<typeof replyCodes>, text: string): v.Verdict {
	switch (str(e.bounce_classification)) {
		case 'Invalid Address':
			return v.hardBounce;
		case 'Mailbox Unavailable':
			return v.softBounce();
		case 'Content':
			return v.blocked('content');
		case 'Reputation':
		case 'Frequency or Volume Too High':
			return v.blocked('route');
		case 'Technical Failure':
			return v.softBounce('unknown');
	}
	const verdict = v.failureVerdict(codes, text);
	// type "blocked": the receiving server refused the sender, whatever the code says
	return str(e.type) === 'blocked' && verdict.type !== 'blocked' ? v.blocked('route') : verdict;
}

function verdictOf(e: Json, codes: ReturnType<typeof replyCodes>, text: string): v.Verdict {
	switch (str(e.event)) {
		case 'delivered':
			return v.delivered;
		case 'deferred':
			return v.deferralVerdict(codes);
		case 'bounce':
			return bounceVerdict(e, codes, text);
		case 'dropped':
			return /spam content/i.test(text) ? v.blocked('content') : v.suppressed();
		case 'spamreport':
			return v.complained;
		case 'unsubscribe':
		case 'group_unsubscribe':
			return v.unsubscribed;
		default:
			return v.other();
	}
}

function normalizeOne(e: Json, context?: NormalizeContext): FeedbackEvent {
	const name = str(e.event);
	const text = str(e.reason) ?? str(e.response);
	const codes = replyCodes(text, e.status);
	const verdict = verdictOf(e, codes, text ?? '');
	const sgMessageId = str(e.sg_message_id);
	const kind = [name, str(e.type) !== name ? str(e.type) : undefined, str(e.bounce_classification)];
	return event({
		source: 'sendgrid',
		...verdict,
		recipient: recipientOf(e.email),
		// the send side records X-Message-Id: sg_message_id up to its first "."
		messageId: sgMessageId?.split('.')[0],
		eventId: str(e.sg_event_id),
		timestamp: fromUnix(e.timestamp) ?? nowIso(context),
		...codes,
		diagnostic: diagnostic(text),
		providerType: kind.filter(Boolean).join('/') || undefined,
		sendingIp: name && DELIVERY_EVENTS.has(name) ? str(e.ip) : undefined,
		// custom_args come back as top-level keys of each event
		...linkReference(e.pr),
		confidence: 1,
	});
}

function normalize(request: WebhookRequest, context?: NormalizeContext): FeedbackEvent[] {
	const body = parseJsonBody(request.rawBody, 'SendGrid');
	const events = Array.isArray(body) ? body : [body];
	return arr(events)
		.map(obj)
		.filter((e): e is Json => e !== undefined && str(e.event) !== undefined)
		.map((e) => normalizeOne(e, context));
}

export const sendgridWebhook: WebhookProvider<SendGridWebhookConfig> = {
	id: 'sendgrid',
	displayName: 'SendGrid',
	configSchema: sendgridConfigSchema,
	parseConfig: (data) =>
		parseCredentialData(sendgridConfigSchema, data, 'SendGrid webhook settings'),
	verify,
	normalize,
	unavailableStatus: UNAVAILABLE,
};
