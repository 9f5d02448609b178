/**
 * Twilio SendGrid v3 Mail Send.
 * Docs: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send (endpoint, EU host
 * api.eu.sendgrid.com, Bearer key, body fields, 202 + X-Message-Id),
 * https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors (400 bodies: errors[].message),
 * https://twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/errors (401/403/413/429).
 *
 * Credentials: 401 is a key that is invalid, deleted or lacks the Mail Send permission
 * (https://support.sendgrid.com/hc/en-us/articles/18322114821403, https://www.twilio.com/docs/api/errors/60604):
 * the shared 401 rule (blocked, opens the circuit). 403 is not a bad key here: the errors page
 * above calls it "Too many bad requests. Temporary block", and a From address that is not a
 * verified Sender Identity gets 403 too (https://twilio.com/docs/api/errors/60222): it stays
 * permanent for the route, without opening the circuit.
 */
import { z } from 'zod';
import { assertAttachmentTypes } from '../mime';
import type { HttpResponse, MailAddress, OutgoingMessage } from '../types';
import { parseCredentialData, requiredString } from './credential';
import { compact } from './format';
import { header, httpFailure, isSuccess, success } from './httpStatus';
import type { ApiContext, ApiProvider } from './types';

const schema = z.object({
	apiKey: requiredString,
	region: z.enum(['global', 'eu']).default('global'),
});

export type SendGridCredential = z.output<typeof schema>;

const LABEL = 'SendGrid';

function baseUrl(credential: SendGridCredential): string {
	return credential.region === 'eu' ? 'https://api.eu.sendgrid.com' : 'https://api.sendgrid.com';
}

function email(address: MailAddress): { email: string; name?: string } {
	return address.name ? { email: address.address, name: address.name } : { email: address.address };
}

export function sendGridBody(message: OutgoingMessage): Record<string, unknown> {
	// text/plain must precede text/html in `content` (documented ordering rule)
	const content = [
		...(message.text !== undefined ? [{ type: 'text/plain', value: message.text }] : []),
		...(message.html !== undefined ? [{ type: 'text/html', value: message.html }] : []),
	];
	return compact({
		personalizations: [
			compact({
				to: message.to.map(email),
				cc: message.cc.map(email),
				bcc: message.bcc.map(email),
			}),
		],
		from: email(message.from),
		reply_to: message.replyTo ? email(message.replyTo) : undefined,
		subject: message.subject,
		content,
		attachments: message.attachments.map((a) =>
			compact({
				content: a.content.toString('base64'),
				filename: a.filename,
				type: a.contentType,
				disposition: a.cid ? 'inline' : 'attachment',
				content_id: a.cid,
			}),
		),
		headers: message.headers,
		categories: message.tags,
		custom_args: message.metadata,
	});
}

export const sendGrid: ApiProvider<SendGridCredential> = {
	id: 'sendgrid',
	label: LABEL,
	credentialType: 'postalSendGridApi',
	parseCredential: (data, label = 'Postal Routes SendGrid API') =>
		parseCredentialData(schema, data, label),
	buildRequest: (message, credential) => {
		assertAttachmentTypes(message.attachments);
		return {
			method: 'POST',
			url: `${baseUrl(credential)}/v3/mail/send`,
			headers: { Authorization: `Bearer ${credential.apiKey}`, 'Content-Type': 'application/json' },
			body: JSON.stringify(sendGridBody(message)),
		};
	},
	parseResponse: (response: HttpResponse, ctx?: ApiContext) => {
		if (isSuccess(response)) return success(response, header(response, 'x-message-id'));
		return httpFailure(response, { label: LABEL, now: ctx?.now ?? new Date() });
	},
	testRequest: (credential) => ({
		method: 'GET',
		url: `${baseUrl(credential)}/v3/scopes`,
		headers: { Authorization: `Bearer ${credential.apiKey}` },
	}),
	secrets: (credential) => [credential.apiKey],
};
