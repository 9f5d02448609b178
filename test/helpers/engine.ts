import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
import {
	DATA_TABLE_SYSTEM_COLUMNS,
	NodeConnectionTypes,
	NodeOperationError,
	tryToParseDateTime,
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

/**
 * Stand-in for n8n's Edit Fields (Set) v3.3+ in manual mode: the assignments (n8n-core evaluates
 * their expressions), converted to their type, added to the item's fields when Include Other
 * Fields is on (n8n-nodes-base's SetV2 prepareReturnItem, without dot notation or binary fields).
 */
class EditFields implements INodeType {
	description = {
		displayName: 'Edit Fields (Set)',
		name: 'set',
		group: ['input'],
		version: [3.3, 3.4],
		description: '',
		defaults: { name: 'Edit Fields' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{
				displayName: 'Fields to Set',
				name: 'assignments',
				type: 'assignmentCollection',
				default: {},
			},
			{
				displayName: 'Include Other Fields',
				name: 'includeOtherFields',
				type: 'boolean',
				default: false,
			},
			{ displayName: 'Options', name: 'options', type: 'collection', default: {}, options: [] },
		],
	} as unknown as INodeType['description'];
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [
			this.getInputData().map((item, i) => {
				const { assignments = [] } = this.getNodeParameter('assignments', i) as {
					assignments?: Array<{ name: string; type: string; value: unknown }>;
				};
				const json: IDataObject = this.getNodeParameter('includeOtherFields', i, false)
					? (JSON.parse(JSON.stringify(item.json)) as IDataObject)
					: {};
				for (const { name, type, value } of assignments) {
					const v = type === 'number' ? Number(value) : type === 'string' ? String(value) : value;
					if (type === 'number' && Number.isNaN(v))
						throw new NodeOperationError(
							this.getNode(),
							`'${name}' expects a number but we got '${String(value)}'`,
							{ itemIndex: i },
						);
					json[name] = v as IDataObject[string];
				}
				return { json, pairedItem: { item: i } };
			}),
		];
	}
}

/**
 * Stand-in for n8n's If v2: the Conditions are a `filter` parameter, which n8n-core itself
 * evaluates for `extractValue` (as the real IfV2 node reads it); true items on output 0, false on 1.
 */
class If implements INodeType {
	description = {
		displayName: 'If',
		name: 'if',
		group: ['transform'],
		version: [2, 2.1, 2.2],
		description: '',
		defaults: { name: 'If' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		properties: [
			{
				displayName: 'Conditions',
				name: 'conditions',
				type: 'filter',
				default: {},
				typeOptions: { filter: { caseSensitive: true, typeValidation: 'strict', version: 2 } },
			},
			{ displayName: 'Options', name: 'options', type: 'collection', default: {}, options: [] },
		],
	} as unknown as INodeType['description'];
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const pass: INodeExecutionData[] = [];
		const fail: INodeExecutionData[] = [];
		this.getInputData().forEach((item, i) => {
			const ok = this.getNodeParameter('conditions', i, false, { extractValue: true }) as boolean;
			(ok ? pass : fail).push({ ...item, pairedItem: item.pairedItem ?? { item: i } });
		});
		return [pass, fail];
	}
}

/**
 * Stand-in for n8n's Wait node, Resume: At Specified Time (n8n-nodes-base Wait.node.js): one time
 * for the whole batch, read for item 0 and parsed in the workflow's zone; a wait under 65 s stays
 * in the process (a timer), a longer one would put the execution to wait in n8n's database, which
 * this harness has not got. The clock is Date.now, so a test can move it.
 */
class Wait implements INodeType {
	description = {
		displayName: 'Wait',
		name: 'wait',
		group: ['organization'],
		version: [1, 1.1],
		description: '',
		defaults: { name: 'Wait' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{
				displayName: 'Resume',
				name: 'resume',
				type: 'options',
				options: [],
				default: 'timeInterval',
			},
			{ displayName: 'Date and Time', name: 'dateTime', type: 'dateTime', default: '' },
		],
	} as unknown as INodeType['description'];
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		if (this.getNodeParameter('resume', 0) !== 'specificTime')
			throw new Error('the Wait stand-in only resumes at a specific time');
		let waitTill: number;
		try {
			waitTill = tryToParseDateTime(this.getNodeParameter('dateTime', 0), this.getTimezone())
				.toUTC()
				.toMillis();
		} catch {
			throw new NodeOperationError(
				this.getNode(),
				'Cannot put execution to wait because `dateTime` parameter is not a valid date. Please pick a specific date and time to wait until.',
			);
		}
		const waitMs = Math.max(waitTill - Date.now(), 0);
		if (waitMs >= 65_000)
			throw new Error(`the Wait stand-in waits in the process only (under 65 s), not ${waitMs} ms`);
		waits.push({ node: this.getNode().name, until: waitTill, ms: waitMs });
		await new Promise((resolve) => setTimeout(resolve, waitMs));
		return [this.getInputData()];
	}
}

/** Each Wait stand-in's wait in this run: its node, the time it resumed at, how long it waited. */
export const waits: Array<{ node: string; until: number; ms: number }> = [];

/** The data tables the Data Table stand-in writes to, by name: create one before a run. */
export const dataTables = new Map<string, IDataObject[]>();

/**
 * Stand-in for n8n's Data Table node, Row › Insert (n8n-nodes-base DataTable): the table found by
 * name (or id = name here), failing as n8n does when there is none (or, with On Error: Continue,
 * passing the items on with the error); the row is the Columns
 * mapping (Define Below, evaluated per item by n8n-core) or the item's fields (Map Automatically);
 * the inserted rows come out with n8n's system columns.
 */
class DataTable implements INodeType {
	description = {
		displayName: 'Data table',
		name: 'dataTable',
		group: ['input', 'transform'],
		version: [1, 1.1],
		description: '',
		defaults: { name: 'Data table' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{ displayName: 'Resource', name: 'resource', type: 'options', options: [], default: 'row' },
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				options: [],
				default: 'insert',
			},
			{
				displayName: 'Data table',
				name: 'dataTableId',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				modes: [],
			},
			{
				displayName: 'Columns',
				name: 'columns',
				type: 'resourceMapper',
				default: { mappingMode: 'defineBelow', value: null },
				noDataExpression: true,
			},
		],
	} as unknown as INodeType['description'];
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		if (
			this.getNodeParameter('resource', 0) !== 'row' ||
			this.getNodeParameter('operation', 0) !== 'insert'
		)
			throw new Error('the Data Table stand-in only inserts rows');
		const items = this.getInputData();
		const locator = this.getNodeParameter('dataTableId', 0) as { value: string };
		const table = dataTables.get(String(locator.value).toLowerCase());
		if (!table) {
			const error = new NodeOperationError(
				this.getNode(),
				`Data table with name "${locator.value}" not found`,
			);
			// On Error: Continue: the items go on, each with the error (as the real node's bulk insert)
			if (this.continueOnFail()) return [items.map((item) => ({ json: item.json, error }))];
			throw error;
		}
		return [
			items.map((item, i) => {
				const mode = this.getNodeParameter('columns.mappingMode', i) as string;
				const row: IDataObject =
					mode === 'autoMapInputData'
						? { ...item.json }
						: { ...(this.getNodeParameter('columns.value', i, {}) as IDataObject) };
				for (const c of DATA_TABLE_SYSTEM_COLUMNS) delete row[c];
				const now = new Date().toISOString();
				const stored = { id: table.length + 1, ...row, createdAt: now, updatedAt: now };
				table.push(stored);
				return { json: stored, pairedItem: { item: i } };
			}),
		];
	}
}

/** The test stand-ins for n8n's own nodes. */
const standIns: Record<string, INodeType> = {
	'n8n-nodes-base.manualTrigger': new ManualTrigger(),
	'n8n-nodes-base.noOp': new NoOp(),
	'n8n-nodes-base.set': new EditFields(),
	'n8n-nodes-base.if': new If(),
	'n8n-nodes-base.wait': new Wait(),
	'n8n-nodes-base.dataTable': new DataTable(),
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
		const { PostalOperations } =
			require('../../nodes/PostalOperations/PostalOperations.node') as typeof import('../../nodes/PostalOperations/PostalOperations.node');
		/* eslint-enable @typescript-eslint/no-require-imports */
		sourceNodes = {
			...standIns,
			[`${PACKAGE}.domainGroupClassifier`]: new DomainGroupClassifier(),
			[`${PACKAGE}.routePartitioner`]: new RoutePartitioner(),
			[`${PACKAGE}.loadBalancedSend`]: new LoadBalancedSend(),
			[`${PACKAGE}.postalBounceParser`]: new PostalBounceParser(),
			[`${PACKAGE}.postalOperations`]: new PostalOperations(),
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
	waits.length = 0;
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
