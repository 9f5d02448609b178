import { createHmac } from 'node:crypto';
import { mailgunWebhook } from '../../../lib/feedback/webhooks/mailgun';
import { request, REF, TOKEN } from './helpers';

const SIGNING_KEY = 'key-6f1b0d5c8a2e4b7f9c3d1e0a2b4c6d8e';

/*
 * Shaped as Mailgun's webhook payload examples
 * (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-payloads, the
 * "Permanent Failure" and "Temporary Failure" events), with our user variable `pr`.
 */
const PERMANENT = {
	account: { id: '1234567890303a4bd1f33898' },
	domain: { name: 'sample.mailgun.com' },
	envelope: {
		sender: 'sender@sample.mailgun.com',
		targets: 'invalid@example.com',
		transport: 'smtp',
		'sending-ip': '209.61.151.224',
	},
	event: 'failed',
	severity: 'permanent',
	reason: 'bounce',
	id: 'G9Bn5sl1TC6nu79C8C0bwg',
	'log-level': 'error',
	message: {
		headers: {
			from: 'Sample Sender <sender@sample.mailgun.com>',
			'message-id': '20260203192638.000be97f99f8cea1@sample.mailgun.com',
			subject: 'Sample webhook payload',
			to: 'invalid@example.com',
		},
		size: 341,
	},
	recipient: 'invalid@example.com',
	'recipient-domain': 'example.com',
	tags: ['welcome'],
	timestamp: 1534110422.389832,
	'user-variables': { pr: TOKEN },
	'delivery-status': {
		tls: true,
		'mx-host': 'aspmx.l.example.org',
		'attempt-no': 1,
		description: '',
		'session-seconds': 2.952177047729492,
		utf8: true,
		code: 550,
		message:
			"5.1.1 The email account that you tried to reach does not exist. Please try\n5.1.1 double-checking the recipient's email address for typos",
		'certificate-verified': true,
	},
};
const TEMPORARY = {
	...PERMANENT,
	id: 'Fs7-5t81S2ienmzBaiYMOw',
	severity: 'temporary',
	reason: 'generic',
	recipient: 'user@yahoo.com',
	'delivery-status': {
		'attempt-no': 1,
		code: 421,
		message:
			'4.7.0 [TSS04] Messages from 209.61.151.224 temporarily deferred due to unexpected volume or user complaints',
		'retry-seconds': 600,
	},
};

function signed(
	eventData: object,
	{
		key = SIGNING_KEY,
		timestamp = '1534110423',
		token = 'a8c1e9f04b6d2e7c13f5a9b0d8e6c4a2f1b3d5e7c9a0b2d4f6',
	} = {},
) {
	const signature = createHmac('sha256', key)
		.update(timestamp + token)
		.digest('hex');
	return request(
		JSON.stringify({ signature: { timestamp, token, signature }, 'event-data': eventData }),
		{
			'content-type': 'application/json',
		},
	);
}

const config = mailgunWebhook.parseConfig({ signingKey: SIGNING_KEY });

describe('Mailgun webhook', () => {
	it('accepts a signed event, returns its token for the seen-set, and normalizes it', async () => {
		const req = signed(PERMANENT);
		await expect(mailgunWebhook.verify(req, config)).resolves.toEqual({
			ok: true,
			replayToken: 'a8c1e9f04b6d2e7c13f5a9b0d8e6c4a2f1b3d5e7c9a0b2d4f6',
		});
		expect(mailgunWebhook.normalize(req)).toEqual([
			{
				source: 'mailgun',
				type: 'bounced',
				bounce: 'hard',
				permanent: true,
				fault: 'recipient',
				recipient: 'invalid@example.com',
				// as the send side records Mailgun's id
				messageId: '<20260203192638.000be97f99f8cea1@sample.mailgun.com>',
				eventId: 'G9Bn5sl1TC6nu79C8C0bwg',
				timestamp: '2018-08-12T21:47:02.389Z',
				smtpCode: 550,
				enhancedCode: '5.1.1',
				diagnostic:
					"5.1.1 The email account that you tried to reach does not exist. Please try 5.1.1 double-checking the recipient's email address for typos",
				providerType: 'failed/permanent/bounce',
				remoteMta: 'aspmx.l.example.org',
				sendingIp: '209.61.151.224',
				reference: REF,
				referenceToken: TOKEN,
				linkedBy: 'reference',
				confidence: 1,
			},
		]);
	});

	it('a temporary failure is a deferral, and a reputation deferral is the route’s', () => {
		const [e] = mailgunWebhook.normalize(signed(TEMPORARY));
		expect(e).toMatchObject({
			type: 'deferred',
			fault: 'route',
			permanent: false,
			smtpCode: 421,
			enhancedCode: '4.7.0',
		});
		const full = {
			...TEMPORARY,
			'delivery-status': {
				code: 452,
				message: '4.2.2 The email account that you tried to reach is over quota',
			},
		};
		expect(mailgunWebhook.normalize(signed(full))[0]).toMatchObject({
			type: 'deferred',
			fault: 'recipient',
		});
		const suppressed = {
			...PERMANENT,
			reason: 'suppress-bounce',
			'delivery-status': { code: 605, message: 'Not delivering to previously bounced address' },
		};
		expect(mailgunWebhook.normalize(signed(suppressed))[0]).toMatchObject({
			type: 'suppressed',
			providerType: 'failed/permanent/suppress-bounce',
		});
		const blocked = {
			...PERMANENT,
			'delivery-status': {
				code: 554,
				message: '5.7.1 Service unavailable; Client host [209.61.151.224] blocked using Spamhaus',
			},
		};
		expect(mailgunWebhook.normalize(signed(blocked))[0]).toMatchObject({
			type: 'blocked',
			fault: 'route',
		});
	});

	it('refuses a wrong key, a tampered signature block and an unsigned body with 401', async () => {
		await expect(
			mailgunWebhook.verify(signed(PERMANENT, { key: 'another-key' }), config),
		).resolves.toEqual({
			ok: false,
			status: 401,
			reason: 'Mailgun webhook: the signature does not match',
		});
		const req = signed(PERMANENT);
		const parsed = JSON.parse(req.rawBody.toString());
		parsed.signature.timestamp = '1534110999';
		await expect(
			mailgunWebhook.verify(request(JSON.stringify(parsed)), config),
		).resolves.toMatchObject({ ok: false, status: 401 });
		await expect(
			mailgunWebhook.verify(request(JSON.stringify({ 'event-data': PERMANENT })), config),
		).resolves.toMatchObject({
			ok: false,
			status: 401,
			reason: 'Mailgun webhook: the request is not signed (no signature block)',
		});
		await expect(mailgunWebhook.verify(request('not json'), config)).resolves.toMatchObject({
			ok: false,
			status: 400,
		});
	});

	it('refuses a replayed token with 406 (Mailgun does not retry it), and says when the check itself failed', async () => {
		const seen = new Set<string>();
		const seenToken = (token: string) => (seen.has(token) ? true : (seen.add(token), false));
		await expect(
			mailgunWebhook.verify(signed(PERMANENT), config, { seenToken }),
		).resolves.toMatchObject({ ok: true });
		await expect(mailgunWebhook.verify(signed(PERMANENT), config, { seenToken })).resolves.toEqual({
			ok: false,
			status: 406,
			reason: 'Mailgun webhook: this signature token was used before (a replay)',
		});
		const down = () => Promise.reject(new Error('redis down'));
		await expect(
			mailgunWebhook.verify(signed(TEMPORARY, { token: 'fresh-token-0001' }), config, {
				seenToken: down,
			}),
		).resolves.toMatchObject({
			ok: false,
			status: 503,
		});
	});

	it('refuses a stale timestamp only when a maximum age is set', async () => {
		const now = () => 1534110423_000 + 7200_000;
		await expect(mailgunWebhook.verify(signed(PERMANENT), config, { now })).resolves.toMatchObject({
			ok: true,
		});
		const strict = mailgunWebhook.parseConfig({ signingKey: SIGNING_KEY, maxAgeSeconds: 900 });
		await expect(mailgunWebhook.verify(signed(PERMANENT), strict, { now })).resolves.toMatchObject({
			ok: false,
			status: 406,
		});
	});

	it('fails closed without a signing key, naming the setting and never a secret', async () => {
		const answer = await mailgunWebhook.verify(signed(PERMANENT), mailgunWebhook.parseConfig({}));
		expect(answer).toMatchObject({ ok: false, status: 503 });
		expect(answer.ok || answer.reason).toMatch(/"signingKey"/);
		const wrong = await mailgunWebhook.verify(signed(PERMANENT, { key: 'x' }), config);
		expect(JSON.stringify(wrong)).not.toContain(SIGNING_KEY);
	});

	it('a redelivered event gives the same event id', () => {
		const a = mailgunWebhook.normalize(signed(PERMANENT, { token: 't1', timestamp: '1534110423' }));
		const b = mailgunWebhook.normalize(signed(PERMANENT, { token: 't2', timestamp: '1534114023' }));
		expect(b[0].eventId).toBe(a[0].eventId);
	});
});
