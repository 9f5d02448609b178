import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

/** The units a rate can be given in (lib/throttle/units.ts RATE_UNITS; a node's choiceField checks that they agree). */
export const RATE_UNIT_OPTIONS: INodePropertyOptions[] = [
	{ name: 'Day', value: 'day' },
	{ name: 'Hour', value: 'hour' },
	{ name: 'Minute', value: 'minute' },
	{ name: 'Second', value: 'second' },
];

/**
 * The suppression list a node checks (Load-Balanced Send before it sends, the Domain Group
 * Classifier when it flags): one name, one default, one meaning.
 */
export const SUPPRESSION_LIST_TO_CHECK: INodeProperties = {
	displayName: 'Suppression List',
	name: 'suppressionList',
	type: 'string',
	default: '',
	placeholder: 'e.g. newsletter',
	description:
		'Which list to check (empty: the default list). Use the name the Postal Bounce Parser writes to.',
};
