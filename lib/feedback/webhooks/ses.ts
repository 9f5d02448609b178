/**
 * Amazon SES events through SNS: event publishing (`eventType`) and the older identity
 * notifications (`notificationType`), as the `Message` string of an SNS notification.
 * https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
 * https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html
 * SNS retries 5xx (3 times, 20 s apart, by default): our own failure answers 503.
 */
import { z } from 'zod';
import { parseCredentialData } from '../../util/credential';
import type { FeedbackEvent } from '../types';
import {
	arr,
	diagnostic,
	event,
	fromDate,
	linkReference,
	nowIso,
	obj,
	parseJsonBody,
	perRecipientId,
	recipientOf,
	replyCodes,
	str,
	type Json,
} from './common';
import { snsEnvelope, verifySns } from './sns';
import { UNAVAILABLE } from './status';
import type { NormalizeContext, WebhookProvider, WebhookRequest } from './types';
import * as v from './verdict';

export const sesConfigSchema = z.object({
	/** required: the SNS topics (ARNs) this webhook accepts; every other topic is refused */
	allowedTopicArns: z
		.array(
			z
				.string()
				.trim()
				.refine(
					(arn) => /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(arn),
					'must be an SNS topic ARN',
				),
		)
		.optional()
		.default([]),
});
export type SesWebhookConfig = z.output<typeof sesConfigSchema>;

/** DSN-style "dns; mta.example.com" → "mta.example.com" */
const mtaName = (value: unknown) => str(value)?.replace(/^\s*(dns|dsn)\s*;\s*/i, '');

function bounceVerdict(
	bounce: Json,
	codes: ReturnType<typeof replyCodes>,
	text: string,
): v.Verdict {
	const type = str(bounce.bounceType);
	const sub = str(bounce.bounceSubType);
	if (sub === 'Suppressed' || sub === 'OnAccountSuppressionList') return v.suppressed();
	if (sub === 'ContentRejected' || sub === 'AttachmentRejected') return v.blocked('content');
	if (sub === 'UnsubscribedRecipient') return v.unsubscribed;
	if (type === 'Permanent') {
		// General: SES says no more; a block refused as "permanent" is still the route's
		const verdict = sub === 'NoEmail' ? v.hardBounce : v.failureVerdict(codes, text);
		return verdict.type === 'bounced' && verdict.bounce === 'soft' ? v.hardBounce : verdict;
	}
	if (type === 'Transient') {
		if (sub === 'MailboxFull' || sub === 'MessageTooLarge') return v.softBounce();
		const verdict = v.failureVerdict(codes, text);
		return verdict.type === 'bounced' ? v.softBounce(verdict.fault) : verdict;
	}
	return v.softBounce('unknown');
}

const ROUTE_DELAYS = new Set([
	'SpamDetected',
	'IPFailure',
	'SendingDeferral',
	'TransientCommunicationFailure',
	'BYOIPHostNameLookupUnavailable',
]);

function delayVerdict(delay: Json, codes: ReturnType<typeof replyCodes>): v.Verdict {
	const type = str(delay.delayType);
	if (type === 'MailboxFull') return v.deferred('recipient');
	if (type === 'InternalFailure') return v.deferred('unknown');
	if (type && ROUTE_DELAYS.has(type)) return v.deferred('route');
	return v.deferralVerdict(codes);
}

interface Recipient {
	address: unknown;
	text?: string;
	status?: unknown;
}

/** One SES event → one FeedbackEvent per recipient it names. */
function sesEvents(ses: Json, sns: Json, context?: NormalizeContext): FeedbackEvent[] {
	const kind = str(ses.eventType) ?? str(ses.notificationType);
	const mail = obj(ses.mail) ?? {};
	const tags = obj(mail.tags) ?? {};
	const common = {
		source: 'ses' as const,
		messageId: str(mail.messageId),
		sendingIp: str(arr(tags['ses:outgoing-ip'])[0]),
		...linkReference(arr(tags.pr)[0]),
		confidence: 1,
	};
	const destination = arr(mail.destination).map((address) => ({ address }) as Recipient);
	let detail: Json = {};
	let recipients: Recipient[] = destination;
	let verdict = (_r: Recipient, _codes: ReturnType<typeof replyCodes>): v.Verdict => v.other();
	let providerType = kind;
	switch (kind) {
		case 'Bounce': {
			detail = obj(ses.bounce) ?? {};
			recipients = arr(detail.bouncedRecipients).map((r) => ({
				address: obj(r)?.emailAddress,
				text: str(obj(r)?.diagnosticCode),
				status: obj(r)?.status,
			}));
			providerType = ['Bounce', str(detail.bounceType), str(detail.bounceSubType)]
				.filter(Boolean)
				.join('/');
			verdict = (r, codes) => bounceVerdict(detail, codes, r.text ?? '');
			break;
		}
		case 'Complaint': {
			detail = obj(ses.complaint) ?? {};
			recipients = arr(detail.complainedRecipients).map((r) => ({ address: obj(r)?.emailAddress }));
			const feedback = str(detail.complaintFeedbackType);
			if (feedback) providerType = `Complaint/${feedback}`;
			verdict = () => (feedback === 'not-spam' ? v.other() : v.complained);
			break;
		}
		case 'Delivery': {
			detail = obj(ses.delivery) ?? {};
			const text = str(detail.smtpResponse);
			recipients = arr(detail.recipients).map((address) => ({ address, text }));
			verdict = () => v.delivered;
			break;
		}
		case 'DeliveryDelay': {
			detail = obj(ses.deliveryDelay) ?? {};
			recipients = arr(detail.delayedRecipients).map((r) => ({
				address: obj(r)?.emailAddress,
				text: str(obj(r)?.diagnosticCode),
				status: obj(r)?.status,
			}));
			providerType = ['DeliveryDelay', str(detail.delayType)].filter(Boolean).join('/');
			verdict = (_r, codes) => delayVerdict(detail, codes);
			break;
		}
		case 'Reject': {
			// SES refused to send it (a virus): the content's problem
			detail = obj(ses.reject) ?? {};
			recipients = destination.map((r) => ({ ...r, text: str(detail.reason) }));
			verdict = () => v.blocked('content');
			break;
		}
		case 'Subscription': {
			detail = obj(ses.subscription) ?? {};
			const all = obj(detail.newTopicPreferences)?.unsubscribeAll === true;
			verdict = () => (all ? v.unsubscribed : v.other());
			break;
		}
		default:
			detail = obj(ses[kind ? kind.charAt(0).toLowerCase() + kind.slice(1) : '']) ?? {};
	}
	const timestamp =
		fromDate(detail.timestamp) ??
		fromDate(mail.timestamp) ??
		fromDate(sns.Timestamp) ??
		nowIso(context);
	const list = recipients.filter((r) => str(r.address) !== undefined);
	return list.map((r, i) => {
		const codes = replyCodes(r.text, r.status);
		return event({
			...common,
			...verdict(r, codes),
			recipient: recipientOf(r.address),
			eventId: perRecipientId(str(sns.MessageId), i, list.length),
			timestamp,
			...codes,
			diagnostic: diagnostic(r.text),
			providerType,
			reportingMta: mtaName(detail.reportingMTA),
			remoteMta: str(detail.remoteMtaIp),
		});
	});
}

function normalize(request: WebhookRequest, context?: NormalizeContext): FeedbackEvent[] {
	parseJsonBody(request.rawBody, 'Amazon SES'); // not JSON: 400
	const sns = snsEnvelope(request.rawBody);
	if (!sns || sns.Type !== 'Notification' || typeof sns.Message !== 'string') return [];
	let ses: Json | undefined;
	try {
		ses = obj(JSON.parse(sns.Message));
	} catch {
		return []; // an SNS test message, not an SES event
	}
	return ses ? sesEvents(ses, sns, context) : [];
}

export const sesWebhook: WebhookProvider<SesWebhookConfig> = {
	id: 'ses',
	displayName: 'Amazon SES (SNS)',
	configSchema: sesConfigSchema,
	parseConfig: (data) => parseCredentialData(sesConfigSchema, data, 'Amazon SES webhook settings'),
	verify: (request, config, context) =>
		verifySns(request, config.allowedTopicArns, 'Amazon SES', context),
	normalize,
	unavailableStatus: UNAVAILABLE,
};
