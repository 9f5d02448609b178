import { REPUTATION_RULES_OPTION, routeReputationOption } from '../shared/options';
import type { INodeProperties } from 'n8n-workflow';
import { stateProperties } from '../shared/state';

const PARSE = { operation: ['parse'] };
const RECORD = { operation: ['record'] };

/** Record Events: where a format's events come from, by the provider's own name. */
export const INPUT_FORMATS = [
	{
		name: 'Postal Event',
		value: 'postal',
		description:
			'An event as the Postal Feedback Trigger and this node output it (postalEvent), or written in that shape',
	},
	{
		name: 'Amazon SES',
		value: 'ses',
		description: 'An SNS notification of an SES event, or the SES event itself',
	},
	{
		name: 'Brevo',
		value: 'brevo',
		description: 'A transactional webhook event, e.g. from n8n’s Brevo Trigger',
	},
	{ name: 'Mailgun', value: 'mailgun', description: 'A webhook body with "event-data"' },
	{
		name: 'Postmark',
		value: 'postmark',
		description: 'A webhook record, e.g. from n8n’s Postmark Trigger',
	},
	{ name: 'Resend', value: 'resend', description: 'A webhook event with "type" and "data"' },
	{
		name: 'SendGrid',
		value: 'sendgrid',
		description: 'An Event Webhook event, or the list of them',
	},
	{ name: 'SparkPost', value: 'sparkpost', description: 'A webhook batch of "msys" events' },
] as const;

/** The Bounce Parser's panel, in the order a user reads it: what to do, where the input is, what to record. */
export const bounceParserProperties: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Parse Bounce Messages',
				value: 'parse',
				action: 'Parse bounce messages',
				description: 'Read bounces and complaints from a bounce mailbox’s messages',
			},
			{
				name: 'Record Events',
				value: 'record',
				action: 'Record delivery events',
				description:
					'Record delivery events from other nodes (n8n’s Postmark or Brevo Trigger, a webhook, a queue) on the suppression list and the route counters',
			},
		],
		// n8n saves no default: a workflow saved before this parameter parses, as it did
		default: 'parse',
	},
	{
		displayName:
			'Reads bounces (RFC 3464 delivery status notifications), complaints (RFC 5965 feedback reports) and common non-standard bounces from a bounce mailbox, e.g. an Email Trigger (IMAP) with Format: Raw. One item per event, per recipient.',
		name: 'notice',
		type: 'notice',
		default: '',
		displayOptions: { show: PARSE },
	},
	{
		displayName:
			'Records delivery events another node received, one item per event: no signature is checked here, so the node they come from is responsible for their authenticity (a trigger that checks the provider’s signature, basic auth or token).',
		name: 'recordNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: RECORD },
	},
	{
		displayName: 'Input Format',
		name: 'inputFormat',
		type: 'options',
		noDataExpression: true,
		options: [...INPUT_FORMATS],
		default: 'postal',
		displayOptions: { show: RECORD },
		description:
			'What each item holds: a Postal event, or the raw webhook event of that provider (read as the Postal Feedback Trigger reads it, without its signature check: the source node is responsible for authenticity)',
	},
	{
		displayName: 'Event Field',
		name: 'eventField',
		type: 'string',
		default: 'postalEvent',
		required: true,
		displayOptions: { show: { ...RECORD, inputFormat: ['postal'] } },
		description:
			'The field that holds the event (the Postal Feedback Trigger and this node put it in "postalEvent"); only "type" is required, plus "bounce" (hard or soft) for a bounce',
	},
	{
		displayName: 'Payload Field',
		name: 'payloadField',
		type: 'string',
		default: '',
		placeholder: 'e.g. body',
		displayOptions: {
			show: {
				...RECORD,
				inputFormat: ['ses', 'brevo', 'mailgun', 'postmark', 'resend', 'sendgrid', 'sparkpost'],
			},
		},
		description:
			'The field that holds the provider’s event, as an object, a list or JSON text; empty: the whole item (n8n’s Postmark and Brevo Triggers). A Webhook node puts the request body in "body", an SQS message its text in "Body".',
	},
	{
		displayName: 'Input',
		name: 'input',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Text Field (e.g. Email Trigger, Raw Format)',
				value: 'field',
				description: 'The whole message as text, or base64url text, in a field of the item',
			},
			{
				name: 'Binary File (.eml)',
				value: 'binary',
				description: 'The message as a file in a binary property of the item',
			},
		],
		default: 'field',
		displayOptions: { show: PARSE },
	},
	{
		displayName: 'Field Name',
		name: 'field',
		type: 'string',
		default: 'raw',
		required: true,
		displayOptions: { show: { ...PARSE, input: ['field'] } },
		description:
			'The field that holds the message (the Email Trigger (IMAP) in Raw format puts it in "raw")',
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryProperty',
		type: 'string',
		default: 'data',
		required: true,
		displayOptions: { show: { ...PARSE, input: ['binary'] } },
		hint: 'The name of the input binary field containing the .eml file',
	},
	{
		displayName: 'Update Suppression List',
		name: 'updateSuppression',
		type: 'boolean',
		default: true,
		description:
			'Whether to put hard-bounced and complaining addresses on the suppression list (and soft-bounced ones for a few days), so Load-Balanced Send skips them',
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
	...stateProperties.map((p) => ({
		...p,
		displayOptions: {
			show: { ...(p.displayOptions?.show ?? {}), updateSuppression: [true] },
		},
	})),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Minimum Confidence to Suppress',
				name: 'minConfidence',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
				default: 0.6,
				description:
					'A bounce read from free text (no standard report) has confidence 0.6 when it quotes the server’s reply and 0.3 when not (a recorded Postal event says its own, 1 if not); events below this add nothing to the list',
			},
			{
				displayName: 'Read Non-Standard Bounces',
				name: 'nonStandard',
				type: 'boolean',
				default: true,
				displayOptions: { show: { '/operation': ['parse'] } },
				description:
					'Whether to read bounces that follow no standard (older Exim, qmail, some providers) by their text; their events say confidence < 1',
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
				'the events’ replies (a bounce’s diagnostic, a provider’s deferral or block) and their routes’ block and deferral rates',
			),
			REPUTATION_RULES_OPTION,
		],
	},
];
