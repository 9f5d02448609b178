import { brevoWebhook, mailinCustomToken } from '../../../lib/feedback/webhooks/brevo';
import { compositeId } from '../../../lib/feedback/webhooks/common';
import { basic, request, REF, TOKEN } from './helpers';

/*
 * Events as Brevo's transactional webhooks page shows them
 * (https://developers.brevo.com/docs/transactional-webhooks: hard_bounce, soft_bounce, delivered,
 * spam …), with X-Mailin-custom as our send side writes it (`key:value|key:value`, see
 * lib/transports/api/brevo.ts).
 */
const HARD = {
	event: 'hard_bounce',
	email: 'example@domain.com',
	id: 26224,
	date: '2020-10-09 00:00:00',
	ts: 1604933619,
	'message-id': '<202010090000.12345678901@smtp-relay.mailin.fr>',
	ts_event: 1604933654,
	subject: 'My first Transactional',
	'X-Mailin-custom': `campaign:spring|pr:${TOKEN}`,
	sending_ip: '185.41.28.109',
	template_id: 22,
	tags: ['transac_messages'],
	ts_epoch: 1604933654000,
	reason:
		'RecipientError: 550 5.1.1 <example@domain.com>: Recipient address rejected: User unknown',
};
const SOFT = {
	...HARD,
	event: 'soft_bounce',
	reason: 'RecipientError: 452 4.2.2 The email account that you tried to reach is over quota',
};
const DELIVERED = { ...HARD, event: 'delivered', reason: undefined, ts_epoch: 1604933650000 };
const SPAM = { ...HARD, event: 'spam', reason: undefined, ts_epoch: 1604940000000 };
const DEFERRED = {
	...HARD,
	event: 'deferred',
	reason: '421 4.7.0 [TSS04] Messages from 185.41.28.109 temporarily deferred',
	ts_epoch: 1604933600000,
};

const config = brevoWebhook.parseConfig({ token: 'brevo-bearer-0d9c8b7a' });
const bearer = { authorization: 'Bearer brevo-bearer-0d9c8b7a' };

describe('Brevo webhook', () => {
	it('accepts the bearer token set on the webhook and normalizes a hard bounce', async () => {
		const req = request(JSON.stringify(HARD), bearer);
		await expect(brevoWebhook.verify(req, config)).resolves.toEqual({ ok: true });
		expect(brevoWebhook.normalize(req)).toEqual([
			{
				source: 'brevo',
				type: 'bounced',
				bounce: 'hard',
				permanent: true,
				fault: 'recipient',
				recipient: 'example@domain.com',
				messageId: '<202010090000.12345678901@smtp-relay.mailin.fr>',
				// no id of Brevo's own: a digest of what a redelivery repeats (no address in a dedupe key)
				eventId: compositeId([
					'26224',
					'<202010090000.12345678901@smtp-relay.mailin.fr>',
					'example@domain.com',
					'hard_bounce',
					'1604933654000',
				]),
				timestamp: '2020-11-09T14:54:14.000Z',
				smtpCode: 550,
				enhancedCode: '5.1.1',
				diagnostic:
					'RecipientError: 550 5.1.1 <example@domain.com>: Recipient address rejected: User unknown',
				providerType: 'hard_bounce',
				sendingIp: '185.41.28.109',
				reference: REF,
				referenceToken: TOKEN,
				linkedBy: 'reference',
				confidence: 1,
			},
		]);
	});

	it('reads batched webhooks (arrays) and each event kind', () => {
		const events = brevoWebhook.normalize(
			request(
				JSON.stringify([
					HARD,
					SOFT,
					DELIVERED,
					SPAM,
					DEFERRED,
					{ ...HARD, event: 'unique_opened' },
				]),
			),
		);
		expect(events.map((e) => [e.type, e.bounce, e.fault])).toEqual([
			['bounced', 'hard', 'recipient'],
			['bounced', 'soft', 'recipient'],
			['delivered', undefined, 'none'],
			['complained', undefined, 'recipient'],
			['deferred', undefined, 'route'],
			['other', undefined, 'none'],
		]);
		expect(new Set(events.map((e) => e.eventId)).size).toBe(6);
		const blocked = brevoWebhook.normalize(
			request(
				JSON.stringify({ ...HARD, event: 'blocked', reason: 'blocked : due to blacklist user' }),
			),
		);
		expect(blocked[0]).toMatchObject({ type: 'suppressed' });
	});

	it('refuses a wrong or missing token with 401 and answers 429 (its only retried status) when not configured', async () => {
		const body = JSON.stringify(HARD);
		await expect(
			brevoWebhook.verify(request(body, { authorization: 'Bearer brevo-bearer-0d9c8b7b' }), config),
		).resolves.toEqual({
			ok: false,
			status: 401,
			reason: 'Brevo webhook: wrong token in the authorization header',
		});
		await expect(brevoWebhook.verify(request(body), config)).resolves.toMatchObject({
			ok: false,
			status: 401,
		});
		const none = await brevoWebhook.verify(
			request(body, bearer),
			brevoWebhook.parseConfig({ token: ' ' }),
		);
		expect(none).toMatchObject({ ok: false, status: 429 });
		expect(brevoWebhook.unavailableStatus).toBe(429);
	});

	it('basic auth works too; it and a bearer token cannot share the Authorization header', async () => {
		const basicConfig = brevoWebhook.parseConfig({ username: 'brevo', password: 'pw-8812-brevo' });
		await expect(
			brevoWebhook.verify(
				request(JSON.stringify(HARD), { authorization: basic('brevo', 'pw-8812-brevo') }),
				basicConfig,
			),
		).resolves.toEqual({ ok: true });
		expect(() =>
			brevoWebhook.parseConfig({ username: 'brevo', password: 'pw', token: 't' }),
		).toThrow(/tokenHeader basic auth and a bearer token cannot both use the Authorization header/);
	});

	it('finds the reference in X-Mailin-custom as pairs or as JSON, and none elsewhere', () => {
		expect(mailinCustomToken(`pr:${TOKEN}`)).toBe(TOKEN);
		expect(mailinCustomToken(`a:b|pr:${TOKEN}|c:d`)).toBe(TOKEN);
		expect(mailinCustomToken(JSON.stringify({ pr: TOKEN }))).toBe(TOKEN);
		expect(mailinCustomToken('some_custom_header')).toBeUndefined();
		expect(mailinCustomToken('{not json|pr:x')).toBe('x');
		const [e] = brevoWebhook.normalize(
			request(JSON.stringify({ ...HARD, 'X-Mailin-custom': 'some_custom_header' })),
		);
		expect(e.linkedBy).toBe('none');
	});

	it('gives the message id as the send side records it, in angle brackets', () => {
		// Brevo's complaint events carry it bare (anymail's captured payloads)
		const [e] = brevoWebhook.normalize(
			request(JSON.stringify({ ...SPAM, 'message-id': '201798300811.5787683@relay.domain.com' })),
		);
		expect(e.messageId).toBe('<201798300811.5787683@relay.domain.com>');
	});

	it('a redelivered event gives the same event id', () => {
		const a = brevoWebhook.normalize(request(JSON.stringify(HARD), bearer));
		const b = brevoWebhook.normalize(request(JSON.stringify([HARD])));
		expect(b[0].eventId).toBe(a[0].eventId);
		expect(a[0].eventId).toMatch(/^c\.[A-Za-z0-9_-]{22}$/);
	});
});
