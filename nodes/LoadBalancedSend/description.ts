import { groupPicker } from '../shared/groups';
import type { INodeProperties } from 'n8n-workflow';
import { DEFAULT_MAX_LIST_ADDRESSES } from '../../lib/delivery/message';
import {
	RATE_UNIT_OPTIONS,
	REPUTATION_RULES_OPTION,
	SUPPRESSION_LIST_TO_CHECK,
} from '../shared/options';
import { stateProperties } from '../shared/state';

/**
 * Each provider with its credential types: ours, and n8n's own where n8n has one (n8n 2.40.7 has
 * none for SparkPost or Resend). Brevo's n8n type keeps its old name, sendInBlueApi.
 */
export const PROVIDERS = [
	{
		name: 'SMTP (Relay or MTA Delivery Policy)',
		value: 'smtp',
		credential: 'postalSmtp',
		n8nCredential: 'smtp',
	},
	{
		name: 'SendGrid',
		value: 'sendgrid',
		credential: 'postalSendGridApi',
		n8nCredential: 'sendGridApi',
	},
	{
		name: 'Mailgun',
		value: 'mailgun',
		credential: 'postalMailgunApi',
		n8nCredential: 'mailgunApi',
	},
	{
		name: 'Postmark',
		value: 'postmark',
		credential: 'postalPostmarkApi',
		n8nCredential: 'postmarkApi',
	},
	{ name: 'SparkPost', value: 'sparkpost', credential: 'postalSparkPostApi' },
	{ name: 'Amazon SES', value: 'ses', credential: 'postalSesApi', n8nCredential: 'aws' },
	{ name: 'Resend', value: 'resend', credential: 'postalResendApi' },
	{ name: 'Brevo', value: 'brevo', credential: 'postalBrevoApi', n8nCredential: 'sendInBlueApi' },
] as const;

export type ProviderEntry = (typeof PROVIDERS)[number];

/** Short provider names for the node's subtitle ("SMTP", not "SMTP (Relay or MTA Delivery Policy)"). */
export const PROVIDER_LABELS: Record<string, string> = Object.fromEntries(
	PROVIDERS.map((p) => [p.value, p.name.replace(/ \(.*\)$/, '')]),
);

/** The providers a user may send through with n8n's own credential or ours. */
export const DUAL_CREDENTIAL_PROVIDERS = PROVIDERS.filter((p) => 'n8nCredential' in p).map(
	(p) => p.value,
);

export const CREDENTIAL_TYPE = 'credentialType';

/**
 * Which credential a provider with two types uses. Version 1 nodes (saved before n8n's types were
 * accepted) default to ours, so they load with the credential they have; new nodes (version 2)
 * default to n8n's.
 */
const credentialTypeProperty = (version: 1 | 2): INodeProperties => ({
	displayName: 'Credential Type',
	name: CREDENTIAL_TYPE,
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Built-In Credential',
			value: 'n8n',
			description:
				'The type n8n’s own nodes use (Send Email’s SMTP; SendGrid, Mailgun, Postmark, AWS, Brevo): pick one you already have',
		},
		{
			name: 'Postal Routes Credential',
			value: 'postalRoutes',
			description:
				'This package’s type, with what n8n’s lacks: SMTP pool size, messages per connection, rate limit and TLS modes; the SendGrid EU region; the Postmark message stream; the SES configuration set',
		},
	],
	default: 'n8n',
	// after `default` on purpose: it replaces it for version 1
	...(version === 1 ? { default: 'postalRoutes' } : {}),
	description: 'Which kind of credential the node connects with (the selector above)',
	displayOptions: {
		show: {
			provider: DUAL_CREDENTIAL_PROVIDERS,
			'@version': version === 1 ? [1] : [{ _cnd: { gte: 2 } }],
		},
	},
});

export const SMTP_TEST = 'postalSmtpTest';
export const SES_TEST = 'postalSesTest';

const nameValue = (placeholderName: string, placeholderValue: string): INodeProperties[] => [
	{ displayName: 'Name', name: 'name', type: 'string', default: '', placeholder: placeholderName },
	{
		displayName: 'Value',
		name: 'value',
		type: 'string',
		default: '',
		placeholder: placeholderValue,
	},
];

const messageFields: INodeProperties[] = [
	{
		displayName: 'From',
		name: 'from',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'Shop <news@shop.example>',
	},
	{
		displayName: 'To',
		name: 'to',
		type: 'string',
		default: '={{ $json.recipient || $json.email }}',
		required: true,
		description:
			'Exactly one recipient (Name &lt;address&gt; is fine); by default the address the Domain Group Classifier normalized. A value that names more than one address fails the item: put further recipients in CC or BCC.',
	},
	{ displayName: 'Subject', name: 'subject', type: 'string', default: '', required: true },
	{
		displayName: 'Text',
		name: 'text',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		description: 'Plain-text body',
	},
	{
		displayName: 'HTML',
		name: 'html',
		type: 'string',
		typeOptions: { rows: 6 },
		default: '',
		description: 'HTML body',
	},
];

// Each default is written here once: options.ts reads them from these properties.
/**
 * The options in groups (node version 3): the message's own extras, how it is delivered and
 * retried, the rate limits, and when the route is taken out of service. Each name once; the
 * module-load check below fails if an option is in no group or in two.
 */
export const OPTION_GROUPS = [
	{
		name: 'messageOptions',
		displayName: 'Message',
		placeholder: 'Add Message Option',
		description:
			'CC, BCC, Reply-To, attachments and inline images, List-Unsubscribe, tags, a message key',
		fields: [
			'cc',
			'bcc',
			'maxListAddresses',
			'replyTo',
			'listUnsubscribeUrl',
			'listUnsubscribeMailto',
			'attachments',
			'inlineImages',
			'tags',
			'messageKey',
		],
	},
	{
		name: 'deliveryOptions',
		displayName: 'Delivery & Retries',
		placeholder: 'Add Delivery Option',
		description:
			'Duplicate protection, suppression, feedback tracking, parallel sends and retries: what is sent once, what is skipped, and how hard a send is tried',
		fields: [
			'idempotency',
			'duplicateWindowDays',
			'inDoubt',
			'leaseSeconds',
			'skipSuppressed',
			'suppressionList',
			'feedbackTracking',
			'ledgerDays',
			'verpReturnPath',
			'concurrency',
			'maxAttempts',
			'retryBaseMs',
			'retryMaxMs',
			'smtpPoolSize',
			'allowUnauthorizedCerts',
		],
	},
	{
		name: 'rateOptions',
		displayName: 'Rate Limits',
		placeholder: 'Add Rate Limit',
		description:
			'How fast this connection may send, and how long a message may wait for its turn before it goes to Fallback',
		fields: [
			'rateLimit',
			'rateLimitPer',
			'rateBurst',
			'campaignBurstSeconds',
			'maxRateWaitSeconds',
		],
	},
	{
		name: 'healthOptions',
		displayName: 'Route Health',
		placeholder: 'Add Route Health Option',
		description:
			'When a failing connection is taken out of service (its items go to Fallback, the partitioner gives its share to the others) and for how long, and the reputation rules that suspend or slow it for one domain group',
		fields: [
			'failureThreshold',
			'ejectionSeconds',
			'maxEjectionSeconds',
			'routeReputation',
			'reputationRules',
			'pauseCampaign',
			'campaignPauseHours',
		],
	},
] as const;

const optionFields: INodeProperties[] = [
	{
		displayName: 'CC',
		name: 'cc',
		type: 'string',
		default: '',
		placeholder: 'ann@example.com, "Smith, Bob" <bob@example.com>',
		description: 'Addresses separated by commas; each is checked like To',
	},
	{
		displayName: 'BCC',
		name: 'bcc',
		type: 'string',
		default: '',
		description: 'Addresses separated by commas; each is checked like To',
	},
	{
		displayName: 'CC/BCC Address Limit',
		name: 'maxListAddresses',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 1000 },
		default: DEFAULT_MAX_LIST_ADDRESSES,
		description:
			'The most addresses CC and BCC may each hold; an item above it fails with a clear error instead of mailing a long list',
	},
	{ displayName: 'Reply-To', name: 'replyTo', type: 'string', default: '' },
	{
		displayName: 'List-Unsubscribe URL (One-Click)',
		name: 'listUnsubscribeUrl',
		type: 'string',
		default: '',
		placeholder: 'e.g. https://shop.example/unsubscribe?u={{ $json.customer }}',
		description:
			'An HTTPS address that unsubscribes this recipient when it receives a POST (RFC 8058): sent as List-Unsubscribe with List-Unsubscribe-Post: List-Unsubscribe=One-Click. Gmail and Yahoo require one-click unsubscribe from bulk senders.',
	},
	{
		displayName: 'List-Unsubscribe Email',
		name: 'listUnsubscribeMailto',
		type: 'string',
		default: '',
		placeholder: 'e.g. unsubscribe@shop.example',
		description:
			'An address that unsubscribes the sender of a mail to it: sent as the mailto: form of List-Unsubscribe (RFC 2369), beside the URL if both are set',
	},
	{
		displayName: 'Attachments',
		name: 'attachments',
		type: 'string',
		default: '',
		placeholder: 'data, invoice',
		description: 'Comma-separated names of binary properties of the item to attach',
	},
	{
		displayName: 'Inline Images (CID)',
		name: 'inlineImages',
		type: 'string',
		default: '',
		placeholder: 'logo, banner',
		description:
			'Comma-separated names of binary properties to embed in the HTML: each goes inline with its property name as its Content-ID, so the HTML shows it with &lt;img src="cid:logo"&gt;',
	},
	{
		displayName: 'Tags',
		name: 'tags',
		type: 'string',
		default: '',
		description: 'Comma-separated tags / categories for the provider',
	},
	{
		displayName: 'Message Key',
		name: 'messageKey',
		type: 'string',
		default: '',
		description:
			'Identifies the message within the campaign for duplicate protection (e.g. a template or step name); empty = one message per recipient per campaign',
	},
	{
		displayName: 'Duplicate Protection (Days)',
		name: 'duplicateWindowDays',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 3650 },
		default: 90,
		description:
			'How long a sent message is remembered, so the same recipients (plus message key) are not sent it again in this campaign. The state store keeps a keyed hash, never the address.',
	},
	{
		displayName: 'If a Send Was Interrupted',
		name: 'inDoubt',
		type: 'options',
		options: [
			{
				name: 'Resend (At Least Once)',
				value: 'resend',
				description:
					'A message whose send was cut off (n8n stopped, the connection dropped after the whole message went) is sent again by the next run. Nothing is lost; a recipient may get it twice.',
			},
			{
				name: "Don't Resend (At Most Once)",
				value: 'skip',
				description:
					'Such a message is never sent again: it leaves on Skipped as "in doubt" for you to check. Nobody gets it twice; it may never arrive.',
			},
		],
		default: 'resend',
		description:
			'What a later run does with a message an earlier run may or may not have delivered. Only messages that were on the wire when a send was cut off are affected.',
	},
	{
		displayName: 'Send Claim Lease (Seconds)',
		name: 'leaseSeconds',
		type: 'number',
		typeOptions: { minValue: 5, maxValue: 86400 },
		default: 600,
		description:
			'How long a message being sent is reserved for this run. Another run (a second worker, a retry of the execution) leaves it alone until then; after that it counts as interrupted. Keep it longer than one send with all its retries.',
	},
	{
		displayName: 'Duplicate Protection',
		name: 'idempotency',
		type: 'boolean',
		default: true,
		description:
			'Whether a recipient (plus message key) already sent in this campaign is skipped (status "skipped-duplicate") instead of sent again',
	},
	{
		displayName: 'Skip Suppressed Recipients',
		name: 'skipSuppressed',
		type: 'boolean',
		default: true,
		description:
			'Whether a message to an address on the suppression list (it bounced, complained or unsubscribed: the Postal Bounce Parser puts it there) is skipped (status "suppressed") instead of sent',
	},
	SUPPRESSION_LIST_TO_CHECK,
	{
		displayName: 'Feedback Tracking',
		name: 'feedbackTracking',
		type: 'boolean',
		default: true,
		description:
			'Whether each message carries a reference (route, domain group, campaign; no address) that bounces, complaints and provider events echo back: the X-Postal-Ref header, the "pr" metadata key, and on SMTP the DSN envelope ID. Sent message IDs go into the message ledger, and outcomes are counted per route and group.',
	},
	{
		displayName: 'Route Reputation',
		name: 'routeReputation',
		type: 'boolean',
		default: true,
		description:
			'Whether provider replies and rates suspend or slow this route for one domain group (e.g. Yahoo’s [TSS04] suspends it for Yahoo recipients for 2 hours; other groups keep flowing). A suspended route × group’s items go to Fallback (status "route-suspended") and the Route Partitioner gives its share to the other routes; afterwards it starts at a quarter of its share. Needs the items’ domain group (the Domain Group Classifier).',
	},
	REPUTATION_RULES_OPTION,
	{
		displayName: 'Pause Campaign on Bad List Quality',
		name: 'pauseCampaign',
		type: 'boolean',
		default: false,
		description:
			'Whether a campaign whose hard bounces (at least 5% of 500+ sent in 24 hours) or complaints (0.3% of 1,000+) pass the critical bar is paused: its messages leave on Fallback unsent (status "campaign-paused") until the pause ends or an operator lifts it. Off: the run only warns. Either way no traffic moves between routes — it is the list’s fault, not a route’s.',
	},
	{
		displayName: 'Campaign Pause (Hours)',
		name: 'campaignPauseHours',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 24,
		description: 'How long a campaign paused for its list quality stays paused',
	},
	{
		displayName: 'Message Ledger (Days)',
		name: 'ledgerDays',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 365 },
		default: 14,
		description:
			'How long a sent message’s ID is kept to tie late feedback (a bounce that quotes only the Message-ID) back to its route',
	},
	{
		displayName: 'VERP Return Path',
		name: 'verpReturnPath',
		type: 'string',
		default: '',
		placeholder: 'e.g. bounces+{ref}@bounce.example.com',
		description:
			'SMTP only: the envelope sender (Return-Path) becomes this bounce address with the message’s reference in place of {ref}, so every bounce names its route, domain group and campaign, even one that quotes nothing of the message. The From header stays. {ref} ends the part before the "@", right after a "+". Needs Feedback Tracking on; email APIs set their own return path.',
		displayOptions: { show: { '/provider': ['smtp'] } },
	},
	{
		displayName: 'Parallel Sends',
		name: 'concurrency',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 200 },
		default: 20,
		description:
			'Messages in flight at once. On an SMTP route never more than the credential’s Pool Size: a message waiting inside the pool for a connection would hold its duplicate claim, and count as interrupted if n8n stopped.',
	},
	{
		displayName: 'Attempts',
		name: 'maxAttempts',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 10 },
		default: 3,
		description:
			'Tries for a transient failure (SMTP 4xx, connection errors, HTTP 429/5xx), the first included',
	},
	{
		displayName: 'Retry Base Delay (Ms)',
		name: 'retryBaseMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 1000,
	},
	{
		displayName: 'Retry Max Delay (Ms)',
		name: 'retryMaxMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 30000,
	},
	{
		displayName: 'Connection Rate Limit',
		name: 'rateLimit',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description:
			"This connection's own limit, shared by every execution and worker; 0 = none (an SMTP credential's rate limit applies too). The node reports it to the state store, so a Route Partitioner set to move the excess gives this route no more than it can send.",
	},
	{
		displayName: 'Connection Rate Per',
		name: 'rateLimitPer',
		type: 'options',
		options: RATE_UNIT_OPTIONS,
		default: 'second',
		description: 'The unit of the Connection Rate Limit',
	},
	{
		displayName: 'Connection Burst',
		name: 'rateBurst',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Messages that may go at once after a quiet spell; 0 = one second’s worth',
	},
	{
		displayName: 'Campaign Share Burst (Seconds)',
		name: 'campaignBurstSeconds',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 60,
		description:
			'How many seconds of its unused campaign share (from the Route Partitioner) a route may catch up by sending faster than its share, so branches that n8n runs one after another still reach the campaign rate. Never faster than the campaign rate itself, which no minute (or hour, or day, as the rate is given) exceeds.',
	},
	{
		displayName: 'Longest Rate Wait (Seconds)',
		name: 'maxRateWaitSeconds',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 300,
		description:
			'A message that would wait longer for its rate limits leaves on Fallback with retryAt',
	},
	{
		displayName: 'Failures to Eject Route',
		name: 'failureThreshold',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 5,
		description:
			'Route-level failures in a row (connection errors, timeouts, deferrals, policy blocks, HTTP 5xx/429) that open the circuit',
	},
	{
		displayName: 'Ejection Time (Seconds)',
		name: 'ejectionSeconds',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 30,
		description: 'The first cool-down; it doubles with each further ejection',
	},
	{
		displayName: 'Longest Ejection (Seconds)',
		name: 'maxEjectionSeconds',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 600,
	},
	// what n8n's SMTP credential lacks and ours has, for a route on n8n's (as Send Email has them)
	{
		displayName: 'SMTP Pool Size',
		name: 'smtpPoolSize',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 100 },
		default: 5,
		description:
			'With n8n’s SMTP credential: connections kept open to the server at most (per n8n process). Parallel Sends is capped at it. A Postal Routes SMTP credential has its own Pool Size.',
		displayOptions: { show: { '/provider': ['smtp'], '/credentialType': ['n8n'] } },
	},
	{
		displayName: 'Ignore SSL Issues (Insecure)',
		name: 'allowUnauthorizedCerts',
		type: 'boolean',
		default: false,
		description: 'Whether to connect even if SSL certificate validation is not possible',
		displayOptions: { show: { '/provider': ['smtp'], '/credentialType': ['n8n'] } },
	},
];

/** The Probe Connection operation's own parameters (nodes/LoadBalancedSend/probe.ts reads them). */
const probeFields: INodeProperties[] = [
	{
		displayName:
			'Probe Connection sends no mail. Run it on a schedule (Probe Options › Probe Every (Seconds) says how often): after Fall failed probes in a row the route’s circuit opens and the Route Partitioner of the same campaign gives it nothing until Rise probes in a row passed. Route Name must be the partitioner’s route name. The result leaves on Sent when the probe passed, on Failed when not, on Skipped when real traffic made it unnecessary (Skip If Sent Within).',
		name: 'probeNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Campaign ID',
		name: 'campaignId',
		type: 'string',
		default: '={{ $workflow.id }}',
		description:
			'The Route Partitioner’s Campaign ID: the probe feeds the circuit of this route in that campaign. The default is this workflow’s ID, the partitioner’s own default (and the campaign of messages sent without a partitioner).',
	},
	{
		displayName: 'Probe Options',
		name: 'probeOptions',
		type: 'collection',
		placeholder: 'Add Probe Option',
		default: {},
		options: [
			{
				displayName: 'Failures to Take Out (Fall)',
				name: 'fall',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 100 },
				default: 3,
				description:
					'Failed probes in a row that open the route’s circuit (a route-level send failure counts as one too). Rise passing probes in a row close it again.',
			},
			{
				displayName: 'Ignore SSL Issues (Insecure)',
				name: 'allowUnauthorizedCerts',
				type: 'boolean',
				default: false,
				description: 'Whether to connect even if SSL certificate validation is not possible',
				displayOptions: { show: { '/provider': ['smtp'], '/credentialType': ['n8n'] } },
			},
			{
				displayName: 'Passes to Bring Back (Rise)',
				name: 'rise',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 100 },
				default: 1,
				description:
					'Passing probes in a row that bring a route taken out back; until then it stays out. A failed probe starts the count again.',
			},
			{
				displayName: 'Probe Every (Seconds)',
				name: 'probeEverySeconds',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 60,
				description:
					'How often the workflow runs the probe (the Schedule Trigger’s interval). A route taken out stays out for twice this, so it is never back before the next probe decided.',
			},
			{
				displayName: 'Seed Address',
				name: 'seedAddress',
				type: 'string',
				default: '',
				placeholder: 'seed@example.com',
				description:
					'SMTP only: after AUTH, offer a message to this address (MAIL FROM, RCPT TO) and take it back with RSET: nothing is sent. A refused recipient fails the probe. Empty: no envelope check.',
				displayOptions: { show: { '/provider': ['smtp'] } },
			},
			{
				displayName: 'Seed Sender',
				name: 'seedSender',
				type: 'string',
				default: '',
				placeholder: 'probe@yourdomain.com',
				description:
					'The envelope sender (MAIL FROM) of the seed check; empty: the null sender (an empty MAIL FROM). A relay that only takes senders it knows needs one of yours.',
				displayOptions: { show: { '/provider': ['smtp'] } },
			},
			{
				displayName: 'Skip If Sent Within (Minutes)',
				name: 'skipIfSentWithinMinutes',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 180 },
				default: 0,
				description:
					'No probe while the route’s circuit is closed and messages went out through it (any campaign, any domain group) within this many minutes: real traffic already says it works. The item leaves on Skipped. 0: always probe; a route taken out is always probed.',
			},
			{
				displayName: 'Timeout (Seconds)',
				name: 'timeoutSeconds',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 300 },
				default: 10,
				description: 'The whole probe, every step included; a slower route failed it',
			},
			{
				displayName: 'Update Circuit',
				name: 'updateCircuit',
				type: 'boolean',
				default: true,
				description:
					'Whether the outcome opens and closes the route’s circuit; off: the probe only reports',
			},
		],
	},
];
const probeProperties = probeFields.map((p) => withOperation(p, 'probe'));

/** Shown for one operation only, the property's other conditions kept. */
function withOperation(p: INodeProperties, operation: 'send' | 'probe'): INodeProperties {
	const show = { ...p.displayOptions?.show, operation: [operation] };
	return { ...p, displayOptions: { ...p.displayOptions, show } };
}

/** what only Send reads: hidden for Probe Connection */
const SEND_ONLY = new Set<string>([
	'from',
	'to',
	'subject',
	'text',
	'html',
	'dryRun',
	'headers',
	'routeHeaders',
	'metadata',
	'groupLimits',
	'duplicateNotice',
	'options',
	...OPTION_GROUPS.map((g) => g.name),
]);

const allProperties: INodeProperties[] = [
	// where n8n's editor draws the credential selector: first, as in Send Email
	{ displayName: '', name: 'credentialsFirst', type: 'credentials', default: '' },
	{
		displayName: 'Provider',
		name: 'provider',
		type: 'options',
		noDataExpression: true,
		options: PROVIDERS.map((p) => ({ name: p.name, value: p.value })),
		default: 'smtp',
		description: 'What the node sends through; the credential selector above follows it',
	},
	credentialTypeProperty(2),
	credentialTypeProperty(1),
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Send',
				value: 'send',
				action: 'Send email through the route',
				description: 'Send each item’s message through this route',
			},
			{
				name: 'Probe Connection',
				value: 'probe',
				action: 'Probe the connection of the route',
				description:
					'Check the route with its credential without sending mail (SMTP: connect, banner, EHLO, STARTTLS, AUTH; an API: its cheapest authenticated call) and feed the outcome into the route’s circuit. Once per execution, e.g. from a Schedule Trigger.',
			},
		],
		// a workflow saved before Operation existed has none: n8n fills in this default, so it sends
		default: 'send',
	},
	{
		displayName: 'Route Name',
		name: 'routeName',
		type: 'string',
		default: '',
		placeholder: 'e.g. SendGrid',
		description:
			"Names this connection for health and rate limits (renaming it starts them afresh). Empty: the route the Route Partitioner gave the item (on a backup branch, this node's name).",
	},
	...messageFields,
	{
		displayName: 'Dry Run',
		name: 'dryRun',
		type: 'boolean',
		default: false,
		description: 'Whether to validate and render the messages without sending anything',
	},
	{
		displayName: 'Headers',
		name: 'headers',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Header',
		options: [{ displayName: 'Header', name: 'values', values: nameValue('X-Campaign', '') }],
	},
	{
		displayName: 'Per-Route Headers',
		name: 'routeHeaders',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Route Header',
		description:
			'Headers for items of one route, e.g. an MTA delivery policy: X-Virtual-MTA = ms-pool for route "Microsoft"',
		options: [
			{
				displayName: 'Route Header',
				name: 'values',
				values: [
					{
						displayName: 'Route',
						name: 'route',
						type: 'string',
						default: '',
						placeholder: 'Microsoft',
					},
					...nameValue('X-Virtual-MTA', 'ms-pool'),
				],
			},
		],
	},
	{
		displayName: 'Metadata',
		name: 'metadata',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Metadata',
		description: 'Custom arguments / metadata passed to the provider',
		options: [
			{ displayName: 'Entry', name: 'values', values: nameValue('customer_id', '={{ $json.id }}') },
		],
	},
	{
		displayName: 'Domain Group Limits',
		name: 'groupLimits',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Limit',
		description:
			'Limits per mailbox provider through this route (the item’s domainGroup), e.g. 600/hour to Yahoo',
		options: [
			{
				displayName: 'Limit',
				name: 'values',
				values: [
					...groupPicker('The mailbox provider this limit holds for (the item’s domainGroup)'),
					{
						displayName: 'Messages',
						name: 'messages',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 600,
					},
					{
						displayName: 'Per',
						name: 'per',
						type: 'options',
						options: RATE_UNIT_OPTIONS,
						default: 'hour',
					},
				],
			},
		],
	},
	...stateProperties,
	{
		displayName:
			'Duplicate protection: each message goes once per recipient per campaign (for 90 days: Options › Duplicate Protection (Days)); a repeat, such as a second sign-up, leaves on Skipped as "skipped-duplicate". To send the same people another message, give it a Message Key (Options), e.g. the template or step name.',
		name: 'duplicateNotice',
		type: 'notice',
		default: '',
	},
	// version 1 and 2: every option in one list (saved workflows keep their values); version 3: the
	// same options in four groups a user reads by what they are about
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: optionFields,
		displayOptions: { show: { '@version': [1, 2] } },
	},
	...OPTION_GROUPS.map((g): INodeProperties => ({
		displayName: g.displayName,
		name: g.name,
		type: 'collection',
		placeholder: g.placeholder,
		default: {},
		description: g.description,
		options: optionFields.filter((f) => (g.fields as readonly string[]).includes(f.name)),
		displayOptions: { show: { '@version': [{ _cnd: { gte: 3 } }] } },
	})),
	...probeProperties,
];

export const sendProperties: INodeProperties[] = allProperties.map((p) =>
	SEND_ONLY.has(p.name) ? withOperation(p, 'send') : p,
);

// every option in exactly one group (a new option must be placed)
{
	const grouped = OPTION_GROUPS.flatMap((g) => [...g.fields] as string[]);
	const names = optionFields.map((f) => f.name);
	const missing = names.filter((n) => !grouped.includes(n));
	const twice = grouped.filter((n, i) => grouped.indexOf(n) !== i);
	if (missing.length || twice.length || grouped.length !== names.length)
		throw new Error(
			`Load-Balanced Send option groups: not grouped ${missing.join(', ') || '-'}; twice ${twice.join(', ') || '-'}`,
		);
}
