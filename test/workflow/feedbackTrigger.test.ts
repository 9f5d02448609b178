/**
 * Postal Feedback Trigger over HTTP, in n8n-core's own WebhookContext (test/helpers/webhookServer):
 * signed provider requests (local keys, as the providers sign) → one item per event, the
 * hard-bounced address on the embedded store's suppression list; a tampered request 401 and
 * nothing out; a redelivery 200 and nothing out; an SNS subscription confirmed by GETting its
 * SubscribeURL; Mailgun's replayed token 406; an unconfigured node the status each provider retries.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import type { IDataObject, INode } from 'n8n-workflow';
import { encodeReference } from '../../lib/feedback/reference';
import { stringToSign } from '../../lib/feedback/webhooks/sns';
import { suppressionDigest } from '../../lib/state/keys';
import {
	closeRedisStateStores,
	parseRedisCredential,
	redisStateStoreFor,
} from '../../lib/state/connection';
import { embeddedStateStore, resetEmbeddedStateStore } from '../../lib/state/registry';
import { PostalFeedbackTrigger } from '../../nodes/PostalFeedbackTrigger/PostalFeedbackTrigger.node';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { serveTrigger, type WebhookServer } from '../helpers/webhookServer';

const trigger = new PostalFeedbackTrigger();
const TOKEN = encodeReference({ route: 'Relay A', group: 'yahoo', campaign: 'spring' }).token;

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const SENDGRID_KEY = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

/* SendGrid's Event Webhook reference events, with our custom arg `pr` */
const SENDGRID_EVENTS = [
	{
		email: 'Bounced.User@Gmail.com',
		timestamp: 1513299569,
		event: 'bounce',
		sg_event_id: '6g4ZI7SA-xmRDv57GoPIPw==',
		sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
		reason: '550 5.1.1 unknown recipient',
		status: '5.1.1',
		type: 'bounce',
		bounce_classification: 'Invalid Address',
		pr: TOKEN,
	},
	{
		email: 'happy@outlook.com',
		timestamp: 1513299569,
		event: 'delivered',
		sg_event_id: 'rWVYmVk90MjZJ9iohOBa3w==',
		sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
		response: '250 OK',
		ip: '168.1.1.1',
		pr: TOKEN,
	},
];

function sendgridSigned(body: string, timestamp = '1700000000') {
	const signature = sign('sha256', Buffer.from(timestamp + body), privateKey).toString('base64');
	return {
		'content-type': 'application/json',
		'x-twilio-email-event-webhook-signature': signature,
		'x-twilio-email-event-webhook-timestamp': timestamp,
	};
}

const event = (item: { json: IDataObject }) => item.json.postalEvent as IDataObject;

async function suppressed(address: string, list = '') {
	const store = embeddedStateStore();
	const [entry] = await store.getSuppressions(list, [
		suppressionDigest(await store.hashSecret(), address),
	]);
	return entry;
}

let servers: WebhookServer[] = [];
async function serve(
	parameters: INode['parameters'],
	webhookId?: string,
	credentials?: Record<string, IDataObject>,
) {
	const server = await serveTrigger(trigger, parameters, webhookId, credentials);
	servers.push(server);
	return server;
}

beforeAll(() => {
	nock.disableNetConnect();
	nock.enableNetConnect('127.0.0.1');
});
afterAll(() => {
	nock.enableNetConnect();
	// nock patches node:http for the whole worker: the next file's nock must not intercept on top
	nock.restore();
});
beforeEach(() => resetEmbeddedStateStore());
afterEach(async () => {
	nock.cleanAll();
	await Promise.all(servers.map((s) => s.close()));
	servers = [];
	resetEmbeddedStateStore();
});

describe('Postal Feedback Trigger: SendGrid', () => {
	const parameters = { provider: 'sendgrid', sendgridPublicKey: SENDGRID_KEY };

	it('accepts a signed batch: one item per event, the hard bounce suppressed', async () => {
		const server = await serve(parameters);
		const body = JSON.stringify(SENDGRID_EVENTS);
		const answer = await server.post(body, sendgridSigned(body));
		expect(answer.status).toBe(200);
		expect(answer.body).toContain('Workflow was started');
		expect(answer.items?.map((i) => [event(i).type, event(i).bounce, event(i).recipient])).toEqual([
			['bounced', 'hard', 'Bounced.User@gmail.com'],
			['delivered', undefined, 'happy@outlook.com'],
		]);
		expect(event(answer.items![0])).toMatchObject({
			source: 'sendgrid',
			eventId: '6g4ZI7SA-xmRDv57GoPIPw==',
			messageId: '14c5d75ce93',
			smtpCode: 550,
			enhancedCode: '5.1.1',
			reference: { route: 'Relay A', group: 'yahoo', campaign: 'spring' },
			linkedBy: 'reference',
		});
		expect(answer.items!.map((i) => i.json.suppression)).toEqual([
			{ suppressed: 'hard-bounce' },
			{ skipped: 'a delivered event suppresses nothing' },
		]);
		expect(answer.items![0].json.raw).toBeUndefined();
		expect(await suppressed('bounced.user@gmail.com')).toMatchObject({
			reason: 'hard-bounce',
			source: 'sendgrid',
			hint: 'B***@gmail.com',
		});
		expect(await suppressed('happy@outlook.com')).toBeNull();
	});

	it('refuses a tampered body with 401: nothing out, nothing suppressed', async () => {
		const server = await serve(parameters);
		const body = JSON.stringify(SENDGRID_EVENTS);
		const headers = sendgridSigned(body);
		const answer = await server.post(body.replace('Bounced.User', 'Someone.Else'), headers);
		expect(answer).toMatchObject({ status: 401, items: undefined });
		expect(answer.body).toBe('SendGrid webhook: the signature does not match the body');
		expect(await suppressed('someone.else@gmail.com')).toBeNull();
		const unsigned = await server.post(body, { 'content-type': 'application/json' });
		expect(unsigned.status).toBe(401);
	});

	it('answers a redelivered event 200 and emits nothing; a new one in the same batch comes out', async () => {
		const server = await serve(parameters);
		const first = JSON.stringify(SENDGRID_EVENTS.slice(0, 1));
		expect((await server.post(first, sendgridSigned(first))).items).toHaveLength(1);
		const again = await server.post(first, sendgridSigned(first, '1700000100'));
		expect(again).toMatchObject({ status: 200, body: 'OK', items: undefined });
		const both = JSON.stringify(SENDGRID_EVENTS);
		const next = await server.post(both, sendgridSigned(both));
		expect(next.items?.map((i) => event(i).eventId)).toEqual(['rWVYmVk90MjZJ9iohOBa3w==']);
	});

	it('keeps dedupe per trigger: another workflow’s webhook gets the same events too', async () => {
		const a = await serve(parameters, 'hook-a');
		const b = await serve(parameters, 'hook-b');
		const body = JSON.stringify(SENDGRID_EVENTS);
		expect((await a.post(body, sendgridSigned(body))).items).toHaveLength(2);
		expect((await b.post(body, sendgridSigned(body))).items).toHaveLength(2);
	});

	it('filters by event type, and adds the raw event when asked; the list named is the one written', async () => {
		const server = await serve({
			...parameters,
			events: ['bounced'],
			suppressionList: 'newsletter',
			options: { includeRaw: true },
		});
		const body = JSON.stringify(SENDGRID_EVENTS);
		const answer = await server.post(body, sendgridSigned(body));
		expect(answer.items).toHaveLength(1);
		expect(answer.items![0].json.raw).toEqual(SENDGRID_EVENTS[0]);
		expect(await suppressed('bounced.user@gmail.com', 'newsletter')).toMatchObject({
			reason: 'hard-bounce',
		});
		expect(await suppressed('bounced.user@gmail.com')).toBeNull();
	});

	it('with Update Suppression List off, suppresses nothing', async () => {
		const server = await serve({ ...parameters, updateSuppression: false });
		const body = JSON.stringify(SENDGRID_EVENTS);
		const answer = await server.post(body, sendgridSigned(body));
		expect(answer.items).toHaveLength(2);
		expect(answer.items![0].json.suppression).toBeUndefined();
		expect(await suppressed('bounced.user@gmail.com')).toBeNull();
	});

	it('answers 503 (SendGrid retries) while the key is missing or not a key, naming the field, never the value', async () => {
		const missing = await serve({ provider: 'sendgrid' });
		const body = JSON.stringify(SENDGRID_EVENTS);
		const a = await missing.post(body, sendgridSigned(body));
		expect(a.status).toBe(503);
		expect(a.body).toMatch(/set "Verification Key"/);
		const wrong = await serve({ provider: 'sendgrid', sendgridPublicKey: 'c2VjcmV0LXZhbHVl' });
		const b = await wrong.post(body, sendgridSigned(body));
		expect(b.status).toBe(503);
		expect(b.body).toMatch(/Verification Key must be the base64/);
		expect(b.body).not.toContain('c2VjcmV0LXZhbHVl');
	});
});

describe('Postal Feedback Trigger: Mailgun', () => {
	const SIGNING_KEY = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';
	function mailgunBody(token: string, data: IDataObject) {
		const timestamp = '1529006854';
		const signature = createHmac('sha256', SIGNING_KEY)
			.update(timestamp + token)
			.digest('hex');
		return JSON.stringify({ signature: { timestamp, token, signature }, 'event-data': data });
	}
	const FAILED = {
		event: 'failed',
		id: 'G9Bn5sl1TC6nu79C8C0bwg',
		timestamp: 1521233195.375624,
		severity: 'permanent',
		reason: 'bounce',
		recipient: 'alice@example.com',
		'delivery-status': { code: 550, message: '5.1.1 The email account does not exist' },
		message: { headers: { 'message-id': '20130503182626.18666.16540@example.com' } },
		'user-variables': { pr: TOKEN },
	};

	it('accepts a signed event once; the same token again is a replay: 406, nothing out', async () => {
		const server = await serve({ provider: 'mailgun', mailgunSigningKey: SIGNING_KEY });
		const body = mailgunBody('a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0', FAILED);
		const headers = { 'content-type': 'application/json' };
		const first = await server.post(body, headers);
		expect(first.status).toBe(200);
		expect(first.items?.map((i) => [event(i).type, event(i).recipient])).toEqual([
			['bounced', 'alice@example.com'],
		]);
		const replay = await server.post(body, headers);
		expect(replay).toMatchObject({ status: 406, items: undefined });
		expect(replay.body).toMatch(/used before/);
		const forged = await server.post(
			body.replace(/"signature":"[0-9a-f]+"/, '"signature":"00"'),
			headers,
		);
		expect(forged.status).toBe(401);
		expect([first.body, replay.body, forged.body].join()).not.toContain(SIGNING_KEY);
	});
});

describe('Postal Feedback Trigger: Amazon SES via SNS', () => {
	const HOST = 'https://sns.us-east-1.amazonaws.com';
	const CERT_PATH = '/SimpleNotificationService-feedback-trigger-test.pem';
	const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ses-events';
	let dir: string;
	let keyPem: string;
	let certPem: string;

	beforeAll(() => {
		dir = mkdtempSync(join(tmpdir(), 'sns-cert-'));
		execFileSync(
			'openssl',
			['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem')].concat([
				'-out',
				join(dir, 'cert.pem'),
				'-days',
				'2',
				'-subj',
				'/CN=sns.amazonaws.com',
			]),
			{ stdio: 'ignore' },
		);
		keyPem = readFileSync(join(dir, 'key.pem'), 'utf8');
		certPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
	});
	afterAll(() => rmSync(dir, { recursive: true, force: true }));

	/** SNS posts text/plain: the node must read the raw bytes, not n8n's parsed body */
	function snsPost(message: IDataObject) {
		const Signature = sign('sha1', Buffer.from(stringToSign(message)), keyPem).toString('base64');
		return [
			JSON.stringify({ ...message, Signature }),
			{
				'content-type': 'text/plain; charset=UTF-8',
				'x-amz-sns-message-type': String(message.Type),
			},
		] as const;
	}
	const common = {
		TopicArn: TOPIC,
		Timestamp: '2024-08-05T00:41:03.123Z',
		SignatureVersion: '1',
		SigningCertURL: HOST + CERT_PATH,
	};

	it('confirms a verified subscription by GETting its SubscribeURL, answers 200 and emits nothing', async () => {
		nock(HOST).get(CERT_PATH).reply(200, certPem);
		const subscribeUrl = `${HOST}/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=2336412f37fb687f5d51e6e2425`;
		const confirm = nock(HOST)
			.get('/')
			.query({
				Action: 'ConfirmSubscription',
				TopicArn: TOPIC,
				Token: '2336412f37fb687f5d51e6e2425',
			})
			.reply(200, '<ConfirmSubscriptionResponse/>');
		const server = await serve({ provider: 'ses', sesTopicArns: TOPIC });
		const answer = await server.post(
			...snsPost({
				...common,
				Type: 'SubscriptionConfirmation',
				MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
				Token: '2336412f37fb687f5d51e6e2425',
				Message: `You have chosen to subscribe to the topic ${TOPIC}.`,
				SubscribeURL: subscribeUrl,
			}),
		);
		expect(answer).toMatchObject({ status: 200, body: 'Subscription confirmed', items: undefined });
		expect(confirm.isDone()).toBe(true);
	});

	it('reads an SES bounce from a text/plain notification; another topic is refused with 403', async () => {
		nock(HOST).get(CERT_PATH).optionally().reply(200, certPem);
		const server = await serve({
			provider: 'ses',
			sesTopicArns: TOPIC,
			options: { includeRaw: true },
		});
		const bounce = {
			eventType: 'Bounce',
			bounce: {
				bounceType: 'Permanent',
				bounceSubType: 'General',
				bouncedRecipients: [
					{
						emailAddress: 'gone@yahoo.com',
						status: '5.1.1',
						diagnosticCode: 'smtp; 550 5.1.1 user unknown',
					},
				],
				timestamp: '2024-08-05T00:41:02.669Z',
			},
			mail: { messageId: 'EXAMPLE-000000', destination: ['gone@yahoo.com'], tags: { pr: [TOKEN] } },
		};
		const notification = {
			...common,
			Type: 'Notification',
			MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
			Message: JSON.stringify(bounce),
		};
		const answer = await server.post(...snsPost(notification));
		expect(answer.status).toBe(200);
		expect(answer.items?.map((i) => [event(i).type, event(i).bounce, event(i).recipient])).toEqual([
			['bounced', 'hard', 'gone@yahoo.com'],
		]);
		// the raw event is the SES event inside the SNS envelope
		expect(answer.items![0].json.raw).toEqual(bounce);
		expect(await suppressed('gone@yahoo.com')).toMatchObject({
			reason: 'hard-bounce',
			source: 'ses',
		});
		const stranger = await server.post(
			...snsPost({ ...notification, TopicArn: 'arn:aws:sns:us-east-1:999999999999:other' }),
		);
		expect(stranger.status).toBe(403);
	});
});

describe('Postal Feedback Trigger: providers that sign nothing', () => {
	const basic = (user: string, password: string) =>
		`Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
	const POSTMARK_BOUNCE = {
		RecordType: 'Bounce',
		ID: 4323372036854775807,
		Type: 'HardBounce',
		TypeCode: 1,
		MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
		Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist',
		Email: 'zaphod@example.com',
		BouncedAt: '2024-02-10T13:39:12Z',
		Metadata: { pr: TOKEN },
	};

	it('Postmark: basic auth right → the event; wrong → 401', async () => {
		const server = await serve({
			provider: 'postmark',
			authUsername: 'pm',
			authPassword: 'S3cret-pw',
		});
		const body = JSON.stringify(POSTMARK_BOUNCE);
		const ok = await server.post(body, {
			'content-type': 'application/json',
			authorization: basic('pm', 'S3cret-pw'),
		});
		expect(ok.items?.map((i) => [event(i).type, event(i).recipient])).toEqual([
			['bounced', 'zaphod@example.com'],
		]);
		const wrong = await server.post(body, {
			'content-type': 'application/json',
			authorization: basic('pm', 'guess'),
		});
		expect(wrong.status).toBe(401);
		expect(wrong.body).not.toContain('S3cret-pw');
	});

	it('Brevo: unconfigured answers 429 (the only status Brevo retries), a wrong bearer token 401', async () => {
		const body = JSON.stringify({
			event: 'hard_bounce',
			email: 'x@example.com',
			id: 1,
			'message-id': '<a@b>',
		});
		const unconfigured = await serve({ provider: 'brevo' });
		expect((await unconfigured.post(body, { 'content-type': 'application/json' })).status).toBe(
			429,
		);
		const server = await serve({ provider: 'brevo', authToken: 'tok-123456' });
		const wrong = await server.post(body, {
			'content-type': 'application/json',
			authorization: 'Bearer nope',
		});
		expect(wrong.status).toBe(401);
		const badIp = await serve({
			provider: 'brevo',
			authToken: 'tok-123456',
			allowedIps: '1.2.3.4, x',
		});
		const bad = await badIp.post(body, { 'content-type': 'application/json' });
		expect(bad.status).toBe(429);
		expect(bad.body).toMatch(
			/Allowed Source IPs \(entry 2\) must be an IP address or a CIDR range/,
		);
		expect(bad.body).not.toContain('tok-123456');
		const right = await server.post(body, {
			'content-type': 'application/json',
			authorization: 'Bearer tok-123456',
		});
		expect(right.items?.map((i) => event(i).type)).toEqual(['bounced']);
	});
});

describe('Postal Feedback Trigger on Redis', () => {
	let redis: RedisServer;
	const credential = (port: number) => ({
		postalRedis: {
			mode: 'standalone',
			host: '127.0.0.1',
			port,
			password: 's3cret-never-shown',
			keyPrefix: 'fbt:',
		},
	});
	const parameters = { provider: 'sendgrid', sendgridPublicKey: SENDGRID_KEY, stateStore: 'redis' };
	beforeAll(async () => {
		redis = await startRedisServer({ password: 's3cret-never-shown' });
	});
	afterAll(async () => {
		await closeRedisStateStores();
		await redis.stop();
	});

	it('dedupes across processes sharing the store: a redelivery to the other webhook process emits nothing', async () => {
		// two n8n webhook processes serve the same trigger (one webhook id) on one Redis
		const a = await serve(parameters, 'shared-hook', credential(redis.port));
		const b = await serve(parameters, 'shared-hook', credential(redis.port));
		const body = JSON.stringify(SENDGRID_EVENTS);
		expect((await a.post(body, sendgridSigned(body))).items).toHaveLength(2);
		expect(await b.post(body, sendgridSigned(body))).toMatchObject({ status: 200, body: 'OK' });
		const store = redisStateStoreFor(parseRedisCredential(credential(redis.port).postalRedis));
		const [entry] = await store.getSuppressions('', [
			suppressionDigest(await store.hashSecret(), 'bounced.user@gmail.com'),
		]);
		expect(entry).toMatchObject({ reason: 'hard-bounce', source: 'sendgrid' });
	});

	it('answers the provider’s retry status while Redis is down (SendGrid 503, Brevo 429), naming no server or secret', async () => {
		const dead = credential(1);
		const body = JSON.stringify(SENDGRID_EVENTS);
		const sendgrid = await serve(parameters, 'down-hook', dead);
		const a = await sendgrid.post(body, sendgridSigned(body));
		expect(a).toMatchObject({ status: 503, body: 'State store unavailable, try again later' });
		const brevo = await serve(
			{ provider: 'brevo', authToken: 'tok-123456', stateStore: 'redis' },
			'down-brevo',
			dead,
		);
		const b = await brevo.post(
			JSON.stringify({ event: 'hard_bounce', email: 'x@example.com', id: 7 }),
			{
				'content-type': 'application/json',
				authorization: 'Bearer tok-123456',
			},
		);
		expect(b.status).toBe(429);
		expect(a.body + b.body).not.toMatch(/s3cret|127\.0\.0\.1|tok-123456/);
		// the retry once Redis is back is accepted as new: nothing was marked seen
		const back = await serve(parameters, 'down-hook', credential(redis.port));
		expect((await back.post(body, sendgridSigned(body))).items).toHaveLength(2);
	});
});
