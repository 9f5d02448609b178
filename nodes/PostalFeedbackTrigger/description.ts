import { REPUTATION_RULES_OPTION, routeReputationOption } from '../shared/options';
import type { INodeProperties } from 'n8n-workflow';
import { stateProperties } from '../shared/state';

/** The normalized event types (lib/feedback/types.ts), for the Events filter. */
export const EVENT_TYPES = [
	'delivered',
	'deferred',
	'bounced',
	'blocked',
	'complained',
	'unsubscribed',
	'suppressed',
	'other',
] as const;

const show = (...providers: string[]) => ({ show: { provider: providers } });
const SHARED_SECRET = ['postmark', 'sparkpost', 'brevo'];

/**
 * The Feedback Trigger's panel: the provider, how its requests are verified (secrets as password
 * fields, names as the library's settings call them), then what to do with the events.
 */
export const feedbackTriggerProperties: INodeProperties[] = [
	{
		displayName:
			'Copy the Production URL above into the provider’s webhook settings (the Test URL while you listen for a test event). Every request is verified; one item comes out per delivery event.',
		name: 'notice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Provider',
		name: 'provider',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Amazon SES (via SNS)', value: 'ses' },
			{ name: 'Brevo', value: 'brevo' },
			{ name: 'Mailgun', value: 'mailgun' },
			{ name: 'Postmark', value: 'postmark' },
			{ name: 'Resend', value: 'resend' },
			{ name: 'SendGrid', value: 'sendgrid' },
			{ name: 'SparkPost', value: 'sparkpost' },
		],
		default: 'sendgrid',
		description: 'Who sends the events: the request is verified the way that provider signs it',
	},
	{
		displayName: 'Verification Key',
		name: 'sendgridPublicKey',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		required: true,
		displayOptions: show('sendgrid'),
		description:
			'The Signed Event Webhook’s verification key (SendGrid: Settings › Mail Settings › Event Webhook › Signature Verification): the base64 ECDSA public key',
	},
	{
		displayName: 'Webhook Signing Key',
		name: 'mailgunSigningKey',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		required: true,
		displayOptions: show('mailgun'),
		description:
			'Mailgun’s HTTP webhook signing key (Mailgun: Sending › Webhooks › HTTP webhook signing key), not the API key',
	},
	{
		displayName: 'Allowed Topic ARNs',
		name: 'sesTopicArns',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. arn:aws:sns:us-east-1:123456789012:ses-events',
		displayOptions: show('ses'),
		description:
			'The SNS topics (ARNs, comma-separated) whose messages this webhook accepts; any other topic is refused. The subscription is confirmed automatically once its signature is checked.',
	},
	{
		displayName: 'Signing Secret',
		name: 'resendSigningSecret',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		required: true,
		placeholder: 'whsec_…',
		displayOptions: show('resend'),
		description: 'The webhook’s signing secret (Resend: Webhooks › the webhook › Signing Secret)',
	},
	{
		displayName:
			'This provider signs nothing: set a username and password (put them in the URL you give it, https://user:password@…) and/or a token it sends in a header',
		name: 'sharedSecretNotice',
		type: 'notice',
		default: '',
		displayOptions: show(...SHARED_SECRET),
	},
	{
		displayName: 'Username',
		name: 'authUsername',
		type: 'string',
		default: '',
		displayOptions: show(...SHARED_SECRET),
		description: 'Basic auth: the username in the webhook URL',
	},
	{
		displayName: 'Password',
		name: 'authPassword',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		displayOptions: show(...SHARED_SECRET),
		description: 'Basic auth: the password in the webhook URL',
	},
	{
		displayName: 'Token',
		name: 'authToken',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		displayOptions: show(...SHARED_SECRET),
		description:
			'A token the provider sends in a header (Brevo: the bearer token set when the webhook is created; Postmark: a custom header’s value)',
	},
	{
		displayName: 'Header Name',
		name: 'authHeaderName',
		type: 'string',
		default: 'authorization',
		displayOptions: show(...SHARED_SECRET),
		description:
			'The header the token comes in; "authorization" means Authorization: Bearer &lt;token&gt;',
	},
	{
		displayName: 'Allowed Source IPs',
		name: 'allowedIps',
		type: 'string',
		default: '',
		placeholder: 'e.g. 3.134.147.250, 50.31.156.0/24',
		displayOptions: show(...SHARED_SECRET),
		description:
			'Optional, besides the secret: addresses or CIDR ranges (comma-separated) the requests must come from. Behind a reverse proxy set N8N_PROXY_HOPS, or n8n sees the proxy’s address.',
	},
	{
		displayName: 'Events',
		name: 'events',
		type: 'multiOptions',
		options: EVENT_TYPES.map((type) => ({
			name: type.charAt(0).toUpperCase() + type.slice(1),
			value: type,
		})),
		default: [],
		description:
			'Which event types come out (none chosen: all). The suppression list is updated from every event received, whatever is chosen here.',
	},
	{
		displayName: 'Update Suppression List',
		name: 'updateSuppression',
		type: 'boolean',
		default: true,
		description:
			'Whether to put hard-bounced, complaining and unsubscribed addresses on the suppression list (and soft-bounced ones for a few days) before answering the provider, so Load-Balanced Send skips them',
	},
	{
		displayName: 'Suppression List',
		name: 'suppressionList',
		type: 'string',
		default: '',
		placeholder: 'e.g. newsletter',
		displayOptions: { show: { updateSuppression: [true] } },
		description:
			'Which list (empty: the default list, the one Load-Balanced Send checks unless told otherwise). Use one name per sender or mailing list to keep them apart.',
	},
	// the store also keeps which events were seen (redeliveries emit nothing), so it is always shown
	...stateProperties,
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Include Raw Event',
				name: 'includeRaw',
				type: 'boolean',
				default: false,
				description:
					'Whether to add `raw`: the provider’s own event the item was read from (the whole request body when one provider event names several recipients)',
			},
			{
				displayName: 'Soft Bounce Suppression (Days)',
				name: 'softBounceDays',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 3,
				description:
					'How long a soft bounce (a full mailbox, given up after retries) keeps the address off; 0 = never',
			},
			routeReputationOption(
				'the events’ replies (a provider’s deferral or block) and their routes’ block and deferral rates',
			),
			REPUTATION_RULES_OPTION,
		],
	},
];
