import nock from 'nock';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { LoadBalancedSend } from '../../nodes/LoadBalancedSend/LoadBalancedSend.node';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { runWorkflow, PACKAGE, type WorkflowJson } from '../helpers/engine';
import { startSmtpSink } from '../helpers/smtpSink';

const delivery = (i: INodeExecutionData) => i.json.postalDelivery as IDataObject;
const API_KEY = 'SG.test-key-never-shown';

function sendWorkflow(
	parameters: IDataObject,
	credential: { type: string; id: string },
): WorkflowJson {
	return {
		id: 'wfSendApi',
		nodes: [
			{
				id: 't',
				name: 'Manual Trigger',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
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
				name: 'Send',
				type: `${PACKAGE}.loadBalancedSend`,
				typeVersion: 1,
				position: [400, 0],
				parameters: {
					from: 'Shop <news@shop.example>',
					to: '={{ $json.email }}',
					subject: 'Hello',
					text: 'Hi',
					...parameters,
				} as INodeExecutionData['json'] as never,
				credentials: { [credential.type]: { id: credential.id, name: 'Test' } },
			},
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: 'Send', type: 'main', index: 0 }]] },
		},
	};
}

describe('Load-Balanced Send with an email API, through n8n’s own HTTP helpers', () => {
	beforeAll(() => nock.disableNetConnect());
	beforeEach(() => resetEmbeddedStateStore());
	afterEach(() => nock.cleanAll());
	afterAll(() => {
		nock.enableNetConnect();
		nock.restore();
	});

	const wf = sendWorkflow(
		{ provider: 'sendgrid', options: { retryBaseMs: 1, retryMaxMs: 5, maxAttempts: 2 } },
		{ type: 'postalSendGridApi', id: 'sg' },
	);
	const credentials = { sg: { apiKey: API_KEY, region: 'global' } };

	it('sends the documented request and reads the message id', async () => {
		let body: IDataObject | undefined;
		const scope = nock('https://api.sendgrid.com', {
			reqheaders: { authorization: `Bearer ${API_KEY}`, 'content-type': /application\/json/ },
		})
			.post('/v3/mail/send', (b: IDataObject) => ((body = b), true))
			.reply(202, '', { 'X-Message-Id': 'sg-msg-1' });
		const run = await runWorkflow(
			wf,
			{ Recipients: [{ email: 'ann@gmail.com' }] },
			{ credentials },
		);
		expect(run.error).toBeUndefined();
		scope.done();
		const [sent] = run.outputs('Send');
		expect(delivery(sent[0])).toMatchObject({
			status: 'sent',
			provider: 'sendgrid',
			messageId: 'sg-msg-1',
			responseCode: 202,
			attempts: 1,
		});
		expect(body).toMatchObject({
			personalizations: [{ to: [{ email: 'ann@gmail.com' }] }],
			from: { email: 'news@shop.example', name: 'Shop' },
			subject: 'Hello',
		});
	});

	it('retries a 429 after Retry-After, then leaves on Fallback; a 400 goes to Failed; no key in the output', async () => {
		const to = (address: string) => (b: IDataObject) => JSON.stringify(b).includes(address);
		nock('https://api.sendgrid.com')
			.post('/v3/mail/send', to('ann@gmail.com'))
			.times(2)
			.reply(429, { errors: [{ message: 'too many requests' }] }, { 'Retry-After': '0' });
		nock('https://api.sendgrid.com')
			.post('/v3/mail/send', to('bob@gmail.com'))
			.reply(400, {
				errors: [
					{ message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email' },
				],
			});
		const run = await runWorkflow(
			wf,
			{ Recipients: [{ email: 'ann@gmail.com' }, { email: 'bob@gmail.com' }] },
			{ credentials: { sg: { ...credentials.sg } } },
		);
		const [sent, failed, fallback] = run.outputs('Send');
		expect(sent).toHaveLength(0);
		expect(
			fallback.map((i) => [delivery(i).status, delivery(i).attempts, delivery(i).responseCode]),
		).toEqual([['deferred', 2, 429]]);
		expect(
			failed.map((i) => [delivery(i).status, delivery(i).responseCode, delivery(i).failureScope]),
		).toEqual([['failed', 400, 'recipient']]);
		expect(JSON.stringify(run.run)).not.toContain(API_KEY);
	});
});

describe('credential tests', () => {
	it('SMTP: connects, says EHLO and authenticates; a wrong password is reported without the password', async () => {
		const sink = await startSmtpSink({ auth: { user: 'ann', pass: 'right-pass' } });
		try {
			const test = new LoadBalancedSend().methods.credentialTest.postalSmtpTest;
			const ctx = {} as never;
			const good = await test.call(ctx, {
				id: '1',
				name: 'smtp',
				type: 'postalSmtp',
				data: {
					host: '127.0.0.1',
					port: sink.port,
					security: 'noneInsecureAuth',
					user: 'ann',
					password: 'right-pass',
				},
			});
			expect(good.status).toBe('OK');
			const bad = await test.call(ctx, {
				id: '1',
				name: 'smtp',
				type: 'postalSmtp',
				data: {
					host: '127.0.0.1',
					port: sink.port,
					security: 'noneInsecureAuth',
					user: 'ann',
					password: 'wrong-pass-123',
				},
			});
			expect(bad.status).toBe('Error');
			expect(bad.message).not.toContain('wrong-pass-123');
		} finally {
			closeSmtpTransports();
			await sink.stop();
		}
	});
});

describe('Load-Balanced Send message options on a real SMTP sink', () => {
	const smtpWf = (extra: IDataObject) =>
		sendWorkflow(
			{ provider: 'smtp', routeName: 'relay', ...extra },
			{ type: 'postalSmtp', id: 'sink' },
		);
	beforeEach(() => resetEmbeddedStateStore());
	afterEach(() => closeSmtpTransports());

	it('attaches binary properties and sends CC, BCC and Reply-To', async () => {
		const sink = await startSmtpSink();
		try {
			const pdf = Buffer.from('%PDF-1.4 invoice');
			const run = await runWorkflow(
				smtpWf({
					options: {
						attachments: 'invoice',
						cc: 'accounts@shop.example',
						bcc: 'archive@shop.example',
						replyTo: 'help@shop.example',
					},
				}),
				{
					Recipients: [
						{
							email: 'ann@gmail.com',
							$binary: {
								invoice: {
									base64: pdf.toString('base64'),
									fileName: 'invoice.pdf',
									mimeType: 'application/pdf',
								},
							},
						},
					],
				},
				{ credentials: { sink: { host: '127.0.0.1', port: sink.port, security: 'none' } } },
			);
			expect(run.error).toBeUndefined();
			expect(run.outputs('Send')[0]).toHaveLength(1);
			const [m] = sink.messages;
			expect(
				m.parsed.attachments.map((a) => [a.filename, a.contentType, a.content.toString()]),
			).toEqual([['invoice.pdf', 'application/pdf', '%PDF-1.4 invoice']]);
			expect(m.parsed.cc).toMatchObject({ value: [{ address: 'accounts@shop.example' }] });
			expect(m.parsed.replyTo).toMatchObject({ value: [{ address: 'help@shop.example' }] });
			expect(m.parsed.headers.has('bcc')).toBe(false);
			expect(m.rcpts.sort()).toEqual([
				'accounts@shop.example',
				'ann@gmail.com',
				'archive@shop.example',
			]);
		} finally {
			await sink.stop();
		}
	});

	it('names a missing attachment property for that item, and a dry run sends nothing', async () => {
		const sink = await startSmtpSink();
		try {
			const credentials = { sink: { host: '127.0.0.1', port: sink.port, security: 'none' } };
			const missing = await runWorkflow(
				smtpWf({ options: { attachments: 'invoice' } }),
				{ Recipients: [{ email: 'ann@gmail.com' }] },
				{ credentials },
			);
			expect(delivery(missing.outputs('Send')[1][0]).error).toBe(
				'Item 0: Attachments: the item has no binary property "invoice"',
			);
			const dry = await runWorkflow(
				smtpWf({ dryRun: true }),
				{ Recipients: [{ email: 'ann@gmail.com' }, { email: 'bob@gmail.com' }] },
				{ credentials },
			);
			expect(dry.outputs('Send')[0].map((i) => delivery(i).status)).toEqual(['dry-run', 'dry-run']);
			expect(sink.messages).toHaveLength(0);
		} finally {
			await sink.stop();
		}
	});

	it('holds a domain group to its own limit through this route', async () => {
		const sink = await startSmtpSink();
		try {
			const run = await runWorkflow(
				smtpWf({
					groupLimits: { values: [{ group: 'yahoo', messages: 1, per: 'hour' }] },
					options: { concurrency: 1 },
				}),
				{
					Recipients: [
						{ email: 'a@yahoo.com', domainGroup: 'yahoo' },
						{ email: 'b@yahoo.com', domainGroup: 'yahoo' },
						{ email: 'c@gmail.com', domainGroup: 'google' },
					],
				},
				{ credentials: { sink: { host: '127.0.0.1', port: sink.port, security: 'none' } } },
			);
			const [sent, , fallback] = run.outputs('Send');
			expect(sent.map((i) => i.json.email)).toEqual(['a@yahoo.com', 'c@gmail.com']);
			expect(fallback.map((i) => [i.json.email, delivery(i).status])).toEqual([
				['b@yahoo.com', 'rate-deferred'],
			]);
			expect(Date.parse(String(delivery(fallback[0]).retryAt))).toBeGreaterThan(
				Date.now() + 3_000_000,
			);
			expect(sink.messages).toHaveLength(2);
		} finally {
			await sink.stop();
		}
	});
});
