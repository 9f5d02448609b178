import type { INodeProperties } from 'n8n-workflow';
import { stateProperties } from '../shared/state';

/** The Bounce Parser's panel, in the order a user reads it: where the message is, what to do with it. */
export const bounceParserProperties: INodeProperties[] = [
	{
		displayName:
			'Reads bounces (RFC 3464 delivery status notifications), complaints (RFC 5965 feedback reports) and common non-standard bounces from a bounce mailbox, e.g. an Email Trigger (IMAP) with Format: Raw. One item per event, per recipient.',
		name: 'notice',
		type: 'notice',
		default: '',
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
	},
	{
		displayName: 'Field Name',
		name: 'field',
		type: 'string',
		default: 'raw',
		required: true,
		displayOptions: { show: { input: ['field'] } },
		description:
			'The field that holds the message (the Email Trigger (IMAP) in Raw format puts it in "raw")',
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryProperty',
		type: 'string',
		default: 'data',
		required: true,
		displayOptions: { show: { input: ['binary'] } },
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
					'A bounce read from free text (no standard report) has confidence 0.6 when it quotes the server’s reply and 0.3 when not; events below this add nothing to the list',
			},
			{
				displayName: 'Read Non-Standard Bounces',
				name: 'nonStandard',
				type: 'boolean',
				default: true,
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
		],
	},
];
