/**
 * SparkPost webhooks: batches `[{"msys": {"message_event": {…}}}, …]` (also track_event,
 * gen_event, unsubscribe_event, relay_event); the ping on creation is `[{"msys": {}}]`. SparkPost
 * signs nothing: basic auth (or OAuth 2, not supported here) on the webhook.
 * SparkPost/developers.sparkpost.com content/api/webhooks.apib, https://developers.sparkpost.com/api/webhooks/
 * Bounce classes: https://support.sparkpost.com/docs/deliverability/bounce-classification-codes
 */
import { parseCredentialData } from '../../util/credential';
import type { FeedbackEvent } from '../types';
import { sharedSecretSchema, verifySharedSecret, type SharedSecretConfig } from './auth';
import {
	diagnostic,
	event,
	fromDate,
	linkReference,
	nowIso,
	num,
	obj,
	parseJsonBody,
	recipientOf,
	replyCodes,
	str,
	type Json,
} from './common';
import { UNAVAILABLE } from './status';
import type { NormalizeContext, WebhookProvider, WebhookRequest } from './types';
import * as v from './verdict';

export const sparkpostConfigSchema = sharedSecretSchema;
export type SparkPostWebhookConfig = SharedSecretConfig;

/** SparkPost's bounce classes: the clearest public "recipient or route?" split there is. */
function bounceClassVerdict(
	cls: number | undefined,
	codes: ReturnType<typeof replyCodes>,
	text: string,
): v.Verdict {
	switch (cls) {
		case 10: // Invalid Recipient
		case 30: // Generic Bounce: No RCPT
			return v.hardBounce;
		case 90: // Unsubscribe
			return v.unsubscribed;
		case 20: // Soft Bounce
		case 21: // DNS Failure
		case 22: // Mailbox Full
		case 23: // Too Large
			return v.softBounce();
		case 24: // Timeout
		case 40: // Generic Bounce
		case 70: // Transient Failure
			return v.softBounce('unknown');
		case 25: // Admin Failure: SparkPost's own policy or suppression
			return v.suppressed();
		case 50: // Mail Block
		case 51: // Spam Block
		case 54: // Relaying Denied
			return v.blocked('route');
		case 52: // Spam Content
		case 53: // Prohibited Attachment
			return v.blocked('content');
		case 60: // Auto-Reply
		case 80: // Subscribe
		case 100: // Challenge-Response
			return v.other();
		default: // 1 Undetermined
			return v.failureVerdict(codes, text);
	}
}

function verdictOf(e: Json, codes: ReturnType<typeof replyCodes>, text: string): v.Verdict {
	switch (str(e.type)) {
		case 'delivery':
			return v.delivered;
		case 'bounce':
		case 'out_of_band':
			return bounceClassVerdict(num(e.bounce_class), codes, text);
		case 'delay':
			return v.deferralVerdict(codes);
		case 'policy_rejection':
			return v.suppressed('none');
		case 'spam_complaint':
			return v.complained;
		case 'list_unsubscribe':
		case 'link_unsubscribe':
			return v.unsubscribed;
		default:
			return v.other();
	}
}

function normalizeOne(e: Json, context?: NormalizeContext): FeedbackEvent {
	const text = str(e.raw_reason) ?? str(e.reason);
	const code = str(e.error_code);
	const codes = replyCodes(
		text && code && !text.startsWith(code) ? `${code} ${text}` : (text ?? code),
	);
	const type = str(e.type);
	return event({
		source: 'sparkpost',
		...verdictOf(e, codes, text ?? ''),
		recipient: recipientOf(e.rcpt_to ?? e.raw_rcpt_to),
		// the send side records the transmission id (results.id)
		messageId: str(e.transmission_id),
		eventId: str(e.event_id),
		timestamp: fromDate(e.timestamp) ?? nowIso(context),
		...codes,
		diagnostic: diagnostic(text),
		providerType: [type, str(e.bounce_class)].filter(Boolean).join('/') || undefined,
		sendingIp: str(e.sending_ip),
		...linkReference(obj(e.rcpt_meta)?.pr),
		confidence: 1,
	});
}

function normalize(request: WebhookRequest, context?: NormalizeContext): FeedbackEvent[] {
	const body = parseJsonBody(request.rawBody, 'SparkPost');
	const out: FeedbackEvent[] = [];
	for (const item of Array.isArray(body) ? body : [body]) {
		const msys = obj(obj(item)?.msys);
		if (!msys) continue;
		// one wrapper per item: message_event, track_event, gen_event, unsubscribe_event, …
		for (const wrapped of Object.values(msys)) {
			const e = obj(wrapped);
			if (e && str(e.type)) out.push(normalizeOne(e, context));
		}
	}
	return out;
}

export const sparkpostWebhook: WebhookProvider<SparkPostWebhookConfig> = {
	id: 'sparkpost',
	displayName: 'SparkPost',
	configSchema: sparkpostConfigSchema,
	parseConfig: (data) =>
		parseCredentialData(sparkpostConfigSchema, data, 'SparkPost webhook settings'),
	verify: async (request, config) => verifySharedSecret(request, config, 'SparkPost', UNAVAILABLE),
	normalize,
	unavailableStatus: UNAVAILABLE,
};
