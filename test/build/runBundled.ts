/**
 * Runs classify → split → send on Redis state through the n8n engine with the BUNDLED node classes
 * from dist/, in a process of its own (the bundles keep their own pooled SMTP and Redis connections;
 * exiting is how they are closed). Prints one JSON line with what the sinks received.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject } from 'n8n-workflow';
import { bundledNodeTypes } from './bundled';

process.env.N8N_USER_FOLDER ??= mkdtempSync(join(tmpdir(), 'postal-bundle-'));

async function main(): Promise<void> {
	const { loadWorkflow, nodeTypesWith, runWorkflow, withRedisState } =
		await import('../helpers/engine');
	const { recipients } = await import('../helpers/recipients');
	const { startRedisServer } = await import('../helpers/redisServer');
	const { startSmtpSink } = await import('../helpers/smtpSink');
	const ours = bundledNodeTypes();
	const redis = await startRedisServer();
	const sinks = [await startSmtpSink(), await startSmtpSink(), await startSmtpSink()];
	let workflow = loadWorkflow('send-split');
	for (const node of ['Gmail Split', 'Send A', 'Send B']) workflow = withRedisState(workflow, node);
	const smtp = (port: number) => ({ host: '127.0.0.1', port, security: 'none' });
	const credentials: Record<string, IDataObject> = {
		'smtp-a': smtp(sinks[0].port),
		'smtp-b': smtp(sinks[1].port),
		'smtp-c': smtp(sinks[2].port),
		'redis-1': { host: '127.0.0.1', port: redis.port, prefix: 'bundle:' },
	};
	const run = await runWorkflow(
		workflow,
		{ Recipients: recipients(100, 5, ['gmail.com']) },
		{ credentials, nodeTypes: nodeTypesWith(ours) },
	);
	const status = run.error
		? undefined
		: (run.outputs('Send A')[0][0]?.json.postalDelivery as IDataObject | undefined)?.status;
	process.stdout.write(
		`${JSON.stringify({ error: run.error?.message, received: sinks.map((s) => s.messages.length), status })}\n`,
	);
	await Promise.all(sinks.map((s) => s.stop()));
	await redis.stop();
	process.exit(0);
}

main().catch((error) => {
	process.stdout.write(`${JSON.stringify({ error: String(error?.stack ?? error) })}\n`);
	process.exit(1);
});
