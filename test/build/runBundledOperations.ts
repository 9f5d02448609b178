/**
 * The operations nodes BUNDLED in dist/, on the embedded state store, in a process of its own: the
 * bundled Load-Balanced Send sends three messages, the bundled Postal Operations reads them in its
 * stats and report, suspends a route, and the bundled Postal Alert Trigger (activated in n8n-core's
 * TriggerContext) emits the suspension's alert; this file's own copy of lib/ (from source) sees the
 * same store. A module singleton split per bundle would leave the operations node and the trigger
 * a store of their own that never heard of the sends. Prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject, INode } from 'n8n-workflow';
import type { WorkflowJson } from '../helpers/engine';
import { bundledNodeTypes } from './bundled';

const userFolder = mkdtempSync(join(tmpdir(), 'postal-bundle-ops-'));
process.env.N8N_USER_FOLDER = userFolder;

const node = (name: string, type: string, extra: Partial<INode> = {}): INode => ({
	id: name,
	name,
	type,
	typeVersion: 1,
	position: [400, 0],
	parameters: {},
	...extra,
});

async function main(): Promise<void> {
	const { PACKAGE, nodeTypesWith, runWorkflow } = await import('../helpers/engine');
	const { startSmtpSink } = await import('../helpers/smtpSink');
	const { activateTrigger, until } = await import('../helpers/trigger');
	const { embeddedStateStore } = await import('../../lib/state/registry');
	const ours = bundledNodeTypes();
	const nodeTypes = nodeTypesWith(ours);
	const oneNode = (last: INode): WorkflowJson => ({
		id: 'wfBundledOperations',
		nodes: [
			{ ...node('Manual Trigger', 'n8n-nodes-base.manualTrigger'), position: [0, 0] },
			{ ...node('Items', 'test.injectedItems'), position: [200, 0] },
			last,
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Items', type: 'main', index: 0 }]] },
			Items: { main: [[{ node: last.name, type: 'main', index: 0 }]] },
		},
	});
	const operations = (parameters: IDataObject, items: IDataObject[] = [{}]) =>
		runWorkflow(
			oneNode(node('Operate', `${PACKAGE}.postalOperations`, { parameters: parameters as never })),
			{ Items: items },
			{ nodeTypes },
		);

	// the bundled alert trigger, active before anything happens (its group starts at the log's end)
	const trigger = await activateTrigger(ours.postalAlertTrigger, {
		name: 'Postal Alert Trigger',
		type: `${PACKAGE}.postalAlertTrigger`,
		parameters: { pollSeconds: 1 },
	});

	// 1. three messages through the bundled send node
	const sink = await startSmtpSink();
	const sent = await runWorkflow(
		oneNode(
			node('Send', `${PACKAGE}.loadBalancedSend`, {
				parameters: {
					routeName: 'Relay A',
					from: 'news@shop.example',
					to: '={{ $json.email }}',
					subject: 'Hello',
					text: 'Hi',
				} as never,
				credentials: { postalSmtp: { id: 'smtp-a', name: 'Relay A' } },
			}),
		),
		{
			Items: ['a', 'b', 'c'].map((n) => ({ email: `${n}@gmail.com`, domainGroup: 'google' })),
		},
		{
			nodeTypes,
			credentials: { 'smtp-a': { host: '127.0.0.1', port: sink.port, security: 'none' } },
		},
	);

	// 2. the bundled operations node reads them: a stats row, a report
	const stats = await operations({ resource: 'stats', operation: 'getAll', window: '1h' });
	const report = await operations({ resource: 'report', operation: 'html', window: '1h' });
	const page = report.error ? undefined : report.outputs('Operate')[0][0];
	const html = page?.binary?.data
		? Buffer.from(page.binary.data.data, 'base64').toString('utf8')
		: '';

	// 3. it suspends the route; the bundled trigger emits the alert
	const suspend = await operations(
		{
			resource: 'route',
			operation: 'suspend',
			route: 'Relay A',
			group: 'google',
			durationMinutes: 30,
			reason: 'bundled test',
		},
		[{}],
	);
	let timedOut = false;
	await until(() => trigger.emitted.length > 0, 10_000).catch(() => (timedOut = true));
	await trigger.response.closeFunction!();

	// the sources' own copy of lib/ reads the same store
	const [state] = await embeddedStateStore().getReputation([{ route: 'Relay A', group: 'google' }]);

	process.stdout.write(
		`${JSON.stringify({
			error: sent.error?.message ?? stats.error?.message ?? suspend.error?.message,
			sent: sent.error ? [] : sent.outputs('Send')[0].map((i) => i.json.email),
			rows: stats.error
				? []
				: stats
						.outputs('Operate')[0]
						.map((i) => [i.json.route, i.json.group, (i.json.counts as IDataObject).sent]),
			report: {
				mimeType: page?.binary?.data?.mimeType,
				svg: html.includes('<svg'),
				namesRoute: html.includes('Relay A'),
			},
			suspended: suspend.error ? null : suspend.outputs('Operate')[0][0].json.reputation,
			alerts: trigger.emitted.flat().map((i) => [i.json.type, i.json.route, i.json.group]),
			timedOut,
			sourcesSeeSuspension: (state?.suspendedUntil ?? 0) > Date.now(),
		})}\n`,
	);
	await sink.stop();
	rmSync(userFolder, { recursive: true, force: true });
	process.exit(0);
}

main().catch((error) => {
	process.stdout.write(`${JSON.stringify({ error: String(error?.stack ?? error) })}\n`);
	process.exit(1);
});
