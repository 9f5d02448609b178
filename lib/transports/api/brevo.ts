/**
 * Brevo (ex-Sendinblue) transactional email.
 * Docs: https://developers.brevo.com/reference/send-transac-email (POST /v3/smtp/email, `api-key`
 * header, sender/to/cc/bcc/replyTo/subject/htmlContent/textContent/headers/attachment[{name, content}]/
 * tags; 201 {messageId}; its example headers show `X-Mailin-custom` carrying custom data back in
 * webhooks), https://developers.brevo.com/docs/how-it-works (error body {code, message}, status codes),
 * https://developers.brevo.com/reference/get-account (GET /v3/account).
 *
 * Credentials: the how-it-works page lists 401 `unauthorized` (a missing or wrong api-key) and
 * 403 `permission_denied`; a key without the permission a call needs is refused with "Access
 * denied for resource … The API key does not include the required permission"
 * (https://help.brevo.com/hc/it/articles/40154686262546, troubleshooting API key issues), and
 * with IP security on, a request from an address not on the list is refused whatever the key
 * (https://developers.brevo.com/docs/ip-security). Those codes, a 401 and a 403 are a refused key:
 * blocked, and the route's circuit opens at once.
 */
import { z } from 'zod';
import { assertAttachmentTypes } from '../mime';
import type { HttpResponse, MailAddress, OutgoingMessage } from '../types';
import { parseCredentialData, requiredString } from './credential';
import { compact } from './format';
import {
	CREDENTIAL_REFUSED,
	type FailureKind,
	type FailureOptions,
	type FailureScope,
	httpFailure,
	isSuccess,
	parseJson,
	success,
} from './httpStatus';
import type { ApiContext, ApiProvider } from './types';

const schema = z.object({ apiKey: requiredString });

export type BrevoCredential = z.output<typeof schema>;

const LABEL = 'Brevo';
const BASE = 'https://api.brevo.com';

/** Error `code`s that say more than their status. */
const ERROR_CODES: Record<
	string,
	{ kind: FailureKind; scope: FailureScope } & Pick<FailureOptions, 'opensCircuit'>
> = {
	unauthorized: CREDENTIAL_REFUSED,
	permission_denied: CREDENTIAL_REFUSED,
	// the account cannot send right now (no credits, under review): another route may deliver
	not_enough_credits: { kind: 'blocked', scope: 'route' },
	account_under_validation: { kind: 'blocked', scope: 'route' },
};

function contact(address: MailAddress): { email: string; name?: string } {
	return address.name ? { email: address.address, name: address.name } : { email: address.address };
}

/** Brevo has no metadata field: `X-Mailin-custom` is the header it echoes back in webhooks. */
function mailinCustom(metadata: Record<string, string>): string | undefined {
	const pairs = Object.entries(metadata).map(([key, value]) => `${key}:${value}`);
	return pairs.length ? pairs.join('|') : undefined;
}

export function brevoBody(message: OutgoingMessage): Record<string, unknown> {
	const custom = mailinCustom(message.metadata);
	return compact({
		sender: contact(message.from),
		to: message.to.map(contact),
		cc: message.cc.map(contact),
		bcc: message.bcc.map(contact),
		replyTo: message.replyTo ? contact(message.replyTo) : undefined,
		subject: message.subject,
		htmlContent: message.html,
		textContent: message.text,
		headers: { ...message.headers, ...(custom ? { 'X-Mailin-custom': custom } : {}) },
		// the documented attachment object has no content id: inline images go as plain attachments
		attachment: message.attachments.map((a) => ({
			name: a.filename,
			content: a.content.toString('base64'),
		})),
		tags: message.tags,
	});
}

export const brevo: ApiProvider<BrevoCredential> = {
	id: 'brevo',
	label: LABEL,
	credentialType: 'postalBrevoApi',
	parseCredential: (data, label = 'Postal Routes Brevo API') =>
		parseCredentialData(schema, data, label),
	buildRequest: (message, credential) => {
		assertAttachmentTypes(message.attachments);
		return {
			method: 'POST',
			url: `${BASE}/v3/smtp/email`,
			headers: {
				'api-key': credential.apiKey,
				'Content-Type': 'application/json',
				Accept: 'application/json',
			},
			body: JSON.stringify(brevoBody(message)),
		};
	},
	parseResponse: (response: HttpResponse, ctx?: ApiContext) => {
		const json = parseJson(response.body) as
			{ messageId?: unknown; code?: unknown; message?: unknown } | undefined;
		if (isSuccess(response))
			return success(response, typeof json?.messageId === 'string' ? json.messageId : undefined);
		const code = typeof json?.code === 'string' ? json.code : undefined;
		const text = typeof json?.message === 'string' ? json.message : undefined;
		// 402 Payment Required: the plan is out of credits, the same as not_enough_credits
		const refine =
			(code && ERROR_CODES[code]) ||
			(response.statusCode === 402 ? ERROR_CODES.not_enough_credits : undefined) ||
			(response.statusCode === 403 ? CREDENTIAL_REFUSED : undefined);
		return httpFailure(response, {
			label: LABEL,
			now: ctx?.now ?? new Date(),
			...(text !== undefined ? { detail: code ? `${code}: ${text}` : text } : {}),
			...refine,
		});
	},
	testRequest: (credential) => ({
		method: 'GET',
		url: `${BASE}/v3/account`,
		headers: { 'api-key': credential.apiKey, Accept: 'application/json' },
	}),
	secrets: (credential) => [credential.apiKey],
};
