import { sparkpostWebhook } from '../../../lib/feedback/webhooks/sparkpost';
import { basic, request, REF, TOKEN } from './helpers';

/*
 * A batch as SparkPost's webhooks reference shows it (SparkPost/developers.sparkpost.com
 * content/api/webhooks.apib, https://developers.sparkpost.com/api/webhooks/): message_event
 * wrappers with the sample fields, our recipient metadata `pr` in rcpt_meta.
 */
const bounce = (fields: object = {}) => ({
	msys: {
		message_event: {
			type: 'bounce',
			bounce_class: '10',
			campaign_id: 'Example Campaign Name',
			customer_id: '1',
			delv_method: 'esmtp',
			device_token: '45c19189783f867973f6e6a5cca60061ffe4fa77c547150563a1192fa9847f8a',
			error_code: '554',
			event_id: '92356927693813856',
			friendly_from: 'sender@example.com',
			ip_address: '127.0.0.1',
			ip_pool: 'Example-Ip-Pool',
			mailbox_provider: 'Gsuite',
			mailbox_provider_region: 'Europe - UK',
			message_id: '000443ee14578172be22',
			msg_from: 'sender@example.com',
			msg_size: '1337',
			num_retries: '2',
			rcpt_meta: { customKey: 'customValue', pr: TOKEN },
			rcpt_tags: ['male', 'US'],
			rcpt_to: 'recipient@example.com',
			raw_rcpt_to: 'recipient@example.com',
			rcpt_type: 'cc',
			raw_reason: 'MAIL REFUSED - IP (17.99.99.99) is in black list',
			reason: 'MAIL REFUSED - IP (a.b.c.d) is in black list',
			recipient_domain: 'example.com',
			recv_method: 'esmtp',
			routing_domain: 'example.com',
			sending_ip: '127.0.0.1',
			sms_coding: 'ASCII',
			subaccount_id: '101',
			subject: 'Summer deals are here!',
			template_id: 'templ-1234',
			template_version: '1',
			timestamp: '1460989507',
			transmission_id: '65832150921904138',
			...fields,
		},
	},
});
const delivery = {
	msys: {
		message_event: {
			type: 'delivery',
			event_id: '92356927693813857',
			message_id: '000443ee14578172be22',
			rcpt_to: 'recipient@example.com',
			rcpt_meta: { pr: TOKEN },
			sending_ip: '127.0.0.1',
			timestamp: '1460989507',
			transmission_id: '65832150921904138',
		},
	},
};
const complaint = {
	msys: {
		message_event: {
			...bounce().msys.message_event,
			type: 'spam_complaint',
			event_id: '92356927693813858',
			fbtype: 'abuse',
		},
	},
};
const unsubscribe = {
	msys: {
		unsubscribe_event: {
			type: 'list_unsubscribe',
			event_id: '92356927693813859',
			rcpt_to: 'recipient@example.com',
			timestamp: '1460989507',
			transmission_id: '65832150921904138',
		},
	},
};
const open = {
	msys: {
		track_event: {
			type: 'open',
			event_id: '92356927693813860',
			rcpt_to: 'recipient@example.com',
			timestamp: '1460989507',
			transmission_id: '65832150921904138',
		},
	},
};

const config = sparkpostWebhook.parseConfig({ username: 'sparky', password: 'hook-pass-7731' });
const auth = {
	authorization: basic('sparky', 'hook-pass-7731'),
	'x-messagesystems-batch-id': '77c2b630-d712-11e4-b7e6-1bc3a3a2d9f8',
};

describe('SparkPost webhook', () => {
	it('accepts a batch with the webhook’s basic auth and normalizes every event', async () => {
		const req = request(JSON.stringify([bounce(), delivery, complaint, unsubscribe, open]), auth);
		await expect(sparkpostWebhook.verify(req, config)).resolves.toEqual({ ok: true });
		const events = sparkpostWebhook.normalize(req);
		expect(events.map((e) => [e.type, e.fault, e.eventId])).toEqual([
			['bounced', 'recipient', '92356927693813856'],
			['delivered', 'none', '92356927693813857'],
			['complained', 'recipient', '92356927693813858'],
			['unsubscribed', 'none', '92356927693813859'],
			['other', 'none', '92356927693813860'],
		]);
		expect(events[0]).toEqual({
			source: 'sparkpost',
			type: 'bounced',
			bounce: 'hard',
			permanent: true,
			fault: 'recipient',
			recipient: 'recipient@example.com',
			messageId: '65832150921904138',
			eventId: '92356927693813856',
			timestamp: '2016-04-18T14:25:07.000Z',
			smtpCode: 554,
			diagnostic: 'MAIL REFUSED - IP (17.99.99.99) is in black list',
			providerType: 'bounce/10',
			sendingIp: '127.0.0.1',
			reference: REF,
			referenceToken: TOKEN,
			linkedBy: 'reference',
			confidence: 1,
		});
	});

	it('reads the bounce classes: 10/30 the list’s, 50–54 the route’s or the content’s', () => {
		const cls = (bounce_class: string) =>
			sparkpostWebhook.normalize(request(JSON.stringify([bounce({ bounce_class })])))[0];
		expect(cls('30')).toMatchObject({ type: 'bounced', bounce: 'hard' });
		expect(cls('22')).toMatchObject({
			type: 'bounced',
			bounce: 'soft',
			fault: 'recipient',
			permanent: false,
		});
		expect(cls('50')).toMatchObject({ type: 'blocked', fault: 'route' });
		expect(cls('51')).toMatchObject({ type: 'blocked', fault: 'route' });
		expect(cls('52')).toMatchObject({ type: 'blocked', fault: 'content' });
		expect(cls('53')).toMatchObject({ type: 'blocked', fault: 'content' });
		expect(cls('54')).toMatchObject({ type: 'blocked', fault: 'route' });
		expect(cls('25')).toMatchObject({ type: 'suppressed' });
		expect(cls('90')).toMatchObject({ type: 'unsubscribed' });
		// 1, undetermined: the reply decides (a block list here)
		expect(cls('1')).toMatchObject({ type: 'blocked', fault: 'route' });
		const delay = bounce({
			type: 'delay',
			bounce_class: '21',
			error_code: '421',
			raw_reason: '421 4.7.28 Gmail has detected an unusual rate of unsolicited mail',
		});
		expect(sparkpostWebhook.normalize(request(JSON.stringify([delay])))[0]).toMatchObject({
			type: 'deferred',
			fault: 'route',
			enhancedCode: '4.7.28',
		});
		const policy = bounce({ type: 'policy_rejection', bounce_class: '25' });
		expect(sparkpostWebhook.normalize(request(JSON.stringify([policy])))[0]).toMatchObject({
			type: 'suppressed',
		});
	});

	it('the ping on creation is no event', async () => {
		const ping = request('[{"msys":{}}]', auth);
		await expect(sparkpostWebhook.verify(ping, config)).resolves.toEqual({ ok: true });
		expect(sparkpostWebhook.normalize(ping)).toEqual([]);
	});

	it('refuses a wrong password, missing credentials and a token sent where basic auth is expected', async () => {
		const body = JSON.stringify([bounce()]);
		for (const authorization of [
			basic('sparky', 'hook-pass-773'),
			basic('sparkyx', 'hook-pass-7731'),
			'Bearer hook-pass-7731',
		])
			await expect(
				sparkpostWebhook.verify(request(body, { authorization }), config),
			).resolves.toMatchObject({ ok: false, status: 401 });
		await expect(sparkpostWebhook.verify(request(body), config)).resolves.toMatchObject({
			ok: false,
			status: 401,
		});
		await expect(
			sparkpostWebhook.verify(request(body, auth), sparkpostWebhook.parseConfig({})),
		).resolves.toMatchObject({ ok: false, status: 503 });
	});

	it('checks the source address when an allow-list is set', async () => {
		const listed = sparkpostWebhook.parseConfig({
			username: 'sparky',
			password: 'hook-pass-7731',
			allowedIps: ['52.35.143.69'],
		});
		const body = JSON.stringify([bounce()]);
		await expect(
			sparkpostWebhook.verify(request(body, auth, { remoteIp: '::ffff:52.35.143.69' }), listed),
		).resolves.toEqual({ ok: true });
		await expect(
			sparkpostWebhook.verify(request(body, auth, { remoteIp: '203.0.113.7' }), listed),
		).resolves.toMatchObject({ ok: false, status: 401 });
		expect(() => sparkpostWebhook.parseConfig({ allowedIps: ['not-an-ip'] })).toThrow(
			/allowedIps\.0 must be an IP address or a CIDR range/,
		);
		expect(() => sparkpostWebhook.parseConfig({ allowedIps: ['10.0.0.0/33'] })).toThrow(
			/allowedIps\.0/,
		);
		const ranges = sparkpostWebhook.parseConfig({
			username: 'sparky',
			password: 'hook-pass-7731',
			allowedIps: ['52.35.0.0/16', '2600:1f18::/32'],
		});
		for (const [remoteIp, ok] of [
			['52.35.143.69', true],
			['52.36.0.1', false],
			['2600:1f18:1::5', true],
			['2600:1f19::5', false],
			[undefined, false],
		] as const)
			expect((await sparkpostWebhook.verify(request(body, auth, { remoteIp }), ranges)).ok).toBe(
				ok,
			);
	});

	it('a redelivered batch gives the same event ids', () => {
		const body = JSON.stringify([bounce(), delivery]);
		expect(sparkpostWebhook.normalize(request(body)).map((e) => e.eventId)).toEqual(
			sparkpostWebhook.normalize(request(body, auth)).map((e) => e.eventId),
		);
	});
});
