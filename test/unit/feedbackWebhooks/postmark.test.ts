import { postmarkWebhook } from '../../../lib/feedback/webhooks/postmark';
import { compositeId } from '../../../lib/feedback/webhooks/common';
import { basic, request, REF, TOKEN } from './helpers';

/*
 * The bounce record of https://postmarkapp.com/developer/webhooks/bounce-webhook (and the
 * delivery record of https://postmarkapp.com/developer/webhooks/delivery-webhook), with our
 * metadata `pr`.
 */
const BOUNCE = {
	RecordType: 'Bounce',
	MessageStream: 'outbound',
	ID: 901542550,
	Type: 'HardBounce',
	TypeCode: 1,
	Name: 'Hard bounce',
	Tag: 'Test',
	MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
	Metadata: { a_key: 'a_value', pr: TOKEN },
	ServerID: 23,
	Description:
		'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
	Details: 'Test bounce details',
	Email: 'john@example.com',
	From: 'sender@example.com',
	BouncedAt: '2019-11-05T16:33:54.9070259Z',
	DumpAvailable: true,
	Inactive: true,
	CanActivate: true,
	Subject: 'Test subject',
	Content: 'Test content',
};
const DELIVERY = {
	RecordType: 'Delivery',
	ServerID: 23,
	MessageStream: 'outbound',
	MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
	Recipient: 'john@example.com',
	Tag: 'welcome-email',
	DeliveredAt: '2019-11-05T16:33:54.9070259Z',
	Details: 'Test delivery webhook details',
	Metadata: { example: 'value', example_2: 'value', pr: TOKEN },
};

/** The docs' ID is 4323372036854775807, more than a double holds: written into the text as is. */
const withId = (id: string, record: object = BOUNCE) =>
	JSON.stringify({ ...record, ID: '__ID__' }).replace('"__ID__"', id);
const BOUNCE_JSON = withId('4323372036854775807');

const config = postmarkWebhook.parseConfig({ username: 'postmark', password: 's3cret-pass-word' });
const auth = { authorization: basic('postmark', 's3cret-pass-word') };

describe('Postmark webhook', () => {
	it('accepts the basic-auth credentials set in the webhook URL and normalizes a bounce', async () => {
		const req = request(BOUNCE_JSON, auth);
		await expect(postmarkWebhook.verify(req, config)).resolves.toEqual({ ok: true });
		expect(postmarkWebhook.normalize(req)).toEqual([
			{
				source: 'postmark',
				type: 'bounced',
				bounce: 'hard',
				permanent: true,
				fault: 'recipient',
				recipient: 'john@example.com',
				messageId: '883953f4-6105-42a2-a16a-77a8eac79483',
				// the digits as sent, not the nearest double
				eventId: '4323372036854775807',
				timestamp: '2019-11-05T16:33:54.907Z',
				diagnostic: 'Test bounce details',
				providerType: 'HardBounce',
				reference: REF,
				referenceToken: TOKEN,
				linkedBy: 'reference',
				confidence: 1,
			},
		]);
	});

	it('refuses a wrong password, no credentials, and fails closed when none are set', async () => {
		const body = JSON.stringify(BOUNCE);
		const wrong = await postmarkWebhook.verify(
			request(body, { authorization: basic('postmark', 'guess') }),
			config,
		);
		expect(wrong).toEqual({
			ok: false,
			status: 401,
			reason: 'Postmark webhook: wrong basic-auth username or password',
		});
		await expect(postmarkWebhook.verify(request(body), config)).resolves.toMatchObject({
			ok: false,
			status: 401,
		});
		const none = await postmarkWebhook.verify(
			request(body, auth),
			postmarkWebhook.parseConfig({ username: '', password: '' }),
		);
		expect(none).toMatchObject({ ok: false, status: 503 });
		expect(none.ok || none.reason).toMatch(/"username" and "password".*"token"/);
		expect(JSON.stringify(wrong)).not.toContain('s3cret-pass-word');
	});

	it('accepts a custom header token instead, compared whole', async () => {
		const tokenConfig = postmarkWebhook.parseConfig({
			token: 'pm-hook-7d1f2a9c',
			tokenHeader: 'X-Webhook-Token',
		});
		const body = JSON.stringify(DELIVERY);
		await expect(
			postmarkWebhook.verify(request(body, { 'x-webhook-token': 'pm-hook-7d1f2a9c' }), tokenConfig),
		).resolves.toEqual({ ok: true });
		for (const given of ['pm-hook-7d1f2a9', 'pm-hook-7d1f2a9cX', ''])
			await expect(
				postmarkWebhook.verify(request(body, { 'x-webhook-token': given }), tokenConfig),
			).resolves.toMatchObject({ ok: false, status: 401 });
		await expect(postmarkWebhook.verify(request(body), tokenConfig)).resolves.toEqual({
			ok: false,
			status: 401,
			reason: 'Postmark webhook: no token in the x-webhook-token header',
		});
	});

	it('reads deliveries, complaints, subscription changes and each bounce type', () => {
		const one = (record: object) => postmarkWebhook.normalize(request(JSON.stringify(record)))[0];
		expect(one(DELIVERY)).toMatchObject({
			type: 'delivered',
			eventId: compositeId([
				'Delivery',
				'883953f4-6105-42a2-a16a-77a8eac79483',
				'john@example.com',
			]),
			linkedBy: 'reference',
		});
		expect(
			one({ ...BOUNCE, RecordType: 'SpamComplaint', Type: 'SpamComplaint', TypeCode: 100001 }),
		).toMatchObject({ type: 'complained', permanent: true });
		expect(
			one({
				...BOUNCE,
				Type: 'Transient',
				TypeCode: 2,
				Details: 'smtp;421 4.7.0 [TSS04] Messages from 50.31.156.6 temporarily deferred',
			}),
		).toMatchObject({
			type: 'deferred',
			fault: 'route',
			smtpCode: 421,
			enhancedCode: '4.7.0',
		});
		expect(one({ ...BOUNCE, Type: 'SoftBounce', TypeCode: 4096 })).toMatchObject({
			type: 'bounced',
			bounce: 'soft',
			permanent: false,
		});
		expect(one({ ...BOUNCE, Type: 'Blocked', TypeCode: 100006 })).toMatchObject({
			type: 'blocked',
			fault: 'route',
		});
		expect(one({ ...BOUNCE, Type: 'SpamNotification', TypeCode: 512 })).toMatchObject({
			type: 'blocked',
			fault: 'content',
		});
		expect(one({ ...BOUNCE, Type: undefined, TypeCode: 100009 })).toMatchObject({
			type: 'blocked',
			providerType: 'DMARCPolicy',
		});
		expect(one({ ...BOUNCE, Type: 'AutoResponder', TypeCode: 64 })).toMatchObject({
			type: 'other',
		});
		const change = {
			RecordType: 'SubscriptionChange',
			MessageID: 'a4909a96-73d7-4c49-b148-a54522d3f7ac',
			ServerID: 23,
			MessageStream: 'outbound',
			ChangedAt: '2020-02-01T10:53:34.416071Z',
			Recipient: 'bounced-address@wildbit.com',
			Origin: 'Recipient',
			SuppressSending: true,
			SuppressionReason: 'ManualSuppression',
			Tag: 'my-tag',
			Metadata: { example: 'value', example_2: 'value' },
		};
		expect(one(change)).toMatchObject({
			type: 'unsubscribed',
			providerType: 'SubscriptionChange/ManualSuppression',
		});
		expect(one({ ...change, SuppressionReason: 'HardBounce' })).toMatchObject({
			type: 'suppressed',
		});
		expect(one({ ...change, SuppressSending: false, SuppressionReason: null })).toMatchObject({
			type: 'other',
		});
		expect(
			one({
				RecordType: 'Open',
				MessageID: 'm',
				Recipient: 'a@b.example',
				ReceivedAt: '2019-11-05T16:33:54Z',
			}),
		).toMatchObject({ type: 'other', providerType: 'Open' });
	});

	it('keeps 64-bit bounce ids apart', () => {
		const ids = ['4323372036854775807', '4323372036854775806'].map(
			(id) => postmarkWebhook.normalize(request(withId(id)))[0].eventId,
		);
		expect(ids).toEqual(['4323372036854775807', '4323372036854775806']);
		expect(
			postmarkWebhook.normalize(request(JSON.stringify({ ...BOUNCE, ID: 901542550 })))[0].eventId,
		).toBe('901542550');
	});

	it('a redelivered record gives the same event id', () => {
		const a = postmarkWebhook.normalize(request(BOUNCE_JSON, auth));
		const b = postmarkWebhook.normalize(request(BOUNCE_JSON));
		expect(b[0].eventId).toBe(a[0].eventId);
	});
});
