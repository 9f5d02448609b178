import fc from 'fast-check';
import { FEEDBACK_TYPES, type FeedbackEvent } from '../../../lib/feedback/types';
import {
	WEBHOOK_PROVIDER_IDS,
	WEBHOOK_PROVIDERS,
	webhookProvider,
	WebhookPayloadError,
} from '../../../lib/feedback/webhooks';
import { MAX_TEXT } from '../../../lib/util/secrets';
import { request, TOKEN } from './helpers';

/** One documented-shape body per provider, to mutate. */
const SAMPLES: Record<string, unknown> = {
	sendgrid: [
		{
			email: 'a@example.com',
			timestamp: 1513299569,
			event: 'bounce',
			sg_event_id: 'x',
			sg_message_id: 'm.1',
			reason: '550 5.1.1 no',
			status: '5.1.1',
			type: 'bounce',
			bounce_classification: 'Invalid Address',
			pr: TOKEN,
		},
	],
	mailgun: {
		signature: { timestamp: '1', token: 't', signature: 's' },
		'event-data': {
			event: 'failed',
			severity: 'permanent',
			reason: 'bounce',
			id: 'i',
			timestamp: 1534110422.38,
			recipient: 'a@example.com',
			message: { headers: { 'message-id': 'm@x' } },
			'user-variables': { pr: TOKEN },
			'delivery-status': { code: 550, message: '5.1.1 no', 'mx-host': 'mx' },
			envelope: { 'sending-ip': '192.0.2.1' },
		},
	},
	ses: {
		eventType: 'Bounce',
		bounce: {
			bounceType: 'Permanent',
			bounceSubType: 'General',
			bouncedRecipients: [
				{ emailAddress: 'a@example.com', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 no' },
			],
			timestamp: '2017-08-05T00:41:02.669Z',
			reportingMTA: 'dsn; mta',
		},
		mail: { messageId: 'm', destination: ['a@example.com'], tags: { pr: [TOKEN] } },
	},
	postmark: {
		RecordType: 'Bounce',
		ID: 1,
		Type: 'HardBounce',
		TypeCode: 1,
		MessageID: 'm',
		Email: 'a@example.com',
		BouncedAt: '2019-11-05T16:33:54.9070259Z',
		Details: 'smtp;550 5.1.1 no',
		Metadata: { pr: TOKEN },
	},
	sparkpost: [
		{
			msys: {
				message_event: {
					type: 'bounce',
					bounce_class: '10',
					event_id: 'e',
					rcpt_to: 'a@example.com',
					raw_reason: '550 5.1.1 no',
					error_code: '550',
					timestamp: '1460989507',
					transmission_id: 't',
					rcpt_meta: { pr: TOKEN },
				},
			},
		},
	],
	resend: {
		type: 'email.bounced',
		created_at: '2024-11-22T23:41:12.126Z',
		data: {
			email_id: 'e',
			to: ['a@example.com'],
			bounce: { type: 'Permanent', subType: 'General', message: 'no' },
			tags: { pr: TOKEN },
		},
	},
	brevo: [
		{
			event: 'hard_bounce',
			email: 'a@example.com',
			id: 1,
			'message-id': '<m>',
			ts_epoch: 1604933654000,
			reason: '550 5.1.1 no',
			'X-Mailin-custom': `pr:${TOKEN}`,
		},
	],
};

/** Replaces the nodes at the given positions (in walk order) with arbitrary JSON. */
function mutate(value: unknown, replacements: Array<[number, unknown]>): unknown {
	let index = 0;
	const byIndex = new Map(replacements.map(([i, v]) => [i, v]));
	const walk = (node: unknown): unknown => {
		const here = index++;
		if (byIndex.has(here)) return byIndex.get(here);
		if (Array.isArray(node)) return node.map(walk);
		if (node && typeof node === 'object')
			return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
		return node;
	};
	return walk(value);
}

/** SES events ride as a string inside the SNS envelope. */
function bodyFor(id: string, payload: unknown): string {
	if (id !== 'ses') return JSON.stringify(payload);
	return JSON.stringify({
		Type: 'Notification',
		MessageId: 'n',
		TopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
		Message: JSON.stringify(payload),
		Timestamp: '2017-08-05T00:41:03.123Z',
	});
}

function wellFormed(e: FeedbackEvent): void {
	expect(FEEDBACK_TYPES).toContain(e.type);
	expect(Number.isNaN(Date.parse(e.timestamp))).toBe(false);
	expect(e.confidence).toBe(1);
	expect(['reference', 'none']).toContain(e.linkedBy);
	if (e.diagnostic !== undefined) expect(e.diagnostic.length).toBeLessThanOrEqual(MAX_TEXT);
	if (e.bounce !== undefined) expect(e.type).toBe('bounced');
}

describe('normalization never throws on JSON', () => {
	it('any JSON value, for every provider', () => {
		fc.assert(
			fc.property(fc.constantFrom(...WEBHOOK_PROVIDER_IDS), fc.jsonValue(), (id, value) => {
				const events = WEBHOOK_PROVIDERS[id].normalize(request(JSON.stringify(value)));
				expect(Array.isArray(events)).toBe(true);
				events.forEach(wellFormed);
			}),
			{ numRuns: 700 },
		);
	});

	it('each provider’s own payload with arbitrary JSON in any of its places', () => {
		fc.assert(
			fc.property(
				fc.constantFrom(...WEBHOOK_PROVIDER_IDS),
				fc.array(fc.tuple(fc.nat({ max: 40 }), fc.jsonValue({ maxDepth: 3 })), { maxLength: 4 }),
				(id, replacements) => {
					const body = bodyFor(id, mutate(SAMPLES[id], replacements));
					webhookProvider(id).normalize(request(body)).forEach(wellFormed);
				},
			),
			{ numRuns: 1500 },
		);
	});

	it('the unmutated samples give one linked event each', () => {
		for (const id of WEBHOOK_PROVIDER_IDS) {
			const events = webhookProvider(id).normalize(request(bodyFor(id, SAMPLES[id])));
			expect(events).toHaveLength(1);
			expect(events[0]).toMatchObject({
				source: id,
				recipient: 'a@example.com',
				linkedBy: 'reference',
				type: 'bounced',
				bounce: 'hard',
			});
		}
	});

	it('a body that is not JSON is the one error, and it says 400', () => {
		fc.assert(
			fc.property(fc.constantFrom(...WEBHOOK_PROVIDER_IDS), fc.string(), (id, text) => {
				let parses = true;
				try {
					JSON.parse(text);
				} catch {
					parses = false;
				}
				fc.pre(!parses);
				try {
					webhookProvider(id).normalize(request(text));
					throw new Error('no error');
				} catch (error) {
					expect(error).toBeInstanceOf(WebhookPayloadError);
					expect((error as WebhookPayloadError).status).toBe(400);
				}
			}),
		);
	});
});

describe('the provider index', () => {
	it('lists every provider with a name, a settings schema and its functions', () => {
		expect(WEBHOOK_PROVIDER_IDS).toEqual([
			'sendgrid',
			'mailgun',
			'ses',
			'postmark',
			'sparkpost',
			'resend',
			'brevo',
		]);
		for (const id of WEBHOOK_PROVIDER_IDS) {
			const provider = webhookProvider(id);
			expect(provider.id).toBe(id);
			expect(provider.displayName).toMatch(/\w/);
			expect(provider.configSchema.safeParse({}).success).toBe(true);
			expect(provider.unavailableStatus).toBe(id === 'brevo' ? 429 : 503);
		}
		expect(() => webhookProvider('constructor')).toThrow(/unknown webhook provider 'constructor'/);
	});

	it('no secret in any refusal', async () => {
		const secret = 'S3cr3t-value-9f8e7d6c5b4a';
		const whsec = `whsec_${Buffer.from(secret).toString('base64')}`;
		const cases: Array<[string, object, Record<string, string>]> = [
			['mailgun', { signingKey: secret }, {}],
			[
				'postmark',
				{ username: 'u', password: secret },
				{ authorization: `Basic ${Buffer.from('u:wrong').toString('base64')}` },
			],
			['sparkpost', { token: secret, tokenHeader: 'x-token' }, { 'x-token': `${secret}x` }],
			['brevo', { token: secret }, { authorization: `Bearer ${secret.slice(1)}` }],
			[
				'resend',
				{ signingSecret: whsec },
				{
					'svix-id': 'msg_1',
					'svix-timestamp': String(Math.floor(Date.now() / 1000)),
					'svix-signature': 'v1,AAAA',
				},
			],
		];
		for (const [id, settings, headers] of cases) {
			const provider = webhookProvider(id);
			const answer = await provider.verify(
				request(bodyFor(id, SAMPLES[id]), headers),
				provider.parseConfig(settings),
			);
			expect(answer).toMatchObject({ ok: false, status: 401 });
			const text = JSON.stringify(answer);
			for (const form of [secret, whsec, Buffer.from(secret).toString('base64')])
				expect(text).not.toContain(form);
		}
	});

	it('every provider refuses, by default, a request it cannot verify (fail closed)', async () => {
		for (const id of WEBHOOK_PROVIDER_IDS) {
			const provider = webhookProvider(id);
			const answer = await provider.verify(
				request(bodyFor(id, SAMPLES[id])),
				provider.parseConfig({}),
			);
			expect(answer).toMatchObject({ ok: false, status: provider.unavailableStatus });
			expect(answer.ok || answer.reason).toMatch(/not configured: set "/);
		}
	});
});
