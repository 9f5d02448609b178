/**
 * Mailgun webhooks: `{"signature": {timestamp, token, signature}, "event-data": {…}}`, signed with
 * hex(HMAC-SHA256(webhook signing key, timestamp + token)).
 * https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
 * https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-payloads
 * Retries: 406 = rejected, not retried; anything but 200 retried for 8 h
 * (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-retries).
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { parseCredentialData } from '../../util/credential';
import type { FeedbackEvent } from '../types';
import { safeEqual } from './auth';
import {
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
import { BAD_PAYLOAD, MAILGUN_NO_RETRY, UNAUTHENTICATED, UNAVAILABLE } from './status';
import type {
	NormalizeContext,
	Verification,
	VerifyContext,
	WebhookProvider,
	WebhookRequest,
} from './types';
import * as v from './verdict';

export const mailgunConfigSchema = z.object({
	/** the domain's "HTTP webhook signing key" (not the API key) */
	signingKey: z
		.string()
		.optional()
		.transform((s) => (s && s.trim() ? s.trim() : undefined)),
	/**
	 * off (0) by default: Mailgun retries for 8 h and does not say whether retries are signed afresh;
	 * a replayed token is refused through `seenToken` instead
	 */
	maxAgeSeconds: z.number().int().min(0).optional().default(0),
});
export type MailgunWebhookConfig = z.output<typeof mailgunConfigSchema>;

async function verify(
	request: WebhookRequest,
	config: MailgunWebhookConfig,
	context: VerifyContext = {},
): Promise<Verification> {
	if (!config.signingKey)
		return {
			ok: false,
			status: UNAVAILABLE,
			reason:
				'Mailgun webhook verification is not configured: set "signingKey" (the HTTP webhook signing key)',
		};
	let body: unknown;
	try {
		body = JSON.parse(request.rawBody.toString('utf8'));
	} catch {
		return { ok: false, status: BAD_PAYLOAD, reason: 'Mailgun webhook: the body is not JSON' };
	}
	const signature = obj(obj(body)?.signature);
	const timestamp = str(signature?.timestamp);
	const token = str(signature?.token);
	const given = str(signature?.signature);
	if (!timestamp || !token || !given)
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: 'Mailgun webhook: the request is not signed (no signature block)',
		};
	const expected = createHmac('sha256', config.signingKey)
		.update(timestamp + token)
		.digest('hex');
	if (!safeEqual(given.toLowerCase(), expected))
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: 'Mailgun webhook: the signature does not match',
		};
	if (config.maxAgeSeconds > 0) {
		const age = (context.now ?? Date.now)() / 1000 - Number(timestamp);
		if (!Number.isFinite(age) || Math.abs(age) > config.maxAgeSeconds)
			return {
				ok: false,
				status: MAILGUN_NO_RETRY,
				reason: `Mailgun webhook: the signature timestamp is more than ${config.maxAgeSeconds} s old`,
			};
	}
	if (context.seenToken) {
		let seen: boolean;
		try {
			seen = await context.seenToken(token);
		} catch {
			return {
				ok: false,
				status: UNAVAILABLE,
				reason: 'Mailgun webhook: the replay check failed (state store)',
			};
		}
		// refused for good: Mailgun stops on 406, and a legitimate retry of it was recorded already
		if (seen)
			return {
				ok: false,
				status: MAILGUN_NO_RETRY,
				reason: 'Mailgun webhook: this signature token was used before (a replay)',
			};
	}
	return { ok: true, replayToken: token };
}

function verdictOf(data: Json, codes: ReturnType<typeof replyCodes>, text: string): v.Verdict {
	const reason = str(data.reason) ?? '';
	switch (str(data.event)) {
		case 'delivered':
			return v.delivered;
		case 'failed':
			if (reason.startsWith('suppress-')) return v.suppressed();
			if (str(data.severity) === 'temporary') return v.deferralVerdict(codes);
			return v.failureVerdict(codes, text);
		case 'rejected':
			return v.suppressed('none');
		case 'complained':
			return v.complained;
		case 'unsubscribed':
			return v.unsubscribed;
		default:
			return v.other();
	}
}

function normalize(request: WebhookRequest, context?: NormalizeContext): FeedbackEvent[] {
	const data = obj(obj(parseJsonBody(request.rawBody, 'Mailgun'))?.['event-data']);
	if (!data || !str(data.event)) return [];
	const status = obj(data['delivery-status']) ?? {};
	const message = [str(status.message), str(status.description)].find(Boolean);
	const code = str(status.code);
	// Mailgun gives the reply code apart from its text ("5.1.1 The email account …")
	const codes = replyCodes(
		message && code && !message.startsWith(code) ? `${code} ${message}` : (message ?? code),
	);
	const headerId = str(obj(obj(data.message)?.headers)?.['message-id']);
	const variables = obj(data['user-variables']) ?? {};
	return [
		event({
			source: 'mailgun',
			...verdictOf(data, codes, message ?? ''),
			recipient: recipientOf(data.recipient),
			// the send side records Mailgun's id as the API returns it: in angle brackets
			messageId: headerId ? `<${headerId.replace(/^<|>$/g, '')}>` : undefined,
			eventId: str(data.id),
			timestamp: fromUnix(data.timestamp) ?? nowIso(context),
			...codes,
			diagnostic: diagnostic(message),
			providerType: [str(data.event), str(data.severity), str(data.reason)]
				.filter(Boolean)
				.join('/'),
			remoteMta: str(status['mx-host']),
			sendingIp: str(obj(data.envelope)?.['sending-ip']),
			...linkReference(variables.pr),
			confidence: 1,
		}),
	];
}

export const mailgunWebhook: WebhookProvider<MailgunWebhookConfig> = {
	id: 'mailgun',
	displayName: 'Mailgun',
	configSchema: mailgunConfigSchema,
	parseConfig: (data) => parseCredentialData(mailgunConfigSchema, data, 'Mailgun webhook settings'),
	verify,
	normalize,
	unavailableStatus: UNAVAILABLE,
};
