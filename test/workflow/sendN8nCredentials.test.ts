import Redis from 'ioredis';
import nock from 'nock';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { closeRedisStateStores } from '../../lib/state/connection';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { LoadBalancedSend } from '../../nodes/LoadBalancedSend/LoadBalancedSend.node';
import { bundledNodeTypes } from '../build/bundled';
import {
	loadWorkflow,
	nodeTypesWith,
	PACKAGE,
	runWorkflow,
	type WorkflowJson,
} from '../helpers/engine';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const delivery = (i: INodeExecutionData) => i.json.postalDelivery as IDataObject;
const SECRET = 'n8n-owned-s3cret-Zq81';

/** A version 2 send node (a new one in the editor) on `credential`, n8n's type by default. */
function sendWorkflow(
	parameters: IDataObject,
	credentialType: string,
	version = 2,
	extraCredentials: Record<string, { id: string; name: string }> = {},
): WorkflowJson {
	return {
		id: 'wfN8nCreds',
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
				typeVersion: version,
				position: [400, 0],
				parameters: {
					routeName: 'Route',
					from: 'Shop <news@shop.example>',
					to: '={{ $json.email }}',
					subject: 'Hello',
					text: 'Hi',
					options: { maxAttempts: 1 },
					...parameters,
				} as never,
				credentials: { [credentialType]: { id: 'c1', name: 'Mine' }, ...extraCredentials },
			},
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: 'Send', type: 'main', index: 0 }]] },
		},
	};
}

const ann = { Recipients: [{ email: 'ann@gmail.com' }] };

/** n8n's SMTP credential data as its form saves it (n8n 2.40.7's Smtp.credentials). */
const n8nSmtp = (port: number, extra: IDataObject = {}) => ({
	user: '',
	password: '',
	host: '127.0.0.1',
	port,
	secure: false,
	disableStartTls: false,
	hostName: 'mta.shop.example',
	...extra,
});

describe("Load-Balanced Send on n8n's own SMTP credential, and a saved version 1 workflow", () => {
	let sink: SmtpSink | undefined;
	beforeEach(() => resetEmbeddedStateStore());
	afterEach(async () => {
		closeSmtpTransports();
		await sink?.stop();
		sink = undefined;
	});

	it('an old-shape workflow (version 1, provider left at its default, postalSmtp) still loads and sends', async () => {
		sink = await startSmtpSink();
		const run = await runWorkflow(loadWorkflow('send-v1-postal-smtp'), ann, {
			credentials: { 'old-smtp': { host: '127.0.0.1', port: sink.port, security: 'none' } },
		});
		expect(run.error).toBeUndefined();
		const [sent] = run.outputs('Send');
		expect(sent.map((i) => delivery(i).status)).toEqual(['sent']);
		expect(sink.messages.map((m) => m.rcpts)).toEqual([['ann@gmail.com']]);
	});

	it('version 2 defaults to n8n’s smtp credential: delivered, announced with its Client Host Name', async () => {
		sink = await startSmtpSink();
		const run = await runWorkflow(sendWorkflow({}, 'smtp'), ann, {
			credentials: { c1: n8nSmtp(sink.port) },
		});
		expect(run.error).toBeUndefined();
		const [sent] = run.outputs('Send');
		expect(delivery(sent[0])).toMatchObject({ status: 'sent', provider: 'smtp', route: 'Route' });
		expect(sink.messages).toHaveLength(1);
		expect(sink.messages[0].rcpts).toEqual(['ann@gmail.com']);
		expect(sink.messages[0].ehlo).toBe('mta.shop.example');
	});

	it('with a password and a server without STARTTLS: nothing sent, Fallback, the fix in n8n’s terms, no password', async () => {
		sink = await startSmtpSink({ auth: { user: 'ann', pass: SECRET } });
		const run = await runWorkflow(sendWorkflow({}, 'smtp'), ann, {
			credentials: { c1: n8nSmtp(sink.port, { user: 'ann', password: SECRET }) },
		});
		const [sent, , fallback] = run.outputs('Send');
		expect(sent).toHaveLength(0);
		expect(String(delivery(fallback[0]).error)).toMatch(
			/offers no STARTTLS, and a password is never sent unencrypted\. Turn the n8n SMTP credential's 'SSL\/TLS' on/,
		);
		expect(sink.messages).toHaveLength(0);
		expect(sink.authFailures).toBe(0);
		expect(JSON.stringify(run.run)).not.toContain(SECRET);
	});

	it('SSL/TLS on with a certificate nobody vouches for: refused; with Options › Ignore SSL Issues, sent after AUTH; no password', async () => {
		sink = await startSmtpSink({ tls: 'implicit', auth: { user: 'ann', pass: SECRET } });
		const credentials = { c1: n8nSmtp(sink.port, { secure: true, user: 'ann', password: SECRET }) };
		const refused = await runWorkflow(sendWorkflow({}, 'smtp'), ann, { credentials });
		const [sent, , fallback] = refused.outputs('Send');
		expect(sent).toHaveLength(0);
		expect(delivery(fallback[0])).toMatchObject({ status: 'blocked', failureScope: 'route' });
		expect(sink.messages).toHaveLength(0);

		closeSmtpTransports();
		resetEmbeddedStateStore();
		const ignored = await runWorkflow(
			sendWorkflow({ options: { maxAttempts: 1, allowUnauthorizedCerts: true } }, 'smtp'),
			ann,
			{ credentials },
		);
		expect(ignored.outputs('Send')[0].map((i) => delivery(i).status)).toEqual(['sent']);
		expect(sink.messages.map((m) => m.secure)).toEqual([true]);
		expect(sink.authFailures).toBe(0);
		expect(JSON.stringify([refused.run, ignored.run])).not.toContain(SECRET);
	});

	it('Options › SMTP Pool Size sets the pool of n8n’s SMTP credential (Parallel Sends capped at it)', async () => {
		sink = await startSmtpSink();
		const people = Array.from({ length: 8 }, (_, k) => ({ email: `p${k}@gmail.com` }));
		const run = await runWorkflow(
			sendWorkflow({ options: { maxAttempts: 1, smtpPoolSize: 1, concurrency: 8 } }, 'smtp'),
			{ Recipients: people },
			{ credentials: { c1: n8nSmtp(sink.port) } },
		);
		expect(run.outputs('Send')[0]).toHaveLength(8);
		expect(sink.connections).toBe(1);
	});

	it('Disable STARTTLS with a password stops the node with an error naming the fields', async () => {
		const run = await runWorkflow(sendWorkflow({}, 'smtp'), ann, {
			credentials: {
				c1: n8nSmtp(25, { disableStartTls: true, user: 'ann', password: SECRET }),
			},
		});
		expect(run.error?.message).toMatch(/"Disable STARTTLS" is on with a user or password/);
		expect(JSON.stringify(run.run)).not.toContain(SECRET);
	});

	it('Credential Type "Postal Routes" on version 2 reads postalSmtp', async () => {
		sink = await startSmtpSink();
		const run = await runWorkflow(
			sendWorkflow({ credentialType: 'postalRoutes' }, 'postalSmtp'),
			ann,
			{ credentials: { c1: { host: '127.0.0.1', port: sink.port, security: 'none' } } },
		);
		expect(run.error).toBeUndefined();
		expect(sink.messages).toHaveLength(1);
	});

	it('the node’s credential test reads n8n’s smtp type too (connect, EHLO, AUTH), and says what is wrong', async () => {
		sink = await startSmtpSink();
		const test = new LoadBalancedSend().methods.credentialTest.postalSmtpTest;
		const call = (data: IDataObject) =>
			test.call({} as never, { id: 'c', name: 'Mine', type: 'smtp', data } as never);
		expect(await call(n8nSmtp(sink.port))).toEqual({
			status: 'OK',
			message: 'Connection successful',
		});
		const refused = await call(n8nSmtp(25, { disableStartTls: true, password: SECRET }));
		expect(refused.status).toBe('Error');
		expect(refused.message).toMatch(/"Disable STARTTLS" is on/);
		expect(refused.message).not.toContain(SECRET);
	});

	it('the bundled node in dist/ reads n8n’s smtp credential the same way', async () => {
		sink = await startSmtpSink();
		const run = await runWorkflow(sendWorkflow({}, 'smtp'), ann, {
			credentials: { c1: n8nSmtp(sink.port) },
			nodeTypes: nodeTypesWith(bundledNodeTypes()),
		});
		expect(run.error).toBeUndefined();
		expect(run.outputs('Send')[0].map((i) => delivery(i).status)).toEqual(['sent']);
		expect(sink.messages).toHaveLength(1);
	});
});

describe("Load-Balanced Send on n8n's own API credentials (nock)", () => {
	beforeAll(() => nock.disableNetConnect());
	beforeEach(() => resetEmbeddedStateStore());
	afterEach(() => nock.cleanAll());
	afterAll(() => {
		nock.enableNetConnect();
		nock.restore();
	});

	const sendThrough = async (provider: string, type: string, data: IDataObject) => {
		const run = await runWorkflow(sendWorkflow({ provider }, type), ann, {
			credentials: { c1: data },
		});
		expect(run.error).toBeUndefined();
		const [sent] = run.outputs('Send');
		expect(JSON.stringify(run.run)).not.toContain(SECRET);
		return delivery(sent[0]);
	};

	it('sendGridApi: Bearer key to the global API', async () => {
		const scope = nock('https://api.sendgrid.com', {
			reqheaders: { authorization: `Bearer ${SECRET}` },
		})
			.post('/v3/mail/send')
			.reply(202, '', { 'X-Message-Id': 'sg-1' });
		expect(await sendThrough('sendgrid', 'sendGridApi', { apiKey: SECRET })).toMatchObject({
			status: 'sent',
			provider: 'sendgrid',
			messageId: 'sg-1',
		});
		scope.done();
	});

	it('mailgunApi: its API Domain (EU) and Email Domain, basic auth api:key', async () => {
		const scope = nock('https://api.eu.mailgun.net', {
			reqheaders: { authorization: `Basic ${Buffer.from(`api:${SECRET}`).toString('base64')}` },
		})
			.post('/v3/mg.shop.example/messages')
			.reply(200, { id: '<mg-1@mg.shop.example>', message: 'Queued' });
		expect(
			await sendThrough('mailgun', 'mailgunApi', {
				apiDomain: 'api.eu.mailgun.net',
				emailDomain: 'mg.shop.example',
				apiKey: SECRET,
			}),
		).toMatchObject({ status: 'sent', messageId: '<mg-1@mg.shop.example>' });
		scope.done();
	});

	it('postmarkApi: the server token, the default outbound stream', async () => {
		let body: IDataObject | undefined;
		const scope = nock('https://api.postmarkapp.com', {
			reqheaders: { 'x-postmark-server-token': SECRET },
		})
			.post('/email', (b: IDataObject) => ((body = b), true))
			.reply(200, { MessageID: 'pm-1', ErrorCode: 0, Message: 'OK' });
		expect(await sendThrough('postmark', 'postmarkApi', { serverToken: SECRET })).toMatchObject({
			status: 'sent',
			messageId: 'pm-1',
		});
		expect(body).toMatchObject({ MessageStream: 'outbound', To: 'ann@gmail.com' });
		scope.done();
	});

	it('sendInBlueApi (n8n’s Brevo): the api-key header', async () => {
		const scope = nock('https://api.brevo.com', { reqheaders: { 'api-key': SECRET } })
			.post('/v3/smtp/email')
			.reply(201, { messageId: '<br-1@smtp-relay.mailin.fr>' });
		expect(await sendThrough('brevo', 'sendInBlueApi', { apiKey: SECRET })).toMatchObject({
			status: 'sent',
			messageId: '<br-1@smtp-relay.mailin.fr>',
		});
		scope.done();
	});

	it('aws: SES in the credential’s region, signed for ses with its keys and temporary token', async () => {
		let authorization = '';
		let token = '';
		const scope = nock('https://email.eu-west-1.amazonaws.com')
			.post('/v2/email/outbound-emails')
			.reply(function () {
				authorization = String(this.req.headers.authorization);
				token = String(this.req.headers['x-amz-security-token']);
				return [200, { MessageId: 'ses-1' }];
			});
		const data = {
			region: 'eu-west-1',
			accessKeyId: 'AKIAN8NOWNEXAMPLE',
			secretAccessKey: SECRET,
			temporaryCredentials: true,
			sessionToken: 'session-token-xyz',
		};
		expect(await sendThrough('ses', 'aws', data)).toMatchObject({
			status: 'sent',
			provider: 'ses',
			messageId: 'ses-1',
		});
		scope.done();
		expect(authorization).toMatch(
			/^AWS4-HMAC-SHA256 Credential=AKIAN8NOWNEXAMPLE\/\d{8}\/eu-west-1\/ses\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
		);
		expect(token).toBe('session-token-xyz');
	});

	it('aws: its SES endpoint (Custom Endpoints) is where the request goes', async () => {
		const scope = nock('https://vpce-1.email.eu-west-1.vpce.amazonaws.com')
			.post('/v2/email/outbound-emails')
			.reply(200, { MessageId: 'ses-2' });
		const data = {
			region: 'eu-west-1',
			accessKeyId: 'AKIAN8NOWNEXAMPLE',
			secretAccessKey: SECRET,
			customEndpoints: true,
			sesEndpoint: 'https://vpce-1.email.{region}.vpce.amazonaws.com',
		};
		expect(await sendThrough('ses', 'aws', data)).toMatchObject({ messageId: 'ses-2' });
		scope.done();
	});

	it('a refused n8n key: Fallback, blocked, the key nowhere', async () => {
		nock('https://api.sendgrid.com')
			.post('/v3/mail/send')
			.reply(401, { errors: [{ message: `bad key ${SECRET}` }] });
		const run = await runWorkflow(sendWorkflow({ provider: 'sendgrid' }, 'sendGridApi'), ann, {
			credentials: { c1: { apiKey: SECRET } },
		});
		const [, , fallback] = run.outputs('Send');
		expect(delivery(fallback[0])).toMatchObject({ status: 'blocked', failureScope: 'route' });
		expect(String(delivery(fallback[0]).error)).toContain('[redacted]');
		expect(JSON.stringify(run.run)).not.toContain(SECRET);
	});
});

describe("the Redis state store on n8n's own Redis credential", () => {
	let server: RedisServer;
	beforeAll(async () => {
		server = await startRedisServer({ password: SECRET });
	});
	afterAll(async () => {
		await closeRedisStateStores();
		await server.stop();
	});

	it('the Redis credential test reads n8n’s redis type: PING, the server named, never the password', async () => {
		const test = new LoadBalancedSend().methods.credentialTest.postalRedisConnectionTest;
		const call = (data: IDataObject) =>
			test.call({} as never, { id: 'r', name: 'n8n Redis', type: 'redis', data } as never);
		expect(await call({ host: '127.0.0.1', port: server.port, password: SECRET })).toEqual({
			status: 'OK',
			message: 'Connected: Redis answered PING',
		});
		const wrong = await call({ host: '127.0.0.1', port: server.port, password: `${SECRET}-no` });
		expect(wrong.status).toBe('Error');
		expect(wrong.message).toContain(`127.0.0.1:${server.port}`);
		expect(wrong.message).not.toContain(SECRET);
	});

	it('a version 2 node reads n8n’s redis credential: duplicate markers under postal:, no password anywhere', async () => {
		const sink = await startSmtpSink();
		try {
			const wf = sendWorkflow({ stateStore: 'redis' }, 'smtp', 2, {
				redis: { id: 'r1', name: 'n8n Redis' },
			});
			const credentials = {
				c1: n8nSmtp(sink.port),
				r1: { host: '127.0.0.1', port: server.port, password: SECRET, database: 2, ssl: false },
			};
			const first = await runWorkflow(wf, ann, { credentials });
			expect(first.error).toBeUndefined();
			const again = await runWorkflow(wf, ann, { credentials });
			expect(again.outputs('Send')[3].map((i) => delivery(i).status)).toEqual([
				'skipped-duplicate',
			]);
			expect(sink.messages).toHaveLength(1);
			const client = new Redis({ port: server.port, password: SECRET, db: 2, lazyConnect: true });
			const keys = await client.keys('postal:*').finally(() => client.disconnect());
			expect(keys.some((k) => k.startsWith('postal:{wfN8nCreds}:once:'))).toBe(true);
			expect(JSON.stringify([first.run, again.run])).not.toContain(SECRET);
		} finally {
			closeSmtpTransports();
			await sink.stop();
		}
	});
});
