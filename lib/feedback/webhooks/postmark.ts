/**
 * Postmark webhooks (Bounce, Delivery, SpamComplaint, Open, Click, SubscriptionChange), one JSON
 * record per request. Postmark signs nothing: basic auth in the webhook URL and/or a custom header.
 * https://postmarkapp.com/developer/webhooks/webhooks-overview
 * https://postmarkapp.com/developer/webhooks/bounce-webhook
 * Bounce types: https://postmarkapp.com/developer/api/bounce-api#bounce-types
 */
import { parseCredentialData } from '../../util/credential';
import type { FeedbackEvent } from '../types';
import { sharedSecretSchema, verifySharedSecret, type SharedSecretConfig } from './auth';
import {
	compositeId,
	diagnostic,
	event,
	fromDate,
	linkReference,
	nowIso,
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

export const postmarkConfigSchema = sharedSecretSchema;
export type PostmarkWebhookConfig = SharedSecretConfig;

/** Type names by TypeCode, for a record that carries only the code. */
const TYPE_CODES: Record<number, string> = {
	1: 'HardBounce',
	2: 'Transient',
	16: 'Unsubscribe',
	32: 'Subscribe',
	64: 'AutoResponder',
	128: 'AddressChange',
	256: 'DnsError',
	512: 'SpamNotification',
	1024: 'OpenRelayTest',
	2048: 'Unknown',
	4096: 'SoftBounce',
	8192: 'VirusNotification',
	16384: 'ChallengeVerification',
	100000: 'BadEmailAddress',
	100001: 'SpamComplaint',
	100002: 'ManuallyDeactivated',
	100003: 'Unconfirmed',
	100006: 'Blocked',
	100007: 'SMTPApiError',
	100008: 'InboundError',
	100009: 'DMARCPolicy',
	100010: 'TemplateRenderingFailed',
};

function bounceVerdict(type: string | undefined, codes: ReturnType<typeof replyCodes>): v.Verdict {
	switch (type) {
		case 'HardBounce':
		case 'BadEmailAddress':
			return v.hardBounce;
		case 'Transient':
			return v.deferralVerdict(codes);
		case 'SoftBounce':
		case 'DnsError':
			return v.softBounce();
		case 'Unknown':
			return v.softBounce('unknown');
		case 'Blocked':
		case 'DMARCPolicy':
			return v.blocked('route');
		case 'SpamNotification':
		case 'VirusNotification':
			return v.blocked('content');
		case 'SpamComplaint':
			return v.complained;
		case 'Unsubscribe':
			return v.unsubscribed;
		case 'ManuallyDeactivated':
			return v.suppressed();
		default:
			// AutoResponder, AddressChange, ChallengeVerification, Subscribe, SMTPApiError, …
			return v.other();
	}
}

/**
 * Bounce IDs are 64-bit integers (the docs' example is 4323372036854775807): beyond what a JSON
 * number keeps exactly, so two bounces could share one rounded id. The digits are read from the
 * body itself; Metadata values are strings, so a bare `"ID": <digits>` is the record's own.
 */
function exactId(r: Json, rawText: string): string | undefined {
	const id = r.ID;
	if (typeof id !== 'number' || Number.isSafeInteger(id)) return str(id);
	const digits = [...rawText.matchAll(/"ID"\s*:\s*(\d+)/g)]
		.map((m) => m[1])
		.filter((d) => Number(d) === id);
	return new Set(digits).size === 1 ? digits[0] : str(id);
}

function normalizeRecord(
	r: Json,
	rawText: string,
	context?: NormalizeContext,
): FeedbackEvent | undefined {
	const record = str(r.RecordType);
	const messageId = str(r.MessageID);
	const base = {
		source: 'postmark' as const,
		messageId,
		...linkReference(obj(r.Metadata)?.pr),
		confidence: 1,
	};
	switch (record) {
		case 'Bounce':
		case 'SpamComplaint': {
			const type = str(r.Type) ?? TYPE_CODES[Number(r.TypeCode)];
			const text = str(r.Details) ?? str(r.Description);
			const codes = replyCodes(str(r.Details));
			return event({
				...base,
				...(record === 'SpamComplaint' ? v.complained : bounceVerdict(type, codes)),
				recipient: recipientOf(r.Email),
				eventId: exactId(r, rawText),
				timestamp: fromDate(r.BouncedAt) ?? nowIso(context),
				...codes,
				diagnostic: diagnostic(text),
				providerType: type ?? record,
			});
		}
		case 'Delivery': {
			const text = str(r.Details);
			return event({
				...base,
				...v.delivered,
				recipient: recipientOf(r.Recipient),
				// deliveries carry no ID of their own: message, kind and recipient make one
				eventId: messageId ? compositeId(['Delivery', messageId, str(r.Recipient)]) : undefined,
				timestamp: fromDate(r.DeliveredAt) ?? nowIso(context),
				...replyCodes(text),
				diagnostic: diagnostic(text),
				providerType: 'Delivery',
			});
		}
		case 'SubscriptionChange': {
			// a bounce or complaint suppression also arrives as its own Bounce record: not counted twice
			const reason = str(r.SuppressionReason);
			const verdict =
				r.SuppressSending !== true
					? v.other()
					: reason === 'ManualSuppression'
						? v.unsubscribed
						: v.suppressed();
			return event({
				...base,
				...verdict,
				recipient: recipientOf(r.Recipient),
				eventId: messageId
					? compositeId(['SubscriptionChange', messageId, str(r.Recipient), str(r.ChangedAt)])
					: undefined,
				timestamp: fromDate(r.ChangedAt) ?? nowIso(context),
				providerType: ['SubscriptionChange', reason].filter(Boolean).join('/'),
			});
		}
		default: {
			if (!record) return undefined;
			return event({
				...base,
				...v.other(),
				recipient: recipientOf(r.Recipient ?? r.Email),
				eventId: messageId
					? compositeId([record, messageId, str(r.Recipient), str(r.ReceivedAt)])
					: undefined,
				timestamp: fromDate(r.ReceivedAt) ?? nowIso(context),
				providerType: record,
			});
		}
	}
}

function normalize(request: WebhookRequest, context?: NormalizeContext): FeedbackEvent[] {
	const body = parseJsonBody(request.rawBody, 'Postmark');
	const records = Array.isArray(body) ? body : [body];
	const rawText = records.length === 1 ? request.rawBody.toString('utf8') : '';
	return records
		.map((r) => (obj(r) ? normalizeRecord(obj(r) as Json, rawText, context) : undefined))
		.filter((e): e is FeedbackEvent => e !== undefined);
}

export const postmarkWebhook: WebhookProvider<PostmarkWebhookConfig> = {
	id: 'postmark',
	displayName: 'Postmark',
	configSchema: postmarkConfigSchema,
	parseConfig: (data) =>
		parseCredentialData(postmarkConfigSchema, data, 'Postmark webhook settings'),
	verify: async (request, config) => verifySharedSecret(request, config, 'Postmark', UNAVAILABLE),
	normalize,
	unavailableStatus: UNAVAILABLE,
};
