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
import { embeddedStateInfo, embeddedStateStore } from '../../lib/state/registry';
import { StateUnavailableError, type StateStore } from '../../lib/state/types';
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
	return `${error.message}. ${what} Check the Postal Routes Redis credential, or turn on "Continue on Local State if Redis Is Down".`;
}

/** The store for this execution: the embedded one, or Redis from the node's credential. */
export async function stateFor(ctx: IExecuteFunctions): Promise<NodeState> {
	if (nodeParameter(ctx, stateProperties, 'stateStore') !== 'redis') {
		const store = embeddedStateStore();
		hintIfMemoryOnly(ctx);
		return { store, usedFallback: false };
	}
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
