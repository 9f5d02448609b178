/**
 * Brevo transactional webhooks: one event object, or arrays of up to 500 when "batched". Brevo
 * signs nothing: basic auth in the URL or a bearer token set on the webhook (and an IP allow-list).
 * https://developers.brevo.com/docs/transactional-webhooks, https://developers.brevo.com/docs/secured-webhooks,
 * https://developers.brevo.com/docs/batch-webhooks
 * Retries (https://developers.brevo.com/docs/retry-mechanism): any 5xx and every 4xx but 429 drop
 * the event, so every failure of ours answers 429.
 */
import { parseCredentialData } from '../../util/credential';
import type { FeedbackEvent } from '../types';
import { sharedSecretSchema, verifySharedSecret, type SharedSecretConfig } from './auth';
import {
	compositeId,
	diagnostic,
	event,
	fromUnix,
	linkReference,
	nowIso,
	obj,
	parseJsonBody,
	recipientOf,
	replyCodes,
	str,
	type Json,
} from './common';
import { BREVO_RETRY } from './status';
import type { NormalizeContext, WebhookProvider, WebhookRequest } from './types';
import * as v from './verdict';

export const brevoConfigSchema = sharedSecretSchema;
export type BrevoWebhookConfig = SharedSecretConfig;

/**
 * The `pr` token from X-Mailin-custom: the send side writes `key:value|key:value`
 * (../../transports/api/brevo.ts); JSON, as other senders write it, is read too.
 */
export function mailinCustomToken(custom: unknown): string | undefined {
	const text = str(custom);
	if (!text) return undefined;
	if (text.trim().startsWith('{')) {
		try {
			return str(obj(JSON.parse(text))?.pr);
		} catch {
			// not JSON after all: read as pairs
		}
	}
	for (const pair of text.split('|')) {
		const colon = pair.indexOf(':');
		if (colon !== -1 && pair.slice(0, colon).trim() === 'pr') return pair.slice(colon + 1).trim();
	}
	return undefined;
}

function verdictOf(e: Json, codes: ReturnType<typeof replyCodes>, text: string): v.Verdict {
	switch (str(e.event)) {
		case 'delivered':
			return v.delivered;
		case 'hard_bounce': {
			// a refusal of the sender reported as a hard bounce is still the route's
			const verdict = v.failureVerdict(codes, text);
			return verdict.type === 'blocked' ? verdict : v.hardBounce;
		}
		case 'invalid_email':
			return v.hardBounce;
		case 'soft_bounce': {
			const verdict = v.failureVerdict(codes, text);
			return verdict.type === 'blocked' ? verdict : v.softBounce();
		}
		case 'deferred':
			return v.deferralVerdict(codes);
		case 'blocked':
			// Brevo did not send: the contact is on its block list ("blocked : due to blacklist user")
			return v.suppressed();
		case 'spam':
		case 'complaint':
			return v.complained;
		case 'unsubscribe':
		case 'unsubscribed':
			return v.unsubscribed;
		default:
			// request, opened, unique_opened, proxy_open, click, error, …
			return v.other();
	}
}

function normalizeOne(e: Json, context?: NormalizeContext): FeedbackEvent {
	const text = str(e.reason)?.trim();
	const codes = replyCodes(text?.replace(/^\w*Error:\s*/, ''));
	// the send side records Brevo's messageId in angle brackets; some events leave them off
	const rawId = str(e['message-id'])?.trim();
	const messageId = rawId && rawId.includes('@') && !rawId.startsWith('<') ? `<${rawId}>` : rawId;
	const when = e.ts_epoch ?? e.ts_event ?? e.ts;
	// Brevo gives no event id: what it sends again unchanged identifies a redelivery
	const key = [str(e.id), messageId, str(e.email), str(e.event), str(when)];
	return event({
		source: 'brevo',
		...verdictOf(e, codes, text ?? ''),
		recipient: recipientOf(e.email),
		messageId,
		eventId: messageId || str(e.id) ? compositeId(key) : undefined,
		// ts_epoch is the one UTC time (milliseconds); ts_event and ts are seconds
		timestamp: fromUnix(when) ?? nowIso(context),
		...codes,
		diagnostic: diagnostic(text),
		providerType: str(e.event),
		sendingIp: str(e.sending_ip),
		...linkReference(mailinCustomToken(e['X-Mailin-custom'] ?? e['x-mailin-custom'])),
		confidence: 1,
	});
}

function normalize(request: WebhookRequest, context?: NormalizeContext): FeedbackEvent[] {
	const body = parseJsonBody(request.rawBody, 'Brevo');
	const items = Array.isArray(body) ? body : [body];
	return items
		.map(obj)
		.filter((e): e is Json => e !== undefined && str(e.event) !== undefined)
		.map((e) => normalizeOne(e, context));
}

export const brevoWebhook: WebhookProvider<BrevoWebhookConfig> = {
	id: 'brevo',
	displayName: 'Brevo',
	configSchema: brevoConfigSchema,
	parseConfig: (data) => parseCredentialData(brevoConfigSchema, data, 'Brevo webhook settings'),
	verify: async (request, config) => verifySharedSecret(request, config, 'Brevo', BREVO_RETRY),
	normalize,
	unavailableStatus: BREVO_RETRY,
};
