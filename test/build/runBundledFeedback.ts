/**
 * The feedback loop with the BUNDLED nodes from dist/, on the embedded state store, in a process of
 * its own: the bundled Postal Bounce Parser reads a DSN, the bundled Postal Feedback Trigger takes a
 * signed SendGrid webhook (n8n-core's WebhookContext), and the bundled Load-Balanced Send must then
 * skip both addresses as suppressed, because all of them (and this file's own copy of lib/ from
 * source) reach the one store of the process. A module singleton split per bundle would leave the
 * send node a store of its own that never heard of the bounces. Prints one JSON line.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject, INode } from 'n8n-workflow';
import type { WorkflowJson } from '../helpers/engine';
import { bundledNodeTypes } from './bundled';

const userFolder = mkdtempSync(join(tmpdir(), 'postal-bundle-'));
process.env.N8N_USER_FOLDER = userFolder;

const node = (name: string, type: string, x: number, extra: Partial<INode> = {}): INode => ({
	id: name,
	name,
	type,
	typeVersion: 1,
	position: [x, 0],
	parameters: {},
	...extra,
});

async function main(): Promise<void> {
	const { PACKAGE, nodeTypesWith, runWorkflow } = await import('../helpers/engine');
	const { startSmtpSink } = await import('../helpers/smtpSink');
	const { serveTrigger } = await import('../helpers/webhookServer');
	const ours = bundledNodeTypes();
	const nodeTypes = nodeTypesWith(ours);
	const oneNode = (last: INode): WorkflowJson => ({
		id: 'wfBundledFeedback',
		nodes: [
			node('Manual Trigger', 'n8n-nodes-base.manualTrigger', 0),
			node('Recipients', 'test.injectedItems', 200),
			{ ...last, position: [400, 0] as [number, number] },
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: last.name, type: 'main', index: 0 }]] },
		},
	});

	// 1. the bundled Bounce Parser: Gmail's "address not found" for no.such.user@gmail.com (Relay A /
	// yahoo / spring-sale by its VERP address), dated now so the counters keep it
	const now = new Date();
	const dsn = readFileSync(
		join(__dirname, '..', 'fixtures', 'reports', 'gmail-address-not-found.eml'),
		'latin1',
	).replace(
		/^(Date|Arrival-Date|Last-Attempt-Date): .*$/gm,
		(_, h: string) => `${h}: ${now.toUTCString()}`,
	);
	const parsed = await runWorkflow(
		oneNode(node('Parse Bounces', `${PACKAGE}.postalBounceParser`, 400)),
		{ Recipients: [{ raw: dsn }] },
		{ nodeTypes },
	);
	const events = parsed.error ? [] : parsed.outputs('Parse Bounces')[0];

	// 2. the bundled Feedback Trigger: a signed SendGrid bounce for bounced.user@gmail.com
	const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
	const hook = await serveTrigger(ours.postalFeedbackTrigger, {
		provider: 'sendgrid',
		sendgridPublicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
	});
	const body = JSON.stringify([
		{
			email: 'bounced.user@gmail.com',
			timestamp: Math.floor(now.getTime() / 1000),
			event: 'bounce',
			type: 'bounce',
			sg_event_id: 'bundled-1',
			sg_message_id: 'bundled.filter0001',
			reason: '550 5.1.1 unknown recipient',
			status: '5.1.1',
		},
	]);
	const timestamp = String(Math.floor(now.getTime() / 1000));
	const answer = await hook.post(body, {
		'content-type': 'application/json',
		'x-twilio-email-event-webhook-signature': sign(
			'sha256',
			Buffer.from(timestamp + body),
			privateKey,
		).toString('base64'),
		'x-twilio-email-event-webhook-timestamp': timestamp,
	});
	await hook.close();

	// 3. this file's own copy of lib/ reads the process's one store, which the bundles wrote
	const { embeddedStateStore, embeddedStateInfo } = await import('../../lib/state/registry');
	const { suppressionDigest } = await import('../../lib/state/keys');
	const store = embeddedStateStore();
	const secret = await store.hashSecret();
	const onList = (
		await store.getSuppressions(
			'',
			['no.such.user@gmail.com', 'bounced.user@gmail.com', 'ok@gmail.com'].map((a) =>
				suppressionDigest(secret, a),
			),
		)
	).map((e) => (e ? `${e.reason}/${e.source}` : null));
	const counted = (
		await store.readOutcomes('Relay A', 'yahoo', 'hour', now.getTime() - 3_600_000, Date.now() + 1)
	).map((b) => b.counts);

	// 4. the bundled send node reads the same list: both bounced addresses skipped, unsent
	const sink = await startSmtpSink();
	const sent = await runWorkflow(
		oneNode(
			node('Send', `${PACKAGE}.loadBalancedSend`, 400, {
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
			Recipients: [
				{ email: 'no.such.user@gmail.com' },
				{ email: 'bounced.user@gmail.com' },
				{ email: 'ok@gmail.com' },
			],
		},
		{
			nodeTypes,
			credentials: { 'smtp-a': { host: '127.0.0.1', port: sink.port, security: 'none' } },
		},
	);
	const outputs = sent.error ? [] : sent.outputs('Send');

	// 5. reputation across bundles: the bundled parser reads a returned TSS04 deferral for Relay A /
	// yahoo, and the bundled partitioner then routes every Yahoo item to Relay B (via reputation)
	const deferred = await runWorkflow(
		oneNode(node('Parse Deferral', `${PACKAGE}.postalBounceParser`, 400)),
		{
			Recipients: [
				{
					raw: readFileSync(
						join(__dirname, '..', 'fixtures', 'reports', 'postfix-yahoo-deferred-and-blocked.eml'),
						'latin1',
					),
				},
			],
		},
		{ nodeTypes },
	);
	const split = await runWorkflow(
		oneNode(
			node('Split', `${PACKAGE}.routePartitioner`, 400, {
				parameters: {
					mode: 'percentage',
					routes: {
						values: [
							{ name: 'Relay A', percentage: 50 },
							{ name: 'Relay B', percentage: 50 },
						],
					},
				} as never,
			}),
		),
		{
			Recipients: Array.from({ length: 6 }, (_, i) => ({
				email: `y${i}@yahoo.com`,
				domainGroup: 'yahoo',
			})),
		},
		{ nodeTypes },
	);
	const [toA, toB] = split.error ? [[], []] : split.outputs('Split');
	const reputation = {
		error: deferred.error?.message ?? split.error?.message,
		noted: deferred.error
			? []
			: deferred
					.outputs('Parse Deferral')[0]
					.filter((i) => i.json.reputation)
					.map((i) => (i.json.reputation as IDataObject).rule),
		onA: toA.length,
		viaOnB: toB.map((i) => (i.json.postalRoute as IDataObject).via),
	};
	const status = (i: { json: IDataObject }) => (i.json.postalDelivery as IDataObject).status;
	process.stdout.write(
		`${JSON.stringify({
			error: parsed.error?.message ?? sent.error?.message,
			events: events.map((e) => {
				const ev = e.json.postalEvent as IDataObject;
				return {
					recipient: ev.recipient,
					type: ev.type,
					reference: ev.reference,
					suppression: e.json.suppression,
				};
			}),
			webhook: {
				status: answer.status,
				items: (answer.items ?? []).map((i) => i.json.suppression),
			},
			onList,
			counted,
			sent: outputs[0]?.map((i) => i.json.email),
			skipped: outputs[3]?.map((i) => [i.json.email, status(i)]),
			received: sink.messages.map((m) => m.rcpts),
			embedded: embeddedStateInfo().kind,
			reputation,
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
