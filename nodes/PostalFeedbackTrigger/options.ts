import type { IWebhookFunctions } from 'n8n-workflow';
import { z } from 'zod';
import { reputationRulesField } from '../shared/reputation';
import {
	booleanField,
	choiceField,
	nodeParameter,
	numberField,
	parseParameters,
	stringField,
} from '../shared/parameters';
import { executeView } from '../shared/context';
import { EVENT_TYPES, feedbackTriggerProperties as P } from './description';

const list = (text: string) =>
	text
		.split(/[\s,]+/)
		.map((s) => s.trim())
		.filter(Boolean);

/** The Feedback Trigger's parameters, defaults from the description. Secrets are checked by lib. */
export const feedbackTriggerSchema = z.object({
	provider: choiceField(P, 'provider', [
		'ses',
		'brevo',
		'mailgun',
		'postmark',
		'resend',
		'sendgrid',
		'sparkpost',
	]),
	sendgridPublicKey: stringField(P, 'sendgridPublicKey'),
	mailgunSigningKey: stringField(P, 'mailgunSigningKey'),
	sesTopicArns: stringField(P, 'sesTopicArns').transform(list),
	resendSigningSecret: stringField(P, 'resendSigningSecret'),
	authUsername: stringField(P, 'authUsername'),
	authPassword: stringField(P, 'authPassword'),
	authToken: stringField(P, 'authToken'),
	authHeaderName: stringField(P, 'authHeaderName'),
	allowedIps: stringField(P, 'allowedIps').transform(list),
	events: z.preprocess(
		(v) => (v === '' || v === null || v === undefined ? [] : v),
		z.array(z.enum(EVENT_TYPES)),
	),
	updateSuppression: booleanField(P, 'updateSuppression'),
	suppressionList: stringField(P, 'suppressionList').transform((s) => s.trim()),
	options: z
		.object({
			includeRaw: booleanField(P, 'options.includeRaw'),
			softBounceDays: numberField(P, 'options.softBounceDays'),
			routeReputation: booleanField(P, 'options.routeReputation'),
			reputationRules: reputationRulesField(P, 'options.reputationRules'),
		})
		.default({}),
});

export type FeedbackTriggerParameters = z.output<typeof feedbackTriggerSchema>;

const NAMES = Object.keys(feedbackTriggerSchema.shape);

/** Reads and checks the parameters; an error names the field as the node shows it. */
export function readFeedbackTriggerParameters(ctx: IWebhookFunctions): FeedbackTriggerParameters {
	const view = executeView(ctx);
	return parseParameters(
		view,
		P,
		feedbackTriggerSchema,
		Object.fromEntries(NAMES.map((n) => [n, nodeParameter(view, P, n)])),
	);
}

/** The provider's settings as lib/feedback/webhooks names them (parsed there, by its own schema). */
export function providerSettings(p: FeedbackTriggerParameters): Record<string, unknown> {
	switch (p.provider) {
		case 'sendgrid':
			return { publicKey: p.sendgridPublicKey };
		case 'mailgun':
			return { signingKey: p.mailgunSigningKey };
		case 'ses':
			return { allowedTopicArns: p.sesTopicArns };
		case 'resend':
			return { signingSecret: p.resendSigningSecret };
		default:
			return {
				username: p.authUsername,
				password: p.authPassword,
				token: p.authToken,
				tokenHeader: p.authHeaderName,
				allowedIps: p.allowedIps,
			};
	}
}

/** The library's setting names → the panel's labels, for a settings error. */
export const SETTING_LABELS: Record<string, string> = {
	publicKey: 'Verification Key',
	signingKey: 'Webhook Signing Key',
	allowedTopicArns: 'Allowed Topic ARNs',
	signingSecret: 'Signing Secret',
	username: 'Username',
	password: 'Password',
	token: 'Token',
	tokenHeader: 'Header Name',
	allowedIps: 'Allowed Source IPs',
};
