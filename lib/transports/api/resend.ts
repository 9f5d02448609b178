/**
 * Resend Emails API.
 * Docs: https://resend.com/docs/api-reference/emails/send-email (POST /emails, Bearer key, from/to/cc/
 * bcc/reply_to/subject/html/text/headers, attachments [{filename, content (base64), content_type,
 * content_id}], tags [{name, value}] limited to ASCII letters, digits, _ and -; 200 {id}),
 * https://resend.com/docs/api-reference/errors (error `name`s and their statuses),
 * https://resend.com/docs/api-reference/domains/list-domains (GET /domains).
 *
 * Credentials: on that errors page missing_api_key (401), restricted_api_key (401) and
 * invalid_api_key (403) are the key; the sending endpoints also answer a key that does not exist
 * with a 401 validation_error "API key is invalid", and https://resend.com/docs/api-reference
 * says 401 "The API key used was missing", 403 "The API key used was invalid". So a 401, and those
 * names, are a refused key (blocked, opens the circuit). Other 403s are not the key: a
 * validation_error "You can only send testing emails to your own email address" (the onboarding
 * domain), or error 1010 for a missing User-Agent; they keep the shared 403 rule.
 */
import { z } from 'zod';
import { assertAttachmentTypes } from '../mime';
import type { HttpResponse, OutgoingMessage } from '../types';
import { parseCredentialData, requiredString } from './credential';
import { compact, formatAddress, nameValueTags } from './format';
import {
	CREDENTIAL_REFUSED,
	type FailureOptions,
	httpFailure,
	isSuccess,
	parseJson,
	success,
} from './httpStatus';
import type { ApiContext, ApiProvider } from './types';

const schema = z.object({ apiKey: requiredString });

export type ResendCredential = z.output<typeof schema>;

const LABEL = 'Resend';
const BASE = 'https://api.resend.com';

/** Error names (the body's `name`) that say more than their status code. */
const ERROR_NAMES: Record<string, Pick<FailureOptions, 'kind' | 'scope' | 'opensCircuit'>> = {
	missing_api_key: CREDENTIAL_REFUSED,
	invalid_api_key: CREDENTIAL_REFUSED,
	restricted_api_key: CREDENTIAL_REFUSED,
	// an unverified sending domain or the test-only onboarding domain: this route cannot send it
	invalid_from_address: { kind: 'permanent', scope: 'route' },
	// quotas reset after a day or a month: don't retry here, another route may deliver
	daily_quota_exceeded: { kind: 'blocked', scope: 'route' },
	monthly_quota_exceeded: { kind: 'blocked', scope: 'route' },
	rate_limit_exceeded: { kind: 'transient', scope: 'route' },
	concurrent_idempotent_requests: { kind: 'transient', scope: 'route' },
	application_error: { kind: 'transient', scope: 'route' },
	internal_server_error: { kind: 'transient', scope: 'route' },
};

export function resendBody(message: OutgoingMessage): Record<string, unknown> {
	return compact({
		from: formatAddress(message.from),
		to: message.to.map(formatAddress),
		cc: message.cc.map(formatAddress),
		bcc: message.bcc.map(formatAddress),
		reply_to: message.replyTo ? formatAddress(message.replyTo) : undefined,
		subject: message.subject,
		html: message.html,
		text: message.text,
		headers: message.headers,
		attachments: message.attachments.map((a) =>
			compact({
				filename: a.filename,
				content: a.content.toString('base64'),
				content_type: a.contentType,
				content_id: a.cid,
			}),
		),
		tags: nameValueTags(message),
	});
}

export const resend: ApiProvider<ResendCredential> = {
	id: 'resend',
	label: LABEL,
	credentialType: 'postalResendApi',
	parseCredential: (data, label = 'Postal Routes Resend API') =>
		parseCredentialData(schema, data, label),
	buildRequest: (message, credential) => {
		assertAttachmentTypes(message.attachments);
		return {
			method: 'POST',
			url: `${BASE}/emails`,
			headers: { Authorization: `Bearer ${credential.apiKey}`, 'Content-Type': 'application/json' },
			body: JSON.stringify(resendBody(message)),
		};
	},
	parseResponse: (response: HttpResponse, ctx?: ApiContext) => {
		const json = parseJson(response.body) as
			{ id?: unknown; name?: unknown; message?: unknown } | undefined;
		if (isSuccess(response))
			return success(response, typeof json?.id === 'string' ? json.id : undefined);
		const name = typeof json?.name === 'string' ? json.name : undefined;
		const text = typeof json?.message === 'string' ? json.message : undefined;
		return httpFailure(response, {
			label: LABEL,
			now: ctx?.now ?? new Date(),
			...(text !== undefined ? { detail: name ? `${name}: ${text}` : text } : {}),
			...(name ? ERROR_NAMES[name] : undefined),
		});
	},
	// Listing domains needs a full-access key: a sending-only key answers 401 restricted_api_key here
	testRequest: (credential) => ({
		method: 'GET',
		url: `${BASE}/domains`,
		headers: { Authorization: `Bearer ${credential.apiKey}` },
	}),
	secrets: (credential) => [credential.apiKey],
};
