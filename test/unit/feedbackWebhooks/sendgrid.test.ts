import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { hashedReference } from '../../../lib/feedback/reference';
import { sendgridWebhook } from '../../../lib/feedback/webhooks/sendgrid';
import { request, REF, TOKEN } from './helpers';

/*
 * Events as SendGrid's Event Webhook reference shows them
 * (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event; sendgrid/docs
 * content/docs/for-developers/tracking-events/event.md), with our custom arg `pr` as a top-level
 * key and the bounce_classification field the current reference lists.
 */
const EVENTS = [
	{
		email: 'example@test.com',
		timestamp: 1513299569,
		'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
		event: 'bounce',
		category: 'cat facts',
		sg_event_id: '6g4ZI7SA-xmRDv57GoPIPw==',
		sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
		reason: '500 unknown recipient',
		status: '5.0.0',
		type: 'bounce',
		bounce_classification: 'Invalid Address',
		pr: TOKEN,
	},
	{
		email: 'example@test.com',
		timestamp: 1513299569,
		'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
		event: 'bounce',
		category: 'cat facts',
		sg_event_id: '6g4ZI7SA-xmRDv57GoPIPx==',
		sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
		reason: '500 unknown recipient',
		status: '5.0.0',
		type: 'blocked',
	},
	{
		email: 'example@test.com',
		timestamp: 1513299569,
		'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
		event: 'deferred',
		category: 'cat facts',
		sg_event_id: 't7LEShmowp86DTdUW8M-GQ==',
		sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
		response: '400 try again later',
		attempt: '5',
	},
	{
		email: 'example@test.com',
		timestamp: 1513299569,
		'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
		event: 'delivered',
		category: 'cat facts',
		sg_event_id: 'rWVYmVk90MjZJ9iohOBa3w==',
		sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
		response: '250 OK',
		ip: '168.1.1.1',
	},
	{
		email: 'example@test.com',
		timestamp: 1513299569,
		'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
		event: 'dropped',
		category: 'cat facts',
		sg_event_id: 'zmzJhfJgAfUSOW80yEbPyw==',
		sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
		reason: 'Bounced Address',
		status: '5.0.0',
	},
	{
		email: 'example@test.com',
		timestamp: 1513299569,
		'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
		event: 'spamreport',
		category: 'cat facts',
		sg_event_id: '37nvH5QBz858KGVYCM4uOA==',
		sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
	},
	{
		email: 'example@test.com',
		timestamp: 1513299569,
		'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
		event: 'group_unsubscribe',
		category: 'cat facts',
		sg_event_id: 'ahSCB7xYcXFb-hEaawsPRw==',
		sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
		useragent:
			'Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)',
		ip: '255.255.255.255',
		url: 'http://www.sendgrid.com/',
		asm_group_id: 10,
	},
	{
		email: 'example@test.com',
		timestamp: 1513299569,
		'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
		event: 'open',
		category: 'cat facts',
		sg_event_id: 'FOTFFO0ecsBE-zxFXfs6WA==',
		sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
		useragent:
			'Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)',
		ip: '255.255.255.255',
	},
];

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const b64Key = (key: KeyObject) => key.export({ format: 'der', type: 'spki' }).toString('base64');

/** Signed the way SendGrid signs: ECDSA P-256 over timestamp + raw body, DER, base64. */
function signed(body: string, timestamp = '1513299600', key = privateKey) {
	const signature = sign(
		'sha256',
		Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]),
		key,
	).toString('base64');
	return request(body, {
		'X-Twilio-Email-Event-Webhook-Signature': signature,
		'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
		'Content-Type': 'application/json',
	});
}

const config = sendgridWebhook.parseConfig({ publicKey: b64Key(publicKey) });
const body = JSON.stringify(EVENTS);

describe('SendGrid webhook', () => {
	it('accepts a batch signed with the account key and normalizes every event', async () => {
		const req = signed(body);
		await expect(sendgridWebhook.verify(req, config)).resolves.toEqual({ ok: true });
		const events = sendgridWebhook.normalize(req);
		expect(events.map((e) => [e.type, e.bounce, e.fault, e.permanent])).toEqual([
			['bounced', 'hard', 'recipient', true],
			['blocked', undefined, 'route', false],
			['deferred', undefined, 'route', false],
			['delivered', undefined, 'none', false],
			['suppressed', undefined, 'recipient', false],
			['complained', undefined, 'recipient', true],
			['unsubscribed', undefined, 'none', true],
			['other', undefined, 'none', false],
		]);
		expect(events[0]).toEqual({
			source: 'sendgrid',
			type: 'bounced',
			bounce: 'hard',
			permanent: true,
			fault: 'recipient',
			recipient: 'example@test.com',
			messageId: '14c5d75ce93',
			eventId: '6g4ZI7SA-xmRDv57GoPIPw==',
			timestamp: '2017-12-15T00:59:29.000Z',
			smtpCode: 500,
			enhancedCode: '5.0.0',
			diagnostic: '500 unknown recipient',
			providerType: 'bounce/Invalid Address',
			reference: REF,
			referenceToken: TOKEN,
			linkedBy: 'reference',
			confidence: 1,
		});
		expect(events[1].linkedBy).toBe('none');
		expect(events[3].sendingIp).toBe('168.1.1.1');
		// an open's ip is the reader's, not the sending IP
		expect(events[7].sendingIp).toBeUndefined();
		expect(events[7].providerType).toBe('open');
	});

	it('the PEM form of the key works too; a key that is not P-256 is refused as a setting', async () => {
		const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
		await expect(
			sendgridWebhook.verify(signed(body), sendgridWebhook.parseConfig({ publicKey: pem })),
		).resolves.toEqual({ ok: true });
		const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
		const wrong = b64Key(rsa);
		expect(() => sendgridWebhook.parseConfig({ publicKey: wrong })).toThrow(
			/publicKey must be the base64 \(DER\) ECDSA P-256/,
		);
		// the error names the field, never the value
		expect(() => sendgridWebhook.parseConfig({ publicKey: wrong })).not.toThrow(
			wrong.slice(20, 60),
		);
	});

	it('refuses a tampered body, another key and a missing header with 401', async () => {
		const req = signed(body);
		const tampered = {
			...req,
			rawBody: Buffer.from(body.replace('Invalid Address', 'Reputation')),
		};
		for (const bad of [tampered, signed(body, '1513299600', other.privateKey)]) {
			const answer = await sendgridWebhook.verify(bad, config);
			expect(answer).toEqual({
				ok: false,
				status: 401,
				reason: 'SendGrid webhook: the signature does not match the body',
			});
		}
		const unsigned = request(body, { 'X-Twilio-Email-Event-Webhook-Timestamp': '1513299600' });
		await expect(sendgridWebhook.verify(unsigned, config)).resolves.toMatchObject({
			ok: false,
			status: 401,
		});
		const garbage = request(body, {
			'X-Twilio-Email-Event-Webhook-Signature': 'bm90IGEgc2lnbmF0dXJl',
			'X-Twilio-Email-Event-Webhook-Timestamp': '1513299600',
		});
		await expect(sendgridWebhook.verify(garbage, config)).resolves.toMatchObject({
			ok: false,
			status: 401,
		});
		// a signature for another timestamp does not carry over
		const moved = {
			...req,
			headers: { ...req.headers, 'x-twilio-email-event-webhook-timestamp': '1513299601' },
		};
		await expect(sendgridWebhook.verify(moved, config)).resolves.toMatchObject({
			ok: false,
			status: 401,
		});
	});

	it('refuses a stale signature only when a maximum age is set', async () => {
		const now = () => 1513299600_000 + 3600_000;
		await expect(sendgridWebhook.verify(signed(body), config, { now })).resolves.toEqual({
			ok: true,
		});
		const strict = sendgridWebhook.parseConfig({
			publicKey: b64Key(publicKey),
			maxAgeSeconds: 300,
		});
		await expect(sendgridWebhook.verify(signed(body), strict, { now })).resolves.toEqual({
			ok: false,
			status: 401,
			reason: 'SendGrid webhook: the signature timestamp is more than 300 s old',
		});
		await expect(
			sendgridWebhook.verify(signed(body), strict, { now: () => 1513299700_000 }),
		).resolves.toEqual({ ok: true });
	});

	it('fails closed, naming the setting, when no key is configured', async () => {
		const answer = await sendgridWebhook.verify(
			signed(body),
			sendgridWebhook.parseConfig({ publicKey: '' }),
		);
		expect(answer).toMatchObject({ ok: false, status: 503 });
		expect(answer.ok || answer.reason).toMatch(/"publicKey"/);
	});

	it('a redelivered batch gives the same event ids', () => {
		const first = sendgridWebhook.normalize(signed(body)).map((e) => e.eventId);
		const again = sendgridWebhook.normalize(signed(body, '1513386000')).map((e) => e.eventId);
		expect(again).toEqual(first);
		expect(new Set(first).size).toBe(EVENTS.length);
	});

	it('a digest reference is handed on for the ledger; a stranger’s pr value links nothing', () => {
		const digest = hashedReference({ route: 'r'.repeat(80), group: 'yahoo', campaign: 'c' });
		const [hashed, stranger] = sendgridWebhook.normalize(
			request(
				JSON.stringify([
					{ ...EVENTS[0], pr: digest },
					{ ...EVENTS[0], pr: 'not-ours' },
				]),
			),
		);
		expect(hashed).toMatchObject({ referenceToken: digest, linkedBy: 'reference' });
		expect(hashed.reference).toBeUndefined();
		expect(stranger.linkedBy).toBe('none');
		expect(stranger.referenceToken).toBeUndefined();
	});

	it('reads the bounce classifications', () => {
		const classify = (bounce_classification: string, extra: object = {}) =>
			sendgridWebhook.normalize(
				request(JSON.stringify([{ ...EVENTS[0], bounce_classification, ...extra }])),
			)[0];
		expect(classify('Reputation')).toMatchObject({ type: 'blocked', fault: 'route' });
		expect(classify('Frequency or Volume Too High')).toMatchObject({
			type: 'blocked',
			fault: 'route',
		});
		expect(classify('Content')).toMatchObject({ type: 'blocked', fault: 'content' });
		expect(classify('Mailbox Unavailable')).toMatchObject({
			type: 'bounced',
			bounce: 'soft',
			permanent: false,
		});
		expect(classify('Technical Failure')).toMatchObject({
			type: 'bounced',
			bounce: 'soft',
			fault: 'unknown',
		});
		// unclassified: the reply decides (Yahoo's TSS04 is the route's reputation)
		const yahoo = classify('Unclassified', {
			reason:
				'421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints',
			status: '4.7.0',
		});
		expect(yahoo).toMatchObject({
			type: 'blocked',
			fault: 'route',
			smtpCode: 421,
			enhancedCode: '4.7.0',
		});
	});

	it('says what is wrong with a body that is not JSON, and skips what is not an event', () => {
		expect(() => sendgridWebhook.normalize(request('[{"event":'))).toThrow(
			'SendGrid webhook: the body is not JSON',
		);
		expect(sendgridWebhook.normalize(request('[1, null, {"no": "event"}]'))).toEqual([]);
		const unknown = sendgridWebhook.normalize(
			request('[{"event": "machine_opened", "email": "A@Example.COM"}]'),
		);
		expect(unknown).toEqual([
			expect.objectContaining({
				type: 'other',
				providerType: 'machine_opened',
				recipient: 'A@example.com',
				linkedBy: 'none',
			}),
		]);
	});
});
