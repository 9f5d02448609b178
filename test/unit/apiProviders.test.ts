import { createHash, createHmac } from 'node:crypto';
import { simpleParser } from 'mailparser';
import nock from 'nock';
import { PostalBrevoApi } from '../../credentials/PostalBrevoApi.credentials';
import { PostalMailgunApi } from '../../credentials/PostalMailgunApi.credentials';
import { PostalPostmarkApi } from '../../credentials/PostalPostmarkApi.credentials';
import { PostalResendApi } from '../../credentials/PostalResendApi.credentials';
import { PostalSendGridApi } from '../../credentials/PostalSendGridApi.credentials';
import { PostalSesApi } from '../../credentials/PostalSesApi.credentials';
import { PostalSparkPostApi } from '../../credentials/PostalSparkPostApi.credentials';
import {
	API_PROVIDERS,
	ApiTransport,
	type ApiProvider,
	type ApiProviderId,
	parseRetryAfter,
	signV4,
} from '../../lib/transports/api';
import { mailgunParts } from '../../lib/transports/api/mailgun';
import { postmarkBody } from '../../lib/transports/api/postmark';
import { resendBody } from '../../lib/transports/api/resend';
import { sendGridBody } from '../../lib/transports/api/sendgrid';
import { sparkPostBody } from '../../lib/transports/api/sparkpost';
import type {
	HttpClient,
	HttpRequest,
	OutgoingMessage,
	SendFailure,
	SendOutcome,
} from '../../lib/transports/types';
import { httpsClient } from '../helpers/http';

const NOW = new Date('2024-01-02T03:04:05Z');
const ATTACHMENT = Buffer.from('total: 42\n');

const MESSAGE: OutgoingMessage = {
	from: { address: 'news@sender.example', name: 'Sender Co' },
	to: [{ address: 'ann@example.org', name: 'Ann' }],
	cc: [{ address: 'carl@example.org' }],
	bcc: [{ address: 'bea@example.net' }],
	replyTo: { address: 'help@sender.example', name: 'Help Desk' },
	subject: 'Your receipt',
	text: 'Thanks for your order.',
	html: '<p>Thanks for your order.</p>',
	headers: { 'X-Virtual-MTA': 'pool-a' },
	attachments: [{ filename: 'receipt.txt', contentType: 'text/plain', content: ATTACHMENT }],
	tags: ['receipts', 'q1'],
	metadata: { orderId: 'A-1001' },
};

interface Seen {
	method: string;
	path: string;
	headers: Record<string, string>;
	body: string;
}

type Headers = Record<string, string>;

/** Intercepts one request and records what reached the wire. */
function intercept(
	origin: string,
	method: 'GET' | 'POST',
	path: string,
	status: number,
	body = '',
	headers: Headers = {},
) {
	const seen: { request?: Seen } = {};
	nock(origin)
		.intercept(path, method)
		.reply(function (uri, requestBody) {
			seen.request = {
				method,
				path: uri,
				headers: Object.fromEntries(
					Object.entries(this.req.headers).map(([k, v]) => [k, String(v)]),
				),
				body: typeof requestBody === 'string' ? requestBody : JSON.stringify(requestBody),
			};
			return [status, body, headers];
		});
	return seen;
}

function seenRequest(seen: { request?: Seen }): Seen {
	if (!seen.request) throw new Error('the request never reached nock');
	return seen.request;
}

function failure(outcome: SendOutcome): SendFailure {
	if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
	return outcome;
}

const b64 = (buffer: Buffer) => buffer.toString('base64');

// ---------------------------------------------------------------------------------------------------
// One row per provider: enough to run the shared send / error / credential-test checks.

interface ProviderCase {
	id: ApiProviderId;
	data: Record<string, string>;
	/** the secret that must never appear in a failure message */
	secret: string;
	origin: string;
	sendPath: string;
	checkAuth: (headers: Headers) => void;
	ok: { status: number; body: string; headers?: Headers; messageId: string };
	/** a documented validation error for a bad recipient address */
	invalid: { status: number; body: string; headers?: Headers };
	/** the provider's documented reply to a key it refuses (a 401, but SES says 403) */
	keyRefused: Reply & { doc: string };
	/** a documented 403 and whether the provider's docs make it a bad key (opens the circuit) */
	forbidden: Reply & { badKey: boolean; doc: string };
	testPath: string;
}

interface Reply {
	status: number;
	body: string;
	headers?: Headers;
}

const SES_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SES_TOKEN = 'FwoGZXIvYXdzEXAMPLE-session-token';

const CASES: ProviderCase[] = [
	{
		id: 'sendgrid',
		data: { apiKey: 'SG.test-key.secret-part' },
		secret: 'SG.test-key.secret-part',
		origin: 'https://api.sendgrid.com',
		sendPath: '/v3/mail/send',
		checkAuth: (h) => expect(h.authorization).toBe('Bearer SG.test-key.secret-part'),
		ok: { status: 202, body: '', headers: { 'X-Message-Id': 'sg-msg-1' }, messageId: 'sg-msg-1' },
		invalid: {
			status: 400,
			body: JSON.stringify({
				errors: [
					{
						message: 'Does not contain a valid address.',
						field: 'personalizations.0.to.0.email',
						help: null,
					},
				],
			}),
		},
		keyRefused: {
			status: 401,
			body: JSON.stringify({
				errors: [
					{
						field: null,
						message: 'The provided authorization grant is invalid, expired, or revoked',
					},
				],
			}),
			doc: 'https://support.sendgrid.com/hc/en-us/articles/18322114821403',
		},
		forbidden: {
			status: 403,
			body: JSON.stringify({
				errors: [
					{
						field: 'from',
						message:
							'The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved.',
						help: null,
					},
				],
			}),
			badKey: false,
			doc: 'https://twilio.com/docs/api/errors/60222',
		},
		testPath: '/v3/scopes',
	},
	{
		id: 'mailgun',
		data: { apiKey: 'key-mailgun-secret', domain: 'mg.sender.example' },
		secret: 'key-mailgun-secret',
		origin: 'https://api.mailgun.net',
		sendPath: '/v3/mg.sender.example/messages',
		checkAuth: (h) =>
			expect(h.authorization).toBe(
				`Basic ${Buffer.from('api:key-mailgun-secret').toString('base64')}`,
			),
		ok: {
			status: 200,
			body: JSON.stringify({
				id: '<20240102030405.1@mg.sender.example>',
				message: 'Queued. Thank you.',
			}),
			messageId: '<20240102030405.1@mg.sender.example>',
		},
		invalid: {
			status: 400,
			body: JSON.stringify({
				message: 'to parameter is not a valid address. please check documentation',
			}),
		},
		keyRefused: {
			status: 401,
			body: 'Forbidden',
			doc: 'https://documentation.mailgun.com/docs/mailgun/quickstart-guide/responses',
		},
		forbidden: {
			status: 403,
			body: JSON.stringify({ message: 'Invalid private key' }),
			badKey: true,
			doc: 'https://documentation.mailgun.com/docs/mailgun/quickstart-guide/responses',
		},
		testPath: '/v3/domains/mg.sender.example',
	},
	{
		id: 'postmark',
		data: { serverToken: 'pm-server-token-secret' },
		secret: 'pm-server-token-secret',
		origin: 'https://api.postmarkapp.com',
		sendPath: '/email',
		checkAuth: (h) => expect(h['x-postmark-server-token']).toBe('pm-server-token-secret'),
		ok: {
			status: 200,
			body: JSON.stringify({
				To: 'ann@example.org',
				SubmittedAt: '2024-01-02T03:04:05Z',
				MessageID: 'pm-msg-1',
				ErrorCode: 0,
				Message: 'OK',
			}),
			messageId: 'pm-msg-1',
		},
		invalid: {
			status: 422,
			body: JSON.stringify({ ErrorCode: 300, Message: "Invalid 'To' address: 'ann@'." }),
		},
		keyRefused: {
			status: 401,
			body: JSON.stringify({
				ErrorCode: 10,
				Message:
					'The Server Token you provided in the X-Postmark-Server-Token request header was invalid. Please verify that you are using a valid token.',
			}),
			doc: 'https://postmarkapp.com/developer/api/overview',
		},
		forbidden: {
			status: 403,
			body: '<html>\n<head><title>403 Forbidden</title></head>\n<body>\n<center><h1>403 Forbidden</h1></center>\n</body>\n</html>',
			headers: { 'Content-Type': 'text/html' },
			badKey: false,
			doc: 'https://postmarkapp.com/support/article/getting-a-403-that-doesnt-look-like-a-postmark-error',
		},
		testPath: '/server',
	},
	{
		id: 'sparkpost',
		data: { apiKey: 'sp-api-key-secret' },
		secret: 'sp-api-key-secret',
		origin: 'https://api.sparkpost.com',
		sendPath: '/api/v1/transmissions',
		checkAuth: (h) => expect(h.authorization).toBe('sp-api-key-secret'),
		ok: {
			status: 200,
			body: JSON.stringify({
				results: {
					total_rejected_recipients: 0,
					total_accepted_recipients: 3,
					id: '11668787484950529',
				},
			}),
			messageId: '11668787484950529',
		},
		invalid: {
			status: 422,
			body: JSON.stringify({
				errors: [
					{
						message: 'invalid data format/type',
						description: 'Invalid recipient address.email: ann@',
						code: '1300',
					},
				],
			}),
		},
		keyRefused: {
			status: 401,
			body: JSON.stringify({ errors: [{ message: 'Unauthorized.' }] }),
			doc: 'https://support.sparkpost.com/docs/tech-resources/extended-error-codes',
		},
		forbidden: {
			status: 403,
			body: JSON.stringify({
				errors: [{ message: 'permission denied', code: '1100' }],
			}),
			badKey: true,
			doc: 'https://support.sparkpost.com/docs/tech-resources/extended-error-codes',
		},
		testPath: '/api/v1/account',
	},
	{
		id: 'ses',
		data: {
			accessKeyId: 'AKIDEXAMPLE',
			secretAccessKey: SES_SECRET,
			sessionToken: SES_TOKEN,
			region: 'eu-west-1',
			configurationSetName: 'transactional',
		},
		secret: SES_SECRET,
		origin: 'https://email.eu-west-1.amazonaws.com',
		sendPath: '/v2/email/outbound-emails',
		checkAuth: (h) =>
			expect(h.authorization).toMatch(
				/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20240102\/eu-west-1\/ses\/aws4_request, SignedHeaders=[a-z;-]+, Signature=[0-9a-f]{64}$/,
			),
		ok: {
			status: 200,
			body: JSON.stringify({ MessageId: '0102018cc8e0-ses-1' }),
			messageId: '0102018cc8e0-ses-1',
		},
		invalid: {
			status: 400,
			body: JSON.stringify({ message: "Missing final '@domain'" }),
			headers: {
				'x-amzn-ErrorType':
					'BadRequestException:http://internal.amazon.com/coral/com.amazonaws.sesv2/',
			},
		},
		// AWS answers a key it does not know with 403, not 401 (CommonErrors: InvalidClientTokenId 403)
		keyRefused: {
			status: 403,
			body: JSON.stringify({ message: 'The security token included in the request is invalid.' }),
			headers: { 'x-amzn-ErrorType': 'UnrecognizedClientException:http://internal.amazon.com/' },
			doc: 'https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html',
		},
		forbidden: {
			status: 403,
			body: JSON.stringify({
				message: 'The request signature we calculated does not match the signature you provided.',
			}),
			headers: { 'x-amzn-ErrorType': 'InvalidSignatureException' },
			badKey: true,
			doc: 'https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html',
		},
		testPath: '/v2/email/account',
	},
	{
		id: 'resend',
		data: { apiKey: 're_test_secret_key' },
		secret: 're_test_secret_key',
		origin: 'https://api.resend.com',
		sendPath: '/emails',
		checkAuth: (h) => expect(h.authorization).toBe('Bearer re_test_secret_key'),
		ok: {
			status: 200,
			body: JSON.stringify({ id: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794' }),
			messageId: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794',
		},
		invalid: {
			status: 400,
			body: JSON.stringify({
				statusCode: 400,
				name: 'validation_error',
				message:
					'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.',
			}),
		},
		keyRefused: {
			status: 401,
			body: JSON.stringify({
				statusCode: 401,
				name: 'missing_api_key',
				message: 'Missing API key in the authorization header',
			}),
			doc: 'https://resend.com/docs/api-reference/errors',
		},
		forbidden: {
			status: 403,
			body: JSON.stringify({
				statusCode: 403,
				name: 'invalid_api_key',
				message: 'API key is invalid',
			}),
			badKey: true,
			doc: 'https://resend.com/docs/api-reference/errors',
		},
		testPath: '/domains',
	},
	{
		id: 'brevo',
		data: { apiKey: 'xkeysib-brevo-secret' },
		secret: 'xkeysib-brevo-secret',
		origin: 'https://api.brevo.com',
		sendPath: '/v3/smtp/email',
		checkAuth: (h) => expect(h['api-key']).toBe('xkeysib-brevo-secret'),
		ok: {
			status: 201,
			body: JSON.stringify({ messageId: '<202401020304.12345@smtp-relay.mailin.fr>' }),
			messageId: '<202401020304.12345@smtp-relay.mailin.fr>',
		},
		invalid: {
			status: 400,
			body: JSON.stringify({ code: 'invalid_parameter', message: 'email is not valid in to' }),
		},
		keyRefused: {
			status: 401,
			body: JSON.stringify({ code: 'unauthorized', message: 'Key not found' }),
			doc: 'https://developers.brevo.com/docs/how-it-works',
		},
		forbidden: {
			status: 403,
			body: JSON.stringify({
				code: 'permission_denied',
				message:
					'Access denied for resource "smtp". The API key does not include the required permission.',
			}),
			badKey: true,
			doc: 'https://help.brevo.com/hc/it/articles/40154686262546',
		},
		testPath: '/v3/account',
	},
];

function setup(c: ProviderCase): {
	provider: ApiProvider<unknown>;
	credential: unknown;
	transport: ApiTransport<unknown>;
} {
	const provider = API_PROVIDERS[c.id];
	const credential = provider.parseCredential(c.data);
	return {
		provider,
		credential,
		transport: new ApiTransport(provider, credential, httpsClient, () => NOW),
	};
}

beforeAll(() => {
	nock.disableNetConnect();
});

afterEach(() => {
	nock.cleanAll();
});

afterAll(() => {
	nock.cleanAll();
	nock.enableNetConnect();
	nock.restore();
});

// ---------------------------------------------------------------------------------------------------

describe.each(CASES)('$id', (c) => {
	it('sends to the documented endpoint with the documented auth and reads the message id', async () => {
		const seen = intercept(c.origin, 'POST', c.sendPath, c.ok.status, c.ok.body, c.ok.headers);
		const outcome = await setup(c).transport.send(MESSAGE);
		expect(outcome).toEqual({ ok: true, code: c.ok.status, messageId: c.ok.messageId });
		const request = seenRequest(seen);
		expect(request.method).toBe('POST');
		expect(request.path).toBe(c.sendPath);
		c.checkAuth(request.headers);
	});

	it('429 with Retry-After: 7 is transient, route-wide, and asks for 7 s', async () => {
		intercept(c.origin, 'POST', c.sendPath, 429, JSON.stringify({ message: 'Too many requests' }), {
			'Retry-After': '7',
		});
		const f = failure(await setup(c).transport.send(MESSAGE));
		expect(f).toMatchObject({ kind: 'transient', scope: 'route', code: 429, retryAfterMs: 7000 });
		expect(f.message).not.toContain(c.secret);
	});

	it('500 is transient and route-wide', async () => {
		intercept(c.origin, 'POST', c.sendPath, 500, 'Internal Server Error');
		const f = failure(await setup(c).transport.send(MESSAGE));
		expect(f).toMatchObject({ kind: 'transient', scope: 'route', code: 500 });
		expect(f.message).not.toContain(c.secret);
	});

	it('any 401 refuses the credential: blocked for the route, its circuit opens at once', async () => {
		intercept(c.origin, 'POST', c.sendPath, 401, JSON.stringify({ message: 'Unauthorized' }));
		const f = failure(await setup(c).transport.send(MESSAGE));
		expect(f).toMatchObject({ kind: 'blocked', scope: 'route', code: 401, opensCircuit: true });
		expect(f.message).not.toContain(c.secret);
	});

	it("the documented reply to a refused key opens the circuit (the provider's own body)", async () => {
		const r = c.keyRefused;
		intercept(c.origin, 'POST', c.sendPath, r.status, r.body, r.headers);
		const f = failure(await setup(c).transport.send(MESSAGE));
		expect(f).toEqual({
			ok: false,
			kind: 'blocked',
			scope: 'route',
			code: r.status,
			opensCircuit: true,
			message: expect.stringMatching(new RegExp(`^${API_PROVIDERS[c.id].label}: HTTP ${r.status}`)),
		});
		expect(f.message).not.toContain(c.secret);
	});

	it('a documented 403 opens the circuit only where the docs make it a bad key', async () => {
		const r = c.forbidden;
		intercept(c.origin, 'POST', c.sendPath, r.status, r.body, r.headers);
		const f = failure(await setup(c).transport.send(MESSAGE));
		expect(f).toMatchObject(
			r.badKey
				? { kind: 'blocked', scope: 'route', code: 403, opensCircuit: true }
				: { kind: 'permanent', scope: 'route', code: 403 },
		);
		if (!r.badKey) expect(f.opensCircuit).toBeUndefined();
		expect(f.message.length).toBeLessThanOrEqual(300);
	});

	it('a documented validation error is permanent for this recipient only', async () => {
		intercept(c.origin, 'POST', c.sendPath, c.invalid.status, c.invalid.body, c.invalid.headers);
		const f = failure(await setup(c).transport.send(MESSAGE));
		expect(f).toMatchObject({ kind: 'permanent', scope: 'recipient', code: c.invalid.status });
		expect(f.message.length).toBeGreaterThan(0);
		expect(f.message).not.toContain(c.secret);
	});

	it('a network error is transient and route-wide', async () => {
		// an Error instance: nock 14 never settles the request when given a plain { message, code } object
		nock(c.origin)
			.post(c.sendPath)
			.replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
		const f = failure(await setup(c).transport.send(MESSAGE));
		expect(f).toMatchObject({ kind: 'transient', scope: 'route' });
		expect(f.message).toBe(
			`${API_PROVIDERS[c.id].label}: request failed: socket hang up (ECONNRESET)`,
		);
		expect(f.message).not.toContain(c.secret);
	});

	it('scrubs the key even when the server echoes it back', async () => {
		intercept(
			c.origin,
			'POST',
			c.sendPath,
			403,
			JSON.stringify({ message: `key ${c.secret} is not allowed` }),
		);
		const f = failure(await setup(c).transport.send(MESSAGE));
		expect(f.message).not.toContain(c.secret);
		expect(f.message).toContain('[redacted]');
	});

	it('testRequest is a cheap authenticated GET the API answers', async () => {
		const { provider, credential } = setup(c);
		const request = provider.testRequest(credential, { now: NOW });
		expect(request.method).toBe('GET');
		expect(request.url).toBe(`${c.origin}${c.testPath}`);
		expect(request.body).toBeUndefined();
		const seen = intercept(c.origin, 'GET', c.testPath, 200, '{}');
		const response = await httpsClient(request);
		expect(response.statusCode).toBe(200);
		c.checkAuth(seenRequest(seen).headers);
	});

	it('has a matching n8n credential type', () => {
		const types = [
			PostalSendGridApi,
			PostalMailgunApi,
			PostalPostmarkApi,
			PostalSparkPostApi,
			PostalSesApi,
			PostalResendApi,
			PostalBrevoApi,
		];
		const type = types
			.map((T) => new T())
			.find((t) => t.name === API_PROVIDERS[c.id].credentialType);
		expect(type?.displayName).toMatch(/^Postal Routes /);
		const secretFields = type?.properties.filter((p) => p.typeOptions?.password).map((p) => p.name);
		expect(secretFields).toContain(Object.keys(c.data).find((k) => c.data[k] === c.secret));
	});
});

// ---------------------------------------------------------------------------------------------------

async function sendAndCapture(c: ProviderCase, data = c.data, origin = c.origin): Promise<Seen> {
	const seen = intercept(origin, 'POST', c.sendPath, c.ok.status, c.ok.body, c.ok.headers);
	const provider = API_PROVIDERS[c.id];
	const transport = new ApiTransport(
		provider,
		provider.parseCredential(data),
		httpsClient,
		() => NOW,
	);
	expect((await transport.send(MESSAGE)).ok).toBe(true);
	return seenRequest(seen);
}

const caseOf = (id: ApiProviderId) => CASES.find((c) => c.id === id) as ProviderCase;

describe('SendGrid body', () => {
	const c = caseOf('sendgrid');

	it('maps every message field to v3 Mail Send', async () => {
		const request = await sendAndCapture(c);
		expect(request.headers['content-type']).toBe('application/json');
		expect(JSON.parse(request.body)).toEqual({
			personalizations: [
				{
					to: [{ email: 'ann@example.org', name: 'Ann' }],
					cc: [{ email: 'carl@example.org' }],
					bcc: [{ email: 'bea@example.net' }],
				},
			],
			from: { email: 'news@sender.example', name: 'Sender Co' },
			reply_to: { email: 'help@sender.example', name: 'Help Desk' },
			subject: 'Your receipt',
			content: [
				{ type: 'text/plain', value: 'Thanks for your order.' },
				{ type: 'text/html', value: '<p>Thanks for your order.</p>' },
			],
			attachments: [
				{
					content: b64(ATTACHMENT),
					filename: 'receipt.txt',
					type: 'text/plain',
					disposition: 'attachment',
				},
			],
			headers: { 'X-Virtual-MTA': 'pool-a' },
			categories: ['receipts', 'q1'],
			custom_args: { orderId: 'A-1001' },
		});
	});

	it('uses api.eu.sendgrid.com for the EU region', async () => {
		const request = await sendAndCapture(
			c,
			{ ...c.data, region: 'eu' },
			'https://api.eu.sendgrid.com',
		);
		expect(request.path).toBe('/v3/mail/send');
	});
});

/** Splits a multipart/form-data body into [name, value or filename|type|content] pairs. */
function formFields(body: string, contentType: string): Array<[string, string]> {
	const boundary = /boundary=(.+)$/.exec(contentType)?.[1] as string;
	return body
		.split(`--${boundary}`)
		.slice(1, -1)
		.map((part) => {
			const [head, ...rest] = part.replace(/^\r\n/, '').split('\r\n\r\n');
			const content = rest.join('\r\n\r\n').replace(/\r\n$/, '');
			const name = /name="([^"]*)"/.exec(head)?.[1] as string;
			const filename = /filename="([^"]*)"/.exec(head)?.[1];
			const type = /Content-Type: (.+)/.exec(head)?.[1];
			return [name, filename ? `${filename}|${type}|${content}` : content];
		});
}

describe('Mailgun body', () => {
	const c = caseOf('mailgun');

	it('posts multipart/form-data with every documented field', async () => {
		const request = await sendAndCapture(c);
		expect(request.headers['content-type']).toMatch(/^multipart\/form-data; boundary=\S+$/);
		expect(formFields(request.body, request.headers['content-type'])).toEqual([
			['from', '"Sender Co" <news@sender.example>'],
			['to', '"Ann" <ann@example.org>'],
			['cc', 'carl@example.org'],
			['bcc', 'bea@example.net'],
			['subject', 'Your receipt'],
			['text', 'Thanks for your order.'],
			['html', '<p>Thanks for your order.</p>'],
			['h:Reply-To', '"Help Desk" <help@sender.example>'],
			['h:X-Virtual-MTA', 'pool-a'],
			['o:tag', 'receipts'],
			['o:tag', 'q1'],
			['v:orderId', 'A-1001'],
			['attachment', `receipt.txt|text/plain|${ATTACHMENT.toString()}`],
		]);
	});

	it('uses api.eu.mailgun.net for the EU region; a 404 (unknown domain) fails the route', async () => {
		const request = await sendAndCapture(
			c,
			{ ...c.data, region: 'eu' },
			'https://api.eu.mailgun.net',
		);
		expect(request.path).toBe('/v3/mg.sender.example/messages');
		intercept(
			c.origin,
			'POST',
			c.sendPath,
			404,
			JSON.stringify({ message: 'Domain not found: mg.sender.example' }),
		);
		expect(failure(await setup(c).transport.send(MESSAGE))).toMatchObject({
			kind: 'permanent',
			scope: 'route',
			code: 404,
		});
	});
});

describe('Postmark body and error codes', () => {
	const c = caseOf('postmark');

	it('maps every message field to the Email API', async () => {
		const request = await sendAndCapture(c, { ...c.data, messageStream: 'receipts-stream' });
		expect(request.headers.accept).toBe('application/json');
		expect(JSON.parse(request.body)).toEqual({
			From: '"Sender Co" <news@sender.example>',
			To: '"Ann" <ann@example.org>',
			Cc: 'carl@example.org',
			Bcc: 'bea@example.net',
			ReplyTo: '"Help Desk" <help@sender.example>',
			Subject: 'Your receipt',
			TextBody: 'Thanks for your order.',
			HtmlBody: '<p>Thanks for your order.</p>',
			Headers: [{ Name: 'X-Virtual-MTA', Value: 'pool-a' }],
			Attachments: [{ Name: 'receipt.txt', Content: b64(ATTACHMENT), ContentType: 'text/plain' }],
			Tag: 'receipts',
			Metadata: { orderId: 'A-1001' },
			MessageStream: 'receipts-stream',
		});
	});

	it.each([
		[
			406,
			'You tried to send to recipient(s) that have been marked as inactive.',
			'permanent',
			'recipient',
		],
		[
			10,
			'The Server Token you provided in the X-Postmark-Server-Token request header was invalid.',
			'blocked',
			'route',
		],
		[412, 'Your account is pending approval.', 'blocked', 'route'],
	])('ErrorCode %d → %s/%s', async (code, text, kind, scope) => {
		intercept(
			c.origin,
			'POST',
			c.sendPath,
			422,
			JSON.stringify({ ErrorCode: code, Message: text }),
		);
		const f = failure(await setup(c).transport.send(MESSAGE));
		expect(f).toMatchObject({ kind, scope, code: 422 });
		expect(f.message).toContain(`ErrorCode ${code}`);
		// ErrorCode 10 is the token: nothing goes until it is fixed
		expect(f.opensCircuit).toBe(code === 10 ? true : undefined);
	});
});

describe('SparkPost body', () => {
	const c = caseOf('sparkpost');

	it('sends one recipient per address, header_to and a CC header for cc/bcc', async () => {
		const request = await sendAndCapture(c);
		const toHeader = '"Ann" <ann@example.org>';
		const tags = ['receipts', 'q1'];
		expect(JSON.parse(request.body)).toEqual({
			recipients: [
				{ address: { email: 'ann@example.org', name: 'Ann', header_to: toHeader }, tags },
				{ address: { email: 'carl@example.org', header_to: toHeader }, tags },
				{ address: { email: 'bea@example.net', header_to: toHeader }, tags },
			],
			content: {
				from: { email: 'news@sender.example', name: 'Sender Co' },
				subject: 'Your receipt',
				text: 'Thanks for your order.',
				html: '<p>Thanks for your order.</p>',
				reply_to: '"Help Desk" <help@sender.example>',
				headers: { 'X-Virtual-MTA': 'pool-a', CC: 'carl@example.org' },
				attachments: [{ name: 'receipt.txt', type: 'text/plain', data: b64(ATTACHMENT) }],
			},
			metadata: { orderId: 'A-1001' },
			campaign_id: 'receipts',
		});
	});

	it('uses api.eu.sparkpost.com for the EU region; 420 (sending limit) blocks the route', async () => {
		await sendAndCapture(c, { ...c.data, region: 'eu' }, 'https://api.eu.sparkpost.com');
		intercept(
			c.origin,
			'POST',
			c.sendPath,
			420,
			JSON.stringify({ errors: [{ message: 'Exceed Sending Limit (daily)', code: '2102' }] }),
		);
		expect(failure(await setup(c).transport.send(MESSAGE))).toMatchObject({
			kind: 'blocked',
			scope: 'route',
		});
	});
});

describe('Resend body', () => {
	const c = caseOf('resend');

	it('maps every message field to POST /emails', async () => {
		const request = await sendAndCapture(c);
		expect(JSON.parse(request.body)).toEqual({
			from: '"Sender Co" <news@sender.example>',
			to: ['"Ann" <ann@example.org>'],
			cc: ['carl@example.org'],
			bcc: ['bea@example.net'],
			reply_to: '"Help Desk" <help@sender.example>',
			subject: 'Your receipt',
			html: '<p>Thanks for your order.</p>',
			text: 'Thanks for your order.',
			headers: { 'X-Virtual-MTA': 'pool-a' },
			attachments: [
				{ filename: 'receipt.txt', content: b64(ATTACHMENT), content_type: 'text/plain' },
			],
			tags: [
				{ name: 'receipts', value: 'true' },
				{ name: 'q1', value: 'true' },
				{ name: 'orderId', value: 'A-1001' },
			],
		});
	});

	it('daily_quota_exceeded blocks the route instead of retrying it', async () => {
		intercept(
			c.origin,
			'POST',
			c.sendPath,
			429,
			JSON.stringify({
				statusCode: 429,
				name: 'daily_quota_exceeded',
				message: 'You have reached your daily email sending quota.',
			}),
		);
		expect(failure(await setup(c).transport.send(MESSAGE))).toMatchObject({
			kind: 'blocked',
			scope: 'route',
			code: 429,
		});
	});
});

describe('Brevo body', () => {
	const c = caseOf('brevo');

	it('maps every message field to POST /v3/smtp/email', async () => {
		const request = await sendAndCapture(c);
		expect(JSON.parse(request.body)).toEqual({
			sender: { email: 'news@sender.example', name: 'Sender Co' },
			to: [{ email: 'ann@example.org', name: 'Ann' }],
			cc: [{ email: 'carl@example.org' }],
			bcc: [{ email: 'bea@example.net' }],
			replyTo: { email: 'help@sender.example', name: 'Help Desk' },
			subject: 'Your receipt',
			htmlContent: '<p>Thanks for your order.</p>',
			textContent: 'Thanks for your order.',
			headers: { 'X-Virtual-MTA': 'pool-a', 'X-Mailin-custom': 'orderId:A-1001' },
			attachment: [{ name: 'receipt.txt', content: b64(ATTACHMENT) }],
			tags: ['receipts', 'q1'],
		});
	});

	it('402 / not_enough_credits blocks the route', async () => {
		intercept(
			c.origin,
			'POST',
			c.sendPath,
			402,
			JSON.stringify({ code: 'not_enough_credits', message: 'Not enough credits' }),
		);
		expect(failure(await setup(c).transport.send(MESSAGE))).toMatchObject({
			kind: 'blocked',
			scope: 'route',
			code: 402,
		});
	});
});

// ---------------------------------------------------------------------------------------------------

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) =>
	createHmac('sha256', key).update(data).digest();

/**
 * Recomputes the SigV4 signature from what reached the wire, step by step as the AWS guide describes
 * (canonical request → string to sign → derived key), without the code under test.
 */
function independentSignature(
	request: Seen,
	secret: string,
	region: string,
	service: string,
): string {
	const signedHeaders = /SignedHeaders=([^,]+)/.exec(request.headers.authorization)?.[1] as string;
	const amzDate = request.headers['x-amz-date'];
	const canonicalHeaders = signedHeaders
		.split(';')
		.map((name) => `${name}:${request.headers[name].trim()}\n`)
		.join('');
	const canonicalRequest = [
		request.method,
		request.path,
		'',
		canonicalHeaders,
		signedHeaders,
		sha256(request.body),
	].join('\n');
	const scope = `${amzDate.slice(0, 8)}/${region}/${service}/aws4_request`;
	const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
	const key = hmac(
		hmac(hmac(hmac(`AWS4${secret}`, amzDate.slice(0, 8)), region), service),
		'aws4_request',
	);
	return hmac(key, stringToSign).toString('hex');
}

describe('Amazon SES', () => {
	const c = caseOf('ses');

	it('sends the full MIME message raw, with Bcc only in Destination', async () => {
		const request = await sendAndCapture(c);
		const body = JSON.parse(request.body);
		expect(body).toEqual({
			FromEmailAddress: 'news@sender.example',
			Destination: {
				ToAddresses: ['ann@example.org'],
				CcAddresses: ['carl@example.org'],
				BccAddresses: ['bea@example.net'],
			},
			Content: { Raw: { Data: expect.any(String) } },
			EmailTags: [
				{ Name: 'receipts', Value: 'true' },
				{ Name: 'q1', Value: 'true' },
				{ Name: 'orderId', Value: 'A-1001' },
			],
			ConfigurationSetName: 'transactional',
		});
		const raw = Buffer.from(body.Content.Raw.Data, 'base64');
		expect(raw.toString()).not.toContain('bea@example.net');
		const mail = await simpleParser(raw);
		expect(mail.from?.value).toEqual([{ address: 'news@sender.example', name: 'Sender Co' }]);
		expect(mail.to).toMatchObject({ value: [{ address: 'ann@example.org', name: 'Ann' }] });
		expect(mail.cc).toMatchObject({ value: [{ address: 'carl@example.org', name: '' }] });
		expect(mail.bcc).toBeUndefined();
		expect(mail.replyTo?.value).toEqual([{ address: 'help@sender.example', name: 'Help Desk' }]);
		expect(mail.subject).toBe('Your receipt');
		expect(mail.text?.trim()).toBe('Thanks for your order.');
		expect(mail.html).toBe('<p>Thanks for your order.</p>');
		expect(mail.headers.get('x-virtual-mta')).toBe('pool-a');
		expect(mail.date?.toISOString()).toBe(NOW.toISOString());
		expect(mail.attachments.map((a) => [a.filename, a.contentType, a.content.toString()])).toEqual([
			['receipt.txt', 'text/plain', ATTACHMENT.toString()],
		]);
	});

	it('signs the exact bytes sent with SigV4 (service ses), session token included', async () => {
		const request = await sendAndCapture(c);
		expect(request.headers['x-amz-date']).toBe('20240102T030405Z');
		expect(request.headers['x-amz-security-token']).toBe(SES_TOKEN);
		expect(request.headers.authorization).toContain(
			'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,',
		);
		const signature = /Signature=([0-9a-f]{64})$/.exec(request.headers.authorization)?.[1];
		expect(signature).toBe(independentSignature(request, SES_SECRET, 'eu-west-1', 'ses'));
	});

	it('signs the credential test GET /v2/email/account too', async () => {
		const { provider, credential } = setup(c);
		const seen = intercept(c.origin, 'GET', c.testPath, 200, '{}');
		await httpsClient(provider.testRequest(credential, { now: NOW }));
		const request = seenRequest(seen);
		expect(request.headers['x-amz-date']).toBe('20240102T030405Z');
		expect(/Signature=([0-9a-f]{64})$/.exec(request.headers.authorization)?.[1]).toBe(
			independentSignature(request, SES_SECRET, 'eu-west-1', 'ses'),
		);
	});

	it.each([
		['SendingPausedException', 'blocked', 'route'],
		['AccountSuspendedException', 'blocked', 'route'],
		['MailFromDomainNotVerifiedException', 'permanent', 'route'],
		['MessageRejected', 'permanent', 'recipient'],
	])('%s → %s/%s', async (type, kind, scope) => {
		intercept(c.origin, 'POST', c.sendPath, 400, JSON.stringify({ message: 'refused' }), {
			'x-amzn-ErrorType': `${type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/`,
		});
		const f = failure(await setup(c).transport.send(MESSAGE));
		expect(f).toMatchObject({ kind, scope, code: 400 });
		expect(f.message).toContain(type);
		expect(f.message).not.toContain(SES_TOKEN);
	});
});

// ---------------------------------------------------------------------------------------------------

describe('SigV4 signer against the AWS Signature Version 4 test suite', () => {
	// Vectors from the official suite as AWS ships it in aws/aws-sdk-js-v3
	// (packages/signature-v4/src/suite.fixture.ts) and awslabs/aws-c-auth
	// (tests/aws-signing-test-suite/v4/post-sts-header-before/header-signed-request.txt).
	const credentials = {
		accessKeyId: 'AKIDEXAMPLE',
		secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
	};
	const scope = { region: 'us-east-1', service: 'service', now: new Date('2015-08-30T12:36:00Z') };
	const authorization = (signedHeaders: string, signature: string) =>
		`AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signedHeaders}, Signature=${signature}`;

	it('get-vanilla', () => {
		const signed = signV4(
			{ method: 'GET', url: 'https://example.amazonaws.com/', headers: {} },
			credentials,
			scope,
		);
		expect(signed.headers['X-Amz-Date']).toBe('20150830T123600Z');
		expect(signed.headers.Authorization).toBe(
			authorization(
				'host;x-amz-date',
				'5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
			),
		);
	});

	it('get-vanilla-query-order-key-case', () => {
		const signed = signV4(
			{
				method: 'GET',
				url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1',
				headers: {},
			},
			credentials,
			scope,
		);
		expect(signed.signature).toBe(
			'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
		);
	});

	it('post-x-www-form-urlencoded (a signed body and content type)', () => {
		const signed = signV4(
			{
				method: 'POST',
				url: 'https://example.amazonaws.com/',
				headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
				body: 'Param1=value1',
			},
			credentials,
			scope,
		);
		expect(signed.headers.Authorization).toBe(
			authorization(
				'content-type;host;x-amz-date',
				'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
			),
		);
	});

	it('post-sts-header-before (session token signed)', () => {
		const token =
			'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';
		const signed = signV4(
			{ method: 'POST', url: 'https://example.amazonaws.com/', headers: {} },
			{ ...credentials, sessionToken: token },
			scope,
		);
		expect(signed.headers['X-Amz-Security-Token']).toBe(token);
		expect(signed.headers.Authorization).toBe(
			authorization(
				'host;x-amz-date;x-amz-security-token',
				'85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
			),
		);
	});
});

// ---------------------------------------------------------------------------------------------------

describe('credentials', () => {
	it('names the missing field', () => {
		expect(() => API_PROVIDERS.sendgrid.parseCredential({})).toThrow(
			'Postal Routes SendGrid API credential: apiKey is required',
		);
		expect(() => API_PROVIDERS.mailgun.parseCredential({ apiKey: 'k' })).toThrow(
			/domain is required/,
		);
		expect(() =>
			API_PROVIDERS.ses.parseCredential({ accessKeyId: 'a', secretAccessKey: 's', region: '' }),
		).toThrow(/region is required/);
	});

	it('never echoes a value it rejects (a key pasted into the wrong field stays out of errors)', () => {
		const pasted = 'SG.pasted-into-region';
		const attempts: Array<[ApiProviderId, Record<string, unknown>]> = [
			['sendgrid', { apiKey: 'k', region: pasted }],
			['mailgun', { apiKey: 'k', domain: `${pasted}/x` }],
			['ses', { accessKeyId: 'a', secretAccessKey: 's', region: pasted }],
			['brevo', { apiKey: 42 }],
		];
		for (const [id, data] of attempts) {
			let message = '';
			try {
				API_PROVIDERS[id].parseCredential(data);
			} catch (error) {
				message = (error as Error).message;
			}
			expect(message).toMatch(/credential: /);
			expect(message).not.toContain(pasted);
			expect(message).not.toContain('42');
		}
	});

	it('trims keys and fills defaults', () => {
		expect(API_PROVIDERS.sendgrid.parseCredential({ apiKey: ' SG.x \n' })).toEqual({
			apiKey: 'SG.x',
			region: 'global',
		});
		expect(API_PROVIDERS.postmark.parseCredential({ serverToken: 't', messageStream: '' })).toEqual(
			{
				serverToken: 't',
				messageStream: 'outbound',
			},
		);
	});
});

describe('inline images and non-ASCII names', () => {
	const logo = {
		filename: 'logo.png',
		contentType: 'image/png',
		content: Buffer.from([0x89, 0x50, 0x4e, 0x47]),
		cid: 'logo@sender',
	};
	const message: OutgoingMessage = {
		...MESSAGE,
		cc: [{ address: 'jorg@example.de', name: 'Jörg Müller' }],
		attachments: [logo],
	};

	it('marks cid attachments inline the way each API documents it', () => {
		expect(sendGridBody(message).attachments).toEqual([
			{
				content: 'iVBORw==',
				filename: 'logo.png',
				type: 'image/png',
				disposition: 'inline',
				content_id: 'logo@sender',
			},
		]);
		expect(
			postmarkBody(message, { serverToken: 't', messageStream: 'outbound' }).Attachments,
		).toEqual([
			{
				Name: 'logo.png',
				Content: 'iVBORw==',
				ContentType: 'image/png',
				ContentID: 'cid:logo@sender',
			},
		]);
		expect(sparkPostBody(message).content).toMatchObject({
			inline_images: [{ name: 'logo@sender', type: 'image/png', data: 'iVBORw==' }],
		});
		expect(resendBody(message).attachments).toEqual([
			{
				filename: 'logo.png',
				content: 'iVBORw==',
				content_type: 'image/png',
				content_id: 'logo@sender',
			},
		]);
		expect(mailgunParts(message).filter((p) => p.name === 'inline')).toEqual([
			{ name: 'inline', filename: 'logo@sender', contentType: 'image/png', content: logo.content },
		]);
	});

	it('RFC 2047-encodes a non-ASCII name in a header SparkPost passes through (CC)', () => {
		const cc = (sparkPostBody(message).content as { headers: Record<string, string> }).headers.CC;
		expect(cc).toBe(
			`=?UTF-8?B?${Buffer.from('Jörg Müller').toString('base64')}?= <jorg@example.de>`,
		);
	});
});

describe('ApiTransport', () => {
	it('a request that cannot be built fails this message only, never throws', async () => {
		const provider: ApiProvider<string> = {
			...API_PROVIDERS.resend,
			parseCredential: String,
			buildRequest: () => {
				throw new Error('attachment too large for key-123456');
			},
			secrets: (credential) => [credential],
		};
		const f = failure(await new ApiTransport(provider, 'key-123456', httpsClient).send(MESSAGE));
		expect(f).toMatchObject({ kind: 'permanent', scope: 'recipient' });
		expect(f.message).toBe(
			'Resend: could not build the request: attachment too large for [redacted]',
		);
	});

	it('a rejected HttpClient (timeout) is transient and route-wide', async () => {
		const timeout: HttpClient = (request: HttpRequest) =>
			Promise.reject(new Error(`timeout after 30000 ms (${request.method})`));
		const provider = API_PROVIDERS.brevo;
		const f = failure(
			await new ApiTransport(
				provider,
				provider.parseCredential({ apiKey: 'k-123456' }),
				timeout,
			).send(MESSAGE),
		);
		expect(f).toEqual({
			ok: false,
			kind: 'transient',
			scope: 'route',
			message: 'Brevo: request failed: timeout after 30000 ms (POST)',
		});
	});
});

describe('Retry-After', () => {
	it('reads delay-seconds and HTTP-dates', () => {
		const now = new Date('2015-10-21T07:27:50Z');
		expect(parseRetryAfter('7', now)).toBe(7000);
		expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now)).toBe(10_000);
		expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
		expect(parseRetryAfter('soon', now)).toBeUndefined();
	});

	it('is honoured on a 503 too', async () => {
		const c = caseOf('postmark');
		intercept(c.origin, 'POST', c.sendPath, 503, 'Service Unavailable', {
			'Retry-After': 'Tue, 02 Jan 2024 03:05:05 GMT',
		});
		expect(failure(await setup(c).transport.send(MESSAGE))).toMatchObject({
			kind: 'transient',
			scope: 'route',
			retryAfterMs: 60_000,
		});
	});
});
