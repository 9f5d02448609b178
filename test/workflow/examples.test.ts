import { generateKeyPairSync, sign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import parsePrometheus from 'parse-prometheus-text-format';
import { WorkflowExpression, type IDataObject, type INodeExecutionData } from 'n8n-workflow';
import { encodeReference } from '../../lib/feedback/reference';
import { circuitName, suppressionDigest } from '../../lib/state/keys';
import { embeddedStateStore, resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { PostalAlertTrigger } from '../../nodes/PostalAlertTrigger/PostalAlertTrigger.node';
import { PostalFeedbackTrigger } from '../../nodes/PostalFeedbackTrigger/PostalFeedbackTrigger.node';
import { dataTables, PACKAGE, runWorkflow, waits, type WorkflowJson } from '../helpers/engine';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import { activateTrigger, until } from '../helpers/trigger';
import { serveTrigger } from '../helpers/webhookServer';

/**
 * The examples in examples/, run through the n8n engine as a user would run them: n8n runs a node
 * once per incoming connection that brings it items (v1 order), so a send node fed by several
 * partitioners would run, and drain its connection pool, once per partitioner. The broadcast
 * example routes every domain group through one partitioner, so each send node runs once.
 */
const EXAMPLES = join(__dirname, '..', '..', 'examples');
const SEND = `${PACKAGE}.loadBalancedSend`;
const FEEDBACK_TRIGGER = `${PACKAGE}.postalFeedbackTrigger`;

const readExample = (file: string) =>
	JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as WorkflowJson;
const ALL = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
/** the examples that send (the feedback ones receive: each has its own tests below) */
const SENDING = ALL.filter((f) =>
	readExample(f).nodes.some((n) => n.type === SEND && n.parameters.operation !== 'probe'),
);

/** a bounce-mailbox message the way n8n's Email Trigger (IMAP), Format Raw, puts it in `raw`: the TEXT part */
const imapRaw = (name: string) => {
	const whole = readFileSync(join(__dirname, '..', 'fixtures', 'reports', `${name}.eml`), 'latin1');
	return { raw: whole.slice(whole.indexOf('\n\n') + 2) };
};

/**
 * An example with its sources made injectable: a Code node's items are computed here from its own
 * JavaScript (n8n-core has no Code node), its first `limit` items (the shape of a run does not
 * depend on the list's length; the sink parses every message); a Webhook trigger becomes one
 * sample request behind a Manual Trigger. Returns the workflow and the items per source node.
 */
function runnable(
	file: string,
	limit = 450,
): { wf: WorkflowJson; inputs: Record<string, IDataObject[]> } {
	const wf = readExample(file);
	const inputs: Record<string, IDataObject[]> = {};
	const startAt = (name: string) => {
		wf.nodes.push({
			id: 'start',
			name: 'Manual Trigger',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [-200, 0],
			parameters: {},
		});
		wf.connections['Manual Trigger'] = { main: [[{ node: name, type: 'main', index: 0 }]] };
	};
	for (const node of wf.nodes) {
		if (node.type === 'n8n-nodes-base.code') {
			inputs[node.name] = (
				runInNewContext(`(() => { ${node.parameters.jsCode} })()`, {}) as INodeExecutionData[]
			)
				.slice(0, limit)
				.map((i) => i.json);
		} else if (node.type === 'n8n-nodes-base.scheduleTrigger') {
			// what n8n's Schedule Trigger emits when its time comes
			inputs[node.name] = [{ timestamp: new Date().toISOString() }];
			startAt(node.name);
		} else if (node.type === 'n8n-nodes-base.webhook') {
			inputs[node.name] = [{ body: { email: 'sam@gmail.com', name: 'Sam' } }];
			startAt(node.name);
		} else if (node.type === 'n8n-nodes-base.emailReadImap') {
			// a hard bounce, a Postfix report (deferral, block, soft bounce), an ARF complaint, an auto-reply
			inputs[node.name] = [
				imapRaw('gmail-address-not-found'),
				imapRaw('postfix-yahoo-deferred-and-blocked'),
				imapRaw('rfc5965-abuse'),
				imapRaw('out-of-office'),
			];
			startAt(node.name);
		} else if (node.type === FEEDBACK_TRIGGER) {
			// its items come from its own webhook() (the ESP example's test), handed in here
			startAt(node.name);
		} else continue;
		delete node.credentials;
		Object.assign(node, { type: 'test.injectedItems', typeVersion: 1, parameters: {} });
	}
	return { wf, inputs };
}

/** Every postalSmtp credential of the workflow pointed at one sink. */
function credentialsFor(wf: WorkflowJson, sink: SmtpSink): Record<string, IDataObject> {
	const credentials: Record<string, IDataObject> = {};
	for (const node of wf.nodes) {
		const id = node.credentials?.postalSmtp?.id;
		if (id) credentials[id] = { host: '127.0.0.1', port: sink.port, security: 'none' };
	}
	return credentials;
}

/** The connections that lead into a node (source node and output index). */
function incoming(wf: WorkflowJson, target: string): Array<{ from: string; output: number }> {
	const found: Array<{ from: string; output: number }> = [];
	for (const [from, types] of Object.entries(wf.connections))
		(types.main ?? []).forEach((conns, output) => {
			for (const c of conns ?? []) if (c.node === target) found.push({ from, output });
		});
	return found;
}

/**
 * Moves the clock (Date.now, which the state store, n8n's $now and the Wait stand-in read) to 3 s
 * before a minute boundary: a sending day that starts there ends 3 s into the test, in real time.
 */
function dayEndingIn3s(): { dayEnds: number; dayStart: string } {
	const realNow = Date.now.bind(Date);
	const dayEnds = Math.ceil((realNow() + 120_000) / 60_000) * 60_000;
	const offset = dayEnds - 3_000 - realNow();
	jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
	return { dayEnds, dayStart: new Date(dayEnds).toISOString().slice(11, 16) };
}

/** A sink that stamps each recipient's message with the (moved) clock when it arrives. */
async function stampingSink(): Promise<{ sink: SmtpSink; arrived: Map<string, number[]> }> {
	const arrived = new Map<string, number[]>();
	const sink = await startSmtpSink({
		onEvent: (e) => {
			if (e.type === 'data')
				for (const r of e.rcpts ?? []) arrived.set(r, [...(arrived.get(r) ?? []), Date.now()]);
		},
	});
	return { sink, arrived };
}

describe('the examples through the n8n engine', () => {
	let sink: SmtpSink | undefined;
	afterEach(async () => {
		closeSmtpTransports();
		await sink?.stop();
		sink = undefined;
	});

	it('every example is run here: the sending ones below, the feedback ones on their own', () => {
		expect(ALL.filter((f) => !SENDING.includes(f)).sort()).toEqual([
			'alert-to-slack.json',
			'esp-webhooks-suppression.json',
			'imap-bounces-parser.json',
			'probe-every-minute.json',
			'prometheus-endpoint.json',
		]);
	});

	it.each(SENDING)('%s: no send node runs more than once in a run', async (file) => {
		resetEmbeddedStateStore();
		sink = await startSmtpSink();
		const { wf, inputs } = runnable(file);
		const run = await runWorkflow(wf, inputs, { credentials: credentialsFor(wf, sink) });
		expect(run.error).toBeUndefined();
		const runData = run.run.data.resultData.runData;
		const senders = wf.nodes.filter((n) => n.type === SEND).map((n) => n.name);
		const runs = Object.fromEntries(senders.map((n) => [n, runData[n]?.length ?? 0]));
		expect(Object.entries(runs).filter(([, n]) => n > 1)).toEqual([]);
		// something was sent, and everything sent reached the sink
		const sent = senders.reduce((a, n) => a + (runData[n] ? run.allOutputs(n)[0].length : 0), 0);
		expect(sent).toBeGreaterThan(0);
		expect(sink.messages).toHaveLength(sent);
	});

	describe('broadcast-domain-groups.json', () => {
		const file = 'broadcast-domain-groups.json';

		it('feeds each send node from one connection: one partitioner routes every domain group', () => {
			const { wf } = runnable(file);
			const partitioners = wf.nodes.filter((n) => n.type === `${PACKAGE}.routePartitioner`);
			expect(partitioners).toHaveLength(1);
			for (const send of wf.nodes.filter((n) => n.type === SEND))
				expect({ send: send.name, from: incoming(wf, send.name) }).toEqual({
					send: send.name,
					from: [{ from: partitioners[0].name, output: expect.any(Number) }],
				});
			// and the partitioner from one connection too, besides the retry loop's Wait (which brings it
			// items only when some were held back)
			expect(incoming(wf, partitioners[0].name)).toEqual([
				{ from: 'Classify Domains', output: 0 },
				{ from: 'Wait Until Retry Time', output: 0 },
			]);
		});

		it('runs every node of ours once, routes Microsoft by the table, and n8n evaluates two expressions per message', async () => {
			resetEmbeddedStateStore();
			sink = await startSmtpSink();
			const { wf, inputs } = runnable(file);
			const recipients = Object.values(inputs)[0];
			const evaluate = jest.spyOn(WorkflowExpression.prototype, 'resolveSimpleParameterValue');
			let run;
			try {
				run = await runWorkflow(wf, inputs, { credentials: credentialsFor(wf, sink) });
			} finally {
				evaluate.mockRestore();
			}
			expect(run.error).toBeUndefined();
			const runData = run.run.data.resultData.runData;
			const ours = wf.nodes.filter((n) => n.type.startsWith(`${PACKAGE}.`)).map((n) => n.name);
			expect(ours.map((n) => [n, runData[n]?.length])).toEqual(ours.map((n) => [n, 1]));

			const [routeA, routeB, deferred] = run.outputs('Route by Domain Group');
			expect(routeA.length + routeB.length + deferred.length).toBe(recipients.length);
			const microsoft = [...routeA, ...routeB].filter((i) => i.json.domainGroup === 'microsoft');
			expect(microsoft.length).toBeGreaterThan(0);
			expect(
				microsoft.every((i) => (i.json.postalRoute as IDataObject).via === 'group-table'),
			).toBe(true);
			expect(routeB.filter((i) => i.json.domainGroup === 'microsoft')).toHaveLength(0);
			// Relay B is warming up, on day 3 of 40 × 1.5 a day: 90 of its 30% of the 350 others, the
			// rest spill to Relay A
			expect(recipients).toHaveLength(450);
			expect(routeB).toHaveLength(90);
			expect(
				routeA.filter((i) => (i.json.postalRoute as IDataObject).via === 'spill'),
			).toHaveLength(350 * 0.3 - 90);

			const sent =
				run.outputs('Send via Relay A')[0].length + run.outputs('Send via Relay B')[0].length;
			expect(sent).toBe(recipients.length);
			// n8n's evaluator: Text and HTML per message (the Warm-Up Start Date once); To, Recipient and
			// Domain Group are read from the items by the nodes
			const expressions = evaluate.mock.calls.filter(
				([value]) => typeof value === 'string' && value.startsWith('='),
			);
			expect(expressions.length).toBeLessThanOrEqual(2 * sent + 5);
		});
	});

	describe('the retry loop (broadcast-domain-groups.json)', () => {
		const file = 'broadcast-domain-groups.json';
		const ROUTER = 'Route by Domain Group';

		/** The example on 20 recipients, with caps that hold back 10 of them (7 + 3 a day). */
		function capped(dayStart?: string, extra: IDataObject = {}) {
			const { wf, inputs } = runnable(file, 20);
			const router = wf.nodes.find((n) => n.name === ROUTER)!;
			const routes = (router.parameters.routes as { values: IDataObject[] }).values;
			routes[0].dailyCap = 7;
			routes[1].dailyCap = 3;
			if (dayStart) router.parameters.options = { dayStart, timeZone: 'UTC' };
			const recipients = Object.values(inputs)[0].map((r) => ({ ...r, ...extra }));
			return { wf, inputs: { 'Sample Recipients': recipients }, recipients };
		}

		afterEach(() => {
			jest.restoreAllMocks();
			dataTables.clear();
		});

		it("waits for the deferred items' retryAt (a sending day that ends 3 s after the run starts), then sends each once, after it", async () => {
			// the sending day ends 3 s in: the caps reset there and the Wait resumes then (real timers)
			const { dayEnds, dayStart } = dayEndingIn3s();
			resetEmbeddedStateStore();
			const stamped = await stampingSink();
			sink = stamped.sink;
			const arrived = stamped.arrived;
			dataTables.set('delivery log', []);
			const { wf, inputs, recipients } = capped(dayStart);
			const run = await runWorkflow(wf, inputs, { credentials: credentialsFor(wf, sink) });
			expect(run.error).toBeUndefined();

			// first pass: 7 + 3 routed, 10 deferred until the sending day ends
			const [a0, b0, deferred] = run.outputs(ROUTER, 0);
			expect([a0.length, b0.length, deferred.length]).toEqual([7, 3, 10]);
			const retryAt = new Date(dayEnds).toISOString();
			expect(deferred.map((i) => (i.json.postalRoute as IDataObject).retryAt)).toEqual(
				Array(10).fill(retryAt),
			);
			// one Wait, until then; the partitioner again after it, with fresh caps: all 10 go
			expect(waits).toEqual([
				{ node: 'Wait Until Retry Time', until: dayEnds, ms: expect.any(Number) },
			]);
			expect(waits[0].ms).toBeGreaterThan(0);
			const [a1, b1, again] = run.outputs(ROUTER, 1);
			expect([a1.length, b1.length, again.length]).toEqual([7, 3, 0]);
			expect(run.outputs('Count Try')[0].map((i) => i.json.postalTries)).toEqual(Array(10).fill(1));
			expect(run.run.data.resultData.runData['Delivery Log']).toBeUndefined();
			expect(dataTables.get('delivery log')).toEqual([]);

			// every recipient exactly once at the sink; the deferred ones after their retryAt
			expect(sink.messages).toHaveLength(20);
			expect([...arrived.keys()].sort()).toEqual(recipients.map((r) => r.email as string).sort());
			expect([...arrived.values()].every((times) => times.length === 1)).toBe(true);
			const late = deferred.map((i) => arrived.get(i.json.recipient as string)![0]);
			expect(late.every((t) => t >= dayEnds)).toBe(true);
			const early = [...a0, ...b0].map((i) => arrived.get(i.json.recipient as string)![0]);
			expect(early.every((t) => t < dayEnds)).toBe(true);
		}, 60_000);

		it('after the last retry an item goes to the Delivery Log, not to the Wait; so does a Failed one', async () => {
			resetEmbeddedStateStore();
			const refused = 'customer0@gmail.com';
			sink = await startSmtpSink({
				reply: ({ phase, rcpt }) =>
					phase === 'rcpt' && rcpt === refused
						? { code: 550, message: '5.1.1 No such user' }
						: undefined,
			});
			dataTables.set('delivery log', []);
			// items already retried 3 times: the next hold is their 4th
			const { wf, inputs } = capped(undefined, { postalTries: 3 });
			const run = await runWorkflow(wf, inputs, { credentials: credentialsFor(wf, sink) });
			expect(run.error).toBeUndefined();

			const [, , deferred] = run.outputs(ROUTER);
			expect(deferred).toHaveLength(10);
			expect(run.run.data.resultData.runData['Wait Until Retry Time']).toBeUndefined();
			expect(run.outputs('Retries Left?')[0]).toHaveLength(0);
			const rows = dataTables.get('delivery log')!;
			const gaveUp = rows.filter((r) => r.outcome === 'gave up');
			expect(gaveUp.map((r) => r.recipient).sort()).toEqual(
				deferred.map((i) => i.json.recipient).sort(),
			);
			expect(gaveUp.every((r) => r.tries === 4 && /no route has room/.test(String(r.detail)))).toBe(
				true,
			);
			expect(rows.filter((r) => r.outcome !== 'gave up')).toEqual([
				expect.objectContaining({
					recipient: refused,
					outcome: 'failed',
					detail: expect.stringMatching(/550/),
				}),
			]);
			expect(sink.messages).toHaveLength(9);
		});

		it('a Delivery Log without its data table stops nothing: its items carry the error (On Error: Continue)', async () => {
			resetEmbeddedStateStore();
			sink = await startSmtpSink();
			const { wf, inputs } = capped(undefined, { postalTries: 3 });
			const run = await runWorkflow(wf, inputs, { credentials: credentialsFor(wf, sink) });
			expect(run.error).toBeUndefined();
			const logged = run.outputs('Delivery Log')[0];
			expect(logged).toHaveLength(10);
			expect(logged.map((i) => i.error?.message)).toEqual(
				Array(10).fill('Data table with name "delivery log" not found'),
			);
			// the sends went on: both send nodes ran, the 10 routed are at the sink
			expect(sink.messages).toHaveLength(10);
		});
	});

	describe('the retry loop (failover-chain.json)', () => {
		afterEach(() => jest.restoreAllMocks());

		it('both routes full: Deferred waits for the new day and goes back into the failover partitioner', async () => {
			const { dayEnds, dayStart } = dayEndingIn3s();
			resetEmbeddedStateStore();
			const stamped = await stampingSink();
			sink = stamped.sink;
			const { wf, inputs } = runnable('failover-chain.json', 10);
			const router = wf.nodes.find((n) => n.name === 'Primary First')!;
			for (const r of (router.parameters.routes as { values: IDataObject[] }).values)
				r.dailyCap = 3;
			router.parameters.options = { dayStart, timeZone: 'UTC' };
			const run = await runWorkflow(wf, inputs, { credentials: credentialsFor(wf, sink) });
			expect(run.error).toBeUndefined();

			const [p0, s0, deferred] = run.outputs('Primary First', 0);
			expect([p0.length, s0.length, deferred.length]).toEqual([3, 3, 4]);
			expect(waits).toEqual([
				{ node: 'Wait Until Retry Time', until: dayEnds, ms: expect.any(Number) },
			]);
			const [p1, s1, again] = run.outputs('Primary First', 1);
			expect([p1.length, s1.length, again.length]).toEqual([3, 1, 0]);
			// every recipient once; the deferred four after the day ended
			expect(sink.messages).toHaveLength(10);
			expect([...stamped.arrived.values()].every((t) => t.length === 1)).toBe(true);
			const late = deferred.map((i) => stamped.arrived.get(i.json.email as string)![0]);
			expect(late.every((t) => t >= dayEnds)).toBe(true);
		}, 60_000);
	});

	describe('imap-bounces-parser.json', () => {
		it('parses the mailbox’s messages (IMAP Raw items), suppresses, and routes complaints to Notify and other mail aside', async () => {
			resetEmbeddedStateStore();
			const { wf, inputs } = runnable('imap-bounces-parser.json');
			const run = await runWorkflow(wf, inputs);
			expect(run.error).toBeUndefined();
			const [events, notBounces] = run.outputs('Parse Bounces');
			expect(events.map((e) => (e.json.postalEvent as IDataObject).type)).toEqual([
				'bounced',
				'deferred',
				'blocked',
				'bounced',
				'complained',
			]);
			const recipient = (i: INodeExecutionData) => (i.json.postalEvent as IDataObject).recipient;
			expect(run.outputs('Notify (Complaint)')[0].map(recipient)).toEqual(['user@example.com']);
			expect(run.outputs('Bounces and Deferrals')[0]).toHaveLength(4);
			// the IMAP Raw TEXT part has no header block: the auto-reply is no report, not known as one
			expect(run.outputs('Not a Bounce')[0].map((i) => i.json.postalReport)).toEqual([
				{
					reason:
						'not a delivery report: no report part, and neither its sender nor its subject is a bounce’s',
				},
			]);
			expect(notBounces).toHaveLength(1);
			const store = embeddedStateStore();
			const secret = await store.hashSecret();
			const found = await store.getSuppressions(
				'',
				['no.such.user@gmail.com', 'user@example.com'].map((a) => suppressionDigest(secret, a)),
			);
			expect(found.map((f) => f?.reason)).toEqual(['hard-bounce', 'complaint']);
		});
	});

	describe('esp-webhooks-suppression.json', () => {
		it('the trigger takes a signed SendGrid batch, suppresses, and the workflow sends the complaint to Notify', async () => {
			resetEmbeddedStateStore();
			const file = 'esp-webhooks-suppression.json';
			const trigger = readExample(file).nodes.find((n) => n.type === FEEDBACK_TRIGGER)!;
			// the key a user pastes from SendGrid: here one of our own, signing as SendGrid does
			const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
			const key = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
			const server = await serveTrigger(
				new PostalFeedbackTrigger(),
				{ ...trigger.parameters, sendgridPublicKey: key },
				trigger.webhookId,
			);
			const pr = encodeReference({ campaign: 'spring', route: 'Relay A', group: 'gmail' }).token;
			const at = Math.floor(Date.now() / 1000) - 60;
			const body = JSON.stringify([
				{
					email: 'gone@gmail.com',
					timestamp: at,
					event: 'bounce',
					sg_event_id: 'ex-1',
					sg_message_id: 'm1.filter',
					reason: '550 5.1.1 unknown user',
					status: '5.1.1',
					type: 'bounce',
					bounce_classification: 'Invalid Address',
					pr,
				},
				{
					email: 'angry@gmail.com',
					timestamp: at,
					event: 'spamreport',
					sg_event_id: 'ex-2',
					sg_message_id: 'm2.filter',
					pr,
				},
				{
					email: 'fine@gmail.com',
					timestamp: at,
					event: 'delivered',
					sg_event_id: 'ex-3',
					sg_message_id: 'm3.filter',
					response: '250 OK',
					pr,
				},
			]);
			const timestamp = String(at);
			let delivery;
			try {
				delivery = await server.post(body, {
					'content-type': 'application/json',
					'x-twilio-email-event-webhook-signature': sign(
						'sha256',
						Buffer.from(timestamp + body),
						privateKey,
					).toString('base64'),
					'x-twilio-email-event-webhook-timestamp': timestamp,
				});
			} finally {
				await server.close();
			}
			expect(delivery.status).toBe(200);
			// the Events filter: the delivery is recorded (counted) but starts nothing
			expect(delivery.items?.map((i) => (i.json.postalEvent as IDataObject).type)).toEqual([
				'bounced',
				'complained',
			]);

			const { wf } = runnable(file);
			const run = await runWorkflow(wf, { 'SendGrid Events': delivery.items!.map((i) => i.json) });
			expect(run.error).toBeUndefined();
			const recipient = (i: INodeExecutionData) => (i.json.postalEvent as IDataObject).recipient;
			expect(run.outputs('Notify (Complaint)')[0].map(recipient)).toEqual(['angry@gmail.com']);
			expect(run.outputs('Bounces, Blocks, Unsubscribes')[0].map(recipient)).toEqual([
				'gone@gmail.com',
			]);
			const store = embeddedStateStore();
			const secret = await store.hashSecret();
			const found = await store.getSuppressions(
				'',
				['gone@gmail.com', 'angry@gmail.com', 'fine@gmail.com'].map((a) =>
					suppressionDigest(secret, a),
				),
			);
			expect(found.map((f) => f?.reason ?? null)).toEqual(['hard-bounce', 'complaint', null]);
		});
	});

	describe('daily-route-report-email.json', () => {
		it('mails the day’s report as an HTML attachment, once a day (the Message Key is the date)', async () => {
			resetEmbeddedStateStore();
			sink = await startSmtpSink();
			const store = embeddedStateStore();
			await store.countOutcomes([
				{ route: 'Relay A', group: 'google', counts: { sent: 40, blocked: 2 }, at: Date.now() },
			]);
			const { wf, inputs } = runnable('daily-route-report-email.json');
			const credentials = credentialsFor(wf, sink);
			const first = await runWorkflow(wf, inputs, { credentials });
			expect(first.error).toBeUndefined();
			expect(sink.messages).toHaveLength(1);
			const mail = sink.messages[0];
			expect(mail.rcpts).toEqual(['email-team@shop.example']);
			expect(mail.parsed.subject).toMatch(/^Route report \d{4}-\d{2}-\d{2}: 1 route × group rows$/);
			expect(mail.parsed.attachments.map((a) => [a.filename, a.contentType])).toEqual([
				['postal-routes-report.html', 'text/html'],
			]);
			const page = mail.parsed.attachments[0].content.toString('utf8');
			expect(page).toContain('Daily route report');
			expect(page).toContain('Relay A');
			expect(page).toContain('<svg');
			// the same day again: the report went already
			const again = await runWorkflow(wf, inputs, { credentials });
			expect(again.error).toBeUndefined();
			expect(sink.messages).toHaveLength(1);
			expect(
				again
					.outputs('Email the Report')[3]
					.map((i) => (i.json.postalDelivery as IDataObject).status),
			).toEqual(['skipped-duplicate']);
		});

		it('a quiet day still says which day its report covers', async () => {
			resetEmbeddedStateStore();
			sink = await startSmtpSink();
			const { wf, inputs } = runnable('daily-route-report-email.json');
			const run = await runWorkflow(wf, inputs, { credentials: credentialsFor(wf, sink) });
			expect(run.error).toBeUndefined();
			const report = run.outputs('Route Report (24 h)')[0][0].json;
			expect(report.rows).toBe(0);
			expect((report.window as IDataObject).label).toBe('24h');
			expect(sink.messages[0].parsed.text).toContain((report.window as IDataObject).from as string);
		});
	});

	describe('probe-every-minute.json', () => {
		it('a passing probe leaves on Sent; the route whose server is down goes to Route Down, and out after Fall (2) probes', async () => {
			resetEmbeddedStateStore();
			sink = await startSmtpSink();
			const { wf, inputs } = runnable('probe-every-minute.json');
			const credentials = credentialsFor(wf, sink);
			// Relay B's server is down: a port nothing listens on
			credentials.relayBSmtp = { host: '127.0.0.1', port: await closedPort(), security: 'none' };
			const circuitB = circuitName('newsletter', 'Relay B');
			const outcomes = [];
			for (let run = 1; run <= 2; run++) {
				const result = await runWorkflow(wf, inputs, { credentials });
				expect(result.error).toBeUndefined();
				const [a, b] = ['Probe Relay A', 'Probe Relay B'].map((n) => result.outputs(n));
				const [state] = await embeddedStateStore().getCircuits([circuitB]);
				outcomes.push({
					passedA: a[0].map((i) => i.json.ok),
					failedB: b[1].map((i) => i.json.ok),
					routeDown: result.outputs('Route Down')[0].map((i) => i.json.route),
					bOut: Boolean(state && state.openUntil > Date.now()),
				});
			}
			expect(outcomes).toEqual([
				{ passedA: [true], failedB: [false], routeDown: ['Relay B'], bOut: false },
				{ passedA: [true], failedB: [false], routeDown: ['Relay B'], bOut: true },
			]);
			expect(sink.messages).toHaveLength(0);
		});
	});

	describe('prometheus-endpoint.json', () => {
		it('answers the route metrics in the exposition format (a real parser reads them)', async () => {
			resetEmbeddedStateStore();
			await embeddedStateStore().countOutcomes([
				{ route: 'Relay A', group: 'google', counts: { sent: 12, deferred: 3 }, at: Date.now() },
			]);
			const { wf, inputs } = runnable('prometheus-endpoint.json');
			// n8n-core has no Respond to Webhook here: a No Op takes its place; what it answers is the
			// expression below, checked on the metrics node's item
			const respond = wf.nodes.find((n) => n.type === 'n8n-nodes-base.respondToWebhook')!;
			expect(respond.parameters.responseBody).toBe('={{ $json.metrics }}');
			Object.assign(respond, { type: 'n8n-nodes-base.noOp', typeVersion: 1, parameters: {} });
			const run = await runWorkflow(wf, inputs);
			expect(run.error).toBeUndefined();
			const { metrics, contentType } = run.outputs('Route Metrics')[0][0].json as {
				metrics: string;
				contentType: string;
			};
			const header = (
				readExample('prometheus-endpoint.json').nodes.find((n) => n.name === respond.name)!
					.parameters as { options: { responseHeaders: { entries: IDataObject[] } } }
			).options.responseHeaders.entries[0];
			expect(header).toEqual({ name: 'Content-Type', value: contentType });
			const sent = parsePrometheus(metrics).find((f) => f.name === 'postal_messages_sent');
			expect(
				sent?.metrics.map((m) => [
					(m as { labels: IDataObject }).labels,
					(m as { value: string }).value,
				]),
			).toEqual([[{ route: 'Relay A', group: 'google', window: '15m' }, '12']]);
		});
	});

	describe('alert-to-slack.json', () => {
		it('its trigger emits warnings and worse, and the Slack text reads each alert', async () => {
			resetEmbeddedStateStore();
			const example = readExample('alert-to-slack.json');
			const triggerNode = example.nodes.find((n) => n.type === `${PACKAGE}.postalAlertTrigger`)!;
			const active = await activateTrigger(new PostalAlertTrigger(), {
				name: triggerNode.name,
				type: triggerNode.type,
				parameters: { ...triggerNode.parameters, pollSeconds: 1 },
			});
			const at = new Date().toISOString();
			await embeddedStateStore().publishAlerts(
				[
					{
						type: 'route.restored',
						severity: 'info',
						route: 'Relay A',
						group: 'yahoo',
						reason: 'cleared',
						at,
					},
					{
						type: 'route.suspended',
						severity: 'critical',
						route: 'Relay A',
						group: 'yahoo',
						rule: 'yahoo-tss04',
						reason: '421 4.7.0 [TSS04] temporarily deferred',
						at,
						until: '2026-12-02T10:00:00.000Z',
					},
					{
						type: 'route.ejected',
						severity: 'critical',
						route: 'Relay B',
						reason: 'connection refused',
						at,
					},
				],
				0,
			);
			await until(() => active.emitted.length > 0);
			await active.response.closeFunction!();
			const alerts = active.emitted.flat().map((i) => i.json);
			expect(alerts.map((a) => a.type)).toEqual(['route.suspended', 'route.ejected']);

			// the Slack node's text, evaluated by n8n on each alert: a Set node with the same expression
			const slack = example.nodes.find((n) => n.type === 'n8n-nodes-base.slack')!;
			const wf: WorkflowJson = {
				id: 'wfAlertText',
				nodes: [
					{
						id: 's',
						name: 'Start',
						type: 'n8n-nodes-base.manualTrigger',
						typeVersion: 1,
						position: [0, 0],
						parameters: {},
					},
					{
						id: 'a',
						name: 'Alerts',
						type: 'test.injectedItems',
						typeVersion: 1,
						position: [200, 0],
						parameters: {},
					},
					{
						id: 't',
						name: 'Text',
						type: 'n8n-nodes-base.set',
						typeVersion: 3.4,
						position: [400, 0],
						parameters: {
							assignments: {
								assignments: [
									{ id: 'x', name: 'text', type: 'string', value: slack.parameters.text },
								],
							},
							options: {},
						},
					},
				],
				connections: {
					Start: { main: [[{ node: 'Alerts', type: 'main', index: 0 }]] },
					Alerts: { main: [[{ node: 'Text', type: 'main', index: 0 }]] },
				},
			};
			const run = await runWorkflow(wf, { Alerts: alerts });
			expect(run.error).toBeUndefined();
			expect(run.outputs('Text')[0].map((i) => i.json.text)).toEqual([
				':rotating_light: route.suspended: Relay A for yahoo — 421 4.7.0 [TSS04] temporarily deferred (until 2026-12-02T10:00:00.000Z)',
				':rotating_light: route.ejected: Relay B — connection refused',
			]);
		});
	});
});

/** A loopback port nothing listens on (bound, then closed). */
function closedPort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as AddressInfo;
			server.close(() => resolve(port));
		});
	});
}
