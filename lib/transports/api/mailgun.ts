/**
 * Mailgun Messages API.
 * Docs: https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Messages/
 * (POST /v3/{domain_name}/messages, multipart/form-data, from/to/cc/bcc/subject/text/html, attachment,
 * inline, o:tag, h:X-My-Header, v:my-var), https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/send-http
 * (basic auth api:KEY, EU host api.eu.mailgun.net), https://documentation.mailgun.com/docs/mailgun/quickstart-guide/responses
 * (400 with {"message"}, 403 auth, 404, 429, 500). Success: 200 {"id", "message"}.
 *
 * Credentials: that responses page says 403 is "Auth error or access denied. Please ensure your
 * API key is correct", and that its codes follow the standard HTTP definitions (401: no valid
 * credentials). Both are a refused key: blocked, and the route's circuit opens at once.
 */
import { z } from 'zod';
import { assertAttachmentTypes } from '../mime';
import type { HttpResponse, OutgoingMessage } from '../types';
import { parseCredentialData, requiredString } from './credential';
import { formatAddress } from './format';
import { CREDENTIAL_REFUSED, httpFailure, isSuccess, parseJson, success } from './httpStatus';
import { buildMultipart, type FormPart } from './multipart';
import type { ApiContext, ApiProvider } from './types';

const schema = z.object({
	apiKey: requiredString,
	domain: requiredString.regex(/^[A-Za-z0-9.-]+$/, 'a domain name'),
	region: z.enum(['us', 'eu']).default('us'),
});

export type MailgunCredential = z.output<typeof schema>;

const LABEL = 'Mailgun';

function baseUrl(credential: MailgunCredential): string {
	return credential.region === 'eu' ? 'https://api.eu.mailgun.net' : 'https://api.mailgun.net';
}

function basicAuth(credential: MailgunCredential): string {
	return `Basic ${Buffer.from(`api:${credential.apiKey}`).toString('base64')}`;
}

export function mailgunParts(message: OutgoingMessage): FormPart[] {
	const parts: FormPart[] = [{ name: 'from', value: formatAddress(message.from) }];
	for (const [name, list] of [
		['to', message.to],
		['cc', message.cc],
		['bcc', message.bcc],
	] as const) {
		for (const address of list) parts.push({ name, value: formatAddress(address) });
	}
	parts.push({ name: 'subject', value: message.subject });
	if (message.text !== undefined) parts.push({ name: 'text', value: message.text });
	if (message.html !== undefined) parts.push({ name: 'html', value: message.html });
	if (message.replyTo) parts.push({ name: 'h:Reply-To', value: formatAddress(message.replyTo) });
	for (const [name, value] of Object.entries(message.headers))
		parts.push({ name: `h:${name}`, value });
	for (const tag of message.tags) parts.push({ name: 'o:tag', value: tag });
	for (const [name, value] of Object.entries(message.metadata))
		parts.push({ name: `v:${name}`, value });
	for (const a of message.attachments) {
		// Mailgun takes an inline part's filename as its Content-ID, so the cid goes in the filename
		parts.push(
			a.cid
				? { name: 'inline', filename: a.cid, contentType: a.contentType, content: a.content }
				: {
						name: 'attachment',
						filename: a.filename,
						contentType: a.contentType,
						content: a.content,
					},
		);
	}
	return parts;
}

export const mailgun: ApiProvider<MailgunCredential> = {
	id: 'mailgun',
	label: LABEL,
	credentialType: 'postalMailgunApi',
	parseCredential: (data, label = 'Postal Routes Mailgun API') =>
		parseCredentialData(schema, data, label),
	buildRequest: async (message, credential) => {
		// checked before the parts are made, so the error names the file (an inline part's is its cid)
		assertAttachmentTypes(message.attachments);
		const form = await buildMultipart(mailgunParts(message));
		return {
			method: 'POST',
			url: `${baseUrl(credential)}/v3/${encodeURIComponent(credential.domain)}/messages`,
			headers: { Authorization: basicAuth(credential), 'Content-Type': form.contentType },
			body: form.body,
		};
	},
	parseResponse: (response: HttpResponse, ctx?: ApiContext) => {
		if (isSuccess(response)) {
			const json = parseJson(response.body) as { id?: unknown } | undefined;
			return success(response, typeof json?.id === 'string' ? json.id : undefined);
		}
		// 404 on a send means the sending domain is unknown to this account: every message would fail
		const refine =
			response.statusCode === 404
				? ({ kind: 'permanent', scope: 'route' } as const)
				: response.statusCode === 401 || response.statusCode === 403
					? CREDENTIAL_REFUSED
					: {};
		return httpFailure(response, { label: LABEL, now: ctx?.now ?? new Date(), ...refine });
	},
	testRequest: (credential) => ({
		method: 'GET',
		url: `${baseUrl(credential)}/v3/domains/${encodeURIComponent(credential.domain)}`,
		headers: { Authorization: basicAuth(credential) },
	}),
	secrets: (credential) => [
		credential.apiKey,
		Buffer.from(`api:${credential.apiKey}`).toString('base64'),
	],
};
