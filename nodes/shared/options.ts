import type { INodePropertyOptions } from 'n8n-workflow';

/** The units a rate can be given in (lib/routing/plan.ts RATE_UNITS). */
export const RATE_UNIT_OPTIONS: INodePropertyOptions[] = [
	{ name: 'Day', value: 'day' },
	{ name: 'Hour', value: 'hour' },
	{ name: 'Minute', value: 'minute' },
	{ name: 'Second', value: 'second' },
];
