import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { sesWebhook } from '../../../lib/feedback/webhooks/ses';
import { stringToSign } from '../../../lib/feedback/webhooks/sns';
import { request, REF, TOKEN } from './helpers';

const HOST = 'https://sns.us-east-1.amazonaws.com';
const CERT_PATH = '/SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ses-events';

let dir: string;
let keyPem: string;
let certPem: string;

beforeAll(() => {
	// an RSA key and a self-signed certificate, as SNS publishes its signing certificates
	dir = mkdtempSync(join(tmpdir(), 'sns-cert-'));
	execFileSync(
		'openssl',
		[
			'req',
			'-x509',
			'-newkey',
			'rsa:2048',
			'-nodes',
			'-keyout',
			join(dir, 'key.pem'),
			'-out',
			join(dir, 'cert.pem'),
			'-days',
			'2',
			'-subj',
			'/CN=sns.amazonaws.com',
		],
		{ stdio: 'ignore' },
	);
	keyPem = readFileSync(join(dir, 'key.pem'), 'utf8');
	certPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
	nock.disableNetConnect();
});
afterAll(() => {
	rmSync(dir, { recursive: true, force: true });
	nock.enableNetConnect();
	// nock patches node:http for the whole worker: left active, the next file's nock intercepts
	// on top of it (a replyWithError then fires twice, the second copy unhandled)
	nock.restore();
});
afterEach(() => nock.cleanAll());

/*
 * The SES bounce record of https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html
 * with our message tag `pr`, inside the SNS envelope of
 * https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html.
 */
const SES_BOUNCE = {
	eventType: 'Bounce',
	bounce: {
		bounceType: 'Permanent',
		bounceSubType: 'General',
		bouncedRecipients: [
			{
				emailAddress: 'recipient@example.com',
				action: 'failed',
				status: '5.1.1',
				diagnosticCode: 'smtp; 550 5.1.1 user unknown',
			},
		],
		timestamp: '2017-08-05T00:41:02.669Z',
		feedbackId: '01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000',
		reportingMTA: 'dsn; mta.example.com',
	},
	mail: {
		timestamp: '2017-08-05T00:40:02.012Z',
		source: 'Sender Name <sender@example.com>',
		sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/sender@example.com',
		sendingAccountId: '123456789012',
		messageId: 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000',
		destination: ['recipient@example.com'],
		headersTruncated: false,
		headers: [
			{ name: 'From', value: 'Sender Name <sender@example.com>' },
			{ name: 'To', value: 'recipient@example.com' },
			{ name: 'Subject', value: 'Message sent from Amazon SES' },
		],
		commonHeaders: {
			from: ['Sender Name <sender@example.com>'],
			to: ['recipient@example.com'],
			messageId: 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000',
			subject: 'Message sent from Amazon SES',
		},
		tags: {
			'ses:configuration-set': ['ConfigSet'],
			'ses:source-ip': ['192.0.2.0'],
			'ses:from-domain': ['example.com'],
			'ses:caller-identity': ['ses_user'],
			pr: [TOKEN],
		},
	},
};

function envelope(fields: Record<string, unknown> = {}, message: unknown = SES_BOUNCE) {
	return {
		Type: 'Notification',
		MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
		TopicArn: TOPIC,
		Subject: 'Amazon SES Email Event Notification',
		Message: typeof message === 'string' ? message : JSON.stringify(message),
		Timestamp: '2017-08-05T00:41:03.123Z',
		SignatureVersion: '1',
		SigningCertURL: HOST + CERT_PATH,
		UnsubscribeURL: `${HOST}/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:c9135db0-26c4-47ec-8998-413945fb5a96`,
		...fields,
	};
}

/** Signed the way SNS signs: RSA over the string to sign, SHA1 for version 1, SHA256 for 2. */
function signed(message: Record<string, unknown>, key: string = keyPem) {
	const algorithm = message.SignatureVersion === '2' ? 'sha256' : 'sha1';
	const Signature = sign(algorithm, Buffer.from(stringToSign(message)), key).toString('base64');
	return request(JSON.stringify({ ...message, Signature }), {
		'content-type': 'text/plain; charset=UTF-8',
		'x-amz-sns-message-type': String(message.Type),
		'x-amz-sns-topic-arn': TOPIC,
	});
}

const config = sesWebhook.parseConfig({ allowedTopicArns: [TOPIC] });
const serveCert = (times = 1) => nock(HOST).get(CERT_PATH).times(times).reply(200, certPem);
const ctx = () => ({ certCache: new Map() });

describe('Amazon SES webhook (SNS)', () => {
	it('accepts a v1 (SHA1) and a v2 (SHA256) signature with the certificate from the SNS host, fetched once', async () => {
		const scope = serveCert(1);
		const context = ctx();
		await expect(sesWebhook.verify(signed(envelope()), config, context)).resolves.toEqual({
			ok: true,
		});
		await expect(
			sesWebhook.verify(signed(envelope({ SignatureVersion: '2' })), config, context),
		).resolves.toEqual({ ok: true });
		expect(scope.isDone()).toBe(true); // the second came from the cache
	});

	it('normalizes the documented bounce record', () => {
		expect(sesWebhook.normalize(signed(envelope()))).toEqual([
			{
				source: 'ses',
				type: 'bounced',
				bounce: 'hard',
				permanent: true,
				fault: 'recipient',
				recipient: 'recipient@example.com',
				messageId: 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000',
				eventId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
				timestamp: '2017-08-05T00:41:02.669Z',
				smtpCode: 550,
				enhancedCode: '5.1.1',
				diagnostic: 'smtp; 550 5.1.1 user unknown',
				providerType: 'Bounce/Permanent/General',
				reportingMta: 'mta.example.com',
				reference: REF,
				referenceToken: TOKEN,
				linkedBy: 'reference',
				confidence: 1,
			},
		]);
	});

	it('refuses a tampered message and another key with 401', async () => {
		serveCert(1);
		const context = ctx();
		const good = signed(envelope());
		const tampered = {
			...good,
			rawBody: Buffer.from(good.rawBody.toString().replace('Permanent', 'Transient')),
		};
		await expect(sesWebhook.verify(tampered, config, context)).resolves.toEqual({
			ok: false,
			status: 401,
			reason: 'Amazon SES webhook: the SNS signature does not match the message',
		});
		const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
			.privateKey.export({ format: 'pem', type: 'pkcs8' })
			.toString();
		await expect(
			sesWebhook.verify(signed(envelope(), stranger), config, context),
		).resolves.toMatchObject({ ok: false, status: 401 });
		const unsigned = request(JSON.stringify(envelope()));
		await expect(sesWebhook.verify(unsigned, config, context)).resolves.toMatchObject({
			ok: false,
			status: 401,
		});
	});

	it('refuses a topic not allowed with 403, before fetching anything', async () => {
		// no interceptor and no network: a fetch would answer 503, not 403
		const other = signed(envelope({ TopicArn: 'arn:aws:sns:us-east-1:999999999999:someone-else' }));
		await expect(sesWebhook.verify(other, config, ctx())).resolves.toEqual({
			ok: false,
			status: 403,
			reason:
				'Amazon SES webhook: topic arn:aws:sns:us-east-1:999999999999:someone-else is not in "allowedTopicArns"',
		});
	});

	it('fetches certificates only over HTTPS from an SNS host', async () => {
		for (const url of [
			'https://sns.evil.com/cert.pem',
			`http://sns.us-east-1.amazonaws.com${CERT_PATH}`,
			`https://sns.us-east-1.amazonaws.com.evil.com${CERT_PATH}`,
			`https://sns.us-east-1.amazonaws.com:8443${CERT_PATH}`,
			`https://user:pw@sns.us-east-1.amazonaws.com${CERT_PATH}`,
			'https://s3.amazonaws.com/cert.pem',
		]) {
			const answer = await sesWebhook.verify(
				signed(envelope({ SigningCertURL: url })),
				config,
				ctx(),
			);
			expect(answer).toMatchObject({ ok: false, status: 401 });
		}
		// the China regions' hosts are SNS's too
		nock('https://sns.cn-north-1.amazonaws.com.cn').get(CERT_PATH).reply(200, certPem);
		const china = signed(
			envelope({ SigningCertURL: `https://sns.cn-north-1.amazonaws.com.cn${CERT_PATH}` }),
		);
		await expect(sesWebhook.verify(china, config, ctx())).resolves.toEqual({ ok: true });
	});

	it('keeps a certificate a day, and never what is not a certificate', async () => {
		const context = ctx();
		const t0 = Date.now();
		const scope = nock(HOST).get(CERT_PATH).twice().reply(200, certPem);
		for (const now of [t0, t0 + 23 * 3600_000, t0 + 25 * 3600_000])
			await expect(
				sesWebhook.verify(signed(envelope()), config, { ...context, now: () => now }),
			).resolves.toEqual({ ok: true });
		expect(scope.isDone()).toBe(true); // fetched at t0 and again after 24 h
		nock(HOST).get(CERT_PATH).reply(200, 'not a certificate');
		nock(HOST).get(CERT_PATH).reply(200, certPem);
		const fresh = ctx();
		await expect(sesWebhook.verify(signed(envelope()), config, fresh)).resolves.toMatchObject({
			ok: false,
			status: 503,
		});
		await expect(sesWebhook.verify(signed(envelope()), config, fresh)).resolves.toEqual({
			ok: true,
		});
	});

	it('answers 503 (SNS retries) when the certificate cannot be had', async () => {
		nock(HOST).get(CERT_PATH).reply(404, 'not found');
		await expect(sesWebhook.verify(signed(envelope()), config, ctx())).resolves.toMatchObject({
			ok: false,
			status: 503,
		});
		nock(HOST).get(CERT_PATH).reply(200, 'x'.repeat(70_000));
		const big = await sesWebhook.verify(signed(envelope()), config, ctx());
		expect(big).toMatchObject({ ok: false, status: 503 });
		expect(big.ok || big.reason).toMatch(/64 KiB/);
	});

	it('fails closed without allowed topics, naming the setting', async () => {
		const answer = await sesWebhook.verify(signed(envelope()), sesWebhook.parseConfig({}), ctx());
		expect(answer).toMatchObject({ ok: false, status: 503 });
		expect(answer.ok || answer.reason).toMatch(/"allowedTopicArns"/);
		expect(() => sesWebhook.parseConfig({ allowedTopicArns: ['my-topic'] })).toThrow(
			/allowedTopicArns\.0 must be an SNS topic ARN/,
		);
	});

	it('hands back the subscription confirmation to GET only once it verified, and only on an SNS host', async () => {
		// https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html
		const confirmation = {
			Type: 'SubscriptionConfirmation',
			MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
			Token:
				'2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736',
			TopicArn: TOPIC,
			Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
			SubscribeURL: `${HOST}/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=2336412f37`,
			Timestamp: '2012-04-26T20:45:04.751Z',
			SignatureVersion: '1',
			SigningCertURL: HOST + CERT_PATH,
		};
		serveCert(1);
		const context = ctx();
		await expect(sesWebhook.verify(signed(confirmation), config, context)).resolves.toEqual({
			ok: true,
			confirmSubscription: { url: confirmation.SubscribeURL, topicArn: TOPIC },
		});
		expect(sesWebhook.normalize(signed(confirmation))).toEqual([]);
		const elsewhere = signed({
			...confirmation,
			SubscribeURL: 'https://evil.example/?Action=ConfirmSubscription',
		});
		await expect(sesWebhook.verify(elsewhere, config, context)).resolves.toMatchObject({
			ok: false,
			status: 401,
		});
		const forged = request(JSON.stringify({ ...confirmation, Signature: 'Zm9yZ2Vk' }));
		await expect(sesWebhook.verify(forged, config, context)).resolves.toMatchObject({
			ok: false,
			status: 401,
		});
	});

	it('reads the legacy notifications, one event per recipient with its own id', () => {
		// the bounce notification of https://docs.aws.amazon.com/ses/latest/dg/notification-examples.html
		// (its second recipient given a block-list refusal here)
		const legacy = {
			notificationType: 'Bounce',
			bounce: {
				bounceType: 'Permanent',
				reportingMTA: 'dns; email.example.com',
				bouncedRecipients: [
					{
						emailAddress: 'jane@example.com',
						status: '5.1.1',
						action: 'failed',
						diagnosticCode: 'smtp; 550 5.1.1 <jane@example.com>... User unknown',
					},
					{
						emailAddress: 'richard@example.com',
						status: '5.7.1',
						action: 'failed',
						diagnosticCode:
							'smtp; 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org',
					},
				],
				bounceSubType: 'General',
				timestamp: '2016-01-27T14:59:44.101Z',
				feedbackId: '00000138111222aa-44455566-cccc-cccc-cccc-ddddaaaa068a-000000',
				remoteMtaIp: '127.0.2.0',
			},
			mail: {
				timestamp: '2016-01-27T14:59:38.237Z',
				source: 'john@example.com',
				messageId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000',
				destination: ['jane@example.com', 'mary@example.com', 'richard@example.com'],
			},
		};
		const events = sesWebhook.normalize(signed(envelope({}, legacy)));
		expect(events.map((e) => [e.recipient, e.type, e.fault, e.eventId])).toEqual([
			['jane@example.com', 'bounced', 'recipient', '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324#0'],
			['richard@example.com', 'blocked', 'route', '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324#1'],
		]);
		expect(events[0]).toMatchObject({
			reportingMta: 'email.example.com',
			remoteMta: '127.0.2.0',
			linkedBy: 'none',
		});
	});

	it('reads deliveries, delays and complaints', () => {
		const mail = {
			...SES_BOUNCE.mail,
			tags: { ...SES_BOUNCE.mail.tags, 'ses:outgoing-ip': ['192.0.2.9'] },
		};
		const [delivery] = sesWebhook.normalize(
			signed(
				envelope(
					{},
					{
						eventType: 'Delivery',
						mail,
						delivery: {
							timestamp: '2016-10-19T23:21:04.133Z',
							processingTimeMillis: 11893,
							recipients: ['recipient@example.com'],
							smtpResponse: '250 2.6.0 Message received',
							reportingMTA: 'mta.example.com',
						},
					},
				),
			),
		);
		expect(delivery).toMatchObject({
			type: 'delivered',
			smtpCode: 250,
			sendingIp: '192.0.2.9',
			reportingMta: 'mta.example.com',
			timestamp: '2016-10-19T23:21:04.133Z',
		});
		const [delay] = sesWebhook.normalize(
			signed(
				envelope(
					{},
					{
						eventType: 'DeliveryDelay',
						mail,
						deliveryDelay: {
							timestamp: '2020-06-16T00:15:40.641Z',
							delayType: 'IPFailure',
							expirationTime: '2020-06-16T00:25:40.914Z',
							delayedRecipients: [
								{
									emailAddress: 'recipient@example.com',
									status: '4.4.1',
									diagnosticCode: 'smtp; 421 4.4.1 Unable to connect to remote host',
								},
							],
						},
					},
				),
			),
		);
		expect(delay).toMatchObject({
			type: 'deferred',
			fault: 'route',
			enhancedCode: '4.4.1',
			providerType: 'DeliveryDelay/IPFailure',
		});
		const [complaint] = sesWebhook.normalize(
			signed(
				envelope(
					{},
					{
						eventType: 'Complaint',
						mail,
						complaint: {
							complainedRecipients: [{ emailAddress: 'recipient@example.com' }],
							timestamp: '2017-08-05T00:41:02.669Z',
							feedbackId: 'x',
							complaintFeedbackType: 'abuse',
						},
					},
				),
			),
		);
		expect(complaint).toMatchObject({
			type: 'complained',
			permanent: true,
			providerType: 'Complaint/abuse',
			linkedBy: 'reference',
		});
		const [send] = sesWebhook.normalize(
			signed(envelope({}, { eventType: 'Send', mail, send: {} })),
		);
		expect(send).toMatchObject({ type: 'other', providerType: 'Send' });
		// an SNS message that is not an SES event (a topic test)
		expect(sesWebhook.normalize(signed(envelope({}, 'Hello world!')))).toEqual([]);
		expect(() => sesWebhook.normalize(request('{"Type":'))).toThrow(
			'Amazon SES webhook: the body is not JSON',
		);
	});
});
