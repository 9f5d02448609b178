/**
 * The delivery-webhook providers, in one place for the trigger node: each with its display name,
 * its settings schema, `verify` (answer `status` when it refuses) and `normalize` (the body as
 * FeedbackEvents). The node picks the provider from the user's choice, never from the request.
 */
import { brevoWebhook } from './brevo';
import { mailgunWebhook } from './mailgun';
import { postmarkWebhook } from './postmark';
import { resendWebhook } from './resend';
import { sendgridWebhook } from './sendgrid';
import { sesWebhook } from './ses';
import { sparkpostWebhook } from './sparkpost';
import type { WebhookProvider } from './types';

export const WEBHOOK_PROVIDERS = {
	sendgrid: sendgridWebhook,
	mailgun: mailgunWebhook,
	ses: sesWebhook,
	postmark: postmarkWebhook,
	sparkpost: sparkpostWebhook,
	resend: resendWebhook,
	brevo: brevoWebhook,
} as const;

export type WebhookProviderId = keyof typeof WEBHOOK_PROVIDERS;

export const WEBHOOK_PROVIDER_IDS = Object.keys(WEBHOOK_PROVIDERS) as WebhookProviderId[];

/** The provider by id; the config type is the provider's own (parse it with its parseConfig). */
export function webhookProvider(id: string): WebhookProvider<unknown> {
	const provider = Object.prototype.hasOwnProperty.call(WEBHOOK_PROVIDERS, id)
		? (WEBHOOK_PROVIDERS as Record<string, WebhookProvider<unknown>>)[id]
		: undefined;
	if (!provider)
		throw new Error(`unknown webhook provider '${id}': one of ${WEBHOOK_PROVIDER_IDS.join(', ')}`);
	return provider;
}

export type { BrevoWebhookConfig } from './brevo';
export type { MailgunWebhookConfig } from './mailgun';
export type { PostmarkWebhookConfig } from './postmark';
export type { ResendWebhookConfig } from './resend';
export type { SendGridWebhookConfig } from './sendgrid';
export type { SesWebhookConfig } from './ses';
export type { SparkPostWebhookConfig } from './sparkpost';
export { fetchCertOverHttps, isSnsUrl, SNS_HOST } from './certs';
export * from './status';
export type {
	Accepted,
	CertFetcher,
	NormalizeContext,
	Refused,
	Verification,
	VerifyContext,
	WebhookProvider,
	WebhookRequest,
} from './types';
export { WebhookPayloadError } from './types';
