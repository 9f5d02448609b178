import type { INodeProperties } from 'n8n-workflow';
import { SUPPRESSION_REASONS } from '../../lib/state/suppression';
import { groupPicker } from '../shared/groups';
import { SUPPRESSION_LIST_TO_CHECK } from '../shared/options';
import { stateProperties } from '../shared/state';

const ROUTE = { resource: ['route'] };
const SUPPRESSION = { resource: ['suppression'] };

/** The operations node's panel, resource then operation, as n8n's service nodes are built. */
export const operationsProperties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Route',
				value: 'route',
				description: 'A route’s reputation for one domain group: its state, suspend, resume',
			},
			{
				name: 'Suppression',
				value: 'suppression',
				description: 'The suppression list: add, remove or check addresses',
			},
		],
		default: 'route',
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: ROUTE },
		options: [
			{
				name: 'Get State',
				value: 'get',
				action: 'Get a route state for a domain group',
				description:
					'Whether the route is suspended, throttled or starting again for the group, until when and why',
			},
			{
				name: 'Resume',
				value: 'resume',
				action: 'Resume a route for a domain group',
				description:
					'Lift the route’s suspension or throttle for the group at once (no slow start)',
			},
			{
				name: 'Suspend',
				value: 'suspend',
				action: 'Suspend a route for a domain group',
				description:
					'Take the route out for the group for a while: its items go to the other routes, then it starts slowly again',
			},
		],
		default: 'get',
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: SUPPRESSION },
		options: [
			{
				name: 'Add',
				value: 'add',
				action: 'Add an address to the suppression list',
				description: 'Nothing is sent to it while it is on the list',
			},
			{
				name: 'Check',
				value: 'check',
				action: 'Check whether an address is suppressed',
				description: 'Whether the address is on the list now, why, since and until when',
			},
			{
				name: 'Remove',
				value: 'remove',
				action: 'Remove an address from the suppression list',
				description: 'Mail to it is sent again',
			},
		],
		default: 'check',
	},
	{
		displayName: 'Route',
		name: 'route',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. Relay A',
		displayOptions: { show: ROUTE },
		description: 'The route’s name, as the Route Partitioner and Load-Balanced Send name it',
	},
	...groupPicker('The mailbox provider the action is for (the items’ domainGroup)').map(
		(p): INodeProperties => ({
			...p,
			displayOptions: { show: { ...ROUTE, ...(p.displayOptions?.show ?? {}) } },
		}),
	),
	{
		displayName: 'Duration (Minutes)',
		name: 'durationMinutes',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 60,
		displayOptions: { show: { ...ROUTE, operation: ['suspend'] } },
		description:
			'How long the route takes no mail for the group; then it starts at a quarter of its share, growing to all of it over 2 hours',
	},
	{
		displayName: 'Reason',
		name: 'reason',
		type: 'string',
		default: '',
		placeholder: 'e.g. IP listed at Spamhaus, delisting requested',
		displayOptions: { show: { ...ROUTE, operation: ['suspend'] } },
		description: 'Shown on the items it moves and in the route’s state',
	},
	{
		displayName: 'Email',
		name: 'email',
		type: 'string',
		placeholder: 'name@email.com',
		required: true,
		default: '={{ $json.email }}',
		displayOptions: { show: SUPPRESSION },
		description: 'The address, one per item',
	},
	{ ...SUPPRESSION_LIST_TO_CHECK, displayOptions: { show: SUPPRESSION } },
	{
		displayName: 'Reason',
		name: 'suppressionReason',
		type: 'options',
		options: SUPPRESSION_REASONS.map((r) => ({
			name: r.replace(
				/(^|-)(\w)/g,
				(_, dash: string, c: string) => `${dash ? ' ' : ''}${c.toUpperCase()}`,
			),
			value: r,
		})),
		default: 'manual',
		displayOptions: { show: { ...SUPPRESSION, operation: ['add'] } },
		description: 'Why the address is on the list',
	},
	{
		displayName: 'For (Days)',
		name: 'days',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		displayOptions: { show: { ...SUPPRESSION, operation: ['add'] } },
		description: 'How long it stays on the list; 0 = until it is removed',
	},
	...stateProperties,
];
