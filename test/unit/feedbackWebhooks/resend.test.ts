import { createHmac, randomBytes } from 'node:crypto';
import { resendWebhook } from '../../../lib/feedback/webhooks/resend';
import { request, REF, TOKEN } from './helpers';

/*
 * The email.bounced payload of https://resend.com/docs/webhooks/emails/bounced, with our tag `pr`,
 * signed the way Svix signs (https://docs.svix.com/receiving/verifying-payloads/how-manual).
 */
const BOUNCED = {
	type: 'email.bounced',
	created_at: '2024-11-22T23:41:12.126Z',
	data: {
		broadcast_id: '8b146471-e88e-4322-86af-016cd36fd216',
		created_at: '2024-11-22T23:41:11.894719+00:00',
		email_id: '56761188-7520-42d8-8898-ff6fc54ce618',
		from: 'Acme <onboarding@resend.dev>',
		to: ['delivered@resend.dev'],
		subject: 'Sending this example',
		template_id: '43f68331-0622-4e15-8202-246a0388854b',
		bounce: {
			message:
				"The recipient's email address is on the suppression list because it has a history of producing hard bounces.",
			subType: 'Suppressed',
			type: 'Permanent',
		},
		tags: { category: 'confirm_email', pr: TOKEN },
	},
};

const KEY = randomBytes(24);
const SECRET = `whsec_${KEY.toString('base64')}`;
const NOW = Date.parse('2024-11-22T23:41:13Z');
const now = () => NOW;

function signed(
	body: string,
	{
		id = 'msg_2pDLeVYfZ6jbB4GzBzcBtzqT1hE',
		timestamp = String(NOW / 1000),
		key = KEY,
		extra = '',
	} = {},
) {
	const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
	return request(body, {
		'svix-id': id,
		'svix-timestamp': timestamp,
		'svix-signature': `${extra}v1,${signature}`.trim(),
	});
}

const config = resendWebhook.parseConfig({ signingSecret: SECRET });
const body = JSON.stringify(BOUNCED);

describe('Resend webhook (Svix)', () => {
	it('accepts a Svix signature made with the whsec_ secret and normalizes the bounce', async () => {
		const req = signed(body);
		await expect(resendWebhook.verify(req, config, { now })).resolves.toEqual({ ok: true });
		expect(resendWebhook.normalize(req)).toEqual([
			{
				source: 'resend',
				type: 'suppressed',
				permanent: false,
				fault: 'recipient',
				recipient: 'delivered@resend.dev',
				messageId: '56761188-7520-42d8-8898-ff6fc54ce618',
				eventId: 'msg_2pDLeVYfZ6jbB4GzBzcBtzqT1hE',
				timestamp: '2024-11-22T23:41:12.126Z',
				diagnostic:
					"The recipient's email address is on the suppression list because it has a history of producing hard bounces.",
				providerType: 'email.bounced/Permanent/Suppressed',
				reference: REF,
				referenceToken: TOKEN,
				linkedBy: 'reference',
				confidence: 1,
			},
		]);
	});

	it('takes any of several signatures (a secret being rotated)', async () => {
		const other = createHmac('sha256', randomBytes(24)).update('x').digest('base64');
		await expect(
			resendWebhook.verify(signed(body, { extra: `v1,${other} v2,abc ` }), config, { now }),
		).resolves.toEqual({ ok: true });
	});

	it('refuses a tampered body, another secret, a missing header and a timestamp 5 minutes off with 401', async () => {
		const req = signed(body);
		const tampered = { ...req, rawBody: Buffer.from(body.replace('Suppressed', 'General')) };
		const cases = [
			tampered,
			signed(body, { key: randomBytes(24) }),
			request(body, { 'svix-id': 'msg_1', 'svix-timestamp': String(NOW / 1000) }),
			signed(body, { timestamp: String(NOW / 1000 - 301) }),
			signed(body, { timestamp: String(NOW / 1000 + 301) }),
			// a signature moved to another message id
			{ ...req, headers: { ...req.headers, 'svix-id': 'msg_other' } },
		];
		for (const bad of cases)
			await expect(resendWebhook.verify(bad, config, { now })).resolves.toMatchObject({
				ok: false,
				status: 401,
			});
		await expect(
			resendWebhook.verify(signed(body, { timestamp: String(NOW / 1000 - 299) }), config, { now }),
		).resolves.toEqual({ ok: true });
	});

	it('fails closed without a secret, naming the setting; a malformed secret is refused as a setting', async () => {
		const answer = await resendWebhook.verify(signed(body), resendWebhook.parseConfig({}), { now });
		expect(answer).toMatchObject({ ok: false, status: 503 });
		expect(answer.ok || answer.reason).toMatch(/"signingSecret"/);
		expect(() => resendWebhook.parseConfig({ signingSecret: 'whsec_!!' })).toThrow(
			/signingSecret must be the signing secret Resend shows/,
		);
	});

	it('reads the other email events, one per recipient', () => {
		const kinds = [
			'email.delivered',
			'email.delivery_delayed',
			'email.complained',
			'email.opened',
			'email.sent',
		].map(
			(type) =>
				resendWebhook.normalize(
					signed(
						JSON.stringify({ ...BOUNCED, type, data: { ...BOUNCED.data, bounce: undefined } }),
					),
				)[0].type,
		);
		expect(kinds).toEqual(['delivered', 'deferred', 'complained', 'other', 'other']);
		const hard = {
			...BOUNCED,
			data: {
				...BOUNCED.data,
				bounce: { message: 'mailbox does not exist', type: 'Permanent', subType: 'General' },
			},
		};
		expect(resendWebhook.normalize(signed(JSON.stringify(hard)))[0]).toMatchObject({
			type: 'bounced',
			bounce: 'hard',
			permanent: true,
		});
		const two = {
			...BOUNCED,
			type: 'email.delivered',
			data: { ...BOUNCED.data, to: ['a@example.com', 'B <b@Example.com>'] },
		};
		expect(
			resendWebhook.normalize(signed(JSON.stringify(two))).map((e) => [e.recipient, e.eventId]),
		).toEqual([
			['a@example.com', 'msg_2pDLeVYfZ6jbB4GzBzcBtzqT1hE#0'],
			['b@example.com', 'msg_2pDLeVYfZ6jbB4GzBzcBtzqT1hE#1'],
		]);
	});

	it('a redelivered message (same svix-id, new timestamp and signature) gives the same event id', () => {
		const first = resendWebhook.normalize(signed(body, { timestamp: '1732318873' }));
		const retry = resendWebhook.normalize(signed(body, { timestamp: '1732319173' }));
		expect(retry[0].eventId).toBe(first[0].eventId);
	});
});
