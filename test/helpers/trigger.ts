/**
 * A polling trigger node activated as n8n activates it: its node in a workflow, trigger() called
 * in n8n-core's own TriggerContext, what it emits collected. For the Postal Alert Trigger from the
 * sources and from the bundled dist/.
 */
import { TriggerContext } from 'n8n-core';
import {
	Workflow,
	type IDataObject,
	type INode,
	type INodeExecutionData,
	type INodeType,
	type ITriggerResponse,
	type IWorkflowExecuteAdditionalData,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

export interface Activation {
	emitted: INodeExecutionData[][];
	response: ITriggerResponse;
}

export async function activateTrigger(
	nodeType: INodeType,
	node: Pick<INode, 'name' | 'type'> & Partial<INode>,
	credentials: Record<string, IDataObject> = {},
	mode: WorkflowExecuteMode = 'trigger',
	workflowId = 'triggerWorkflow',
): Promise<Activation> {
	const full: INode = {
		id: 'trigger-node-1',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
		...node,
	};
	const workflow = new Workflow({
		id: workflowId,
		name: 'trigger',
		nodes: [full],
		connections: {},
		active: true,
		nodeTypes: {
			getByName: () => nodeType,
			getByNameAndVersion: () => nodeType,
			getKnownTypes: () => ({}),
		} as never,
		settings: {},
	});
	const additionalData = {
		credentialsHelper: {
			getDecrypted: async (_a: unknown, _n: unknown, type: string) => credentials[type],
			getParentTypes: () => [],
			getCredentialsProperties: () => [],
			isCredentialUsableByNode: async () => true,
		},
		variables: {},
	} as unknown as IWorkflowExecuteAdditionalData;
	const emitted: INodeExecutionData[][] = [];
	const context = new TriggerContext(
		workflow,
		workflow.getNode(full.name)!,
		additionalData,
		mode,
		'activate',
		(data) => emitted.push(data[0]),
	);
	const response = await nodeType.trigger!.call(context);
	if (!response) throw new Error(`${full.name}: trigger() gave no response`);
	return { emitted, response };
}

/** Waits until `check` holds, polling every 50 ms, for at most `ms`. */
export async function until(check: () => boolean, ms = 8000): Promise<void> {
	const end = Date.now() + ms;
	while (!check()) {
		if (Date.now() > end) throw new Error('timed out');
		await new Promise((r) => setTimeout(r, 50));
	}
}
