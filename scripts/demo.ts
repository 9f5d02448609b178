/**
 * The main job on the embedded state: examples/broadcast-domain-groups.json run through the
 * real n8n engine against two local SMTP sinks this script starts, with a per-route report.
 *
 * n8n-core runs the workflow; n8n's Code node is not part of n8n-core, so the example's
 * "Sample Recipients" JavaScript is run here and its items handed to the workflow in its place.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

// a fresh n8n folder: n8n-core writes its config there, and the embedded state file goes there
// too (with node:sqlite), so the demo neither meets nor changes the state of a real n8n
process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'postal-routes-demo-'));

const pct = (n: number, total: number) =>
	`${total ? ((100 * n) / total).toFixed(1) : '0.0'}%`.padStart(6);

async function main(): Promise<void> {
	const { runWorkflow } = await import('../test/helpers/engine');
	const { startSmtpSink } = await import('../test/helpers/smtpSink');
	const { closeSmtpTransports } = await import('../lib/transports/smtp');
	const { embeddedStateInfo } = await import('../lib/state/registry');

	const workflow = JSON.parse(
		readFileSync(join(__dirname, '..', 'examples', 'broadcast-domain-groups.json'), 'utf8'),
	);
	const sample = workflow.nodes.find((n: { name: string }) => n.name === 'Sample Recipients');
	const recipients = (
		runInNewContext(`(() => { ${sample.parameters.jsCode} })()`, {}) as INodeExecutionData[]
	).map((i) => i.json);
	recipients.push({ email: 'not an address', firstName: 'Typo' });
	sample.type = 'test.injectedItems';
	sample.parameters = {};

	const relayA = await startSmtpSink();
	const relayB = await startSmtpSink();
	const credentials = {
		relayASmtp: { host: '127.0.0.1', port: relayA.port, security: 'none', poolSize: 4 },
		relayBSmtp: { host: '127.0.0.1', port: relayB.port, security: 'none', poolSize: 4 },
	};

	const t0 = Date.now();
	const run = await runWorkflow(workflow, { 'Sample Recipients': recipients }, { credentials });
	const ms = Date.now() - t0;
	if (run.error) throw run.error;

	console.log(`Broadcast "${workflow.name}"`);
	console.log(
		`${recipients.length} recipients through the n8n engine in ${ms} ms, two local SMTP relays, embedded state in ${embeddedStateInfo().file ?? 'memory'}\n`,
	);

	// the classifier adds each recipient's group; valid addresses leave on its first output, invalid on the last
	const [valid, invalid] = run.outputs('Classify Domains');
	console.log('Recipients per domain group');
	const perGroup = valid.reduce<Record<string, number>>((acc, i) => {
		const g = String(i.json.domainGroup);
		acc[g] = (acc[g] ?? 0) + 1;
		return acc;
	}, {});
	for (const [group, n] of [...Object.entries(perGroup), ['invalid', invalid.length] as const])
		console.log(`  ${group.padEnd(10)} ${String(n).padStart(6)} ${pct(n, recipients.length)}`);

	console.log('\nRoutes chosen by the partitioner');
	let deferred = 0;
	for (const node of ['Route by Domain Group']) {
		const outputs = run.allOutputs(node);
		const total = outputs.reduce((a, o) => a + o.length, 0);
		console.log(`  ${node} (${total})`);
		outputs.forEach((items, k) => {
			if (items.length === 0) return;
			const first = items[0].json.postalRoute as IDataObject;
			const isDeferred = k === outputs.length - 1;
			if (isDeferred) deferred += items.length;
			const via = items.reduce<Record<string, number>>((acc, i) => {
				const v = String((i.json.postalRoute as IDataObject).via);
				acc[v] = (acc[v] ?? 0) + 1;
				return acc;
			}, {});
			const rate = first.rate
				? `, campaign share ${(first.rate as IDataObject).limit}/${(first.rate as IDataObject).per}`
				: '';
			const retry = isDeferred ? `, retry at ${first.retryAt}` : '';
			console.log(
				`    → ${String(first.route ?? 'Deferred').padEnd(10)} ${String(items.length).padStart(6)} ${pct(items.length, total)}  (${Object.entries(
					via,
				)
					.map(([v, n]) => `${v} ${n}`)
					.join(', ')}${rate}${retry})`,
			);
		});
	}

	console.log('\nDelivery');
	let sentAll = 0;
	let failovers = 0;
	const times: number[] = [];
	for (const node of ['Send via Relay A', 'Send via Relay B']) {
		const [sent, failed, fallback] = run.allOutputs(node).concat([[], [], []]).slice(0, 3);
		sentAll += sent.length;
		failovers += fallback.length;
		for (const i of sent)
			times.push(Date.parse(String((i.json.postalDelivery as IDataObject).sentAt)));
		console.log(
			`  ${node.padEnd(17)} sent ${String(sent.length).padStart(5)}, failed ${failed.length}, fallback ${fallback.length}`,
		);
	}
	const span = (Math.max(...times) - Math.min(...times)) / 1000;
	console.log(
		`  SMTP relay A received ${relayA.messages.length}, relay B received ${relayB.messages.length}`,
	);
	console.log(
		`  achieved send rate ${(sentAll / Math.max(span, 0.001)).toFixed(0)} msg/s over ${span.toFixed(2)} s; failovers ${failovers}; deferrals ${deferred}`,
	);
	const accounted = sentAll + deferred + invalid.length;
	console.log(
		`\n${sentAll} sent + ${deferred} deferred + ${invalid.length} invalid = ${accounted} of ${recipients.length} items accounted for.`,
	);

	const again = await runWorkflow(workflow, { 'Sample Recipients': recipients }, { credentials });
	const skipped = ['Send via Relay A', 'Send via Relay B']
		.flatMap((n) => again.allOutputs(n)[3] ?? [])
		.filter((i) => (i.json.postalDelivery as IDataObject).status === 'skipped-duplicate').length;
	console.log(
		`Re-running the same campaign: relays received ${relayA.messages.length + relayB.messages.length - sentAll} more; ${skipped} items skipped as already sent.`,
	);

	closeSmtpTransports();
	await relayA.stop();
	await relayB.stop();
	process.exit(0);
}

main().catch((error) => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
