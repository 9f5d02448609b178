import type { INodeProperties } from 'n8n-workflow';
import { SUPPRESSION_REASONS } from '../../lib/state/suppression';
import { groupPicker } from '../shared/groups';
import { SUPPRESSION_LIST_TO_CHECK } from '../shared/options';
import { stateProperties } from '../shared/state';

const ROUTE = { resource: ['route'] };
const SUPPRESSION = { resource: ['suppression'] };
const STATS = { resource: ['stats'] };
const REPORT = { resource: ['report'] };
const COMPARE = { resource: ['stats'], operation: ['compare'] };
const CAMPAIGN = { resource: ['campaign'] };

/** The operations node's panel, resource then operation, as n8n's service nodes are built. */
export const operationsProperties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Campaign',
				value: 'campaign',
				description:
					'Whether a campaign is paused (its list quality, or an operator); pause or resume it',
			},
			{
				name: 'Report',
				value: 'report',
				description:
					'An HTML report with charts, or Prometheus metrics, of every route × domain group',
			},
			{
				name: 'Route',
				value: 'route',
				description: 'A route’s reputation for one domain group: its state, suspend, resume',
			},
			{
				name: 'Stat',
				value: 'stats',
				description: 'Counts and rates per route × domain group, and A/B verdicts between routes',
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
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: STATS },
		options: [
			{
				name: 'Compare Routes',
				value: 'compare',
				action: 'Compare routes for a domain group',
				description:
					'A two-proportion test between the best and the worst route on one rate; "not enough data yet" until the sample for the chosen effect is reached',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				action: 'Get stats per route and domain group',
				description:
					'One item per route × domain group: counts, rates with 95% intervals, accept latency, the route’s state',
			},
		],
		default: 'getAll',
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: REPORT },
		options: [
			{
				name: 'HTML Report',
				value: 'html',
				action: 'Make an HTML report',
				description:
					'One self-contained page (charts drawn inline): a binary file, and the page as text for Respond to Webhook',
			},
			{
				name: 'Prometheus Metrics',
				value: 'prometheus',
				action: 'Make metrics for prometheus',
				description:
					'The text exposition format, labelled by route and group, for Respond to Webhook (Grafana scrapes it)',
			},
		],
		default: 'html',
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: CAMPAIGN },
		options: [
			{
				name: 'Get State',
				value: 'get',
				action: 'Get whether a campaign is paused',
				description: 'Paused or not, until when and why',
			},
			{
				name: 'Pause',
				value: 'pause',
				action: 'Pause a campaign',
				description:
					'Load-Balanced Send sends none of its messages until the pause ends (they go to Fallback)',
			},
			{
				name: 'Resume',
				value: 'resume',
				action: 'Resume a campaign',
				description: 'Lift the pause at once',
			},
		],
		default: 'get',
	},
	{
		displayName: 'Campaign ID',
		name: 'campaign',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. winter-sale',
		displayOptions: { show: CAMPAIGN },
		description: 'The Route Partitioner’s Campaign ID',
	},
	{
		displayName: 'Duration (Hours)',
		name: 'pauseHours',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 24,
		displayOptions: { show: { ...CAMPAIGN, operation: ['pause'] } },
	},
	{
		displayName: 'Reason',
		name: 'pauseReason',
		type: 'string',
		default: '',
		displayOptions: { show: { ...CAMPAIGN, operation: ['pause'] } },
		description: 'Shown on the messages it holds',
	},
	{
		displayName: 'Window',
		name: 'window',
		type: 'options',
		options: [
			{ name: '15 Minutes', value: '15m' },
			{ name: '24 Hours', value: '24h' },
			{ name: '7 Days', value: '7d' },
			{ name: 'Hour', value: '1h' },
			{ name: 'Since a Date', value: 'since' },
		],
		default: '24h',
		displayOptions: { show: { resource: ['stats', 'report'] } },
		description:
			'The last 15 minutes, hour, 24 hours or 7 days, or since a date. Minutes are read for windows up to 3 hours, hours beyond (kept 8 days).',
	},
	{
		displayName: 'Since',
		name: 'since',
		type: 'dateTime',
		default: '',
		displayOptions: { show: { resource: ['stats', 'report'], window: ['since'] } },
		description: 'The window’s start (a date older than 8 days reads from the oldest hour kept)',
	},
	{
		displayName: 'Routes',
		name: 'routes',
		type: 'string',
		default: '',
		placeholder: 'e.g. Relay A, Relay B',
		displayOptions: { show: { resource: ['stats', 'report'] } },
		description: 'Only these routes (comma-separated); empty: every route with counts',
	},
	{
		displayName: 'Domain Groups',
		name: 'groups',
		type: 'string',
		default: '',
		placeholder: 'e.g. google, yahoo',
		displayOptions: {
			show: { resource: ['stats', 'report'], operation: ['getAll', 'html', 'prometheus'] },
		},
		description: 'Only these domain groups (comma-separated); empty: every group',
	},
	{
		displayName: 'Campaign ID',
		name: 'statsCampaign',
		type: 'string',
		default: '',
		placeholder: 'e.g. spring-sale',
		displayOptions: { show: { resource: ['stats', 'report'], operation: ['getAll', 'html'] } },
		description:
			'The Route Partitioner’s Campaign ID: each row’s state adds the route’s circuit in that campaign and, where it warms up, its day and the cap left today. Empty: reputation only.',
	},
	{
		displayName: 'Domain Group',
		name: 'compareGroup',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. yahoo',
		displayOptions: { show: COMPARE },
		description: 'The group whose routes are compared',
	},
	{
		displayName: 'Metric',
		name: 'metric',
		type: 'options',
		options: [
			{ name: 'Block Rate', value: 'block' },
			{ name: 'Complaint Rate', value: 'complaint' },
			{ name: 'Deferral Rate', value: 'deferral' },
			{ name: 'Hard Bounce Rate', value: 'hardBounce' },
		],
		default: 'block',
		displayOptions: { show: COMPARE },
		description: 'The rate compared (lower is better)',
	},
	{
		displayName: 'Minimum Effect (Percentage Points)',
		name: 'minEffect',
		type: 'number',
		typeOptions: { minValue: 0.01, numberPrecision: 2 },
		default: 1,
		displayOptions: { show: COMPARE },
		description:
			'The smallest difference worth finding: the sample each route needs follows from it (α 0.05, power 0.8); before that the verdict is "not enough data yet"',
	},
	{
		displayName: 'Apply the Verdict',
		name: 'applyVerdict',
		type: 'boolean',
		default: false,
		displayOptions: { show: COMPARE },
		description:
			'Whether a winner’s loser keeps half of its share for the group for the hours below (rule "ab-verdict")',
	},
	{
		displayName: 'Down-Weight For (Hours)',
		name: 'verdictHours',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 24,
		displayOptions: { show: { ...COMPARE, applyVerdict: [true] } },
	},
	{
		displayName: 'Title',
		name: 'title',
		type: 'string',
		default: '',
		placeholder: 'e.g. Daily route report',
		displayOptions: { show: { resource: ['report'], operation: ['html'] } },
		description: 'The page’s title; empty: "Postal routes report"',
	},
	{
		displayName: 'Put Output File in Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		displayOptions: { show: { resource: ['report'], operation: ['html'] } },
		hint: 'The name of the output binary field to put the file in',
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
