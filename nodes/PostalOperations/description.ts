import { DEFAULT_SLOWER_THAN_MS } from '../../lib/operations/compare';
import { LATENCY_BOUNDS_MS } from '../../lib/state/outcomes';
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
const MESSAGE = { resource: ['message'] };
const RECIPIENT = { resource: ['recipient'] };
const RESET = { resource: ['route'], operation: ['resetCircuit'] };
const WEIGHT = { resource: ['route'], operation: ['setWeight'] };

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
					'Whether a campaign is paused (its list quality, or an operator); pause or resume it, clear its list-quality counters',
			},
			{
				name: 'Message',
				value: 'message',
				description:
					'A campaign’s messages in doubt (a send that may have gone): list them, release them for a re-run, or mark them sent',
			},
			{
				name: 'Recipient',
				value: 'recipient',
				description:
					'Where an address stands in a campaign: its duplicate marker, its sticky routes, its suppression entry',
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
				description:
					'A route’s reputation for one domain group: its state, suspend, resume, a weight factor; reset its circuit',
			},
			{
				name: 'Stat',
				value: 'stats',
				description: 'Counts and rates per route × domain group, and A/B verdicts between routes',
			},
			{
				name: 'Suppression',
				value: 'suppression',
				description: 'The suppression list: add, remove or check addresses; list or export it',
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
				name: 'Reset Circuit',
				value: 'resetCircuit',
				action: 'Reset a route circuit for a campaign',
				description:
					'Close the route’s circuit for the campaign at once: the partitioner routes to it and the send node sends on it again (its failure count and ejections are forgotten)',
			},
			{
				name: 'Resume',
				value: 'resume',
				action: 'Resume a route for a domain group',
				description:
					'Lift the route’s suspension or throttle for the group at once (no slow start)',
			},
			{
				name: 'Set Weight Factor',
				value: 'setWeight',
				action: 'Set a route weight factor for a domain group',
				description:
					'Keep only a share of the route’s traffic for the group for a while (an operator’s throttle, announced as an alert); the rest goes to the other routes',
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
				name: 'Export',
				value: 'export',
				action: 'Export the suppression list as CSV',
				description:
					'The list’s entries as a CSV file: digest, masked address, reason, source, since, until (addresses are kept only as digests)',
			},
			{
				name: 'Get Many',
				value: 'list',
				action: 'List the suppression list',
				description:
					'One item per entry that applies now: digest, masked address, reason, source, since, until (addresses are kept only as digests)',
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
				name: 'Clear Counters',
				value: 'clearCounters',
				action: 'Clear a campaign list quality counters',
				description:
					'Start the campaign’s list-quality totals (hard bounces, complaints: every route together) from nothing and lift its pause. Route stats, route reputation, circuits, caps, sticky routes and duplicate markers stay.',
			},
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
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: MESSAGE },
		options: [
			{
				name: 'Get Many In-Doubt',
				value: 'listInDoubt',
				action: 'List a campaign in doubt messages',
				description:
					'One item per message whose send may have gone (no answer came, or its run stopped mid-send): its digest, since when, by which execution',
			},
			{
				name: 'Mark Sent',
				value: 'markSent',
				action: 'Mark an in doubt message as sent',
				description:
					'Settle the message as sent: no later run sends it again in this campaign (for the days below)',
			},
			{
				name: 'Release',
				value: 'release',
				action: 'Release an in doubt message',
				description:
					'Drop its in-doubt marker: the next run of the campaign sends it again, even under "Don’t Resend" (a recipient may get it twice)',
			},
		],
		default: 'listInDoubt',
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: RECIPIENT },
		options: [
			{
				name: 'Look Up',
				value: 'lookUp',
				action: 'Look up where a recipient was routed',
				description:
					'What the store holds for the address in the campaign: its message’s duplicate marker, its sticky routes, its suppression entry',
			},
		],
		default: 'lookUp',
	},
	{
		displayName: 'Campaign ID',
		name: 'campaign',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. winter-sale',
		displayOptions: { show: { resource: ['campaign', 'message', 'recipient'] } },
		description: 'The Route Partitioner’s Campaign ID',
	},
	{
		displayName: 'Campaign ID',
		name: 'campaign',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. winter-sale',
		displayOptions: { show: RESET },
		description:
			'The campaign whose circuit of the route is reset: circuits are per campaign and route',
	},
	{
		displayName: 'Digest',
		name: 'digest',
		type: 'string',
		required: true,
		default: '={{ $json.digest }}',
		displayOptions: { show: { resource: ['message'], operation: ['release', 'markSent'] } },
		description:
			'The message’s marker digest, as Get Many In-Doubt (or Recipient › Look Up) gives it, one per item',
	},
	{
		displayName: 'Keep for (Days)',
		name: 'keepDays',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 3650 },
		default: 90,
		displayOptions: { show: { resource: ['message'], operation: ['markSent'] } },
		description: 'How long it is remembered as sent: the send node’s Duplicate Protection (Days)',
	},
	{
		displayName: 'Email',
		name: 'email',
		type: 'string',
		placeholder: 'name@email.com',
		required: true,
		default: '={{ $json.email }}',
		displayOptions: { show: RECIPIENT },
		description: 'The address, one per item',
	},
	{
		displayName: 'Message Key',
		name: 'messageKey',
		type: 'string',
		default: '',
		displayOptions: { show: RECIPIENT },
		description:
			'The send node’s Message Key (Options), if it had one: the duplicate marker is of the recipients plus this key',
	},
	{ ...SUPPRESSION_LIST_TO_CHECK, displayOptions: { show: RECIPIENT } },
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		displayOptions: {
			show: { resource: ['message', 'suppression'], operation: ['listInDoubt', 'list', 'export'] },
		},
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		displayOptions: {
			show: {
				resource: ['message', 'suppression'],
				operation: ['listInDoubt', 'list', 'export'],
				returnAll: [false],
			},
		},
		description: 'Max number of results to return',
	},
	{
		displayName: 'Cursor',
		name: 'cursor',
		type: 'string',
		default: '',
		displayOptions: {
			show: {
				resource: ['message', 'suppression'],
				operation: ['listInDoubt', 'list', 'export'],
				returnAll: [false],
			},
		},
		description:
			'Where to go on: the nextCursor of the previous run’s items; empty: from the start',
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
			{
				name: 'Delivery Latency',
				value: 'latency',
				description: 'The share of accepted messages slower than the bound below',
			},
			{ name: 'Hard Bounce Rate', value: 'hardBounce' },
		],
		default: 'block',
		displayOptions: { show: COMPARE },
		description: 'What is compared (lower is better)',
	},
	{
		displayName: 'Slower Than',
		name: 'slowerThanMs',
		type: 'options',
		options: LATENCY_BOUNDS_MS.map((ms) => ({
			name: ms < 1000 ? `${ms} ms` : `${ms / 1000} s`,
			value: ms,
		})),
		default: DEFAULT_SLOWER_THAN_MS,
		displayOptions: { show: { ...COMPARE, metric: ['latency'] } },
		description:
			'Delivery latency is compared as the share of messages whose acceptance (send → the server’s or API’s OK) took longer than this: a proportion, tested like the rates. The bounds are the accept-latency histogram’s.',
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
	{
		displayName: 'Every Domain Group',
		name: 'allGroups',
		type: 'boolean',
		default: false,
		displayOptions: { show: ROUTE, hide: { operation: ['resetCircuit'] } },
		description:
			'Whether the action is for every group the route has sent to in the last 8 days (the stats’ pair index), one output item per group; off: for the one group below',
	},
	...groupPicker('The mailbox provider the action is for (the items’ domainGroup)').map(
		(p): INodeProperties => ({
			...p,
			displayOptions: {
				show: { ...ROUTE, ...(p.displayOptions?.show ?? {}) },
				// a circuit is per campaign and route, for every group
				hide: { operation: ['resetCircuit'], allGroups: [true] },
			},
		}),
	),
	{
		displayName: 'Weight Factor',
		name: 'weightFactor',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
		default: 0.5,
		displayOptions: { show: WEIGHT },
		description:
			'The share of its traffic for the group the route keeps, 0 to 1 (0.5: half; the rest goes to the other routes)',
	},
	{
		displayName: 'Duration (Hours)',
		name: 'weightHours',
		type: 'number',
		typeOptions: { minValue: 0.1 },
		default: 24,
		displayOptions: { show: WEIGHT },
		description: 'How long the factor holds; then the route gets its whole share again',
	},
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
		displayOptions: { show: { ...ROUTE, operation: ['suspend', 'setWeight'] } },
		description: 'Shown on the items it moves and in the route’s state',
	},
	{
		displayName: 'Email',
		name: 'email',
		type: 'string',
		placeholder: 'name@email.com',
		required: true,
		default: '={{ $json.email }}',
		displayOptions: { show: SUPPRESSION, hide: { operation: ['list', 'export'] } },
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
	{
		displayName: 'Put Output File in Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		displayOptions: { show: { resource: ['suppression'], operation: ['export'] } },
		hint: 'The name of the output binary field to put the file in',
	},
	...stateProperties,
];
