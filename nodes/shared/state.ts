import {
	NodeOperationError,
	type ICredentialTestFunctions,
	type ICredentialsDecrypted,
	type IExecuteFunctions,
	type INodeCredentialTestResult,
	type INodeProperties,
} from 'n8n-workflow';
import { parseRedisCredential, redisStateStoreFor } from '../../lib/state/connection';
import { withLocalFallback } from '../../lib/state/fallback';
import { RedisStateStore } from '../../lib/state/redis';
import { embeddedStateStore } from '../../lib/state/registry';
import type { StateStore } from '../../lib/state/types';
import { nodeParameter } from './parameters';

export const REDIS_CREDENTIAL = 'postalRedis';
export const REDIS_TEST = 'postalRedisConnectionTest';

/** The node parameters that choose where routing state lives. */
export const stateProperties: INodeProperties[] = [
	{
		displayName: 'State Store',
		name: 'stateStore',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Embedded (This Process)',
				value: 'memory',
				description: 'Nothing to set up; state is per n8n process',
			},
			{
				name: 'Redis (Shared by All Workers)',
				value: 'redis',
				description: 'Needed for queue mode: every worker sees the same counters, caps and health',
			},
		],
		default: 'memory',
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
	return `${error.message}. ${what} Check the Postal Routes Redis credential, or turn on "Continue on Local State if Redis Is Down".`;
}

/** The store for this execution: the embedded one, or Redis from the node's credential. */
export async function stateFor(ctx: IExecuteFunctions): Promise<NodeState> {
	if (nodeParameter(ctx, stateProperties, 'stateStore') !== 'redis')
		return { store: embeddedStateStore(), usedFallback: false };
	let store: StateStore;
	try {
		store = redisStateStoreFor(parseRedisCredential(await ctx.getCredentials(REDIS_CREDENTIAL)));
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

/** The credential test: connect, PING, disconnect. The message names the server, never the password. */
export async function testRedisCredential(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	let store: RedisStateStore | undefined;
	try {
		const connection = { ...parseRedisCredential(credential.data), connectTimeoutMs: 5000 };
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
