/**
 * One n8n worker process of the Redis reputation scenario (./reputation.test.ts): runs the
 * workflow once over 20 Yahoo and 20 Gmail recipients on the shared Redis and prints what it
 * routed and sent as one tagged JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function main(): Promise<void> {
	const job = JSON.parse(process.env.POSTAL_REPUTATION_JOB ?? '') as {
		tag: string;
		redisPort: number;
		portA: number;
		portB: number;
	};
	// n8n-core writes a config file into N8N_USER_FOLDER when it loads: a fresh folder per process
	const folder = mkdtempSync(join(tmpdir(), 'postal-routes-reputation-'));
	process.env.N8N_USER_FOLDER = folder;
	process.env.N8N_ENCRYPTION_KEY ??= 'postal-routes-tests-only';
	const engine = await import('../helpers/engine');
	const { closeRedisStateStores } = await import('../../lib/state/connection');
	const { closeSmtpTransports } = await import('../../lib/transports/smtp');
	const w = await import('./reputationWorkflow');

	const run = await engine.runWorkflow(
		w.reputationWorkflow({ redis: true }),
		{ Recipients: w.people(20, job.tag) },
		{
			credentials: {
				'smtp-a': w.smtpCredential(job.portA),
				'smtp-b': w.smtpCredential(job.portB),
				'redis-1': {
					mode: 'standalone',
					host: '127.0.0.1',
					port: job.redisPort,
					password: '',
					keyPrefix: 'reputation:',
				},
			},
			executionId: job.tag,
		},
	);
	// a node no item reached did not run: nothing on its outputs
	const out = (node: string) =>
		run.run.data.resultData.runData[node] ? run.outputs(node) : [[], [], [], []];
	const [a, b] = out('Split');
	const [sentA, , fallbackA] = out('Send A');
	const status = (s: string) => fallbackA.filter((i) => w.isYahoo(i) && w.delivery(i).status === s);
	const result = {
		...(run.error ? { error: run.error.message } : {}),
		yahooOnA: a.filter(w.isYahoo).length,
		yahooOnB: b.filter(w.isYahoo).length,
		gmailOnA: a.filter((i) => !w.isYahoo(i)).length,
		yahooSentA: sentA.filter(w.isYahoo).length,
		gmailSentA: sentA.filter((i) => !w.isYahoo(i)).length,
		yahooBlockedA: status('blocked').length,
		yahooHeldA: status('route-suspended').length,
		movedByReputation: b.filter((i) => w.assigned(i).via === 'reputation').length,
	};
	process.stdout.write(`${JSON.stringify({ reputationChild: result })}\n`);
	await closeSmtpTransports();
	await closeRedisStateStores();
	rmSync(folder, { recursive: true, force: true });
}

main().then(
	() => process.exit(0),
	(error) => {
		process.stderr.write(`${(error as Error).stack}\n`);
		process.exit(1);
	},
);
