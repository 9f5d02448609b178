import type { INodePropertyOptions } from 'n8n-workflow';

/** The units a rate can be given in (lib/throttle/units.ts RATE_UNITS; a node's choiceField checks that they agree). */
export const RATE_UNIT_OPTIONS: INodePropertyOptions[] = [
	{ name: 'Day', value: 'day' },
	{ name: 'Hour', value: 'hour' },
	{ name: 'Minute', value: 'minute' },
	{ name: 'Second', value: 'second' },
];
