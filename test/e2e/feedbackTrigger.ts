/**
 * End-to-end: the Postal Feedback Trigger in a real n8n 2.40.7, over HTTP. A workflow with the
 * trigger (SendGrid, a local P-256 key) is imported and published, `n8n start` serves it on
 * loopback, and a signed SendGrid batch is POSTed to its production URL. Checks: 200; the
 * execution's run data (read through n8n's REST API as the owner) holds the normalized events;
 * a tampered request 401 and a redelivery 200 start no execution; the hard-bounced address is on
 * the suppression list in the embedded state file n8n's process wrote. No key in n8n's log.
 *
 * Headless, what works here: `n8n import:workflow` deactivates what it imports (the
 * --activeState=fromJson flag is for queue mode only); `n8n publish:workflow --id` before `n8n start`
 * makes the start activate it, and its webhook answers at /webhook/<webhookId>/webhook.
 */
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeReference } from '../../lib/feedback/reference';
import { startSmtpSink } from '../helpers/smtpSink';
import {
	executionResult,
	finishedExecutions,
	ownerRest,
	serverVars,
	startN8nServer,
	stopN8nServer,
} from './server';
import { Checks, extractRunJson, freePort, log, outputItems, run, step, waitFor } from './lib';
import { install, n8n, n8nEnv, type Env, type Packed } from './run';
import { PKG, smtpCredential } from './workflow';

const WORKFLOW_ID = 'wfPostalFeedback';
/** examples/esp-webhooks-suppression.json, published next to the scenario's workflow */
const EXAMPLE_FILE = join(__dirname, '..', '..', 'examples', 'esp-webhooks-suppression.json');
const EXAMPLE_ID = 'exEspSuppression01';
const COMPLAINED = 'angry.reader@gmail.com';

/** The example as a user imports it, with the SendGrid key they would paste in. */
function exampleWorkflow(publicKey: string) {
	const wf = JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8'));
	const trigger = wf.nodes.find((n: { type: string }) => n.type === `${PKG}.postalFeedbackTrigger`);
	trigger.parameters.sendgridPublicKey = publicKey;
	return { ...wf, id: EXAMPLE_ID, active: false };
}

/** a bounce and a complaint for the example's webhook */
function exampleEvents() {
	return [
		{ ...events()[0], email: 'gone.example@gmail.com', sg_event_id: 'e2e-ex-bounce' },
		{
			email: COMPLAINED,
			timestamp: 1700000000,
			event: 'spamreport',
			sg_event_id: 'e2e-ex-complaint',
			sg_message_id: 'e2emsg3.filter0001.1.2.0',
		},
	];
}
const WEBHOOK_ID = 'postal-e2e-feedback';
const BOUNCED = 'gone.user@gmail.com';
const DEFERRED = 'late.user@yahoo.com';

function events() {
	return [
		{
			email: BOUNCED,
			timestamp: 1700000000,
			event: 'bounce',
			sg_event_id: 'e2e-bounce-1',
			sg_message_id: 'e2emsg1.filter0001.1.2.0',
			reason: '550 5.1.1 unknown recipient',
			status: '5.1.1',
			type: 'bounce',
			bounce_classification: 'Invalid Address',
		},
		{
			email: 'fine@outlook.com',
			timestamp: 1700000000,
			event: 'delivered',
			sg_event_id: 'e2e-delivered-1',
			sg_message_id: 'e2emsg2.filter0001.1.2.0',
			response: '250 OK',
		},
		// Yahoo deferred a message Relay A sent to its group: the reputation rules suspend Relay A
		// for yahoo, and the send after the feedback holds its Yahoo recipient
		{
			email: DEFERRED,
			timestamp: Math.floor(Date.now() / 1000),
			event: 'deferred',
			sg_event_id: 'e2e-deferred-1',
			sg_message_id: 'e2emsg4.filter0001.1.2.0',
			response:
				'421 4.7.0 [TSS04] Messages from 203.0.113.9 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1',
			attempt: '1',
			pr: encodeReference({ route: 'Relay A', group: 'yahoo', campaign: 'e2e' }).token,
		},
	];
}

function workflow(publicKey: string) {
	return {
		id: WORKFLOW_ID,
		name: 'Postal Routes e2e: feedback webhook',
		active: false,
		nodes: [
			{
				id: 'feedback',
				name: 'Feedback',
				type: `${PKG}.postalFeedbackTrigger`,
				typeVersion: 1,
				position: [0, 0],
				webhookId: WEBHOOK_ID,
				parameters: { provider: 'sendgrid', sendgridPublicKey: publicKey },
			},
		],
		connections: {},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

/** Runs the scenario; returns the failed checks (empty: passed), never throws. */
export async function runFeedbackTrigger(
	env: Env,
	packed: Packed,
	work: string,
): Promise<string[]> {
	try {
		return await scenario(env, packed, work);
	} catch (error) {
		return [`[feedback trigger] ${(error as Error).message.split('\n')[0]}`];
	}
}

async function scenario(env: Env, packed: Packed, work: string): Promise<string[]> {
	const base = join(work, 'feedback');
	mkdirSync(base, { recursive: true });
	const c = new Checks('feedback trigger');
	const n8nLog = join(base, 'n8n.log');
	const inst = await step('[feedback] install the tarball (GUI installer steps)', () =>
		install(env, 'gui', packed, base),
	);
	const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
	const key = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
	const vars = serverVars(
		n8nEnv(env, inst, base, await freePort(), join(base, 'resolve-probe.jsonl')),
		await freePort(),
	);
	const wfFile = join(base, 'workflow.json');
	writeFileSync(wfFile, JSON.stringify([workflow(key), exampleWorkflow(key)], null, 2));
	await step(
		'[feedback] n8n import:workflow + publish:workflow (with the ESP example)',
		async () => {
			await n8n(env, ['import:workflow', `--input=${wfFile}`], vars, n8nLog);
			await n8n(env, ['publish:workflow', `--id=${WORKFLOW_ID}`], vars, n8nLog);
			await n8n(env, ['publish:workflow', `--id=${EXAMPLE_ID}`], vars, n8nLog);
		},
	);

	let server: ChildProcess | undefined;
	try {
		let url: string;
		({ server, url } = await startN8nServer(env, inst.userFolder, vars, n8nLog, 'feedback'));
		const hook = `${url}/webhook/${WEBHOOK_ID}/webhook`;
		const body = JSON.stringify(events());
		const signed = (text: string, timestamp = String(Math.floor(Date.now() / 1000))) => ({
			'content-type': 'application/json',
			'x-twilio-email-event-webhook-signature': sign(
				'sha256',
				Buffer.from(timestamp + text),
				privateKey,
			).toString('base64'),
			'x-twilio-email-event-webhook-timestamp': timestamp,
		});
		// the webhook is registered once the workflow is activated, a moment after readiness
		const first = await step('[feedback] POST a signed SendGrid batch', () =>
			waitFor(
				'the webhook to be registered',
				async () => {
					const r = await fetch(hook, { method: 'POST', body, headers: signed(body) });
					return r.status === 404 ? undefined : { status: r.status, text: await r.text() };
				},
				60_000,
			),
		);
		c.equal(first.status, 200, 'signed batch: status');
		const tampered = await fetch(hook, {
			method: 'POST',
			body: body.replace('gone.user', 'someone'),
			headers: signed(body),
		});
		c.equal(tampered.status, 401, 'tampered batch: status');
		const again = await fetch(hook, { method: 'POST', body, headers: signed(body) });
		c.equal([again.status, await again.text()], [200, 'OK'], 'redelivered batch: status and body');
		// SNS posts its JSON as text/plain: n8n must hand the node the raw bytes for that type too
		const plain = JSON.stringify([{ ...events()[1], sg_event_id: 'e2e-delivered-2' }]);
		const asText = await fetch(hook, {
			method: 'POST',
			body: plain,
			headers: { ...signed(plain), 'content-type': 'text/plain; charset=UTF-8' },
		});
		c.equal(asText.status, 200, 'a signed body sent as text/plain verifies (rawBody is there)');

		// the run data, as the editor reads it: the owner's session, the executions API
		const rest = await ownerRest(url, 'Feedback-2026');
		c.ok(rest.ok && rest.cookie, 'owner set-up gave a session');
		const list = await finishedExecutions(rest, WORKFLOW_ID, 'the execution to finish', 30_000);
		c.equal(
			list.map((e) => e.status),
			['success', 'success'],
			'executions started: two (the JSON and the text/plain batch; the tampered and the redelivered request started none)',
		);
		// the list is newest first: the JSON batch is the older one
		const oldest = [...list].sort((x, y) => Number(x.id) - Number(y.id))[0];
		const { runData } = await executionResult(env, rest, oldest.id);
		const items = runData.Feedback?.[0]?.data?.main[0] ?? [];
		const got = items.map((i) => {
			const e = i.json.postalEvent as Record<string, unknown>;
			return [e.source, e.type, e.bounce ?? null, e.recipient, e.eventId];
		});
		c.equal(
			got,
			[
				['sendgrid', 'bounced', 'hard', BOUNCED, 'e2e-bounce-1'],
				['sendgrid', 'delivered', null, 'fine@outlook.com', 'e2e-delivered-1'],
				['sendgrid', 'deferred', null, DEFERRED, 'e2e-deferred-1'],
			],
			'run data: the trigger output one normalized postalEvent per event',
		);
		c.equal(
			items.map((i) => i.json.suppression),
			[
				{ suppressed: 'hard-bounce' },
				{ skipped: 'a delivered event suppresses nothing' },
				{ skipped: 'a deferred event suppresses nothing' },
			],
			'run data: what each event did to the suppression list',
		);

		// examples/esp-webhooks-suppression.json: its webhook, a signed batch, the complaint to Notify
		const example = exampleWorkflow(key);
		const exampleHook = `${url}/webhook/${example.nodes.find((n: { webhookId?: string }) => n.webhookId).webhookId}/webhook`;
		const exampleBody = JSON.stringify(exampleEvents());
		const posted = await waitFor(
			'the example’s webhook to be registered',
			async () => {
				const r = await fetch(exampleHook, {
					method: 'POST',
					body: exampleBody,
					headers: signed(exampleBody),
				});
				return r.status === 404 ? undefined : r;
			},
			30_000,
		);
		c.equal(posted.status, 200, 'example esp-webhooks-suppression.json: signed batch status');
		const exampleRuns = await finishedExecutions(
			rest,
			EXAMPLE_ID,
			'the example’s execution to finish',
			30_000,
		);
		c.equal(
			exampleRuns.map((e) => e.status),
			['success'],
			'example esp-webhooks-suppression.json: one execution, success',
		);
		const exampleData = (await executionResult(env, rest, exampleRuns[0].id)).runData;
		const notified = (exampleData['Notify (Complaint)']?.[0]?.data?.main[0] ?? []).map(
			(i) => (i.json.postalEvent as Record<string, unknown>).recipient,
		);
		c.equal(
			notified,
			[COMPLAINED],
			'example esp-webhooks-suppression.json: the complaint reached Notify (Complaint)',
		);
	} catch (error) {
		c.ok(false, (error as Error).message.split('\n')[0]);
	} finally {
		await stopN8nServer(server);
	}

	// the suppression list in the state file n8n's process wrote (node:sqlite on n8n's Node 24)
	const file = join(inst.userFolder, '.n8n', 'postal-routes-state.sqlite');
	const query = `const { DatabaseSync } = require('node:sqlite');
		const db = new DatabaseSync(process.argv[1], { readOnly: true });
		const rows = db.prepare("SELECT value FROM fields WHERE key LIKE '{suppress}:list:%'").all();
		const seen = db.prepare("SELECT count(*) AS n FROM entries WHERE key LIKE '{seen}:ev:%'").get().n;
		console.log(JSON.stringify({ entries: rows.map((r) => JSON.parse(r.value)), seen }));`;
	const state = await run(env.node24, ['-e', query, file], { allowFailure: true });
	log(`  state file: ${state.stdout.trim() || state.stderr.trim()}`);
	// the scenario's batches (three events, then one as text/plain), two of the example's
	c.ok(/"seen":6\b/.test(state.stdout), 'state file: the six event ids marked seen');
	c.ok(
		state.stdout.includes('a***@gmail.com'),
		'state file: the example’s complaining address suppressed (masked hint)',
	);
	c.ok(
		state.stdout.includes('g***@gmail.com'),
		'state file: the bounced address suppressed (masked hint)',
	);
	const logText = readFileSync(n8nLog, 'utf8');
	c.ok(!logText.includes(key), 'the verification key is not in n8n’s log');
	c.ok(/refused \(401\)/.test(logText), 'n8n’s log names the refusal and its status');

	await sendAfterFeedback(env, c, vars, base, n8nLog);
	return c.failures;
}

/**
 * The loop closed: a send after the webhook, in the same n8n folder (the same embedded state
 * file), to the bounced address and a fine one. The bounced one leaves on Skipped as suppressed,
 * unsent; the other is delivered.
 */
async function sendAfterFeedback(
	env: Env,
	c: Checks,
	vars: NodeJS.ProcessEnv,
	base: string,
	n8nLog: string,
): Promise<void> {
	const password = `pw-F-${randomBytes(12).toString('hex')}`;
	const sink = await startSmtpSink({ auth: { user: 'relay-fb', pass: password } });
	try {
		const id = 'wfPostalFeedbackSend';
		const cred = { id: 'e2eSmtpFeedback', name: 'E2E Feedback relay' };
		const credsFile = join(base, 'send-credentials.json');
		const wfFile = join(base, 'send-workflow.json');
		writeFileSync(
			credsFile,
			JSON.stringify([smtpCredential(cred.id, cred.name, sink.port, 'relay-fb', password)]),
		);
		const recipients = [
			{ email: BOUNCED },
			{ email: 'fine@outlook.com' },
			{ email: 'new.user@yahoo.com', domainGroup: 'yahoo' },
		];
		writeFileSync(
			wfFile,
			JSON.stringify([
				{
					id,
					name: 'Postal Routes e2e: a send after the feedback',
					active: false,
					nodes: [
						{
							id: 'start',
							name: 'Start',
							type: 'n8n-nodes-base.manualTrigger',
							typeVersion: 1,
							position: [0, 0],
							parameters: {},
						},
						{
							id: 'recipients',
							name: 'Recipients',
							type: 'n8n-nodes-base.code',
							typeVersion: 2,
							position: [200, 0],
							parameters: {
								jsCode: `return ${JSON.stringify(recipients)}.map((json) => ({ json }));`,
							},
						},
						{
							id: 'send',
							name: 'Send',
							type: `${PKG}.loadBalancedSend`,
							typeVersion: 1,
							position: [400, 0],
							parameters: {
								provider: 'smtp',
								routeName: 'Relay A',
								from: 'Shop <news@shop.example>',
								to: '={{ $json.email }}',
								subject: 'After the feedback',
								text: 'Hi',
							},
							credentials: { postalSmtp: cred },
						},
					],
					connections: {
						Start: { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
						Recipients: { main: [[{ node: 'Send', type: 'main', index: 0 }]] },
					},
					settings: { executionOrder: 'v1' },
					pinData: {},
				},
			]),
		);
		const exec = await step('[feedback] a send after the feedback: n8n execute', async () => {
			await n8n(env, ['import:credentials', `--input=${credsFile}`], vars, n8nLog);
			rmSync(credsFile);
			await n8n(env, ['import:workflow', `--input=${wfFile}`], vars, n8nLog);
			return n8n(env, ['execute', `--id=${id}`, '--rawOutput'], vars, n8nLog, true);
		});
		const runJson = extractRunJson(exec.stdout) ?? extractRunJson(exec.stderr);
		if (!c.ok(runJson, 'the send after the feedback: run JSON in the output')) return;
		const email = (i: { json: Record<string, unknown> }) => i.json.email;
		const record = (i: { json: Record<string, unknown> }) =>
			i.json.postalDelivery as Record<string, unknown>;
		c.equal(
			outputItems(runJson!, 'Send', 0).map(email),
			['fine@outlook.com'],
			'Sent: the fine recipient',
		);
		c.equal(
			outputItems(runJson!, 'Send', 3).map((i) => [email(i), record(i).status]),
			[[BOUNCED, 'suppressed']],
			'Skipped: the address the webhook reported bounced, as suppressed',
		);
		c.equal(
			outputItems(runJson!, 'Send', 2).map((i) => [email(i), record(i).status]),
			[['new.user@yahoo.com', 'route-suspended']],
			'Fallback: the Yahoo recipient, held: the webhook’s TSS04 deferral suspended Relay A for yahoo',
		);
		c.equal(
			sink.messages.map((m) => m.rcpts),
			[['fine@outlook.com']],
			'the sink got the fine recipient only',
		);
		c.ok(!(exec.stdout + exec.stderr).includes(password), 'no SMTP password in n8n’s output');
	} finally {
		await sink.stop();
	}
}
