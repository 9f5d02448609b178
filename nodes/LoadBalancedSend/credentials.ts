import type { ICredentialsDisplayOptions, INodeCredentialDescription } from 'n8n-workflow';
import { redisCredentials } from '../shared/state';
import { CREDENTIAL_TYPE, PROVIDERS, SES_TEST, SMTP_TEST } from './description';

type ProviderId = (typeof PROVIDERS)[number]['value'];
type Kind = 'n8n' | 'postalRoutes';

/**
 * Shown for one provider (and one credential type), written with `hide` only. n8n's editor takes
 * a parameter that credentials name in `displayOptions.show`, and whose every option has a
 * credential, for the node's authentication selector (getMainAuthField in its editor): it drops
 * that parameter from the panel and offers it only in the credential modal's corner dropdown. The
 * Provider select was exactly that, so nobody could see or change it. With `hide`, no parameter is
 * an authentication selector and Provider stays in the panel; the node's test checks that rule.
 */
function shownFor(provider: ProviderId, kind?: Kind): ICredentialsDisplayOptions {
	const others = PROVIDERS.map((p) => p.value).filter((p) => p !== provider);
	return {
		hide: {
			provider: others,
			...(kind ? { [CREDENTIAL_TYPE]: [kind === 'n8n' ? 'postalRoutes' : 'n8n'] } : {}),
		},
	};
}

function ours(name: string, provider: ProviderId, dual: boolean, testedBy?: string) {
	return {
		name,
		required: true,
		...(testedBy ? { testedBy } : {}),
		displayOptions: shownFor(provider, dual ? 'postalRoutes' : undefined),
	};
}

function n8ns(name: string, provider: ProviderId, testedBy?: string) {
	return {
		name,
		required: true,
		...(testedBy ? { testedBy } : {}),
		displayOptions: shownFor(provider, 'n8n'),
	};
}

/**
 * The send node's credentials: for each provider ours and, where n8n has one, n8n's own (AWS keeps
 * n8n's own test, an STS call; SMTP and Redis are tested by this node, which reads both shapes).
 */
export const sendCredentials: INodeCredentialDescription[] = [
	n8ns('smtp', 'smtp', SMTP_TEST),
	ours('postalSmtp', 'smtp', true, SMTP_TEST),
	n8ns('sendGridApi', 'sendgrid'),
	ours('postalSendGridApi', 'sendgrid', true),
	n8ns('mailgunApi', 'mailgun'),
	ours('postalMailgunApi', 'mailgun', true),
	n8ns('postmarkApi', 'postmark'),
	ours('postalPostmarkApi', 'postmark', true),
	ours('postalSparkPostApi', 'sparkpost', false),
	n8ns('aws', 'ses'),
	ours('postalSesApi', 'ses', true, SES_TEST),
	ours('postalResendApi', 'resend', false),
	n8ns('sendInBlueApi', 'brevo'),
	ours('postalBrevoApi', 'brevo', true),
	...redisCredentials,
];
