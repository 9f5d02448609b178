/**
 * One "n8n process" for test/integration/killResend.test.ts: runs executions of
 * Recipients → Load-Balanced Send through the n8n engine with the BUNDLED node classes from dist/,
 * against the SMTP sink (and Redis) of the parent, which outlive it: the parent SIGKILLs it mid-send
 * and runs the same campaign again in a fresh one.
 *
 * Run as `node -r ts-node/register test/integration/sendChild.ts` with an IPC channel and the job as
 * JSON in POSTAL_SEND_JOB. It loads everything and says `ready`; then each `go` runs one execution
 * (its id and "If a Send Was Interrupted" in the message, so a run starts the moment the parent wants
 * it, not a module load later) and sends its result back; `exit` ends it.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { WorkflowJson } from '../helpers/engine';

export interface SendJob {
	/** the workflow id, which is the campaign (no partitioner in front) */
	workflowId: string;
	/** the recipients are recipients(total, seed), the same in every run */
	total: number;
	seed: number;
	smtpPort: number;
	/** the SMTP credential's pool */
	poolSize: number;
	messagesPerConnection: number;
	/** embedded: the SQLite file in the n8n folder where node:sqlite exists, else memory */
	store: 'embedded' | 'redis';
	redis?: { port: number; keyPrefix: string };
	/** N8N_USER_FOLDER: where n8n-core writes its config (and the embedded store its SQLite file) */
	userFolder: string;
	/** the send node's Options collection: concurrency, leaseSeconds, rateLimit, … */
	options: IDataObject;
}

/** One execution: its n8n execution id (later runs name it in skip.by / resentAfter.by) and policy. */
export interface Go {
	executionId: string;
	inDoubt: 'resend' | 'skip';
}

/** One output item, as the parent needs it. */
export interface ItemResult {
	rcpt: string;
	status: string;
	skip?: { reason: string; since?: string; by?: string; leaseUntil?: string };
	resentAfter?: { since: string; by: string };
	error?: string;
}

export interface SendResult {
	/** the execution's error, if it failed */
	error?: string;
	/** Sent, Failed, Fallback, Skipped */
	outputs: [ItemResult[], ItemResult[], ItemResult[], ItemResult[]];
	/** from `go` to the end of the execution */
	ms: number;
	/** the embedded store: where the bundled nodes kept their state */
	embedded?: { kind: 'sqlite' | 'memory'; file?: string; reason?: string };
}

export type ChildMessage = { ready: true } | { result: SendResult } | { failed: string };
export type ParentMessage = { go: Go } | { exit: true };

export const SEND_NODE = 'Send';

/** The workflow: Manual Trigger → Recipients (injected) → Send. */
export function killWorkflow(job: SendJob, go: Go): WorkflowJson {
	return {
		id: job.workflowId,
		name: 'kill -9 and re-run',
		nodes: [
			{
				id: 'trigger',
				name: 'Manual Trigger',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0] as [number, number],
				parameters: {},
			},
			{
				id: 'recipients',
				name: 'Recipients',
				type: 'test.injectedItems',
				typeVersion: 1,
				position: [200, 0] as [number, number],
				parameters: {},
			},
			{
				id: 'send',
				name: SEND_NODE,
				type: 'n8n-nodes-postal-routes.loadBalancedSend',
				typeVersion: 1,
				position: [400, 0] as [number, number],
				parameters: {
					provider: 'smtp',
					from: 'Shop <news@shop.example>',
					subject: "={{ 'Hello ' + $json.email }}",
					text: 'Hi there',
					stateStore: job.store === 'redis' ? 'redis' : 'memory',
					options: { ...job.options, inDoubt: go.inDoubt },
				} as IDataObject as WorkflowJson['nodes'][number]['parameters'],
				credentials: {
					postalSmtp: { id: 'smtp-1', name: 'Sink' },
					...(job.store === 'redis' ? { postalRedis: { id: 'redis-1', name: 'Redis' } } : {}),
				},
			},
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: SEND_NODE, type: 'main', index: 0 }]] },
		},
	};
}

function itemResult(item: INodeExecutionData): ItemResult {
	const d = item.json.postalDelivery as IDataObject;
	return {
		rcpt: (d.recipients as string[])[0],
		status: d.status as string,
		...(d.skip ? { skip: d.skip as ItemResult['skip'] } : {}),
		...(d.resentAfter ? { resentAfter: d.resentAfter as ItemResult['resentAfter'] } : {}),
		...(d.error ? { error: d.error as string } : {}),
	};
}

const send = (m: ChildMessage) =>
	new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve()));

async function main(): Promise<void> {
	const job = JSON.parse(process.env.POSTAL_SEND_JOB ?? '') as SendJob;
	process.env.N8N_USER_FOLDER = job.userFolder;
	process.env.N8N_ENCRYPTION_KEY ??= 'postal-routes-tests-only';
	// only now load n8n-core (through the engine harness) and the bundles
	const { nodeTypesWith, runWorkflow } = await import('../helpers/engine');
	const { recipients } = await import('../helpers/recipients');
	const { bundledNodeTypes } = await import('../build/bundled');
	const nodeTypes = nodeTypesWith(bundledNodeTypes());
	const people = recipients(job.total, job.seed);
	const credentials: Record<string, IDataObject> = {
		'smtp-1': {
			host: '127.0.0.1',
			port: job.smtpPort,
			security: 'none',
			poolSize: job.poolSize,
			messagesPerConnection: job.messagesPerConnection,
		},
		...(job.redis
			? {
					'redis-1': {
						mode: 'standalone',
						host: '127.0.0.1',
						port: job.redis.port,
						keyPrefix: job.redis.keyPrefix,
					},
				}
			: {}),
	};

	const run = async (go: Go) => {
		const start = Date.now();
		const result = await runWorkflow(
			killWorkflow(job, go),
			{ Recipients: people },
			{ credentials, nodeTypes, executionId: go.executionId },
		);
		const ms = Date.now() - start;
		const outputs = result.error
			? [[], [], [], []]
			: [0, 1, 2, 3].map((o) => (result.outputs(SEND_NODE)[o] ?? []).map(itemResult));
		// this file's copy of lib/ reads the process's one slot, which the bundled nodes filled
		const embedded =
			job.store === 'embedded'
				? (await import('../../lib/state/registry')).embeddedStateInfo()
				: undefined;
		await send({
			result: {
				error: result.error?.message,
				outputs: outputs as SendResult['outputs'],
				ms,
				...(embedded ? { embedded } : {}),
			},
		});
	};
	// one execution at a time, in the order asked
	let queue = Promise.resolve();
	process.on('message', (m: ParentMessage) => {
		if ('go' in m) queue = queue.then(() => run(m.go)).catch(fail);
		// the bundles keep pooled SMTP and Redis connections: exiting is how they close
		else void queue.then(() => process.exit(0));
	});
	await send({ ready: true });
}

const fail = async (error: unknown) => {
	await send({ failed: String((error as Error)?.stack ?? error) }).catch(() => undefined);
	process.exit(1);
};

if (require.main === module) {
	process.on('unhandledRejection', fail);
	main().catch(fail);
}
