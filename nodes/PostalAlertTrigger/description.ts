import type { INodeProperties } from 'n8n-workflow';
import { stateProperties } from '../shared/state';

export const alertTriggerProperties: INodeProperties[] = [
	{
		displayName: 'Types',
		name: 'types',
		type: 'multiOptions',
		options: [
			{
				name: 'A/B Verdict',
				value: 'ab.verdict',
				description:
					'Postal Operations › Compare Routes reached a verdict: a winner (or no difference), with the metric, group and p-value',
			},
			{
				name: 'List Quality Threshold',
				value: 'threshold.warning',
				description:
					"A campaign's hard-bounce or complaint rate crossed the warning bar (warning) or the critical bar (critical; says when the campaign is paused)",
			},
			{
				name: 'Probe Down',
				value: 'probe.down',
				description: 'Load-Balanced Send › Probe Connection took the route out: Fall failed probes',
			},
			{
				name: 'Probe Up',
				value: 'probe.up',
				description: 'Rise passing probes in a row brought the route back',
			},
			{
				name: 'Provider Enforcement Status',
				value: 'provider.enforcement',
				description:
					'A probe saw the provider account’s enforcement status change (Amazon SES: HEALTHY, PROBATION, SHUTDOWN)',
			},
			{
				name: 'Route Ejected',
				value: 'route.ejected',
				description: 'Its circuit opened: failures in a row, or one that retrying cannot fix',
			},
			{
				name: 'Route Recovered',
				value: 'route.recovered',
				description: 'The probe after an ejection succeeded',
			},
			{
				name: 'Route Restored',
				value: 'route.restored',
				description:
					'A suspension or throttle for a domain group ended (cleared, or resumed by an operator)',
			},
			{
				name: 'Route Suspended',
				value: 'route.suspended',
				description: 'A reputation rule (or an operator) suspended the route for a domain group',
			},
			{
				name: 'Route Throttled',
				value: 'route.throttled',
				description:
					'A reputation rule, or an applied A/B verdict, throttled the route for a domain group',
			},
			{
				name: 'Warm-Up Cap Reached',
				value: 'warmup.cap-reached',
				description:
					"The Route Partitioner spilled items because the route's warm-up cap for the day is reached",
			},
		],
		default: [],
		description: 'Which alerts start the workflow; none chosen: every type',
	},
	{
		displayName: 'Routes',
		name: 'routes',
		type: 'string',
		default: '',
		placeholder: 'Relay A, SendGrid',
		description: 'Route names, comma-separated; empty: every route',
	},
	{
		displayName: 'Domain Groups',
		name: 'groups',
		type: 'string',
		default: '',
		placeholder: 'gmail, yahoo',
		description:
			'Domain group IDs, comma-separated; empty: every alert. With groups, alerts about a whole route or campaign (ejected, recovered, warm-up cap, list quality) do not match.',
	},
	{
		displayName: 'Minimum Severity',
		name: 'minimumSeverity',
		type: 'options',
		options: [
			{ name: 'Info', value: 'info', description: 'Every alert' },
			{
				name: 'Warning',
				value: 'warning',
				description:
					'Throttles, warm-up caps reached and list quality over a bar, and the critical ones',
			},
			{
				name: 'Critical',
				value: 'critical',
				description: 'Suspensions, ejections and list quality over the critical bar',
			},
		],
		default: 'info',
	},
	{
		displayName: 'Cooldown (Minutes)',
		name: 'cooldownMinutes',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 2 },
		default: 0,
		description:
			'The same alert (type, route, domain group, campaign, rule and severity) starts this workflow at most once in this many minutes; the repeats are dropped. Kept in the state store, so several n8n mains agree. 0: every alert.',
	},
	{
		displayName: 'Poll Interval (Seconds)',
		name: 'pollSeconds',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 5,
		description: 'How often the state store is read for new alerts',
	},
	...stateProperties,
];
