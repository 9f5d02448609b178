/**
 * SparkPost Transmissions API.
 * Docs: https://developers.sparkpost.com/api/ (base URLs api.sparkpost.com / api.eu.sparkpost.com,
 * `Authorization: <key>`), https://developers.sparkpost.com/api/transmissions/ (recipients, content.from/
 * subject/text/html/reply_to/headers/attachments/inline_images, metadata, campaign_id; 200
 * {results: {id, total_accepted_recipients, total_rejected_recipients}}),
 * github.com/SparkPost/gosparkpost examples/README.md "Cc and Bcc" (cc/bcc: one recipient each, header_to =
 * the To list, CC header in content.headers),
 * https://support.sparkpost.com/docs/tech-resources/extended-error-codes (errors[].code, 420 sending limit).
 *
 * Credentials: on that extended error codes page 1100 is "permission denied", HTTP 403, "check
 * API key", and 1303/1304 an unauthorized tenant or user, HTTP 401: a 401, a 403 or code 1100 is
 * a refused key (blocked, opens the circuit).
 */
import { z } from 'zod';
import { envelopeRestriction } from '../envelope';
import { assertAttachmentTypes } from '../mime';
import type { HttpResponse, MailAddress, OutgoingMessage } from '../types';
import { parseCredentialData, requiredString } from './credential';
import { compact, formatAddress, formatHeaderAddress, joinAddresses } from './format';
import { CREDENTIAL_REFUSED, httpFailure, isSuccess, parseJson, success } from './httpStatus';
import type { ApiContext, ApiProvider } from './types';

const schema = z.object({
	apiKey: requiredString,
	region: z.enum(['us', 'eu']).default('us'),
});

export type SparkPostCredential = z.output<typeof schema>;

const LABEL = 'SparkPost';

function baseUrl(credential: SparkPostCredential): string {
	return credential.region === 'eu' ? 'https://api.eu.sparkpost.com' : 'https://api.sparkpost.com';
}

export function sparkPostBody(message: OutgoingMessage): Record<string, unknown> {
	// Every recipient (to, cc and bcc alike) gets its own entry; header_to makes all of them show the
	// same To line, and the CC header shows the cc list. Bcc recipients appear in no header. So the
	// recipients list is the envelope: a resend to some of them (envelopeTo, checked by the
	// transport) lists just those, and their headers are the same as the first time.
	const envelope = envelopeRestriction(message);
	const inEnvelope = (address: MailAddress) =>
		envelope.kind !== 'subset' || envelope.to.includes(address.address);
	const headerTo = joinAddresses(message.to, formatHeaderAddress);
	const recipient = (address: MailAddress) => ({
		address: compact({ email: address.address, name: address.name, header_to: headerTo }),
		...(message.tags.length ? { tags: message.tags } : {}),
	});
	const headers: Record<string, string> = { ...message.headers };
	if (message.cc.length) headers.CC = joinAddresses(message.cc, formatHeaderAddress);
	const inline = message.attachments.filter((a) => a.cid);
	const files = message.attachments.filter((a) => !a.cid);
	return compact({
		recipients: [...message.to, ...message.cc, ...message.bcc].filter(inEnvelope).map(recipient),
		content: compact({
			from: compact({ email: message.from.address, name: message.from.name }),
			subject: message.subject,
			text: message.text,
			html: message.html,
			reply_to: message.replyTo ? formatAddress(message.replyTo) : undefined,
			headers,
			attachments: files.map((a) => ({
				name: a.filename,
				type: a.contentType,
				data: a.content.toString('base64'),
			})),
			// inline images are referenced by name from the HTML (cid:name)
			inline_images: inline.map((a) => ({
				name: a.cid,
				type: a.contentType,
				data: a.content.toString('base64'),
			})),
		}),
		metadata: message.metadata,
		// campaign_id is a single label (max 64 bytes): the first tag, as Postmark's Tag
		campaign_id: message.tags[0]?.slice(0, 64),
	});
}

interface SparkPostReply {
	results?: {
		id?: unknown;
		total_accepted_recipients?: unknown;
		total_rejected_recipients?: unknown;
	};
	errors?: Array<{ code?: unknown }>;
}

export const sparkPost: ApiProvider<SparkPostCredential> = {
	id: 'sparkpost',
	label: LABEL,
	credentialType: 'postalSparkPostApi',
	envelopeSubset: true,
	parseCredential: (data, label = 'Postal Routes SparkPost API') =>
		parseCredentialData(schema, data, label),
	buildRequest: (message, credential) => {
		assertAttachmentTypes(message.attachments);
		return {
			method: 'POST',
			url: `${baseUrl(credential)}/api/v1/transmissions`,
			headers: { Authorization: credential.apiKey, 'Content-Type': 'application/json' },
			body: JSON.stringify(sparkPostBody(message)),
		};
	},
	parseResponse: (response: HttpResponse, ctx?: ApiContext) => {
		const now = ctx?.now ?? new Date();
		const json = parseJson(response.body) as SparkPostReply | undefined;
		if (isSuccess(response)) {
			const results = json?.results;
			if (
				results?.total_accepted_recipients === 0 &&
				Number(results.total_rejected_recipients) > 0
			) {
				return httpFailure(response, {
					label: LABEL,
					now,
					detail: 'all recipients rejected',
					kind: 'permanent',
					scope: 'recipient',
				});
			}
			return success(response, typeof results?.id === 'string' ? results.id : undefined);
		}
		const code = String(json?.errors?.[0]?.code ?? '');
		// 420: daily/monthly/sandbox sending limit reached; 1100: the key lacks the needed permission
		if (response.statusCode === 420)
			return httpFailure(response, { label: LABEL, now, kind: 'blocked', scope: 'route' });
		if (code === '1100' || response.statusCode === 401 || response.statusCode === 403)
			return httpFailure(response, { label: LABEL, now, ...CREDENTIAL_REFUSED });
		return httpFailure(response, { label: LABEL, now });
	},
	testRequest: (credential) => ({
		method: 'GET',
		url: `${baseUrl(credential)}/api/v1/account`,
		headers: { Authorization: credential.apiKey },
	}),
	secrets: (credential) => [credential.apiKey],
};
