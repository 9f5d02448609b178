/**
 * The bundled nodes (with their dist/lib/shared.js) and this file's own copy of lib/ from source:
 * on the embedded state store they must all share one store, as in a real n8n. Send B's relay refuses connections, so the bundled send
 * node opens Relay B's circuit; in the next execution the bundled partitioner must see it and give
 * Relay B's share to Relay A. Prints one JSON line, with where the embedded state lived.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject } from 'n8n-workflow';
import { bundledNodeTypes } from './bundled';

// a fresh user folder of its own: with node:sqlite the embedded state is a file there
const userFolder = mkdtempSync(join(tmpdir(), 'postal-bundle-'));
process.env.N8N_USER_FOLDER = userFolder;

async function main(): Promise<void> {
	const { loadWorkflow, nodeTypesWith, runWorkflow } = await import('../helpers/engine');
	const { recipients } = await import('../helpers/recipients');
	const { freePort } = await import('../helpers/redisServer');
	const { startSmtpSink } = await import('../helpers/smtpSink');
	const ours = bundledNodeTypes();
	const [a, c] = [await startSmtpSink(), await startSmtpSink()];
	const refused = await freePort(); // nothing listens there
	const smtp = (port: number) => ({ host: '127.0.0.1', port, security: 'none' });
	const credentials: Record<string, IDataObject> = {
		'smtp-a': smtp(a.port),
		'smtp-b': smtp(refused),
		'smtp-c': smtp(c.port),
	};
	const workflow = loadWorkflow('send-split');
	const options = { credentials, nodeTypes: nodeTypesWith(ours) };
	const first = await runWorkflow(
		workflow,
		{ Recipients: recipients(100, 5, ['gmail.com']) },
		options,
	);
	const fallbackB = first.error ? [] : first.outputs('Send B')[2];
	const second = await runWorkflow(
		workflow,
		{ Recipients: recipients(100, 6, ['gmail.com']) },
		options,
	);
	const split = second.error ? [] : second.outputs('Gmail Split');
	// this file's own copy of lib/ reads the process's one slot, which the bundled nodes filled
	const { embeddedStateInfo } = await import('../../lib/state/registry');
	const embedded = embeddedStateInfo();
	process.stdout.write(
		`${JSON.stringify({
			error: first.error?.message ?? second.error?.message,
			circuitOpened: fallbackB.some(
				(i) => (i.json.postalDelivery as IDataObject).status === 'circuit-open',
			),
			secondSplit: split.map((o) => o.length),
			// why Relay B's share went to Relay A, as the spilled items say
			spillReasons: [
				...new Set(
					(split[0] ?? [])
						.map((i) => i.json.postalRoute as IDataObject)
						.filter((rec) => rec.via === 'spill')
						.map((rec) => rec.reason),
				),
			],
			embedded,
			userFolder,
			fileExists: existsSync(join(userFolder, '.n8n', 'postal-routes-state.sqlite')),
		})}\n`,
	);
	await Promise.all([a.stop(), c.stop()]);
	rmSync(userFolder, { recursive: true, force: true });
	process.exit(0);
}

main().catch((error) => {
	process.stdout.write(`${JSON.stringify({ error: String(error?.stack ?? error) })}\n`);
	process.exit(1);
});
