import type { IExecuteFunctions, ITriggerFunctions, IWebhookFunctions } from 'n8n-workflow';

/**
 * The shared node helpers (parameters, state store) take an execute context; a webhook context
 * (and a trigger's) has the same calls but reads a parameter without an item index. This view gives them exactly
 * what they use — getNode, getNodeParameter (item 0 = the node's value), getCredentials — and
 * nothing else, so a helper that needs more fails loudly in the tests instead of guessing.
 */
export function executeView(ctx: IWebhookFunctions | ITriggerFunctions): IExecuteFunctions {
	const view = {
		getNode: () => ctx.getNode(),
		getNodeParameter: (name: string, _itemIndex: number, fallback?: unknown) =>
			ctx.getNodeParameter(name, fallback),
		getCredentials: (type: string) => ctx.getCredentials(type),
	};
	return view as unknown as IExecuteFunctions;
}
