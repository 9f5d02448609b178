/**
 * n8n's own credential types (n8n-nodes-base) read as this package's credentials, so a user can
 * send through the SMTP, SendGrid, Mailgun, Postmark, AWS and Brevo credentials they already have.
 * Each schema is written on n8n's field names (checked against n8n 2.40.7's credential classes),
 * so an error names the field as n8n's credential form shows it; the result is the input our own
 * parser takes, which then applies the same checks as for our types.
 */
import { z } from 'zod';
import { parseCredentialData } from '../util/credential';
import type { ApiProviderId } from './api/types';
import { parseSmtpCredential, type SmtpCredential, type SmtpCredentialInput } from './smtp';

/** n8n stores an untouched field as '' or leaves it out. */
const text = z
	.string()
	.optional()
	.transform((v) => v ?? '');
const flag = (fallback: boolean) => z.boolean().optional().default(fallback);

/**
 * n8n's `smtp` (the Send Email node's). `secure` is implicit TLS; otherwise STARTTLS unless
 * `disableStartTls`. Where n8n would log in over plain text (Disable STARTTLS with a user or
 * password, or a server that offers no STARTTLS), this package refuses: STARTTLS becomes
 * required once there is a password, and Disable STARTTLS maps to "no encryption, no password".
 */
const n8nSmtpSchema = z
	.object({
		user: text,
		password: text,
		host: text,
		port: z.unknown(),
		secure: flag(true),
		disableStartTls: flag(false),
		hostName: text,
	})
	.transform((c): SmtpCredentialInput => ({
		host: c.host,
		// n8n's form defaults the port to 465; 0 or empty: the usual port of the mode
		port: c.port as number,
		security: c.secure ? 'tls' : c.disableStartTls ? 'none' : 'starttls',
		user: c.user,
		password: c.password,
		ehloName: c.hostName,
		source: 'n8n',
	}));

export function parseN8nSmtpCredential(data: unknown): SmtpCredential {
	const label = 'Invalid n8n SMTP credential';
	const parsed = parseSmtpCredential(parseCredentialData(n8nSmtpSchema, data, label), label);
	if (parsed.security === 'none' && (parsed.user || parsed.password))
		throw new Error(
			'Invalid n8n SMTP credential: "Disable STARTTLS" is on with a user or password, which would send the password unencrypted. Turn "Disable STARTTLS" off (or "SSL/TLS" on), or use a Postal Routes SMTP credential set to "None — Send Password Unencrypted" for a relay on a trusted network.',
		);
	return parsed;
}

/** The n8n credential type of each API provider, where n8n has one (none for SparkPost or Resend). */
export const N8N_API_CREDENTIALS: Partial<Record<ApiProviderId, string>> = {
	sendgrid: 'sendGridApi',
	mailgun: 'mailgunApi',
	postmark: 'postmarkApi',
	ses: 'aws',
	brevo: 'sendInBlueApi',
};

/** n8n field names → our provider credential's, per provider (what n8n's type lacks takes our default). */
const n8nApiSchemas: Partial<Record<ApiProviderId, z.ZodTypeAny>> = {
	sendgrid: z.object({ apiKey: text }).transform((c) => ({ apiKey: c.apiKey, region: 'global' })),
	mailgun: z
		.object({ apiKey: text, emailDomain: text, apiDomain: text })
		.superRefine((c, ctx) => {
			if (!c.emailDomain.trim())
				ctx.addIssue({ code: 'custom', path: ['emailDomain'], message: 'is required' });
		})
		.transform((c) => ({
			apiKey: c.apiKey,
			domain: c.emailDomain,
			region: c.apiDomain === 'api.eu.mailgun.net' ? 'eu' : 'us',
		})),
	postmark: z.object({ serverToken: text }).transform((c) => ({ serverToken: c.serverToken })),
	brevo: z.object({ apiKey: text }).transform((c) => ({ apiKey: c.apiKey })),
	// n8n's AWS (IAM): a session token only counts with "Temporary Security Credentials" on, as in
	// n8n's own signing; its SES endpoint only with "Custom Endpoints" on
	ses: z
		.object({
			region: text,
			accessKeyId: text,
			secretAccessKey: text,
			temporaryCredentials: flag(false),
			sessionToken: text,
			customEndpoints: flag(false),
			sesEndpoint: text,
		})
		.transform((c) => ({
			region: c.region,
			accessKeyId: c.accessKeyId,
			secretAccessKey: c.secretAccessKey,
			sessionToken: c.temporaryCredentials ? c.sessionToken : '',
			endpoint: c.customEndpoints ? c.sesEndpoint.replace('{region}', c.region) : '',
		})),
};

/** n8n credential data for `provider`, as the input of that provider's parseCredential. */
export function n8nApiCredentialInput(provider: ApiProviderId, data: unknown): unknown {
	const schema = n8nApiSchemas[provider];
	const type = N8N_API_CREDENTIALS[provider];
	if (!schema || !type) throw new Error(`n8n has no credential type for ${provider}`);
	return parseCredentialData(schema, data, `n8n ${type} credential`);
}
