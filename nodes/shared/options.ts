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

/**
 * Route Reputation and Reputation Rules (lib/reputation/rules.ts): the same rules wherever a
 * signal is seen — the send node's own replies, the feedback nodes' events. `what` says which
 * signals the node feeds in.
 */
export function routeReputationOption(what: string): INodeProperties {
	return {
		displayName: 'Route Reputation',
		name: 'routeReputation',
		type: 'boolean',
		default: true,
		description: `Whether ${what} suspend or slow a route for one domain group (e.g. Yahoo’s [TSS04] suspends it for Yahoo recipients for 2 hours; other groups keep flowing). See the README, "Reputation rules". Needs the items’ domain group (the Domain Group Classifier).`,
	};
}

export const REPUTATION_RULES_OPTION: INodeProperties = {
	displayName: 'Reputation Rules',
	name: 'reputationRules',
	type: 'json',
	default: '',
	placeholder:
		'[{ "rule": "yahoo-tss04", "durationMinutes": 240 }, { "rule": "deferral-rate", "enabled": false }]',
	description:
		'Changes to the default rules (README, "Reputation rules"), as a JSON list: an entry naming a rule changes the fields it gives, "enabled": false turns it off, a new name adds a reply rule (match, action, durationMinutes). Empty: the defaults. Give every node that sees signals the same list.',
};
