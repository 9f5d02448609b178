import {
	NodeOperationError,
	type ICredentialTestFunctions,
	type ICredentialsDisplayOptions,
	type ICredentialsDecrypted,
	type IExecuteFunctions,
	type INodeCredentialDescription,
	type INodeCredentialTestResult,
	type INodeProperties,
	type NodeParameterValue,
} from 'n8n-workflow';
import {
	parseN8nRedisCredential,
	parseRedisCredential,
	redisStateStoreFor,
} from '../../lib/state/connection';
import { withLocalFallback } from '../../lib/state/fallback';
import { RedisStateStore, type RedisConnection } from '../../lib/state/redis';
import { embeddedStateInfo, embeddedStateStore } from '../../lib/state/registry';
import { StateUnavailableError, type StateStore } from '../../lib/state/types';
import { nodeParameter } from './parameters';

export const REDIS_CREDENTIAL = 'postalRedis';
/** n8n's own Redis credential type (n8n-nodes-base) */
export const N8N_REDIS_CREDENTIAL = 'redis';
export const REDIS_TEST = 'postalRedisConnectionTest';
const REDIS_CREDENTIAL_TYPE = 'redisCredentialType';

/**
 * Which Redis credential the node reads. Version 1 nodes default to ours (what they were saved
 * with); later versions to n8n's own, the one its Redis node uses.
 */
const redisCredentialTypeProperty = (version: 1 | 2): INodeProperties => ({
	displayName: 'Redis Credential Type',
	name: REDIS_CREDENTIAL_TYPE,
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Built-In Redis Credential',
			value: 'n8n',
			description:
				'The one n8n’s Redis node uses: one server, keys under postal:, the default 5 s command timeout',
		},
		{
			name: 'Postal Routes Redis Credential',
			value: 'postalRoutes',
			description: 'Adds Sentinel and Cluster, a key prefix of your own and a command timeout',
		},
	],
	default: 'n8n',
	// after `default` on purpose: it replaces it for version 1
	...(version === 1 ? { default: 'postalRoutes' } : {}),
	displayOptions: {
		show: {
			stateStore: ['redis'],
			'@version': version === 1 ? [1] : [{ _cnd: { gte: 2 } }],
		},
	},
});

/**
 * Where a Redis credential of one type is shown, with `hide` only: a credential that names a
 * parameter in `show` makes n8n's editor treat that parameter as the node's authentication
 * selector and take it out of the panel (see the send node's credentials.ts). `alsoHiddenWhen`: a
 * node's own conditions under which it needs no state (the Bounce Parser without a suppression list).
 */
export function redisShownFor(
	kind: 'n8n' | 'postalRoutes',
	alsoHiddenWhen: Record<string, NodeParameterValue[]> = {},
): ICredentialsDisplayOptions {
	return {
		hide: {
			stateStore: ['memory'],
			[REDIS_CREDENTIAL_TYPE]: [kind === 'n8n' ? 'postalRoutes' : 'n8n'],
			...alsoHiddenWhen,
		},
	};
}

/** The Redis credentials of a Postal Routes node: n8n's own and ours. */
export function redisCredentialsFor(
	alsoHiddenWhen: Record<string, NodeParameterValue[]> = {},
): INodeCredentialDescription[] {
	return [
		{
			name: N8N_REDIS_CREDENTIAL,
			required: true,
			testedBy: REDIS_TEST,
			displayOptions: redisShownFor('n8n', alsoHiddenWhen),
		},
		{
			name: REDIS_CREDENTIAL,
			required: true,
			testedBy: REDIS_TEST,
			displayOptions: redisShownFor('postalRoutes', alsoHiddenWhen),
		},
	];
}

export const redisCredentials = redisCredentialsFor();

/** The node parameters that choose where routing state lives. */
export const stateProperties: INodeProperties[] = [
	{
		displayName: 'State Store',
		name: 'stateStore',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Embedded (File, Kept Across Restarts)',
				value: 'memory',
				description:
					'Nothing to set up: state is kept in a file in the n8n user folder (.n8n/postal-routes-state.sqlite), so it survives restarts. For one n8n process; several processes or workers need Redis.',
			},
			{
				name: 'Redis (Shared by All Workers)',
				value: 'redis',
				description: 'Needed for queue mode: every worker sees the same counters, caps and health',
			},
		],
		default: 'memory',
	},
	redisCredentialTypeProperty(2),
	redisCredentialTypeProperty(1),
	// the Redis credential selector right under the choices that call for it, as a user reads; a
	// node with a selector placeholder of its own further up (the send node) draws it there
	{
		displayName: '',
		name: 'redisCredentials',
		type: 'credentials',
		default: '',
		displayOptions: { show: { stateStore: ['redis'] } },
	},
	{
		displayName: 'Continue on Local State if Redis Is Down',
		name: 'continueOnLocalState',
		type: 'boolean',
		default: false,
		displayOptions: { show: { stateStore: ['redis'] } },
		description:
			'Whether to keep routing on this process’s own state when Redis cannot be reached. Off: the node stops with an error, so nothing goes out beyond what the shared state recorded.',
	},
];

export interface NodeState {
	store: StateStore;
	/** true once a call fell back to local state */
	readonly usedFallback: boolean;
}

/** The message for a state store that cannot be reached: what happened and what to do. */
export function stateUnavailableMessage(error: Error, what: string): string {
	// the embedded store's messages already say what to do (the Redis advice is for Redis)
	if (error instanceof StateUnavailableError && error.store === 'sqlite')
		return `${error.message} ${what}`;
	return `${error.message}. ${what} Check the node's Redis credential, or turn on "Continue on Local State if Redis Is Down".`;
}

/** The store for this execution: the embedded one, or Redis from the node's credential. */
export async function stateFor(ctx: IExecuteFunctions): Promise<NodeState> {
	if (nodeParameter(ctx, stateProperties, 'stateStore') !== 'redis') {
		const store = embeddedStateStore();
		hintIfMemoryOnly(ctx);
		return { store, usedFallback: false };
	}
	const type =
		ctx.getNodeParameter(REDIS_CREDENTIAL_TYPE, 0, 'postalRoutes') === 'n8n'
			? N8N_REDIS_CREDENTIAL
			: REDIS_CREDENTIAL;
	const data = await ctx.getCredentials(type);
	let store: StateStore;
	try {
		store = redisStateStoreFor(redisConnectionOf(type, data));
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), (error as Error).message);
	}
	if (!nodeParameter(ctx, stateProperties, 'continueOnLocalState'))
		return { store, usedFallback: false };
	const wrapped = withLocalFallback(store, embeddedStateStore());
	return {
		store: wrapped,
		get usedFallback() {
			return wrapped.usedFallback;
		},
	};
}

/**
 * Says so on the run when the embedded state file could not be used (state is then lost on
 * restart): a folder or file to fix. A Node without node:sqlite is not a fault of the set-up, and a
 * warning on every run would be noise: embeddedStateInfo() still says why.
 */
function hintIfMemoryOnly(ctx: IExecuteFunctions): void {
	const info = embeddedStateInfo();
	if (info.kind === 'memory' && info.file && info.reason)
		ctx.addExecutionHints?.({
			message: `Embedded state store: ${info.reason}`,
			type: 'warning',
			location: 'outputPane',
		});
}

/** The connection a Redis credential of either type describes. */
function redisConnectionOf(type: string, data: unknown): RedisConnection {
	return type === N8N_REDIS_CREDENTIAL ? parseN8nRedisCredential(data) : parseRedisCredential(data);
}

/** The credential test: connect, PING, disconnect. The message names the server, never the password. */
export async function testRedisCredential(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	let store: RedisStateStore | undefined;
	try {
		const connection = {
			...redisConnectionOf(credential.type, credential.data),
			connectTimeoutMs: 5000,
		};
		store = new RedisStateStore(connection);
		const pong = await store.ping();
		return pong === 'PONG'
			? { status: 'OK', message: 'Connected: Redis answered PING' }
			: { status: 'Error', message: `Unexpected answer to PING: ${pong}` };
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	} finally {
		await store?.close();
	}
}
