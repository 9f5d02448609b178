/**
 * The main job on the embedded memory state: a broadcast of 10,000 recipients through the real n8n
 * engine — Domain Group Classifier, then a 70/30 split with a warming relay for Gmail, failover
 * for Microsoft and round robin for the rest — and a per-route report.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject } from 'n8n-workflow';

process.env.N8N_USER_FOLDER ??= mkdtempSync(join(tmpdir(), 'postal-routes-demo-'));

async function main(): Promise<void> {
	const { runWorkflow } = await import('../test/helpers/engine');
	const { recipients } = await import('../test/helpers/recipients');
	const count = Number(process.argv[2] ?? 10_000);
	const today = new Date().toISOString().slice(0, 10);
	const workflow = JSON.parse(readFileSync(join(__dirname, 'demo-broadcast.json'), 'utf8').replace('"TODAY"', `"${today}"`));
	const people = [...recipients(count, 2026), { email: 'not an address' }];

	const t0 = Date.now();
	const result = await runWorkflow(workflow, { Recipients: people });
	const ms = Date.now() - t0;
	if (result.error) throw result.error;

	const groups = result.outputs('Classify Domains');
	const groupNames = ['google', 'microsoft', 'yahoo', 'other', 'invalid'];
	console.log(`Broadcast of ${people.length} recipients through the n8n engine in ${ms} ms (embedded memory state)\n`);
	console.log('Recipients per domain group:');
	groups.forEach((items, k) => console.log(`  ${groupNames[k].padEnd(10)} ${String(items.length).padStart(6)}`));

	console.log('\nRecipients per route:');
	let deferred = 0;
	let routed = 0;
	for (const node of ['Gmail Split', 'Microsoft Route', 'Others Round Robin']) {
		const outputs = result.allOutputs(node);
		const total = outputs.reduce((a, o) => a + o.length, 0);
		console.log(`  ${node} (${total})`);
		for (const items of outputs) {
			if (items.length === 0) continue;
			const rec = items[0].json.postalRoute as IDataObject;
			const name = (rec.route as string) ?? 'Deferred';
			const via = items.reduce<Record<string, number>>((acc, i) => {
				const v = (i.json.postalRoute as IDataObject).via as string;
				acc[v] = (acc[v] ?? 0) + 1;
				return acc;
			}, {});
			const rate = rec.rate ? `, rate share ${(rec.rate as IDataObject).limit}/${(rec.rate as IDataObject).per}` : '';
			const retry = rec.retryAt ? `, retry at ${rec.retryAt}` : '';
			console.log(`    → ${name.padEnd(16)} ${String(items.length).padStart(6)}  ${(100 * items.length / total).toFixed(1).padStart(5)}%  (${Object.entries(via).map(([k, v]) => `${k} ${v}`).join(', ')}${rate}${retry})`);
			if (rec.route) routed += items.length;
			else deferred += items.length;
		}
	}
	console.log(`\nRouted ${routed}, deferred ${deferred}, invalid ${groups[4].length}: ${routed + deferred + groups[4].length} of ${people.length} items accounted for.`);
	console.log('Sending is not part of this demo yet: the Load-Balanced Send node comes next.');
}

main().catch((error) => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
