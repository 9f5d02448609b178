import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import { BUILT_IN_GROUPS } from '../../lib/domains/catalog';

/**
 * Domain groups picked, not typed: the built-in groups as the Domain Group Classifier's dropdown
 * labels them, plus "Other" (no group matched). Custom groups, which only the classifier's own
 * parameters name, are typed next to the picker. A value set before the pickers existed (any id,
 * typed) keeps working: the pickers allow arbitrary values, so n8n shows it without an issue, and
 * the readers below take it as it is.
 */
export const GROUP_OPTIONS: INodePropertyOptions[] = BUILT_IN_GROUPS.map((g) => ({
	name: g.label,
	value: g.id,
}));

const OTHER: INodePropertyOptions = {
	name: 'Other (No Group Matched)',
	value: 'other',
	description: 'Items the classifier put in no built-in or custom group',
};

/** The value that opens the Custom Group text field of a one-group picker. */
export const CUSTOM_GROUP = '__custom';

/**
 * A one-group picker for a fixedCollection row: `group` (a built-in group, Other, or "Custom
 * Group…"), and `customGroup`, shown for a custom one.
 */
export function groupPicker(description: string): INodeProperties[] {
	return [
		{
			displayName: 'Domain Group',
			name: 'group',
			type: 'options',
			options: [
				...GROUP_OPTIONS,
				OTHER,
				{
					name: 'Custom Group…',
					value: CUSTOM_GROUP,
					description: "One of the classifier's Custom Groups: type its name below",
				},
			],
			// a group id typed before this was a picker (e.g. a custom group) is still a valid value
			allowArbitraryValues: true,
			// empty, as the text field was: n8n saves no default value, so a row saved empty before
			// must not turn into a group (a send node's empty limit row limited nothing)
			// eslint-disable-next-line n8n-nodes-base/node-param-default-wrong-for-options
			default: '',
			placeholder: 'Pick a group',
			description,
		},
		{
			displayName: 'Custom Group Name',
			name: 'customGroup',
			type: 'string',
			default: '',
			placeholder: 'e.g. partners',
			displayOptions: { show: { group: [CUSTOM_GROUP] } },
			description: "The name of the group as in the classifier's Custom Groups",
		},
	];
}

/** The group a one-group picker row names, lower-cased; '' when none. */
export function pickedGroup(row: { group?: unknown; customGroup?: unknown }): string {
	const group = row.group === CUSTOM_GROUP ? row.customGroup : row.group;
	return String(group ?? '')
		.trim()
		.toLowerCase();
}

/** Route restrictions: pick built-in groups, type custom ones. */
export const groupRestriction: INodeProperties[] = [
	{
		displayName: 'Only for Domain Groups',
		name: 'onlyGroups',
		type: 'multiOptions',
		options: [...GROUP_OPTIONS, OTHER],
		default: [],
		description:
			'Domain groups this route may take; with none here and none under Only for Custom Groups, any group',
	},
	{
		// the name of the field before the picker existed: workflows that typed "google, microsoft" here keep it
		displayName: 'Only for Custom Groups',
		name: 'groups',
		type: 'string',
		default: '',
		placeholder: 'e.g. partners, resellers',
		description:
			"Comma-separated names of the classifier's Custom Groups this route may take (built-in groups typed as google or microsoft count too)",
	},
];

/** A route's restriction: the picked groups and the typed ones, lower-cased, without repeats. */
export function restrictedGroups(
	row: { onlyGroups?: unknown; groups?: unknown },
	split: (v: unknown) => string[],
): string[] {
	const picked = Array.isArray(row.onlyGroups) ? row.onlyGroups.map(String) : split(row.onlyGroups);
	return [...new Set([...picked, ...split(row.groups)].map((g) => g.trim().toLowerCase()))].filter(
		Boolean,
	);
}
