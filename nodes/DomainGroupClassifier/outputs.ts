import type { INodeParameters } from 'n8n-workflow';

export interface OutputSlot {
	key: string;
	displayName: string;
}

/**
 * The outputs of "One output per group" mode: the selected built-in groups, the custom groups,
 * then Other, then Invalid; in either mode then Suppressed, with Check Suppression List sending
 * suppressed recipients there. It is turned into source text for the node's `outputs` expression
 * (as n8n's Switch node does), so it must stay self-contained: no imports, no helpers.
 */
export function classifierOutputs(
	parameters: INodeParameters,
	labels: Record<string, string>,
): OutputSlot[] {
	// last of all, and only when asked for: a saved workflow's outputs keep their indices. Its key
	// starts with a space, which no (trimmed) group name does.
	const suppressed =
		parameters.checkSuppression === true && parameters.suppressedAction === 'output'
			? [{ key: ' suppressed', displayName: 'Suppressed' }]
			: [];
	if (parameters.outputMode !== 'perGroup')
		return [{ key: 'main', displayName: 'Output' }].concat(suppressed);
	const slots: OutputSlot[] = [];
	const seen: Record<string, boolean> = {};
	const selected = Array.isArray(parameters.groups) ? (parameters.groups as string[]) : [];
	for (const id of selected) {
		if (seen[id]) continue;
		seen[id] = true;
		slots.push({ key: id, displayName: labels[id] || id });
	}
	const custom =
		((parameters.customGroups as { values?: Array<{ name?: string }> } | undefined) || {}).values ||
		[];
	for (const g of custom) {
		const name = String(g.name || '')
			.trim()
			.toLowerCase();
		if (!name || seen[name]) continue;
		seen[name] = true;
		slots.push({ key: name, displayName: String(g.name).trim() });
	}
	slots.push({ key: 'other', displayName: 'Other' });
	if (parameters.invalidOutput !== false) slots.push({ key: 'invalid', displayName: 'Invalid' });
	return slots.concat(suppressed);
}
