/**
 * Amazon SNS HTTP(S) messages: the envelope, its signature (v1 SHA1withRSA, v2 SHA256withRSA over
 * the documented string to sign), the topic check and subscription confirmation.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 * https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html
 * SNS posts JSON as text/plain: always read the raw body.
 */
import { verify as verifySignature, type X509Certificate } from 'node:crypto';
import { capText } from '../../util/secrets';
import { certificateAt, isSnsUrl } from './certs';
import { obj, str, type Json } from './common';
import { BAD_PAYLOAD, FORBIDDEN, UNAUTHENTICATED, UNAVAILABLE } from './status';
import type { Verification, VerifyContext, WebhookRequest } from './types';

export type SnsType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
const TYPES: readonly string[] = [
	'Notification',
	'SubscriptionConfirmation',
	'UnsubscribeConfirmation',
];

/** The fields signed, in order; `Subject` only when the notification has one. */
const SIGNED: Record<SnsType, string[]> = {
	Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
	SubscriptionConfirmation: [
		'Message',
		'MessageId',
		'SubscribeURL',
		'Timestamp',
		'Token',
		'TopicArn',
		'Type',
	],
	UnsubscribeConfirmation: [
		'Message',
		'MessageId',
		'SubscribeURL',
		'Timestamp',
		'Token',
		'TopicArn',
		'Type',
	],
};

export function stringToSign(message: Json): string {
	const type = message.Type as SnsType;
	return SIGNED[type]
		.filter((name) => !(name === 'Subject' && typeof message.Subject !== 'string'))
		.map((name) => `${name}\n${String(message[name] ?? '')}\n`)
		.join('');
}

/** The envelope if the body is one (any JSON otherwise gives undefined). */
export function snsEnvelope(rawBody: Buffer): Json | undefined {
	let body: unknown;
	try {
		body = JSON.parse(rawBody.toString('utf8'));
	} catch {
		return undefined;
	}
	const message = obj(body);
	return message && TYPES.includes(String(message.Type)) ? message : undefined;
}

export async function verifySns(
	request: WebhookRequest,
	allowedTopicArns: readonly string[],
	provider: string,
	context: VerifyContext = {},
): Promise<Verification> {
	if (!allowedTopicArns.length)
		return {
			ok: false,
			status: UNAVAILABLE,
			reason: `${provider} webhook verification is not configured: set "allowedTopicArns" (the SNS topics this webhook accepts)`,
		};
	const message = snsEnvelope(request.rawBody);
	if (!message)
		return {
			ok: false,
			status: BAD_PAYLOAD,
			reason: `${provider} webhook: the body is not an SNS message`,
		};
	const topicArn = str(message.TopicArn);
	// checked before any certificate is fetched: a stranger's topic costs us no request
	if (!topicArn || !allowedTopicArns.includes(topicArn))
		return {
			ok: false,
			status: FORBIDDEN,
			reason: `${provider} webhook: topic ${topicArn ? capText(topicArn, 120) : '(none)'} is not in "allowedTopicArns"`,
		};
	const version = str(message.SignatureVersion);
	const signature = str(message.Signature);
	if ((version !== '1' && version !== '2') || !signature)
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: `${provider} webhook: the message is not signed (SignatureVersion 1 or 2)`,
		};
	const certUrl = str(message.SigningCertURL);
	if (!isSnsUrl(certUrl))
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: `${provider} webhook: the signing certificate is not on an https://sns.<region>.amazonaws.com URL`,
		};
	const now = (context.now ?? Date.now)();
	let cert: X509Certificate;
	try {
		cert = await certificateAt(certUrl as string, context.fetchCert, context.certCache, now);
	} catch (error) {
		const why = error instanceof Error ? error.message : String(error);
		return {
			ok: false,
			status: UNAVAILABLE,
			reason: `${provider} webhook: could not get the signing certificate (${capText(why, 120)})`,
		};
	}
	if (Date.parse(cert.validTo) < now || Date.parse(cert.validFrom) > now)
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: `${provider} webhook: the signing certificate is not valid now`,
		};
	let valid = false;
	try {
		valid = verifySignature(
			version === '1' ? 'sha1' : 'sha256',
			Buffer.from(stringToSign(message), 'utf8'),
			cert.publicKey,
			Buffer.from(signature, 'base64'),
		);
	} catch {
		valid = false;
	}
	if (!valid)
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: `${provider} webhook: the SNS signature does not match the message`,
		};
	if (message.Type === 'SubscriptionConfirmation') {
		const url = str(message.SubscribeURL);
		if (!isSnsUrl(url))
			return {
				ok: false,
				status: UNAUTHENTICATED,
				reason: `${provider} webhook: the SubscribeURL is not on an SNS host`,
			};
		return { ok: true, confirmSubscription: { url: url as string, topicArn } };
	}
	return { ok: true };
}
