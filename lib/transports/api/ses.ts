/**
 * Amazon SES API v2 SendEmail with a raw MIME message, signed with SigV4 (service `ses`).
 * Docs: https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html (POST
 * /v2/email/outbound-emails, FromEmailAddress, Destination, Content.Raw.Data, EmailTags,
 * ConfigurationSetName; 200 {MessageId}; errors AccountSuspendedException, BadRequestException,
 * LimitExceededException, MailFromDomainNotVerifiedException, MessageRejected, NotFoundException,
 * SendingPausedException, TooManyRequestsException), https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html
 * (GET /v2/email/account), https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-error-messages.html,
 * https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html (tag charset).
 * Endpoint: email.{region}.amazonaws.com (AWS general reference, SES endpoints).
 *
 * Credentials: the errors common to every AWS API (https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html)
 * that mean the key, its signature or its rights were refused: IncompleteSignature, InvalidClientTokenId,
 * MissingAuthenticationToken, NotAuthorized, OptInRequired, AccessDeniedException,
 * ExpiredTokenException, plus the signature and client errors of Signature Version 4. Each is
 * blocked and opens the circuit, whatever its status (some are 400); so is a 403 without an
 * error type, since every 403 of that list is one of them. RequestExpired (a date stamp more than
 * 15 minutes off) is this host's clock, which no retry fixes: the same.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import { z } from 'zod';
import { assertAttachmentTypes } from '../mime';
import type { HttpRequest, HttpResponse, OutgoingMessage } from '../types';
import { optionalString, parseCredentialData, requiredString } from './credential';
import { compact, formatAddress, nameValueTags } from './format';
import {
	CREDENTIAL_REFUSED,
	type FailureOptions,
	describeBody,
	header,
	httpFailure,
	isSuccess,
	parseJson,
	success,
} from './httpStatus';
import { signV4 } from './sigv4';
import type { ApiContext, ApiProvider } from './types';

const schema = z.object({
	accessKeyId: requiredString,
	secretAccessKey: requiredString,
	sessionToken: optionalString,
	region: requiredString.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as eu-west-1'),
	configurationSetName: optionalString,
	/** an SES endpoint of its own (a VPC endpoint, from n8n's AWS credential); default email.{region}.amazonaws.com */
	endpoint: optionalString.refine(
		(url) => url === undefined || /^https?:\/\/[^/?#\s]+\/?$/.test(url),
		'must be a URL such as https://email.eu-west-1.amazonaws.com, with no path',
	),
});

export type SesCredential = z.output<typeof schema>;

const LABEL = 'Amazon SES';

/** SES error types (x-amzn-ErrorType) that say more than the status code does. */
const ERROR_TYPES: Record<string, Pick<FailureOptions, 'kind' | 'scope' | 'opensCircuit'>> = {
	AccountSuspendedException: { kind: 'blocked', scope: 'route' },
	SendingPausedException: { kind: 'blocked', scope: 'route' },
	MailFromDomainNotVerifiedException: { kind: 'permanent', scope: 'route' },
	NotFoundException: { kind: 'permanent', scope: 'route' }, // e.g. the configuration set does not exist
	TooManyRequestsException: { kind: 'transient', scope: 'route' },
	ThrottlingException: { kind: 'transient', scope: 'route' },
	LimitExceededException: { kind: 'transient', scope: 'route' },
	// signing, key and permission problems: every request on this route fails the same way
	IncompleteSignature: CREDENTIAL_REFUSED,
	IncompleteSignatureException: CREDENTIAL_REFUSED,
	InvalidSignatureException: CREDENTIAL_REFUSED,
	SignatureDoesNotMatch: CREDENTIAL_REFUSED,
	UnrecognizedClientException: CREDENTIAL_REFUSED,
	InvalidClientTokenId: CREDENTIAL_REFUSED,
	MissingAuthenticationToken: CREDENTIAL_REFUSED,
	MissingAuthenticationTokenException: CREDENTIAL_REFUSED,
	NotAuthorized: CREDENTIAL_REFUSED,
	OptInRequired: CREDENTIAL_REFUSED,
	ExpiredToken: CREDENTIAL_REFUSED,
	ExpiredTokenException: CREDENTIAL_REFUSED,
	AccessDeniedException: CREDENTIAL_REFUSED,
	RequestExpired: CREDENTIAL_REFUSED,
};

function host(credential: SesCredential): string {
	return (
		credential.endpoint?.replace(/\/$/, '') ?? `https://email.${credential.region}.amazonaws.com`
	);
}

/** The full MIME message: SES sends it as is, so headers, attachments and inline images all survive. */
export async function composeMime(message: OutgoingMessage, now: Date): Promise<Buffer> {
	// the type goes into a part header of the raw message
	assertAttachmentTypes(message.attachments);
	const composer = new MailComposer({
		from: formatAddress(message.from),
		to: message.to.map(formatAddress),
		cc: message.cc.map(formatAddress),
		// Bcc is left out of the MIME headers (the composer drops it); Destination carries it
		replyTo: message.replyTo ? formatAddress(message.replyTo) : undefined,
		subject: message.subject,
		text: message.text,
		html: message.html,
		headers: message.headers,
		date: now,
		attachments: message.attachments.map((a) => ({
			filename: a.filename,
			content: a.content,
			contentType: a.contentType,
			...(a.cid ? { cid: a.cid } : {}),
		})),
	});
	return composer.compile().build();
}

function signed(request: HttpRequest, credential: SesCredential, now: Date): HttpRequest {
	const signature = signV4(request, credential, { region: credential.region, service: 'ses', now });
	return { ...request, headers: signature.headers };
}

export const ses: ApiProvider<SesCredential> = {
	id: 'ses',
	label: LABEL,
	credentialType: 'postalSesApi',
	parseCredential: (data, label = 'Postal Routes Amazon SES API') =>
		parseCredentialData(schema, data, label),
	buildRequest: async (message, credential, ctx) => {
		const raw = await composeMime(message, ctx.now);
		const body = compact({
			FromEmailAddress: message.from.address,
			Destination: compact({
				ToAddresses: message.to.map((a) => a.address),
				CcAddresses: message.cc.map((a) => a.address),
				BccAddresses: message.bcc.map((a) => a.address),
			}),
			Content: { Raw: { Data: raw.toString('base64') } },
			EmailTags: nameValueTags(message).map((tag) => ({ Name: tag.name, Value: tag.value })),
			ConfigurationSetName: credential.configurationSetName,
		});
		const request: HttpRequest = {
			method: 'POST',
			url: `${host(credential)}/v2/email/outbound-emails`,
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify(body),
		};
		return signed(request, credential, ctx.now);
	},
	parseResponse: (response: HttpResponse, ctx?: ApiContext) => {
		const json = parseJson(response.body) as
			{ MessageId?: unknown; __type?: unknown; code?: unknown } | undefined;
		if (isSuccess(response))
			return success(response, typeof json?.MessageId === 'string' ? json.MessageId : undefined);
		const type = errorType(header(response, 'x-amzn-errortype') ?? json?.__type ?? json?.code);
		const message = describeBody(response.body);
		const refine =
			(type ? ERROR_TYPES[type] : undefined) ??
			(response.statusCode === 403 ? CREDENTIAL_REFUSED : undefined);
		return httpFailure(response, {
			label: LABEL,
			now: ctx?.now ?? new Date(),
			detail: type ? `${type}: ${message}` : message,
			...refine,
		});
	},
	testRequest: (credential, ctx) =>
		signed(
			{ method: 'GET', url: `${host(credential)}/v2/email/account`, headers: {} },
			credential,
			ctx.now,
		),
	// GetAccount (API_GetAccount): EnforcementStatus HEALTHY / PROBATION / SHUTDOWN, SendingEnabled
	probeDetails: (response) => {
		const json = parseJson(response.body) as {
			EnforcementStatus?: unknown;
			SendingEnabled?: unknown;
		} | null;
		const details: Record<string, string | boolean> = {};
		if (typeof json?.EnforcementStatus === 'string')
			details.enforcementStatus = json.EnforcementStatus;
		if (typeof json?.SendingEnabled === 'boolean') details.sendingEnabled = json.SendingEnabled;
		const problem =
			details.enforcementStatus === 'SHUTDOWN'
				? 'the account’s enforcement status is SHUTDOWN: SES has stopped its sending (see the SES console’s Reputation metrics)'
				: details.sendingEnabled === false
					? 'sending is paused for the account (SendingEnabled false): resume it in the SES console or with PutAccountSendingAttributes'
					: undefined;
		if (problem) return { details, problem };
		return details.enforcementStatus === 'PROBATION'
			? {
					details,
					warning:
						'the account’s enforcement status is PROBATION: SES may pause its sending unless its bounce and complaint rates come down (see the SES console’s Reputation metrics)',
				}
			: { details };
	},
	secrets: (credential) => [
		credential.secretAccessKey,
		...(credential.sessionToken ? [credential.sessionToken] : []),
	],
};

/** `MessageRejected:http://internal.amazon.com/…` or `com.amazonaws…#MessageRejected` → `MessageRejected` */
function errorType(value: unknown): string | undefined {
	if (typeof value !== 'string' || !value) return undefined;
	return value.split(':')[0].split('#').pop() || undefined;
}
