/**
 * Postmark Email API.
 * Docs: https://postmarkapp.com/developer/api/email-api (POST /email, X-Postmark-Server-Token, body
 * fields, 200 {MessageID, ErrorCode: 0}), https://postmarkapp.com/developer/api/overview (401 on a bad
 * token, 422 with {ErrorCode, Message}, the API error code table), https://postmarkapp.com/support/article/troubleshooting-422-unprocessable-entity-errors.
 * Test request: GET /server (Server API, server token).
 *
 * Credentials: "In the case that you execute a request with wrong or missing headers, you will
 * receive an HTTP Response 401 (Unauthorized)" (https://postmarkapp.com/developer/api/overview),
 * and API error code 10 is "Bad or missing API token": both are a refused token (blocked, opens
 * the circuit). A 403 with an HTML body is a network security layer in front of the API, not the
 * token (https://postmarkapp.com/support/article/getting-a-403-that-doesnt-look-like-a-postmark-error):
 * it keeps the shared 403 rule.
 */
import { z } from 'zod';
import { assertAttachmentTypes } from '../mime';
import type { HttpResponse, OutgoingMessage } from '../types';
import { optionalString, parseCredentialData, requiredString } from './credential';
import { compact, formatAddress, joinAddresses } from './format';
import {
	CREDENTIAL_REFUSED,
	type FailureOptions,
	httpFailure,
	isSuccess,
	parseJson,
	success,
} from './httpStatus';
import type { ApiContext, ApiProvider } from './types';

const schema = z.object({
	serverToken: requiredString,
	messageStream: optionalString.transform((stream) => stream ?? 'outbound'),
});

export type PostmarkCredential = z.output<typeof schema>;

const LABEL = 'Postmark';
const BASE = 'https://api.postmarkapp.com';

/** Postmark's API error codes (ErrorCode in a 422 body) that say more than the status does. */
const ERROR_CODES: Record<number, Pick<FailureOptions, 'kind' | 'scope' | 'opensCircuit'>> = {
	10: CREDENTIAL_REFUSED, // bad or missing server token
	100: { kind: 'transient', scope: 'route' }, // maintenance
	300: { kind: 'permanent', scope: 'recipient' }, // invalid email request (bad address, missing field)
	400: { kind: 'permanent', scope: 'route' }, // sender signature not found
	401: { kind: 'permanent', scope: 'route' }, // sender signature not confirmed
	405: { kind: 'blocked', scope: 'route' }, // not allowed to send (e.g. out of credits)
	406: { kind: 'permanent', scope: 'recipient' }, // inactive recipient (bounced, complained, suppressed)
	412: { kind: 'blocked', scope: 'route' }, // account pending approval
	413: { kind: 'blocked', scope: 'route' }, // account may not send
	429: { kind: 'transient', scope: 'route' }, // rate limit exceeded
};

export function postmarkBody(
	message: OutgoingMessage,
	credential: PostmarkCredential,
): Record<string, unknown> {
	return compact({
		From: formatAddress(message.from),
		To: joinAddresses(message.to),
		Cc: joinAddresses(message.cc) || undefined,
		Bcc: joinAddresses(message.bcc) || undefined,
		ReplyTo: message.replyTo ? formatAddress(message.replyTo) : undefined,
		Subject: message.subject,
		TextBody: message.text,
		HtmlBody: message.html,
		Headers: Object.entries(message.headers).map(([Name, Value]) => ({ Name, Value })),
		Attachments: message.attachments.map((a) =>
			compact({
				Name: a.filename,
				Content: a.content.toString('base64'),
				ContentType: a.contentType,
				ContentID: a.cid ? `cid:${a.cid}` : undefined,
			}),
		),
		// Postmark has a single Tag per message: the first tag is the one it reports on
		Tag: message.tags[0],
		Metadata: message.metadata,
		MessageStream: credential.messageStream,
	});
}

export const postmark: ApiProvider<PostmarkCredential> = {
	id: 'postmark',
	label: LABEL,
	credentialType: 'postalPostmarkApi',
	parseCredential: (data, label = 'Postal Routes Postmark API') =>
		parseCredentialData(schema, data, label),
	buildRequest: (message, credential) => {
		assertAttachmentTypes(message.attachments);
		return {
			method: 'POST',
			url: `${BASE}/email`,
			headers: {
				Accept: 'application/json',
				'Content-Type': 'application/json',
				'X-Postmark-Server-Token': credential.serverToken,
			},
			body: JSON.stringify(postmarkBody(message, credential)),
		};
	},
	parseResponse: (response: HttpResponse, ctx?: ApiContext) => {
		const json = parseJson(response.body) as
			{ MessageID?: unknown; ErrorCode?: unknown; Message?: unknown } | undefined;
		const errorCode = typeof json?.ErrorCode === 'number' ? json.ErrorCode : undefined;
		if (isSuccess(response) && !errorCode) {
			return success(response, typeof json?.MessageID === 'string' ? json.MessageID : undefined);
		}
		const refine = errorCode !== undefined ? ERROR_CODES[errorCode] : undefined;
		const text = typeof json?.Message === 'string' ? json.Message : undefined;
		return httpFailure(response, {
			label: LABEL,
			now: ctx?.now ?? new Date(),
			...(text !== undefined
				? { detail: errorCode !== undefined ? `ErrorCode ${errorCode}: ${text}` : text }
				: {}),
			...refine,
		});
	},
	testRequest: (credential) => ({
		method: 'GET',
		url: `${BASE}/server`,
		headers: { Accept: 'application/json', 'X-Postmark-Server-Token': credential.serverToken },
	}),
	secrets: (credential) => [credential.serverToken],
};
