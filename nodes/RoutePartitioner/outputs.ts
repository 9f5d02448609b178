import type { INodeParameters } from 'n8n-workflow';

/**
 * "One output per route" mode: every route in list order (named after it), then Deferred. Turned
 * into source text for the node's `outputs` expression, so it stays self-contained.
 */
export function partitionerOutputs(parameters: INodeParameters): string[] {
	if (parameters.outputMode === 'fields') return ['Output'];
	const routes =
		((parameters.routes as { values?: Array<{ name?: string }> } | undefined) || {}).values || [];
	const names = routes.map((r, i) => String(r.name || '').trim() || 'Route ' + (i + 1));
	names.push('Deferred');
	return names;
}
