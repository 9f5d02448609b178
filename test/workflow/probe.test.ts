import net from 'node:net';
import nock from 'nock';
import type { IDataObject, INode, INodeExecutionData } from 'n8n-workflow';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { runWorkflow, type WorkflowJson } from '../helpers/engine';
import { recipients } from '../helpers/recipients';
import { startSmtpFaultServer, type SmtpFaultServer } from '../helpers/smtpFaultServer';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

/**
 * Load-Balanced Send › Probe Connection through n8n's engine, against real smtp-server sinks and
 * a raw server that never answers: the probe's steps, and its outcome in the route's circuit as
 * the Route Partitioner of the same campaign reads it.
 */

const PASSWORD = 's3cret-Pa55word';
const USER = 'relay-user';

const trigger: INode = {
	id: 't',
	name: 'Manual Trigger',
	type: 'n8n-nodes-base.manualTrigger',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

/** Manual Trigger → Probe (Relay B's credential) */
function probeWorkflow(probeOptions: IDataObject, extra: IDataObject = {}): WorkflowJson {
	return {
		nodes: [
			trigger,
			{
				id: 'p',
				name: 'Probe B',
				type: 'n8n-nodes-postal-routes.loadBalancedSend',
				typeVersion: 3,
				position: [200, 0],
				parameters: {
					operation: 'probe',
					provider: 'smtp',
					credentialType: 'postalRoutes',
					routeName: 'Relay B',
					probeOptions: probeOptions as never,
					...extra,
				},
				credentials: { postalSmtp: { id: 'smtp-b', name: 'Relay B' } },
			},
		],
		connections: { 'Manual Trigger': { main: [[{ node: 'Probe B', type: 'main', index: 0 }]] } },
	};
}

/** Manual Trigger → Recipients → a 50/50 partitioner over Relay A and Relay B (same campaign) */
const splitWorkflow: WorkflowJson = {
	nodes: [
		trigger,
		{
			id: 'r',
			name: 'Recipients',
			type: 'test.injectedItems',
			typeVersion: 1,
			position: [200, 0],
			parameters: {},
		},
		{
			id: 's',
			name: 'Split',
			type: 'n8n-nodes-postal-routes.routePartitioner',
			typeVersion: 1,
			position: [400, 0],
			parameters: {
				mode: 'percentage',
				routes: {
					values: [
						{ name: 'Relay A', percentage: 50 },
						{ name: 'Relay B', percentage: 50 },
					],
				},
			},
		},
	],
	connections: {
		'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
		Recipients: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
	},
};

const credential = (port: number, extra: IDataObject = {}) => ({
	host: '127.0.0.1',
	port,
	security: 'starttls',
	user: USER,
	password: PASSWORD,
	allowUnauthorizedCerts: true,
	...extra,
});

async function probe(port: number, options: IDataObject = {}, credentialExtra: IDataObject = {}) {
	const run = await runWorkflow(
		probeWorkflow({ fall: 1, timeoutSeconds: 2, ...options }),
		{},
		{ credentials: { 'smtp-b': credential(port, credentialExtra) } },
	);
	expect(run.error).toBeUndefined();
	const [passed, failed, ...rest] = run.outputs('Probe B');
	expect(rest.flat()).toHaveLength(0);
	expect(passed.length + failed.length).toBe(1);
	const item = (passed[0] ?? failed[0]) as INodeExecutionData;
	// no form of the password in what the probe says
	const text = JSON.stringify(item.json);
	expect(text).not.toContain(PASSWORD);
	expect(text).not.toContain(Buffer.from(PASSWORD).toString('base64'));
	expect(text).not.toContain(Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64'));
	return { json: item.json as IDataObject, output: passed.length ? 'sent' : 'failed' };
}

let seed = 0;
/**
 * How many of 40 new recipients the partitioner gives Relay B now (new ones: a sticky recipient
 * keeps its route while the route's circuit is open, and the send node puts it on Fallback).
 */
async function routedToB(): Promise<number> {
	const run = await runWorkflow(splitWorkflow, {
		Recipients: recipients(40, ++seed, ['gmail.com']),
	});
	expect(run.error).toBeUndefined();
	const [a, b, deferred] = run.outputs('Split');
	expect(a.length + b.length + (deferred?.length ?? 0)).toBe(40);
	return b.length;
}

const stepNames = (json: IDataObject) =>
	(json.steps as Array<{ step: string; ok: boolean }>).map((s) => `${s.step}:${s.ok}`);

describe('Load-Balanced Send › Probe Connection', () => {
	let sinks: SmtpSink[] = [];
	let raw: net.Server | undefined;

	beforeEach(() => resetEmbeddedStateStore());
	afterEach(async () => {
		closeSmtpTransports();
		await Promise.all(sinks.map((s) => s.stop()));
		sinks = [];
		if (raw) await new Promise((resolve) => raw!.close(resolve));
		raw = undefined;
	});

	it('passes on a server that accepts: connect, banner, EHLO, STARTTLS and AUTH, no mail', async () => {
		const sink = await startSmtpSink({ tls: 'starttls', auth: { user: USER, pass: PASSWORD } });
		sinks.push(sink);
		const { json, output } = await probe(sink.port);
		expect(output).toBe('sent');
		expect(json).toMatchObject({
			route: 'Relay B',
			provider: 'smtp',
			ok: true,
			circuit: { open: false },
		});
		expect(stepNames(json)).toEqual([
			'connect:true',
			'banner:true',
			'ehlo:true',
			'starttls:true',
			'auth:true',
		]);
		const steps = json.steps as Array<{ step: string; ms: number; reply?: string }>;
		expect(steps[1].reply).toMatch(/^220 /);
		expect(steps[3].reply).toMatch(/^220 /);
		expect(steps[4].reply).toMatch(/^235 /);
		expect(steps.every((s) => s.ms >= 0)).toBe(true);
		expect(json.latencyMs).toEqual(expect.any(Number));
		expect(json.error).toBeUndefined();
		expect(sink.messages).toHaveLength(0);
		expect(await routedToB()).toBe(20);
	});

	it('fails at AUTH on a 535; with Fall 1 the partitioner then gives the route nothing, and one passing probe brings it back', async () => {
		const sink = await startSmtpSink({ tls: 'starttls', auth: { user: USER, pass: 'other' } });
		sinks.push(sink);
		expect(await routedToB()).toBe(20);

		const { json, output } = await probe(sink.port);
		expect(output).toBe('failed');
		expect(json.ok).toBe(false);
		expect(stepNames(json)).toEqual([
			'connect:true',
			'banner:true',
			'ehlo:true',
			'starttls:true',
			'auth:false',
		]);
		expect((json.steps as Array<{ reply?: string }>)[4].reply).toMatch(/^535 /);
		expect(String(json.error)).toMatch(/535/);
		const circuit = json.circuit as IDataObject;
		expect(circuit.open).toBe(true);
		// twice Probe Every (60 s)
		const until = Date.parse(String(circuit.openUntil));
		expect(until - Date.now()).toBeGreaterThan(100_000);
		expect(until - Date.now()).toBeLessThanOrEqual(120_000);

		// the partitioner skips the open circuit: Relay B's share spills to Relay A
		expect(await routedToB()).toBe(0);

		// the relay is fixed: the next probe passes and closes the circuit
		const fixed = await startSmtpSink({ tls: 'starttls', auth: { user: USER, pass: PASSWORD } });
		sinks.push(fixed);
		const again = await probe(fixed.port);
		expect(again.output).toBe('sent');
		expect(again.json.circuit).toEqual({ open: false });
		expect(await routedToB()).toBe(20);
	});

	it('counts Fall failures in a row before taking the route out', async () => {
		const sink = await startSmtpSink({ tls: 'starttls', auth: { user: USER, pass: 'other' } });
		sinks.push(sink);
		expect((await probe(sink.port, { fall: 2 })).json.circuit).toEqual({ open: false });
		expect(await routedToB()).toBe(20);
		expect(((await probe(sink.port, { fall: 2 })).json.circuit as IDataObject).open).toBe(true);
		expect(await routedToB()).toBe(0);
	});

	it('fails within its timeout on a server that never answers', async () => {
		raw = net.createServer(() => undefined);
		await new Promise<void>((resolve) => raw!.listen(0, '127.0.0.1', resolve));
		const port = (raw.address() as net.AddressInfo).port;
		const started = Date.now();
		const { json, output } = await probe(port, { timeoutSeconds: 1 });
		const took = Date.now() - started;
		expect(output).toBe('failed');
		expect(stepNames(json)).toEqual(['connect:true', 'banner:false']);
		expect(took).toBeLessThan(3000);
		expect(json.latencyMs as number).toBeGreaterThanOrEqual(900);
		expect(json.latencyMs as number).toBeLessThan(2000);
		expect((json.circuit as IDataObject).open).toBe(true);
		// the probe's own socket is gone: nothing of it keeps the server open
		raw.close();
	});

	it('fails at STARTTLS on a server that does not offer it when the credential requires it', async () => {
		const sink = await startSmtpSink({ tls: 'none', auth: { user: USER, pass: PASSWORD } });
		sinks.push(sink);
		const { json, output } = await probe(sink.port, {}, { security: 'starttlsRequired' });
		expect(output).toBe('failed');
		expect(stepNames(json)).toEqual(['connect:true', 'banner:true', 'ehlo:true', 'starttls:false']);
		expect(String(json.error)).toMatch(/STARTTLS/);
		expect((json.circuit as IDataObject).open).toBe(true);
		expect(sink.authFailures).toBe(0);
	});

	it('passes over implicit TLS (SSL/TLS, no STARTTLS step)', async () => {
		const sink = await startSmtpSink({ tls: 'implicit', auth: { user: USER, pass: PASSWORD } });
		sinks.push(sink);
		const { json, output } = await probe(sink.port, {}, { security: 'tls' });
		expect(output).toBe('sent');
		expect(stepNames(json)).toEqual(['connect:true', 'banner:true', 'ehlo:true', 'auth:true']);
	});

	it('scrubs the password from a server that echoes what AUTH sent', async () => {
		raw = net.createServer((socket) => {
			socket.write('220 echo.test ESMTP\r\n');
			socket.on('data', (chunk) => {
				for (const line of chunk.toString().split('\r\n').filter(Boolean)) {
					if (/^EHLO/i.test(line)) socket.write('250-echo.test\r\n250 AUTH PLAIN LOGIN\r\n');
					else if (/^AUTH/i.test(line)) socket.write(`535 5.7.8 refused: ${line}\r\n`);
					else if (/^QUIT/i.test(line)) socket.end('221 bye\r\n');
					else socket.write('502 no\r\n');
				}
			});
		});
		await new Promise<void>((resolve) => raw!.listen(0, '127.0.0.1', resolve));
		const port = (raw.address() as net.AddressInfo).port;
		// probe() checks every form of the password is absent from the item
		const { json } = await probe(port, {}, { security: 'noneInsecureAuth' });
		expect(stepNames(json)).toEqual(['connect:true', 'banner:true', 'ehlo:true', 'auth:false']);
		expect((json.steps as Array<{ reply?: string }>)[3].reply).toMatch(
			/^535 5\.7\.8 refused: AUTH PLAIN/,
		);
	});

	it('refuses a login over an unencrypted connection before connecting, saying what to change', async () => {
		const { json, output } = await probe(1, {}, { security: 'none' });
		expect(output).toBe('failed');
		expect(json.steps).toEqual([]);
		expect(String(json.error)).toMatch(/Security setting/);
	});

	it('only reports with Update Circuit off', async () => {
		const sink = await startSmtpSink({ tls: 'starttls', auth: { user: USER, pass: 'other' } });
		sinks.push(sink);
		const { json } = await probe(sink.port, { updateCircuit: false });
		expect(json.ok).toBe(false);
		expect(json.circuit).toEqual({ open: false });
		expect(await routedToB()).toBe(20);
	});

	it('names the parameter when Campaign ID is empty', async () => {
		const run = await runWorkflow(
			probeWorkflow({}, { campaignId: '  ' }),
			{},
			{ credentials: { 'smtp-b': credential(1) } },
		);
		expect(run.error?.message).toMatch(/^Campaign ID: is empty/);
	});
});

describe('Load-Balanced Send › Probe Connection: Rise, the seed address, the skip on recent traffic', () => {
	let sinks: SmtpSink[] = [];
	beforeEach(() => resetEmbeddedStateStore());
	afterEach(async () => {
		closeSmtpTransports();
		await Promise.all(sinks.map((s) => s.stop()));
		sinks = [];
	});
	const start = async (options: Parameters<typeof startSmtpSink>[0]) => {
		const sink = await startSmtpSink(options);
		sinks.push(sink);
		return sink;
	};

	/** one probe run through the engine, whatever output its item leaves on */
	async function probeRun(port: number, options: IDataObject) {
		const run = await runWorkflow(
			probeWorkflow({ fall: 1, timeoutSeconds: 2, ...options }),
			{},
			{ credentials: { 'smtp-b': credential(port) } },
		);
		expect(run.error).toBeUndefined();
		const outputs = run.outputs('Probe B');
		const names = ['sent', 'failed', 'fallback', 'skipped'];
		const at = outputs.findIndex((o) => o.length > 0);
		expect(outputs.flat()).toHaveLength(1);
		const json = outputs[at][0].json;
		expect(JSON.stringify(json)).not.toContain(PASSWORD);
		return { json, output: names[at] };
	}

	it('Rise 2: a route taken out stays out after one passing probe and comes back after the second', async () => {
		const refusing = await start({ tls: 'starttls', auth: { user: USER, pass: 'other' } });
		const out = await probeRun(refusing.port, { rise: 2 });
		expect(out.output).toBe('failed');
		expect(out.json.alerts).toEqual(['probe.down']);
		expect(await routedToB()).toBe(0);

		const fixed = await start({ tls: 'starttls', auth: { user: USER, pass: PASSWORD } });
		const first = await probeRun(fixed.port, { rise: 2 });
		expect(first.output).toBe('sent');
		const circuit = first.json.circuit as IDataObject;
		expect(circuit).toMatchObject({ open: true, passes: 1, rise: 2 });
		// kept out until the next probe: twice Probe Every from now
		expect(Date.parse(String(circuit.openUntil)) - Date.now()).toBeGreaterThan(100_000);
		expect(await routedToB()).toBe(0);

		const second = await probeRun(fixed.port, { rise: 2 });
		expect(second.output).toBe('sent');
		expect(second.json.circuit).toEqual({ open: false });
		expect(second.json.alerts).toEqual(['probe.up']);
		expect(await routedToB()).toBe(20);
	});

	it('Seed Address: MAIL FROM, RCPT TO and RSET after AUTH, never DATA, and nothing is sent', async () => {
		const events: string[] = [];
		const rcpts: string[] = [];
		const sink = await start({
			tls: 'starttls',
			auth: { user: USER, pass: PASSWORD },
			onEvent: (e) => {
				events.push(e.type);
				if (e.type === 'rcpt') rcpts.push(...(e.rcpts ?? []));
			},
		});
		const { json, output } = await probeRun(sink.port, {
			seedAddress: 'Seed <seed@inbox.example>',
			seedSender: 'probe@shop.example',
		});
		expect(output).toBe('sent');
		expect(stepNames(json)).toEqual([
			'connect:true',
			'banner:true',
			'ehlo:true',
			'starttls:true',
			'auth:true',
			'mail:true',
			'rcpt:true',
			'rset:true',
		]);
		const steps = json.steps as Array<{ step: string; reply?: string }>;
		expect(steps.slice(5).map((s) => s.reply?.slice(0, 3))).toEqual(['250', '250', '250']);
		expect(rcpts).toEqual(['seed@inbox.example']);
		expect(events).toContain('mail');
		expect(events).not.toContain('data');
		expect(sink.messages).toHaveLength(0);
	});

	it('Seed Address refused at RCPT (5xx): the probe fails with the reply, takes the route out, sends nothing', async () => {
		const events: string[] = [];
		const sink = await start({
			tls: 'starttls',
			auth: { user: USER, pass: PASSWORD },
			reply: ({ phase }) =>
				phase === 'rcpt'
					? { code: 550, message: '5.1.1 seed@inbox.example: no such user' }
					: undefined,
			onEvent: (e) => events.push(e.type),
		});
		const { json, output } = await probeRun(sink.port, { seedAddress: 'seed@inbox.example' });
		expect(output).toBe('failed');
		expect(stepNames(json)).toEqual([
			'connect:true',
			'banner:true',
			'ehlo:true',
			'starttls:true',
			'auth:true',
			'mail:true',
			'rcpt:false',
		]);
		expect((json.steps as Array<{ reply?: string }>)[6].reply).toMatch(/^550 5\.1\.1 seed@inbox/);
		expect(String(json.error)).toMatch(/refused at RCPT TO: 550 5\.1\.1/);
		expect((json.circuit as IDataObject).open).toBe(true);
		expect(events).not.toContain('data');
		expect(sink.messages).toHaveLength(0);
		expect(await routedToB()).toBe(0);
	});

	it('scrubs the password from a RCPT refusal that echoes it', async () => {
		const sink = await start({
			tls: 'starttls',
			auth: { user: USER, pass: PASSWORD },
			reply: ({ phase }) =>
				phase === 'rcpt' ? { code: 554, message: `relay denied for ${PASSWORD}` } : undefined,
		});
		// probeRun checks the password is nowhere in the item
		const { json } = await probeRun(sink.port, { seedAddress: 'seed@inbox.example' });
		expect(String(json.error)).toMatch(/554/);
	});

	describe('against a relay that fails at RCPT TO (raw fault server, no AUTH)', () => {
		let fault: SmtpFaultServer | undefined;
		afterEach(async () => {
			await fault?.stop();
			fault = undefined;
		});
		const faultProbe = async (port: number) => {
			const run = await runWorkflow(
				probeWorkflow({ fall: 1, timeoutSeconds: 1, seedAddress: 'seed@inbox.example' }),
				{},
				{
					credentials: {
						'smtp-b': { host: '127.0.0.1', port, security: 'none', user: '', password: '' },
					},
				},
			);
			expect(run.error).toBeUndefined();
			const [passed, failed] = run.outputs('Probe B');
			expect(passed).toHaveLength(0);
			return failed[0].json;
		};

		it('one that never answers RCPT: the probe fails at rcpt within its timeout, the null sender used, no DATA', async () => {
			fault = await startSmtpFaultServer({ fault: 'silentAfterRcpt' });
			const started = Date.now();
			const json = await faultProbe(fault.port);
			expect(Date.now() - started).toBeLessThan(3000);
			expect(stepNames(json)).toEqual([
				'connect:true',
				'banner:true',
				'ehlo:true',
				'mail:true',
				'rcpt:false',
			]);
			expect(String(json.error)).toMatch(/no answer within 1 s .* at rcpt$/);
			expect(fault.commands.filter((c) => !/^EHLO/.test(c))).toEqual([
				'MAIL FROM:<>',
				'RCPT TO:<seed@inbox.example>',
			]);
			expect(fault.messages).toBe(0);
			expect((json.circuit as IDataObject).open).toBe(true);
		});

		it('one that drops the connection at RCPT: the probe fails at rcpt, no DATA', async () => {
			fault = await startSmtpFaultServer({ fault: 'closeAfterRcpt' });
			const json = await faultProbe(fault.port);
			expect(stepNames(json).slice(-2)).toEqual(['mail:true', 'rcpt:false']);
			expect(fault.commands.some((c) => /^DATA/i.test(c))).toBe(false);
			expect(fault.bodyBytes).toBe(0);
		});
	});

	it('names the option when Seed Address is not one address', async () => {
		const run = await runWorkflow(
			probeWorkflow({ seedAddress: 'a@x.example, b@y.example' }),
			{},
			{ credentials: { 'smtp-b': credential(1) } },
		);
		expect(run.error?.message).toMatch(/^Probe Options › Seed Address: .*not one email address/);
	});

	it('Skip If Sent Within: no probe after real traffic on the route (the item on Skipped); 0 probes', async () => {
		const sink = await start({ tls: 'starttls', auth: { user: USER, pass: PASSWORD } });
		const send: WorkflowJson = {
			nodes: [
				trigger,
				{
					id: 'r',
					name: 'Recipients',
					type: 'test.injectedItems',
					typeVersion: 1,
					position: [200, 0],
					parameters: {},
				},
				{
					id: 's',
					name: 'Send B',
					type: 'n8n-nodes-postal-routes.loadBalancedSend',
					typeVersion: 3,
					position: [400, 0],
					parameters: {
						provider: 'smtp',
						credentialType: 'postalRoutes',
						routeName: 'Relay B',
						from: 'Shop <news@shop.example>',
						subject: 'Hello',
						text: 'Hi',
					},
					credentials: { postalSmtp: { id: 'smtp-b', name: 'Relay B' } },
				},
			],
			connections: {
				'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
				Recipients: { main: [[{ node: 'Send B', type: 'main', index: 0 }]] },
			},
		};
		const sent = await runWorkflow(
			send,
			{ Recipients: recipients(3, 7, ['gmail.com']) },
			{ credentials: { 'smtp-b': credential(sink.port) } },
		);
		expect(sent.error).toBeUndefined();
		expect(sent.outputs('Send B')[0]).toHaveLength(3);
		expect(sink.messages).toHaveLength(3);

		// nothing listens on port 1: a probe would fail; the skip never tries
		const skipped = await probeRun(1, { skipIfSentWithinMinutes: 5 });
		expect(skipped.output).toBe('skipped');
		expect(skipped.json).toMatchObject({
			skipped: true,
			sentRecently: 3,
			circuit: { open: false },
		});
		expect(String(skipped.json.reason)).toMatch(
			/^3 messages were sent through the route in the last 5 minutes/,
		);
		expect(skipped.json.steps).toBeUndefined();
		expect(skipped.json.probedAt).toBeUndefined();
		expect(Date.parse(String(skipped.json.checkedAt))).toBeGreaterThan(Date.now() - 60_000);

		const probed = await probeRun(1, { skipIfSentWithinMinutes: 0 });
		expect(probed.output).toBe('failed');
		// the route is out now: it is probed whatever it sent
		const again = await probeRun(1, { skipIfSentWithinMinutes: 5 });
		expect(again.output).toBe('failed');
	});
});

// nock patches Node's http module, which every test file of a jest worker shares: leaving it
// active breaks the next file's own nock (its request errors fire twice, one unhandled)
afterAll(() => nock.restore());

describe('Load-Balanced Send › Probe Connection on an email API (nock)', () => {
	const API_KEY = 'SG.probe-key-never-shown';
	const apiWorkflow = (probeOptions: IDataObject): WorkflowJson => {
		const wf = probeWorkflow(probeOptions, { provider: 'sendgrid' });
		wf.nodes[1].credentials = { postalSendGridApi: { id: 'sg', name: 'SendGrid' } };
		return wf;
	};
	const run = async (probeOptions: IDataObject = {}) => {
		const r = await runWorkflow(
			apiWorkflow({ fall: 1, timeoutSeconds: 2, ...probeOptions }),
			{},
			{ credentials: { sg: { apiKey: API_KEY, region: 'global' } } },
		);
		expect(r.error).toBeUndefined();
		const [passed, failed] = r.outputs('Probe B');
		const json = (passed[0] ?? failed[0]).json;
		expect(JSON.stringify(json)).not.toContain(API_KEY);
		return { json, output: passed.length ? 'sent' : 'failed' };
	};

	beforeAll(() => nock.disableNetConnect());
	beforeEach(() => resetEmbeddedStateStore());
	afterEach(() => nock.cleanAll());
	afterAll(() => nock.enableNetConnect());

	it('passes when GET /v3/scopes answers 200 with the key', async () => {
		const scope = nock('https://api.sendgrid.com', {
			reqheaders: { authorization: `Bearer ${API_KEY}` },
		})
			.get('/v3/scopes')
			.reply(200, { scopes: ['mail.send'] });
		const { json, output } = await run();
		expect(scope.isDone()).toBe(true);
		expect(output).toBe('sent');
		expect(json).toMatchObject({ provider: 'sendgrid', ok: true, circuit: { open: false } });
		expect(stepNames(json)).toEqual(['request:true']);
	});

	it('fails on a refused key (401) and takes the route out; the key is nowhere', async () => {
		nock('https://api.sendgrid.com')
			.get('/v3/scopes')
			.reply(401, { errors: [{ field: null, message: `authorization required for ${API_KEY}` }] });
		const { json, output } = await run();
		expect(output).toBe('failed');
		expect(stepNames(json)).toEqual(['request:false']);
		expect(String(json.error)).toMatch(/SendGrid/);
		expect((json.circuit as IDataObject).open).toBe(true);
		expect(await routedToB()).toBe(0);
	});

	it('fails within its timeout when the API does not answer', async () => {
		nock('https://api.sendgrid.com').get('/v3/scopes').delay(3000).reply(200, { scopes: [] });
		const started = Date.now();
		const { json, output } = await run({ timeoutSeconds: 1 });
		expect(Date.now() - started).toBeLessThan(2500);
		expect(stepNames(json)).toEqual(['request:false']);
		expect(output).toBe('failed');
		expect(String(json.error)).toMatch(/no answer within 1 s/);
	});
});

describe('Load-Balanced Send › Probe Connection on Amazon SES: GetAccount (nock)', () => {
	const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
	const run = async () => {
		const wf = probeWorkflow({ fall: 1, timeoutSeconds: 2 }, { provider: 'ses' });
		wf.nodes[1].credentials = { postalSesApi: { id: 'ses', name: 'SES' } };
		const r = await runWorkflow(
			wf,
			{},
			{
				credentials: {
					ses: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET, region: 'eu-west-1' },
				},
			},
		);
		expect(r.error).toBeUndefined();
		const [passed, failed] = r.outputs('Probe B');
		const json = (passed[0] ?? failed[0]).json;
		expect(JSON.stringify(json)).not.toContain(SECRET);
		return { json, output: passed.length ? 'sent' : 'failed' };
	};
	// the shape of API_GetAccount's response (docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html)
	const account = (enforcement: string, sendingEnabled: boolean) => ({
		DedicatedIpAutoWarmupEnabled: false,
		EnforcementStatus: enforcement,
		ProductionAccessEnabled: true,
		SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 1203 },
		SendingEnabled: sendingEnabled,
	});

	beforeAll(() => nock.disableNetConnect());
	beforeEach(() => resetEmbeddedStateStore());
	afterEach(() => nock.cleanAll());
	afterAll(() => nock.enableNetConnect());

	it('passes on a healthy account, signed, and reports its enforcement status', async () => {
		const scope = nock('https://email.eu-west-1.amazonaws.com', {
			reqheaders: { authorization: /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\// },
		})
			.get('/v2/email/account')
			.reply(200, account('HEALTHY', true));
		const { json, output } = await run();
		expect(scope.isDone()).toBe(true);
		expect(output).toBe('sent');
		expect(json.details).toEqual({ enforcementStatus: 'HEALTHY', sendingEnabled: true });
	});

	it('passes on a PROBATION account with a warning, and alerts once on the change', async () => {
		nock('https://email.eu-west-1.amazonaws.com')
			.get('/v2/email/account')
			.times(2)
			.reply(200, account('PROBATION', true));
		const { json, output } = await run();
		expect(output).toBe('sent');
		expect(json.details).toEqual({ enforcementStatus: 'PROBATION', sendingEnabled: true });
		expect(String(json.warning)).toMatch(/^Amazon SES: .*PROBATION/);
		expect(json.alerts).toEqual(['provider.enforcement']);
		expect(json.circuit).toEqual({ open: false });
		// the same status again is no news
		const again = await run();
		expect(again.output).toBe('sent');
		expect(again.json.alerts).toBeUndefined();
	});

	it('fails on an account whose sending is paused (SendingEnabled false) while HEALTHY', async () => {
		nock('https://email.eu-west-1.amazonaws.com')
			.get('/v2/email/account')
			.reply(200, account('HEALTHY', false));
		const { json, output } = await run();
		expect(output).toBe('failed');
		expect(String(json.error)).toMatch(/SendingEnabled false/);
		expect(json.alerts).toEqual(['probe.down']);
	});

	it('fails on a SHUTDOWN account although the keys work, and takes the route out', async () => {
		nock('https://email.eu-west-1.amazonaws.com')
			.get('/v2/email/account')
			.reply(200, account('SHUTDOWN', false));
		const { json, output } = await run();
		expect(output).toBe('failed');
		expect(String(json.error)).toMatch(/SHUTDOWN/);
		expect((json.circuit as IDataObject).open).toBe(true);
		expect(json.alerts).toEqual(['probe.down', 'provider.enforcement']);
	});

	it('fails on refused keys (403), the secret nowhere', async () => {
		nock('https://email.eu-west-1.amazonaws.com')
			.get('/v2/email/account')
			.reply(
				403,
				{ message: 'The security token included in the request is invalid.' },
				{ 'x-amzn-ErrorType': 'UnrecognizedClientException:http://internal.amazon.com/' },
			);
		const { json, output } = await run();
		expect(output).toBe('failed');
		expect((json.steps as IDataObject[])[0]).toMatchObject({ step: 'request', reply: 'HTTP 403' });
	});
});
