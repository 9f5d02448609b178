import type { INodeProperties } from 'n8n-workflow';
import { stateProperties } from '../shared/state';

export const alertTriggerProperties: INodeProperties[] = [
	{
		displayName: 'Types',
		name: 'types',
		type: 'multiOptions',
		options: [
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
				description: 'A reputation rule throttled the route for a domain group',
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
			'Domain group IDs, comma-separated; empty: every alert. With groups, alerts about a whole route (ejected, recovered) do not match.',
	},
	{
		displayName: 'Minimum Severity',
		name: 'minimumSeverity',
		type: 'options',
		options: [
			{ name: 'Info', value: 'info', description: 'Every alert' },
			{ name: 'Warning', value: 'warning', description: 'Throttles, suspensions and ejections' },
			{ name: 'Critical', value: 'critical', description: 'Suspensions and ejections' },
		],
		default: 'info',
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
