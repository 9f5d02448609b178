import { GROUP_OPTIONS } from '../shared/groups';
import { SUPPRESSION_LIST_TO_CHECK } from '../shared/options';
import { stateProperties } from '../shared/state';
import type { INodeProperties } from 'n8n-workflow';
import { BUILT_IN_GROUPS } from '../../lib/domains/catalog';

export const GROUP_LABELS: Record<string, string> = Object.fromEntries(
	BUILT_IN_GROUPS.map((g) => [g.id, g.label.replace(/ \(.*\)$/, '')]),
);

export const classifierProperties: INodeProperties[] = [
	{
		displayName: 'Recipient',
		name: 'recipient',
		type: 'string',
		default: '={{ $json.email }}',
		required: true,
		description: 'The email address to classify. "Name &lt;addr&gt;" forms are accepted.',
	},
	{
		displayName: 'Output Mode',
		name: 'outputMode',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Add Fields',
				value: 'addFields',
				description: 'One output; adds the domain group fields to each item',
			},
			{
				name: 'One Output per Group',
				value: 'perGroup',
				description: 'An output per selected group, then Other and Invalid',
			},
		],
		default: 'addFields',
	},
	{
		displayName: 'Groups to Output',
		name: 'groups',
		type: 'multiOptions',
		displayOptions: { show: { outputMode: ['perGroup'] } },
		options: GROUP_OPTIONS,
		default: ['google', 'microsoft', 'yahoo'],
		description: 'Built-in groups that get an output of their own; the rest go to Other',
	},
	{
		displayName: 'Output Invalid Addresses Separately',
		name: 'invalidOutput',
		type: 'boolean',
		displayOptions: { show: { outputMode: ['perGroup'] } },
		default: true,
		description:
			'Whether invalid addresses leave on an Invalid output. When off, an invalid address stops the node with an error (or, with "Continue on Fail", leaves on Other with an error field).',
	},
	{
		displayName: 'Put Fields Under',
		name: 'fieldKey',
		type: 'string',
		default: '',
		placeholder: 'e.g. classification',
		description:
			'Field to put domainGroup, recipientDomain, recipient and classifiedBy under; empty = top level of the item',
	},
	{
		displayName: 'Custom Groups',
		name: 'customGroups',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		default: {},
		placeholder: 'Add Group',
		description: 'Your own groups; they win over the built-in ones',
		options: [
			{
				displayName: 'Group',
				name: 'values',
				values: [
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						required: true,
						placeholder: 'e.g. partners',
					},
					{
						displayName: 'Domains',
						name: 'domains',
						type: 'string',
						default: '',
						placeholder: 'acme.com, *.acme.io, brand.*',
						description:
							'Comma-separated. "*.acme.io" matches every subdomain of acme.io; "brand.*" matches brand.com, brand.fr, brand.co.uk, ….',
					},
					{
						displayName: 'MX Host Patterns',
						name: 'mxPatterns',
						type: 'string',
						default: '',
						placeholder: '.mx.acme-mail.net',
						description:
							'Comma-separated MX host suffixes (matched on a label boundary); used when MX detection is on',
					},
				],
			},
		],
	},
	{
		displayName: 'Check Suppression List',
		name: 'checkSuppression',
		type: 'boolean',
		default: false,
		description:
			'Whether to look each recipient up on a suppression list (it bounced, complained or unsubscribed: the Postal Bounce Parser and the Postal Feedback Trigger put it there), so the workflow can drop it before routing. One state-store read per run.',
	},
	{ ...SUPPRESSION_LIST_TO_CHECK, displayOptions: { show: { checkSuppression: [true] } } },
	{
		displayName: 'Suppressed Recipients',
		name: 'suppressedAction',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { checkSuppression: [true] } },
		options: [
			{
				name: 'Flag Only',
				value: 'flag',
				description:
					'The item stays on its output and gets postalSuppressed: reason, source, since and until',
			},
			{
				name: 'Send to Suppressed Output',
				value: 'output',
				description:
					'The item leaves on a Suppressed output, added after all the others, with postalSuppressed',
			},
		],
		default: 'flag',
	},
	...stateProperties,
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Detect by MX Records',
				name: 'mxDetection',
				type: 'boolean',
				default: false,
				description:
					'Whether to look up the MX records of domains not in the catalog (e.g. a company on Google Workspace). A timeout or a missing domain never fails the item: it goes to Other.',
			},
			{
				displayName: 'Detect Security Gateways',
				name: 'includeGateways',
				type: 'boolean',
				default: false,
				description:
					'Whether MX hosts of Proofpoint, Mimecast and Barracuda count as groups of their own',
			},
			{
				displayName: 'DNS Servers',
				name: 'dnsServers',
				type: 'string',
				default: '',
				placeholder: '1.1.1.1, 8.8.8.8:53',
				description: 'Comma-separated host or host:port; empty = the system resolver',
			},
			{
				displayName: 'MX Cache (Minutes)',
				name: 'mxCacheMinutes',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 360,
				description: 'How long MX answers are remembered (in the shared state store); 0 = no cache',
			},
			{
				displayName: 'MX Lookups at Once',
				name: 'mxConcurrency',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 256 },
				default: 16,
			},
			{
				displayName: 'MX Timeout (Ms)',
				name: 'mxTimeoutMs',
				type: 'number',
				typeOptions: { minValue: 100 },
				default: 3000,
			},
		],
	},
];
