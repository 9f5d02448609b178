import { groupPicker, groupRestriction } from '../shared/groups';
import { RATE_UNIT_OPTIONS } from '../shared/options';
import { stateProperties } from '../shared/state';
import type { INodeProperties } from 'n8n-workflow';

const warmupShow = (kinds: string[]) => ({ show: { warmup: kinds } });

const routeFields: INodeProperties[] = [
	{
		displayName: 'Name',
		name: 'name',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. SendGrid',
		description:
			'Names the output and travels with each item to the send node. Caps, warm-up days, sticky recipients, rate shares and route health are kept under this name.',
		hint: 'Renaming a route resets its caps, warm-up day, health and sticky recipients: they are kept under its name',
	},
	{ displayName: 'Enabled', name: 'enabled', type: 'boolean', default: true },
	{
		displayName: 'Percentage',
		name: 'percentage',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 100, numberPrecision: 2 },
		default: 50,
		displayOptions: { show: { '/mode': ['percentage'] } },
		description: 'Share of the traffic; the enabled routes must add up to 100',
	},
	{
		displayName: 'Weight',
		name: 'weight',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 1,
		displayOptions: { show: { '/mode': ['weighted'] } },
		description: 'Relative share (3 and 1 = 75% and 25%), interleaved smoothly',
	},
	{
		displayName: 'Daily Cap',
		name: 'dailyCap',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description:
			'Most messages a sending day; 0 = no cap. Items beyond it spill to the other routes.',
	},
	{
		displayName: 'Hourly Cap',
		name: 'hourlyCap',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Most messages an hour; 0 = no cap',
	},
	...groupRestriction,
	{
		displayName: 'Warm-Up',
		name: 'warmup',
		type: 'options',
		options: [
			{ name: 'None', value: 'none' },
			{ name: 'Ramp (Start Cap × Growth per Day)', value: 'ramp' },
			{ name: 'Custom Day → Cap Table', value: 'table' },
			{ name: 'Growing Share (Slow Start)', value: 'share' },
		],
		default: 'none',
	},
	{
		displayName: 'Warm-Up Start Date',
		name: 'warmupStartDate',
		type: 'string',
		default: '',
		placeholder: '2026-11-22',
		displayOptions: warmupShow(['ramp', 'table', 'share']),
		description: 'Day 1 of the schedule (YYYY-MM-DD)',
	},
	{
		displayName: 'First Day Cap',
		name: 'warmupStartCap',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		displayOptions: warmupShow(['ramp']),
	},
	{
		displayName: 'Daily Growth',
		name: 'warmupGrowth',
		type: 'number',
		typeOptions: { minValue: 1, numberPrecision: 2 },
		default: 1.5,
		displayOptions: warmupShow(['ramp']),
		description: '1.5 = each day allows 50% more than the day before',
	},
	{
		displayName: 'Cap Table',
		name: 'warmupTable',
		type: 'string',
		default: '1:50, 2:100, 3:200',
		displayOptions: warmupShow(['table']),
		description:
			'Day:cap pairs; days between entries keep the last cap; after the last day the route is warm (no cap)',
	},
	{
		displayName: 'Starting Share (%)',
		name: 'warmupStartPercent',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 100 },
		default: 10,
		displayOptions: warmupShow(['share']),
		description: "Share of the route's weight on day 1",
	},
	{
		displayName: 'Days to Full Share',
		name: 'warmupDays',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 14,
		displayOptions: warmupShow(['share']),
	},
];

function recipientField(show: Record<string, Array<string | boolean>>): INodeProperties {
	return {
		displayName: 'Recipient',
		name: 'recipient',
		type: 'string',
		default: '={{ $json.email }}',
		displayOptions: { show },
		description:
			'The recipient of each item: the key that keeps a recipient on the route it was given',
	};
}

export const partitionerProperties: INodeProperties[] = [
	{
		displayName: 'Mode',
		name: 'mode',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Failover',
				value: 'failover',
				description: 'The first route that is healthy and has room, in list order',
			},
			{
				name: 'Percentage Split',
				value: 'percentage',
				description:
					'Exact shares: every prefix of the campaign is within one message of the target',
			},
			{
				name: 'Round Robin',
				value: 'roundRobin',
				description: 'Rotate routes every N messages; the rotation continues across executions',
			},
			{
				name: 'Single Route',
				value: 'single',
				description: 'Everything to the first enabled route',
			},
			{ name: 'Weighted', value: 'weighted', description: 'Smooth weighted round robin' },
		],
		default: 'percentage',
	},
	{
		displayName: 'Routes',
		name: 'routes',
		type: 'fixedCollection',
		// n8n flags an empty list on the node (its parameter issues), before anything runs
		typeOptions: { multipleValues: true, sortable: true, minRequiredFields: 1 },
		// a fresh partitioner splits 50/50 between two routes, so it has two outputs to wire
		default: {
			values: [
				{ name: 'Route A', percentage: 50 },
				{ name: 'Route B', percentage: 50 },
			],
		},
		placeholder: 'Add Route',
		description:
			'With One Output per Route, each route is an output of its own, in this order, then Deferred',
		options: [{ displayName: 'Route', name: 'values', values: routeFields }],
	},
	{
		displayName: 'Messages per Turn',
		name: 'roundRobinBatch',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 1,
		displayOptions: { show: { mode: ['roundRobin'] } },
		description:
			'How many messages each route takes before the next one (1 = alternate every message)',
	},
	{
		displayName: 'Sticky Recipients',
		name: 'sticky',
		type: 'boolean',
		default: true,
		displayOptions: { show: { mode: ['percentage', 'weighted'] } },
		description:
			'Whether a recipient keeps the route it was given earlier in this campaign (re-runs and resumed campaigns do not move anyone)',
	},
	{
		displayName: 'Sticky Without State (Rendezvous Hashing)',
		name: 'stickyByHash',
		type: 'boolean',
		default: false,
		displayOptions: { show: { mode: ['weighted'] } },
		description:
			'Whether each recipient goes to the route its hash picks (weighted rendezvous hashing): nothing is stored, and changing a weight moves only recipients to or from that route',
	},
	// shown only where a recipient is read: sticky recipients, or weighted sticky by hash (n8n's
	// displayOptions cannot say "or" across two parameters, so the field is there twice)
	recipientField({ mode: ['percentage', 'weighted'], sticky: [true] }),
	recipientField({ mode: ['weighted'], sticky: [false], stickyByHash: [true] }),
	{
		displayName: 'Domain Group',
		name: 'domainGroup',
		type: 'string',
		default: '={{ $json.domainGroup }}',
		description:
			'The domain group of each item (set by the Domain Group Classifier); used by the routing table and route restrictions',
	},
	{
		displayName: 'Domain Group Routing',
		name: 'groupRoutes',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Group Route',
		description: 'Send a domain group to one route; groups not listed follow the mode',
		options: [
			{
				displayName: 'Group Route',
				name: 'values',
				values: [
					...groupPicker('The domain group to send to the route'),
					{
						displayName: 'Route Name',
						name: 'route',
						type: 'string',
						default: '',
						placeholder: 'SendGrid',
					},
				],
			},
		],
	},
	{
		displayName: 'Campaign ID',
		name: 'campaignId',
		type: 'string',
		default: '={{ $workflow.id }}',
		description:
			'Scopes counters, caps and sticky assignments. Executions and workers with the same campaign ID share them.',
	},
	{
		displayName: 'Output',
		name: 'outputMode',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'One Output per Route',
				value: 'routes',
				description: 'An output per route, named after it, then Deferred',
			},
			{
				name: 'Add Assignment Fields',
				value: 'fields',
				description: 'One output; the route goes into a field',
			},
		],
		default: 'routes',
	},
	...stateProperties,
	{
		displayName: 'Dry Run',
		name: 'dryRun',
		type: 'boolean',
		default: false,
		description: 'Whether to only annotate items: no counter, cap or sticky assignment changes',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Assignment Field',
				name: 'fieldKey',
				type: 'string',
				default: 'postalRoute',
				description: 'Field the assignment is written to',
			},
			{
				displayName: 'Campaign Rate',
				name: 'campaignRate',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description:
					'Messages per unit for the whole campaign, every route and worker together; 0 = none. No stretch of one unit (a minute for a rate per minute) sends more, from the first message on. Each route gets a share by its percentage or weight; both travel with each item for the send node.',
			},
			{
				displayName: 'Campaign Rate Per',
				name: 'campaignRatePer',
				type: 'options',
				options: RATE_UNIT_OPTIONS,
				default: 'hour',
				description: 'The unit of the Campaign Rate',
			},
			{
				displayName: 'Day Starts At',
				name: 'dayStart',
				type: 'string',
				default: '00:00',
				description: 'Local time (HH:MM) at which daily caps reset',
			},
			{
				displayName: 'Keep State (Days)',
				name: 'stateTtlDays',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 30,
				description: 'How long counters and sticky assignments live after the last use',
			},
			{
				displayName: 'Time Zone',
				name: 'timeZone',
				type: 'string',
				default: '',
				placeholder: 'Europe/Berlin',
				description: "Time zone of the sending day; empty = the workflow's",
			},
			{
				displayName: "When a Route's Own Limit Is Below Its Share",
				name: 'capacity',
				type: 'options',
				displayOptions: { show: { '/mode': ['percentage', 'weighted'] } },
				options: [
					{
						name: 'Keep the Exact Split (the Campaign Slows)',
						value: 'exact',
						description:
							'Every route gets its share of the items. A route whose send node has a connection or credential limit below its share of the Campaign Rate sends at that limit, and the campaign takes longer.',
					},
					{
						name: 'Move the Excess to Routes with Room (the Campaign Keeps Its Rate)',
						value: 'move',
						description:
							'Such a route gets only as many items as its own limit allows; the rest go to routes with room, each kept within its own limit, marked via "capacity" with the reason. The send nodes report their limits when they run, so the first batch of a campaign follows the exact split.',
					},
				],
				default: 'exact',
				description:
					'Only with a Campaign Rate. What to do when a route cannot send its share of the campaign rate because its own connection is limited to less.',
			},
		],
	},
];
