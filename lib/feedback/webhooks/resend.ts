/**
 * Resend webhooks, delivered by Svix: headers svix-id, svix-timestamp, svix-signature (a
 * space-separated list of `v1,<base64>`), signed with HMAC-SHA256 over
 * `${svix-id}.${svix-timestamp}.${rawBody}` with the base64 key after `whsec_`; timestamps more
 * than 5 minutes off are refused.
 * https://resend.com/docs/webhooks/verify-webhooks-requests, https://docs.svix.com/receiving/verifying-payloads/how-manual
 * Events: https://resend.com/docs/webhooks/emails/bounced (and the other email.* pages)
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { parseCredentialData } from '../../util/credential';
import type { FeedbackEvent } from '../types';
import { safeEqual } from './auth';
import {
	arr,
	compositeId,
	diagnostic,
	event,
	fromDate,
	header,
	linkReference,
	nowIso,
	obj,
	parseJsonBody,
	perRecipientId,
	recipientOf,
	str,
	type Json,
} from './common';
import { UNAUTHENTICATED, UNAVAILABLE } from './status';
import type {
	NormalizeContext,
	Verification,
	VerifyContext,
	WebhookProvider,
	WebhookRequest,
} from './types';
import * as v from './verdict';

/** Svix's tolerance, both ways */
export const SVIX_TOLERANCE_SECONDS = 300;

export const resendConfigSchema = z.object({
	/** the webhook's signing secret, `whsec_…` */
	signingSecret: z
		.string()
		.optional()
		.transform((text, ctx) => {
			if (!text || !text.trim()) return undefined;
			const body = text.trim().replace(/^whsec_/, '');
			const key = Buffer.from(body, 'base64');
			if (!/^[A-Za-z0-9+/]+=*$/.test(body) || key.length < 16) {
				ctx.addIssue({
					code: 'custom',
					message: 'must be the signing secret Resend shows (whsec_…)',
				});
				return z.NEVER;
			}
			return key;
		}),
});
export type ResendWebhookConfig = z.output<typeof resendConfigSchema>;

async function verify(
	request: WebhookRequest,
	config: ResendWebhookConfig,
	context: VerifyContext = {},
): Promise<Verification> {
	if (!config.signingSecret)
		return {
			ok: false,
			status: UNAVAILABLE,
			reason: 'Resend webhook verification is not configured: set "signingSecret" (whsec_…)',
		};
	const id = header(request, 'svix-id');
	const timestamp = header(request, 'svix-timestamp');
	const signatures = header(request, 'svix-signature');
	if (!id || !timestamp || !signatures)
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: 'Resend webhook: the request is not signed (svix-id, svix-timestamp, svix-signature)',
		};
	const seconds = Number(timestamp);
	const now = (context.now ?? Date.now)() / 1000;
	if (!/^\d+$/.test(timestamp) || Math.abs(now - seconds) > SVIX_TOLERANCE_SECONDS)
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: `Resend webhook: the signature timestamp is more than ${SVIX_TOLERANCE_SECONDS} s off`,
		};
	const expected = createHmac('sha256', config.signingSecret)
		.update(`${id}.${timestamp}.`)
		.update(request.rawBody)
		.digest();
	// several signatures while a secret is being rotated: any v1 one will do
	const match = signatures
		.split(' ')
		.map((s) => s.split(','))
		.some(
			([version, value]) =>
				version === 'v1' && !!value && safeEqual(Buffer.from(value, 'base64'), expected),
		);
	if (!match)
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: 'Resend webhook: no signature matches the body',
		};
	return { ok: true };
}

function bounceVerdict(bounce: Json): v.Verdict {
	const type = str(bounce.type);
	const sub = str(bounce.subType);
	// Resend sends through SES: the same bounce types and subtypes
	if (sub === 'Suppressed' || sub === 'OnAccountSuppressionList') return v.suppressed();
	if (sub === 'ContentRejected' || sub === 'AttachmentRejected') return v.blocked('content');
	if (type === 'Transient') return v.softBounce();
	if (type === 'Undetermined') return v.softBounce('unknown');
	// email.bounced: "the recipient's mail server permanently rejected the email"
	return v.hardBounce;
}

function verdictOf(type: string | undefined, data: Json): v.Verdict {
	switch (type) {
		case 'email.delivered':
			return v.delivered;
		case 'email.delivery_delayed':
			return v.deferred('route');
		case 'email.bounced':
			return bounceVerdict(obj(data.bounce) ?? {});
		case 'email.complained':
			return v.complained;
		case 'email.suppressed':
			return v.suppressed();
		default:
			// email.sent, opened, clicked, failed, scheduled, received, contact.*, domain.*
			return v.other();
	}
}

/** Tags as `{name: value}` (webhook payloads) or as sent, `[{name, value}]`. */
function tagValue(tags: unknown, name: string): unknown {
	const map = obj(tags);
	if (map) return map[name];
	return arr(tags)
		.map(obj)
		.find((t) => t?.name === name)?.value;
}

function normalize(request: WebhookRequest, context?: NormalizeContext): FeedbackEvent[] {
	const body = obj(parseJsonBody(request.rawBody, 'Resend'));
	const type = str(body?.type);
	const data = obj(body?.data);
	if (!body || !type || !data) return [];
	const to = arr(data.to).filter((r) => str(r) !== undefined);
	const bounce = obj(data.bounce);
	const svixId = header(request, 'svix-id');
	const id =
		svixId ??
		(str(data.email_id)
			? compositeId([type, str(data.email_id), str(body.created_at)])
			: undefined);
	return to.map((address, i) =>
		event({
			source: 'resend',
			...verdictOf(type, data),
			recipient: recipientOf(address),
			messageId: str(data.email_id),
			// one id per delivery attempt of the webhook, the same on Resend's retries
			eventId: perRecipientId(id, i, to.length),
			timestamp: fromDate(body.created_at) ?? fromDate(data.created_at) ?? nowIso(context),
			diagnostic: diagnostic(str(bounce?.message)),
			providerType: [type, str(bounce?.type), str(bounce?.subType)].filter(Boolean).join('/'),
			...linkReference(tagValue(data.tags, 'pr')),
			confidence: 1,
		}),
	);
}

export const resendWebhook: WebhookProvider<ResendWebhookConfig> = {
	id: 'resend',
	displayName: 'Resend',
	configSchema: resendConfigSchema,
	parseConfig: (data) => parseCredentialData(resendConfigSchema, data, 'Resend webhook settings'),
	verify,
	normalize,
	unavailableStatus: UNAVAILABLE,
};
