/**
 * The reputation scenario's workflow and its sinks, shared by the in-process test and its child
 * processes (Redis, several workers): Classifier (one output) → Route Partitioner 50/50 over
 * Relay A and Relay B → a Load-Balanced Send per route, each on its own SMTP sink. Relay A's sink
 * answers Yahoo recipients with Yahoo's real TSS04 deferral while `yahooDeferred` says so.
 */
import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';
import type { WorkflowJson } from '../helpers/engine';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

export const TSS04 =
	'4.7.0 [TSS04] Messages from 127.0.0.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes';

export const smtpCredential = (port: number) => ({
	host: '127.0.0.1',
	port,
	security: 'none',
	user: '',
	password: '',
	poolSize: 2,
});

/** Relay A's sink (Yahoo deferred while the flag is on) and Relay B's (takes everything). */
export async function startSinks(flag: { yahooDeferred: boolean }): Promise<[SmtpSink, SmtpSink]> {
	const a = await startSmtpSink({
		reply: (ctx) =>
			ctx.phase === 'rcpt' && flag.yahooDeferred && /@yahoo\./i.test(ctx.rcpt)
				? { code: 421, message: TSS04 }
				: undefined,
	});
	const b = await startSmtpSink();
	return [a, b];
}

/** `reputationRules`: Send A's Reputation Rules option (e.g. a short suspension for the test). */
export function reputationWorkflow(
	options: { reputationRules?: string; redis?: boolean; sendOptions?: IDataObject } = {},
): WorkflowJson {
	const state = options.redis ? { stateStore: 'redis' } : {};
	const redisCred: Record<string, { id: string; name: string }> = options.redis
		? { postalRedis: { id: 'redis-1', name: 'Redis' } }
		: {};
	const send = (name: string, route: string, cred: string, rules?: string) => ({
		id: name,
		name,
		type: 'n8n-nodes-postal-routes.loadBalancedSend',
		typeVersion: 1,
		position: [800, 0] as [number, number],
		parameters: {
			provider: 'smtp',
			from: 'Shop <news@shop.example>',
			subject: 'Winter sale',
			text: 'Hi there',
			...state,
			options: {
				retryBaseMs: 5,
				retryMaxMs: 20,
				maxAttempts: 2,
				...(rules ? { reputationRules: rules } : {}),
				...options.sendOptions,
			},
		} as INodeParameters,
		credentials: { postalSmtp: { id: cred, name: route }, ...redisCred },
	});
	return {
		nodes: [
			{
				id: 'trigger',
				name: 'Manual Trigger',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'recipients',
				name: 'Recipients',
				type: 'test.injectedItems',
				typeVersion: 1,
				position: [200, 0],
				parameters: {},
			},
			{
				id: 'classifier',
				name: 'Classify Domains',
				type: 'n8n-nodes-postal-routes.domainGroupClassifier',
				typeVersion: 1,
				position: [400, 0],
				parameters: { outputMode: 'addFields', ...state },
				...(options.redis ? { credentials: redisCred } : {}),
			},
			{
				id: 'split',
				name: 'Split',
				type: 'n8n-nodes-postal-routes.routePartitioner',
				typeVersion: 1,
				position: [600, 0],
				parameters: {
					mode: 'percentage',
					campaignId: 'winter',
					routes: {
						values: [
							{ name: 'Relay A', percentage: 50 },
							{ name: 'Relay B', percentage: 50 },
						],
					},
					...state,
				},
				...(options.redis ? { credentials: redisCred } : {}),
			},
			send('Send A', 'Relay A', 'smtp-a', options.reputationRules),
			send('Send B', 'Relay B', 'smtp-b'),
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: 'Classify Domains', type: 'main', index: 0 }]] },
			'Classify Domains': { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
			Split: {
				main: [
					[{ node: 'Send A', type: 'main', index: 0 }],
					[{ node: 'Send B', type: 'main', index: 0 }],
				],
			},
		},
	};
}

/**
 * n Yahoo recipients, then n Gmail ones, tagged so runs never share an address. (One partitioner
 * routes both groups on one class sequence: interleaved one by one, every Yahoo item would meet
 * the same route's turn.)
 */
export function people(n: number, tag: string): IDataObject[] {
	const out: IDataObject[] = [];
	for (let i = 0; i < n; i++) out.push({ email: `y${tag}-${i}@yahoo.com` });
	for (let i = 0; i < n; i++) out.push({ email: `g${tag}-${i}@gmail.com` });
	return out;
}

export const delivery = (i: INodeExecutionData) => i.json.postalDelivery as IDataObject;
export const assigned = (i: INodeExecutionData) => i.json.postalRoute as IDataObject;
export const isYahoo = (i: INodeExecutionData) => /@yahoo\./.test(String(i.json.email));
