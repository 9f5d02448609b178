import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
import {
	NodeConnectionTypes,
	Workflow,
	type IConnections,
	type IDataObject,
	type IExecuteFunctions,
	type INode,
	type INodeExecutionData,
	type INodeType,
	type INodeTypes,
	type IRun,
	type IWorkflowExecuteAdditionalData,
} from 'n8n-workflow';

export const PACKAGE = 'n8n-nodes-postal-routes';

/** Items handed to the workflow's "Recipients" stand-in, per node name, for one run. */
const injected = new Map<string, IDataObject[]>();

/** Stand-in for n8n's Manual Trigger: starts the run with one empty item. */
class ManualTrigger implements INodeType {
	description = {
		displayName: 'Manual Trigger',
		name: 'manualTrigger',
		group: ['trigger'],
		version: 1,
		description: '',
		defaults: { name: 'Manual Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	} as INodeType['description'];
	async execute(): Promise<INodeExecutionData[][]> {
		return [[{ json: {} }]];
	}
}

/** Test source: emits the items the test injected for this node's name (the real-world Webhook / Read). */
class InjectedItems implements INodeType {
	description = {
		displayName: 'Injected Items',
		name: 'injectedItems',
		group: ['transform'],
		version: 1,
		description: '',
		defaults: { name: 'Recipients' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	} as INodeType['description'];
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = injected.get(this.getNode().name) ?? [];
		// `$binary: { prop: { base64, fileName, mimeType } }` becomes the item's binary data, kept inline
		// as n8n does in its default (memory) binary mode
		return [
			items.map(({ $binary, ...json }) => {
				if (!$binary) return { json };
				const binary: INodeExecutionData['binary'] = {};
				for (const [prop, b] of Object.entries(
					$binary as Record<string, { base64: string; fileName: string; mimeType: string }>,
				))
					binary[prop] = { data: b.base64, fileName: b.fileName, mimeType: b.mimeType };
				return { json, binary };
			}),
		];
	}
}

/** Stand-in for n8n's No Operation node: passes items through (where examples park Deferred items). */
class NoOp implements INodeType {
	description = {
		displayName: 'No Operation',
		name: 'noOp',
		group: ['organization'],
		version: 1,
		description: '',
		defaults: { name: 'No Operation' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	} as INodeType['description'];
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [this.getInputData()];
	}
}

/** The test stand-ins for n8n's own nodes. */
const standIns: Record<string, INodeType> = {
	'n8n-nodes-base.manualTrigger': new ManualTrigger(),
	'n8n-nodes-base.noOp': new NoOp(),
	'test.injectedItems': new InjectedItems(),
};

/**
 * Our node classes from the TypeScript sources, loaded on first use: a child process that runs
 * only the bundled ones (nodeTypesWith) does not compile every source file (seconds under ts-node).
 */
let sourceNodes: Record<string, INodeType> | undefined;
function fromSources(): Record<string, INodeType> {
	if (!sourceNodes) {
		/* eslint-disable @typescript-eslint/no-require-imports */
		const { DomainGroupClassifier } =
			require('../../nodes/DomainGroupClassifier/DomainGroupClassifier.node') as typeof import('../../nodes/DomainGroupClassifier/DomainGroupClassifier.node');
		const { RoutePartitioner } =
			require('../../nodes/RoutePartitioner/RoutePartitioner.node') as typeof import('../../nodes/RoutePartitioner/RoutePartitioner.node');
		const { LoadBalancedSend } =
			require('../../nodes/LoadBalancedSend/LoadBalancedSend.node') as typeof import('../../nodes/LoadBalancedSend/LoadBalancedSend.node');
		const { PostalBounceParser } =
			require('../../nodes/PostalBounceParser/PostalBounceParser.node') as typeof import('../../nodes/PostalBounceParser/PostalBounceParser.node');
		/* eslint-enable @typescript-eslint/no-require-imports */
		sourceNodes = {
			...standIns,
			[`${PACKAGE}.domainGroupClassifier`]: new DomainGroupClassifier(),
			[`${PACKAGE}.routePartitioner`]: new RoutePartitioner(),
			[`${PACKAGE}.loadBalancedSend`]: new LoadBalancedSend(),
			[`${PACKAGE}.postalBounceParser`]: new PostalBounceParser(),
		};
	}
	return sourceNodes;
}

function typesOf(types: () => Record<string, INodeType>): INodeTypes {
	return {
		getByName: (type: string) => types()[type],
		getByNameAndVersion: (type: string) => {
			const t = types()[type];
			if (!t) throw new Error(`unknown node type ${type}`);
			return t;
		},
		getKnownTypes: () => ({}),
	} as INodeTypes;
}

/** The test stand-ins and our node classes from the sources. */
export const nodeTypes: INodeTypes = typesOf(fromSources);

/** The test stand-ins plus the given node classes (e.g. the bundled ones from dist/) under our type names. */
export function nodeTypesWith(ours: Record<string, INodeType>): INodeTypes {
	const types: Record<string, INodeType> = { ...standIns };
	for (const [name, type] of Object.entries(ours)) types[`${PACKAGE}.${name}`] = type;
	return typesOf(() => types);
}

export interface WorkflowJson {
	id?: string;
	name?: string;
	nodes: INode[];
	connections: IConnections;
	settings?: IDataObject;
}

export function loadWorkflow(name: string): WorkflowJson {
	return JSON.parse(
		readFileSync(join(__dirname, '..', 'workflows', `${name}.json`), 'utf8'),
	) as WorkflowJson;
}

export interface RunResult {
	run: IRun;
	/** a node's output items per output index, for one run of the node (the first by default) */
	outputs(node: string, runIndex?: number): INodeExecutionData[][];
	/** a node's output items per output index, over all its runs (a node fed by two branches runs twice) */
	allOutputs(node: string): INodeExecutionData[][];
	/** the error of the run, if any */
	error?: Error;
}

/** Credential data by credential id (or by type), as n8n would decrypt it, for one run. */
let credentialData: Record<string, IDataObject> = {};

const credentialsHelper = {
	getDecrypted: async (_data: unknown, nodeCredentials: { id?: string | null }, type: string) => {
		const data =
			(nodeCredentials.id ? credentialData[nodeCredentials.id] : undefined) ?? credentialData[type];
		if (!data)
			throw new Error(`the test gave no credential data for ${nodeCredentials.id ?? type}`);
		return data;
	},
	getParentTypes: () => [],
	authenticate: async (_c: unknown, _t: string, request: unknown) => request,
	preAuthentication: async () => undefined,
	getCredentials: async () => {
		throw new Error('not used');
	},
	updateCredentials: async () => undefined,
	updateCredentialsOauthTokenData: async () => undefined,
	getCredentialsProperties: () => [],
	isCredentialUsableByNode: async () => true,
};

function additionalData(
	hooks: ExecutionLifecycleHooks,
	executionId: string,
	variables: IDataObject = {},
): IWorkflowExecuteAdditionalData {
	const base = 'http://localhost:5678';
	return {
		hooks,
		// n8n's runner sets it: a node's getExecutionId() reads it from here
		executionId,
		credentialsHelper: credentialsHelper as never,
		executeWorkflow: async () => {
			throw new Error('sub-workflows are not used in these tests');
		},
		getRunExecutionData: async () => undefined,
		currentNodeExecutionIndex: 0,
		restApiUrl: `${base}/rest`,
		instanceBaseUrl: `${base}/`,
		formBaseUrl: `${base}/form`,
		formTestBaseUrl: `${base}/form-test`,
		formWaitingBaseUrl: `${base}/form-waiting`,
		webhookBaseUrl: `${base}/webhook`,
		webhookWaitingBaseUrl: `${base}/webhook-waiting`,
		webhookTestBaseUrl: `${base}/webhook-test`,
		mcpBaseUrl: `${base}/mcp`,
		mcpTestBaseUrl: `${base}/mcp-test`,
		variables,
		logAiEvent: () => undefined,
	} as unknown as IWorkflowExecuteAdditionalData;
}

let executionCounter = 0;

/**
 * Runs workflow JSON through n8n-core's WorkflowExecute with our real node classes, as n8n does
 * for a manual execution, and returns every node's output. `credentials` maps a credential id (as
 * referenced by the workflow's nodes) or a type to its data; `variables` are the instance's
 * variables (`$vars`); `executionId` names the execution (default: a counter from 1 per process):
 * processes that share a state store give theirs distinct ids, as n8n's executions have.
 */
export async function runWorkflow(
	json: WorkflowJson,
	inputs: Record<string, IDataObject[]> = {},
	options: {
		credentials?: Record<string, IDataObject>;
		nodeTypes?: INodeTypes;
		executionId?: string;
		variables?: IDataObject;
	} = {},
): Promise<RunResult> {
	injected.clear();
	credentialData = options.credentials ?? {};
	for (const [node, items] of Object.entries(inputs)) injected.set(node, items);
	const workflow = new Workflow({
		id: json.id ?? 'test-workflow',
		name: json.name ?? 'test',
		nodes: json.nodes,
		connections: json.connections,
		active: false,
		nodeTypes: options.nodeTypes ?? nodeTypes,
		settings: json.settings ?? {},
	});
	const start = json.nodes.find((n) => n.type === 'n8n-nodes-base.manualTrigger');
	if (!start) throw new Error('the workflow needs a Manual Trigger');
	const executionId = options.executionId ?? String(++executionCounter);
	const hooks = new ExecutionLifecycleHooks('manual', executionId, {
		...json,
		id: workflow.id,
		active: false,
	} as never);
	const run = await new WorkflowExecute(
		additionalData(hooks, executionId, options.variables),
		'manual',
	).run({
		workflow,
		startNode: workflow.getNode(start.name)!,
	});
	const error = run.data.resultData.error as Error | undefined;
	return {
		run,
		error,
		outputs(node: string, runIndex = 0) {
			const task = run.data.resultData.runData[node]?.[runIndex];
			if (!task) throw new Error(`node "${node}" did not run${error ? `: ${error.message}` : ''}`);
			return (task.data?.main ?? []).map((o) => o ?? []);
		},
		allOutputs(node: string) {
			const tasks = run.data.resultData.runData[node] ?? [];
			if (tasks.length === 0)
				throw new Error(`node "${node}" did not run${error ? `: ${error.message}` : ''}`);
			const merged: INodeExecutionData[][] = [];
			for (const task of tasks)
				(task.data?.main ?? []).forEach((o, k) => (merged[k] ??= []).push(...(o ?? [])));
			return merged;
		},
	};
}

/** Switches a node to the Redis state store with a credential reference, in a copy of the workflow. */
export function withRedisState(
	json: WorkflowJson,
	node: string,
	extra: IDataObject = {},
): WorkflowJson {
	const copy = withParameters(json, node, { stateStore: 'redis', ...extra });
	const n = copy.nodes.find((x) => x.name === node)!;
	n.credentials = { ...n.credentials, postalRedis: { id: 'redis-1', name: 'Test Redis' } };
	return copy;
}

/** Replaces a node's parameters in a copy of the workflow. */
export function withParameters(json: WorkflowJson, node: string, patch: IDataObject): WorkflowJson {
	const copy = JSON.parse(JSON.stringify(json)) as WorkflowJson;
	const n = copy.nodes.find((x) => x.name === node);
	if (!n) throw new Error(`no node ${node}`);
	n.parameters = { ...n.parameters, ...patch } as INode['parameters'];
	return copy;
}
