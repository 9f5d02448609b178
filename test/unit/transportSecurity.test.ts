/**
 * Security properties of the transports, each against a real counterpart: an smtp-server sink on
 * loopback for SMTP, nock for the email APIs.
 *  1. no SMTP password in clear unless the credential's Security setting says so
 *  2. item data (attachment MIME types, file names, field names) cannot alter a provider request
 *  3. no secret leaves in a failure message, whether cut short or echoed encoded
 */

import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { SMTPServer } from 'smtp-server';
import { PostalSmtp } from '../../credentials/PostalSmtp.credentials';
import { API_PROVIDERS, ApiTransport, type ApiProviderId } from '../../lib/transports/api';
import { n8nApiCredentialInput } from '../../lib/transports/n8nCredentials';
import { checkMimeType } from '../../lib/transports/mime';
import {
	parseSmtpCredential,
	SMTP_SECURITY,
	SMTP_SECURITY_LABELS,
	SmtpTransport,
	testSmtpCredential,
	type SmtpCredentialInput,
} from '../../lib/transports/smtp';
import { classifySmtpError } from '../../lib/transports/smtpReplies';
import { capText, REDACTED, safeText, scrubSecrets, secretForms } from '../../lib/util/secrets';
import type { OutgoingMessage, SendFailure, SendOutcome } from '../../lib/transports/types';
import { httpsClient } from '../helpers/http';
import { fixtureCert, startSmtpSink, type SmtpSinkOptions } from '../helpers/smtpSink';

const NOW = new Date('2024-01-02T03:04:05Z');

const MESSAGE: OutgoingMessage = {
	from: { address: 'news@sender.example', name: 'Sender Co' },
	to: [{ address: 'ann@example.org', name: 'Ann' }],
	cc: [],
	bcc: [],
	subject: 'Your receipt',
	text: 'Thanks for your order.',
	headers: {},
	attachments: [
		{ filename: 'receipt.txt', contentType: 'text/plain', content: Buffer.from('total: 42\n') },
	],
	tags: [],
	metadata: {},
};

function expectFailure(outcome: SendOutcome): SendFailure {
	if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
	return outcome;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()?.();
});

function smtpTransport(port: number, over: Partial<SmtpCredentialInput>): SmtpTransport {
	const t = new SmtpTransport(parseSmtpCredential({ host: '127.0.0.1', port, ...over }));
	cleanups.push(() => t.close());
	return t;
}

// ---------------------------------------------------------------------------------------------------
// 1. SMTP AUTH never in clear unless chosen
// ---------------------------------------------------------------------------------------------------

interface AuthSink {
	port: number;
	/** every AUTH the server saw, and whether the session was encrypted then */
	auths: Array<{ user: string; secure: boolean }>;
	delivered: number;
	connections: number;
}

/** A server that accepts mail with or without AUTH and records any AUTH; STARTTLS only when `tls`. */
async function authSink(tls: boolean): Promise<AuthSink> {
	const sink: AuthSink = { port: 0, auths: [], delivered: 0, connections: 0 };
	const server = new SMTPServer({
		logger: false,
		closeTimeout: 200,
		authOptional: true,
		allowInsecureAuth: true,
		// a server without STARTTLS: not announced, and refused if a client tries it anyway
		...(tls ? fixtureCert() : { hideSTARTTLS: true, disabledCommands: ['STARTTLS'] }),
		onConnect(_session, callback) {
			sink.connections++;
			callback();
		},
		onAuth(auth, session, callback) {
			sink.auths.push({ user: auth.username ?? '', secure: session.secure });
			callback(null, { user: auth.username });
		},
		onData(stream, _session, callback) {
			stream.resume();
			stream.on('end', () => {
				sink.delivered++;
				callback(null, 'queued');
			});
		},
	});
	server.on('error', () => undefined);
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
	sink.port = (server.server.address() as AddressInfo).port;
	cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
	return sink;
}

const login = { user: 'route-user', password: 'never-in-clear-9' };

describe('SMTP: no password in clear', () => {
	test('default security, a server without STARTTLS: no AUTH, a route-scoped failure naming the Security setting', async () => {
		const s = await authSink(false);
		const failure = expectFailure(await smtpTransport(s.port, login).send(MESSAGE));
		expect(s.auths).toEqual([]);
		expect(s.delivered).toBe(0);
		// blocked/route: the pipeline does not retry it here and hands the item to Fallback
		expect(failure).toMatchObject({ kind: 'blocked', scope: 'route', opensCircuit: true });
		expect(failure.message).toMatch(/Security setting/);
		expect(failure.message).toMatch(/STARTTLS/);
		expect(failure.message).not.toContain(login.password);

		const tested = await testSmtpCredential({ host: '127.0.0.1', port: s.port, ...login });
		expect(tested).toEqual({ status: 'Error', message: failure.message });
		expect(s.auths).toEqual([]);
	});

	test('a user alone counts as credentials too', async () => {
		const s = await authSink(false);
		const failure = expectFailure(await smtpTransport(s.port, { user: 'only-user' }).send(MESSAGE));
		expect(failure).toMatchObject({ kind: 'blocked', scope: 'route', opensCircuit: true });
		expect(s.auths).toEqual([]);
	});

	test("'none' with credentials refuses before connecting, and the credential test says the same", async () => {
		const s = await authSink(false);
		const failure = expectFailure(
			await smtpTransport(s.port, { ...login, security: 'none' }).send(MESSAGE),
		);
		expect(failure).toMatchObject({ kind: 'blocked', scope: 'route', opensCircuit: true });
		expect(failure.message).toMatch(/Security setting/);
		expect(failure.message).toMatch(/Send Password Unencrypted/);
		const tested = await testSmtpCredential({
			host: '127.0.0.1',
			port: s.port,
			security: 'none',
			...login,
		});
		expect(tested).toEqual({ status: 'Error', message: failure.message });
		expect(s.connections).toBe(0);
		expect(s.auths).toEqual([]);
	});

	test('starttlsRequired with credentials and no STARTTLS: the same clear failure', async () => {
		const s = await authSink(false);
		const failure = expectFailure(
			await smtpTransport(s.port, { ...login, security: 'starttlsRequired' }).send(MESSAGE),
		);
		expect(failure).toMatchObject({ kind: 'blocked', scope: 'route', opensCircuit: true });
		expect(failure.message).toMatch(/Security setting/);
		expect(s.auths).toEqual([]);
	});

	test("the explicit 'noneInsecureAuth' choice does authenticate in plain text", async () => {
		const s = await authSink(false);
		expect(
			await smtpTransport(s.port, { ...login, security: 'noneInsecureAuth' }).send(MESSAGE),
		).toMatchObject({ ok: true });
		expect(s.auths).toEqual([{ user: login.user, secure: false }]);
		expect(s.delivered).toBe(1);
		expect(
			await testSmtpCredential({
				host: '127.0.0.1',
				port: s.port,
				security: 'noneInsecureAuth',
				...login,
			}),
		).toEqual({ status: 'OK', message: 'Connection successful' });
	});

	test('default security with STARTTLS offered: upgrades, then authenticates over TLS', async () => {
		const s = await authSink(true);
		const t = smtpTransport(s.port, { ...login, allowUnauthorizedCerts: true });
		expect(await t.send(MESSAGE)).toMatchObject({ ok: true });
		expect(await t.verify()).toEqual({ ok: true });
		expect(s.auths.length).toBeGreaterThanOrEqual(1);
		expect(s.auths.every((a) => a.secure && a.user === login.user)).toBe(true);
		expect(s.delivered).toBe(1);
	});

	test('default security, STARTTLS with an untrusted certificate: a certificate failure, still no AUTH', async () => {
		const s = await authSink(true);
		const failure = expectFailure(await smtpTransport(s.port, login).send(MESSAGE));
		expect(failure).toMatchObject({ kind: 'blocked', scope: 'route', opensCircuit: true });
		expect(failure.message).toMatch(/certificate/i);
		expect(s.auths).toEqual([]);
	});

	test('a server that hides STARTTLS but would do it: the password only travels after the upgrade', async () => {
		const sink: AuthSink = { port: 0, auths: [], delivered: 0, connections: 0 };
		const server = new SMTPServer({
			logger: false,
			authOptional: true,
			allowInsecureAuth: true,
			hideSTARTTLS: true,
			...fixtureCert(),
			onAuth(auth, session, callback) {
				sink.auths.push({ user: auth.username ?? '', secure: session.secure });
				callback(null, { user: auth.username });
			},
			onData(stream, _session, callback) {
				stream.resume();
				stream.on('end', () => callback(null, 'queued'));
			},
		});
		server.on('error', () => undefined);
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
		cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
		const port = (server.server.address() as AddressInfo).port;
		expect(
			await smtpTransport(port, { ...login, allowUnauthorizedCerts: true }).send(MESSAGE),
		).toMatchObject({ ok: true });
		expect(sink.auths).toEqual([{ user: login.user, secure: true }]);
	});

	test('default security without credentials still sends over a plain connection (nothing secret at stake)', async () => {
		const s = await authSink(false);
		expect(await smtpTransport(s.port, {}).send(MESSAGE)).toMatchObject({ ok: true });
		expect(s.delivered).toBe(1);
		expect(s.auths).toEqual([]);
	});
});

// ---------------------------------------------------------------------------------------------------
// 2. Item data cannot alter a provider request
// ---------------------------------------------------------------------------------------------------

const INJECTED_TYPE =
	'text/plain\r\nContent-Disposition: form-data; name="bcc"\r\n\r\nvictim@evil.test';
const INJECTED_NAME =
	'x.txt"\r\nContent-Disposition: form-data; name="bcc"\r\n\r\nvictim@evil.test\r\n--';

interface ApiCase {
	id: ApiProviderId;
	/** n8n's own credential type the data is in (read through n8nApiCredentialInput); none: ours */
	n8nType?: string;
	data: Record<string, string | boolean>;
	origin: string;
	sendPath: string;
	ok: { status: number; body: string };
	/** every secret of the credential, as secrets() should list them */
	secrets: string[];
}

const SES_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SES_TOKEN = 'FwoGZXIvYXdzEXAMPLE/session+token==';

const API_CASES: ApiCase[] = [
	{
		id: 'sendgrid',
		data: { apiKey: 'SG.test-key.secret-part/x+y' },
		origin: 'https://api.sendgrid.com',
		sendPath: '/v3/mail/send',
		ok: { status: 202, body: '' },
		secrets: ['SG.test-key.secret-part/x+y'],
	},
	{
		id: 'mailgun',
		data: { apiKey: 'key-mailgun-secret-3f9a', domain: 'mg.sender.example' },
		origin: 'https://api.mailgun.net',
		sendPath: '/v3/mg.sender.example/messages',
		ok: { status: 200, body: '{"id":"<m@mg>"}' },
		secrets: ['key-mailgun-secret-3f9a'],
	},
	{
		id: 'postmark',
		data: { serverToken: 'pm-server-token-secret-77' },
		origin: 'https://api.postmarkapp.com',
		sendPath: '/email',
		ok: { status: 200, body: '{"MessageID":"pm-1","ErrorCode":0}' },
		secrets: ['pm-server-token-secret-77'],
	},
	{
		id: 'sparkpost',
		data: { apiKey: 'sp-api-key-secret+plus/slash' },
		origin: 'https://api.sparkpost.com',
		sendPath: '/api/v1/transmissions',
		ok: { status: 200, body: '{"results":{"id":"1"}}' },
		secrets: ['sp-api-key-secret+plus/slash'],
	},
	{
		id: 'ses',
		data: {
			accessKeyId: 'AKIDEXAMPLE',
			secretAccessKey: SES_SECRET,
			sessionToken: SES_TOKEN,
			region: 'eu-west-1',
		},
		origin: 'https://email.eu-west-1.amazonaws.com',
		sendPath: '/v2/email/outbound-emails',
		ok: { status: 200, body: '{"MessageId":"ses-1"}' },
		secrets: [SES_SECRET, SES_TOKEN],
	},
	{
		id: 'resend',
		data: { apiKey: 're_test_secret_key_4k2' },
		origin: 'https://api.resend.com',
		sendPath: '/emails',
		ok: { status: 200, body: '{"id":"r-1"}' },
		secrets: ['re_test_secret_key_4k2'],
	},
	{
		id: 'brevo',
		data: { apiKey: 'xkeysib-brevo-secret-9z' },
		origin: 'https://api.brevo.com',
		sendPath: '/v3/smtp/email',
		ok: { status: 201, body: '{"messageId":"b-1"}' },
		secrets: ['xkeysib-brevo-secret-9z'],
	},
];

/** The same providers on n8n's own credential types, the data in n8n's field names. */
const N8N_API_CASES: ApiCase[] = [
	{
		...API_CASES[0],
		n8nType: 'sendGridApi',
		data: { apiKey: 'SG.n8n-owned.secret/x+y' },
		secrets: ['SG.n8n-owned.secret/x+y'],
	},
	{
		...API_CASES[1],
		n8nType: 'mailgunApi',
		data: {
			apiDomain: 'api.mailgun.net',
			emailDomain: 'mg.sender.example',
			apiKey: 'key-n8n-mailgun-77aa',
		},
		secrets: ['key-n8n-mailgun-77aa'],
	},
	{
		...API_CASES[2],
		n8nType: 'postmarkApi',
		data: { serverToken: 'pm-n8n-token-secret-88' },
		secrets: ['pm-n8n-token-secret-88'],
	},
	{
		...API_CASES[4],
		n8nType: 'aws',
		data: {
			region: 'eu-west-1',
			accessKeyId: 'AKIDEXAMPLE',
			secretAccessKey: SES_SECRET,
			temporaryCredentials: true,
			sessionToken: SES_TOKEN,
		},
	},
	{
		...API_CASES[6],
		n8nType: 'sendInBlueApi',
		data: { apiKey: 'xkeysib-n8n-brevo-5q' },
		secrets: ['xkeysib-n8n-brevo-5q'],
	},
];

function apiTransport(c: ApiCase): ApiTransport<unknown> {
	const provider = API_PROVIDERS[c.id];
	const credential = c.n8nType
		? provider.parseCredential(n8nApiCredentialInput(c.id, c.data), `n8n ${c.n8nType}`)
		: provider.parseCredential(c.data);
	return new ApiTransport(provider, credential, httpsClient, () => NOW);
}

/** Records the bodies that reach nock (any number of requests). */
function capture(
	c: ApiCase,
	status = c.ok.status,
	reply: string | (() => string) = c.ok.body,
): Array<{ body: string; contentType: string }> {
	const seen: Array<{ body: string; contentType: string }> = [];
	nock(c.origin)
		.post(c.sendPath)
		.times(50)
		.reply(function (_uri, body) {
			seen.push({
				body: typeof body === 'string' ? body : JSON.stringify(body),
				contentType: String(this.req.headers['content-type'] ?? ''),
			});
			return [status, typeof reply === 'function' ? reply() : reply];
		});
	return seen;
}

/** Parses multipart/form-data the way a server would: every part's headers and name. */
function formParts(
	body: string,
	contentType: string,
): Array<{
	name: string;
	names: string[];
	filename?: string;
	type?: string;
	headers: string[];
	value: string;
}> {
	const boundary = /boundary=(.+)$/.exec(contentType)?.[1] as string;
	return body
		.split(`--${boundary}`)
		.slice(1, -1)
		.map((part) => {
			const text = part.replace(/^\r\n/, '');
			const end = text.indexOf('\r\n\r\n');
			const headers = text.slice(0, end).split('\r\n');
			const dispositions = headers.filter((h) => /^content-disposition:/i.test(h));
			const disposition = dispositions[0] ?? '';
			return {
				name: /;\s*name="([^"]*)"/.exec(disposition)?.[1] as string,
				// every name a lenient parser could take, should a part carry two dispositions
				names: dispositions.map((d) => /;\s*name="([^"]*)"/.exec(d)?.[1] as string),
				filename: /;\s*filename="([^"]*)"/.exec(disposition)?.[1],
				type: headers.find((h) => /^content-type:/i.test(h))?.replace(/^content-type:\s*/i, ''),
				headers,
				value: text.slice(end + 4).replace(/\r\n$/, ''),
			};
		});
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => {
	nock.enableNetConnect();
	nock.restore();
});

describe('item data cannot alter a provider request', () => {
	const injected: OutgoingMessage = {
		...MESSAGE,
		attachments: [
			{ filename: 'report.txt', contentType: INJECTED_TYPE, content: Buffer.from('hello') },
		],
	};

	test('Mailgun: a CR/LF in an attachment type adds no form field; the message is refused naming the file', async () => {
		const c = API_CASES.find((x) => x.id === 'mailgun') as ApiCase;
		const seen = capture(c);
		const outcome = await apiTransport(c).send(injected);
		for (const request of seen) {
			const parts = formParts(request.body, request.contentType);
			expect(parts.flatMap((p) => p.names)).not.toContain('bcc');
			expect(request.body).not.toContain('victim@evil.test');
		}
		const failure = expectFailure(outcome);
		expect(failure).toMatchObject({ kind: 'permanent', scope: 'recipient' });
		expect(failure.message).toContain('report.txt');
		expect(failure.message).toMatch(/MIME type|content type/i);
		expect(seen).toHaveLength(0);
	});

	test('Mailgun: CR/LF and quotes in a file name, a header name and a metadata key stay inside their part', async () => {
		const c = API_CASES.find((x) => x.id === 'mailgun') as ApiCase;
		const seen = capture(c);
		const message: OutgoingMessage = {
			...MESSAGE,
			metadata: { 'k"\r\nContent-Disposition: form-data; name="bcc"\r\n\r\nvictim@evil.test': 'v' },
			attachments: [
				{ filename: INJECTED_NAME, contentType: 'text/plain', content: Buffer.from('hello') },
			],
		};
		expect(await apiTransport(c).send(message)).toMatchObject({ ok: true });
		expect(seen).toHaveLength(1);
		const parts = formParts(seen[0].body, seen[0].contentType);
		expect(parts.map((p) => p.name)).toEqual([
			'from',
			'to',
			'subject',
			'text',
			expect.stringMatching(/^v:k/),
			'attachment',
		]);
		for (const part of parts) {
			// one Content-Disposition per part, and nothing but the headers a form part has
			expect(part.headers.filter((h) => /^content-disposition:/i.test(h))).toHaveLength(1);
			expect(part.headers.every((h) => /^content-(disposition|type):/i.test(h))).toBe(true);
		}
		const file = parts.find((p) => p.name === 'attachment');
		expect(file).toMatchObject({ type: 'text/plain', value: 'hello' });
		expect(file?.filename).not.toMatch(/[\r\n"]/);
	});

	test.each(API_CASES.map((c) => [c.id, c] as const))(
		'%s refuses an attachment whose MIME type is not type/subtype',
		async (_id, c) => {
			const seen = capture(c);
			const failure = expectFailure(await apiTransport(c).send(injected));
			expect(failure).toMatchObject({ kind: 'permanent', scope: 'recipient' });
			expect(failure.message).toContain('report.txt');
			expect(failure.message).not.toMatch(/[\r\n]/);
			expect(seen).toHaveLength(0);
		},
	);

	test('SMTP refuses an attachment whose MIME type is not type/subtype, and sends nothing', async () => {
		const s = await startSmtpSink();
		cleanups.push(() => s.stop());
		const failure = expectFailure(await smtpTransport(s.port, { security: 'none' }).send(injected));
		expect(failure).toMatchObject({ kind: 'permanent', scope: 'recipient' });
		expect(failure.message).toContain('report.txt');
		expect(s.messages).toHaveLength(0);
	});
});

// ---------------------------------------------------------------------------------------------------
// 3. No secret leaves, cut short or encoded
// ---------------------------------------------------------------------------------------------------

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/** Every substring of `text` of length `n`. */
function windows(text: string, n = 8): string[] {
	const out: string[] = [];
	for (let i = 0; i + n <= text.length; i++) out.push(text.slice(i, i + n));
	return out;
}

/**
 * Fails if `message` holds 8 or more characters in a row of the secret, of its base64, base64url or
 * URL encoding, or decodes (any run of base64 characters, at any alignment) to 8 bytes of it.
 */
function expectNoLeak(message: string, secret: string): void {
	for (const form of [secret, b64(secret), b64url(secret), encodeURIComponent(secret)]) {
		for (const w of windows(form)) {
			if (message.includes(w))
				throw new Error(
					`leaked ${JSON.stringify(w)} of ${JSON.stringify(form)} in ${JSON.stringify(message)}`,
				);
		}
	}
	const secretWindows = windows(secret);
	for (const run of message.match(/[A-Za-z0-9+/_-]{8,}/g) ?? []) {
		for (let shift = 0; shift < 4; shift++) {
			const decoded = Buffer.from(
				run.slice(shift).replace(/-/g, '+').replace(/_/g, '/'),
				'base64',
			).toString('latin1');
			const hit = secretWindows.find((w) => decoded.includes(w));
			if (hit)
				throw new Error(
					`leaked ${JSON.stringify(hit)} base64-encoded in ${JSON.stringify(message)}`,
				);
		}
	}
}

/** A JSON error body every provider reads its message from (message, Message, errors[].message). */
const errorBody = (text: string) =>
	JSON.stringify({
		message: text,
		Message: text,
		errors: [{ message: text }],
		code: 'invalid_parameter',
	});

/** Offsets that put the secret across the old 300-character cut (after any prefix) and around cuts up to 520. */
const OFFSETS = [
	...Array.from({ length: 22 }, (_, i) => 170 + i * 6),
	...Array.from({ length: 15 }, (_, i) => 420 + i * 6),
];

describe.each([...API_CASES, ...N8N_API_CASES].map((c) => [c.n8nType ?? c.id, c] as const))(
	'%s: no secret in a failure message',
	(_id, c) => {
		test('an echoed secret that straddles the shortening cut leaves no prefix behind', async () => {
			for (const secret of c.secrets) {
				for (const offset of OFFSETS) {
					capture(
						c,
						400,
						errorBody(`${'a'.repeat(offset)}${secret} and more text after it ${'b'.repeat(400)}`),
					);
					const failure = expectFailure(await apiTransport(c).send(MESSAGE));
					expectNoLeak(failure.message, secret);
					expect(failure.message.length).toBeLessThanOrEqual(500);
					nock.cleanAll();
				}
			}
		});

		test('a secret echoed base64, base64url or URL-encoded is scrubbed', async () => {
			for (const secret of c.secrets) {
				for (const text of [
					`bad key ${b64(secret)}`,
					`bad key ${b64url(secret)}`,
					`bad key ${encodeURIComponent(secret)}`,
					`token ${b64(`x${secret}yz`)} rejected`,
					`token ${b64(`xy${secret}z`)} rejected`,
					`token ${b64(`xyz${secret}!`)} rejected`,
					`header Basic ${b64(`api:${secret}`)}`,
				]) {
					capture(c, 403, errorBody(text));
					const failure = expectFailure(await apiTransport(c).send(MESSAGE));
					expectNoLeak(failure.message, secret);
					nock.cleanAll();
				}
			}
		});
	},
);

describe('SMTP: no password in a failure message', () => {
	const user = 'route-user';
	const password = 'S3cr3t p@ss/w+rd?&=long';
	// the explicit choice to authenticate without TLS (the sink here speaks no TLS)
	const insecure: Partial<SmtpCredentialInput> = { security: 'noneInsecureAuth' };

	/** refuses at RCPT TO with `text` every recipient, or only `only` (the others are accepted) */
	async function replying(text: () => string, extra: Partial<SmtpSinkOptions> = {}, only?: string) {
		const s = await startSmtpSink({
			auth: { user, pass: password },
			reply: ({ phase, rcpt }) =>
				phase === 'rcpt' && (only === undefined || rcpt === only)
					? { code: 550, message: `5.7.1 ${text()}` }
					: undefined,
			...extra,
		});
		cleanups.push(() => s.stop());
		return s;
	}

	/** every text a failure carries: its own message and each refused recipient's */
	const texts = (outcome: SendOutcome): string[] => [
		...(outcome.ok ? [] : [outcome.message]),
		...(outcome.refused ?? []).map((r) => r.failure.message),
	];

	test('an echoed password that straddles the shortening cut leaves no prefix behind', async () => {
		let offset = 0;
		const s = await replying(() => `${'a'.repeat(offset)}${password} and more ${'b'.repeat(300)}`);
		const t = smtpTransport(s.port, { ...insecure, user, password });
		for (offset of OFFSETS) {
			const failure = expectFailure(await t.send(MESSAGE));
			expect(failure.code).toBe(550);
			// the one recipient's own reply comes along (every recipient was refused)
			expect(failure.refused).toHaveLength(1);
			for (const text of texts(failure)) {
				expectNoLeak(text, password);
				expect(text.length).toBeLessThanOrEqual(300);
			}
		}
	});

	test("a refused recipient's reply beside a delivery is scrubbed and capped the same way", async () => {
		let text = '';
		const s = await replying(() => text, {}, 'refused@example.org');
		const t = smtpTransport(s.port, { ...insecure, user, password });
		const partial: OutgoingMessage = {
			...MESSAGE,
			cc: [{ address: 'refused@example.org' }],
		};
		for (text of [
			...OFFSETS.map((offset) => `${'a'.repeat(offset)}${password} and more ${'b'.repeat(300)}`),
			`bad ${b64(password)}`,
			`bad ${b64(`\0${user}\0${password}`)}`,
			`bad ${encodeURIComponent(password)}`,
		]) {
			const outcome = await t.send(partial);
			expect(outcome.ok).toBe(true);
			expect(outcome.refused?.map((r) => r.address)).toEqual(['refused@example.org']);
			for (const message of texts(outcome)) {
				expectNoLeak(message, password);
				expect(message.length).toBeLessThanOrEqual(300);
			}
		}
		expect(s.messages.every((m) => m.rcpts.join() === 'ann@example.org')).toBe(true);
	});

	test('an unknown outcome (no reply to the final dot) says so without the password, capped', () => {
		for (const offset of OFFSETS) {
			const failure = classifySmtpError(
				{
					code: 'ECONNECTION',
					command: 'CONN',
					message: `${'a'.repeat(offset)}${password} ${b64(password)} ${'b'.repeat(300)}`,
				},
				[password],
				{ bodySent: true },
			);
			expect(failure).toMatchObject({ kind: 'unknown', scope: 'route' });
			expect(failure.message).toMatch(/^No reply to the end of the message/);
			expectNoLeak(failure.message, password);
			expect(failure.message.length).toBeLessThanOrEqual(300);
		}
	});

	test('an envelopeTo holding the password by mistake is refused without echoing it', async () => {
		const s = await replying(() => 'unused');
		const message: OutgoingMessage = { ...MESSAGE, envelopeTo: [password] };
		const failure = expectFailure(
			await smtpTransport(s.port, { ...insecure, user, password }).send(message),
		);
		expect(failure).toMatchObject({ kind: 'permanent', scope: 'recipient' });
		expectNoLeak(failure.message, password);
		for (const c of API_CASES) {
			const apiFailure = expectFailure(
				await apiTransport(c).send({ ...message, envelopeTo: c.secrets }),
			);
			for (const secret of c.secrets) expectNoLeak(apiFailure.message, secret);
		}
		expect(s.connections).toBe(0);
	});

	test('a password echoed base64, base64url or URL-encoded is scrubbed (and the AUTH PLAIN form)', async () => {
		const echoes = [
			`bad ${b64(password)}`,
			`bad ${b64url(password)}`,
			`bad ${encodeURIComponent(password)}`,
			`bad ${b64(`\0${user}\0${password}`)}`,
			`bad ${b64(`x${password}yz`)} end`,
			`bad ${b64(`xy${password}z`)} end`,
		];
		let i = 0;
		const s = await replying(() => echoes[i]);
		const t = smtpTransport(s.port, { ...insecure, user, password });
		for (i = 0; i < echoes.length; i++) {
			const failure = expectFailure(await t.send(MESSAGE));
			expect(failure.code).toBe(550);
			for (const text of texts(failure)) expectNoLeak(text, password);
		}
	});
});

// ---------------------------------------------------------------------------------------------------
// The pieces on their own
// ---------------------------------------------------------------------------------------------------

describe('the credential names the Security choices the messages quote', () => {
	test('option names and values match SMTP_SECURITY_LABELS and SMTP_SECURITY', () => {
		const field = new PostalSmtp().properties.find((p) => p.name === 'security');
		const options = (field?.options ?? []) as Array<{ name: string; value: string }>;
		expect(options.map((o) => o.value)).toEqual([...SMTP_SECURITY]);
		expect(options.map((o) => o.name)).toEqual(SMTP_SECURITY.map((v) => SMTP_SECURITY_LABELS[v]));
		expect(field?.default).toBe('starttls');
	});
});

describe('checkMimeType', () => {
	test.each([
		'text/plain',
		'application/pdf',
		'image/svg+xml',
		'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
		'text/plain; charset=utf-8',
		'text/plain;charset="utf-8"',
		'multipart/mixed; boundary="a b=c"',
		'Text/CSV ; charset=UTF-8 ; header=present',
	])('accepts %j', (value) => expect(checkMimeType(value)).toBeUndefined());

	test.each([
		'',
		' ',
		'text',
		'text/',
		'/plain',
		'text/plain/x',
		'text/pl ain',
		'text/plain"',
		'text/plain; charset',
		'text/plain; charset=',
		'text/plain; charset="utf-8',
		'text/plain; x="a"b"',
		'text/plain; x="a\\"b"',
		'täxt/plain',
		'text/plain\r\nBcc: victim@evil.test',
		'text/plain\n',
		'text/plain\u0000',
		INJECTED_TYPE,
		`text/${'x'.repeat(300)}`,
	])('refuses %j', (value) => expect(checkMimeType(value)).toEqual(expect.any(String)));

	test('refuses what is not a string', () => {
		expect(checkMimeType(undefined)).toBe('is empty');
		expect(checkMimeType(42)).toBe('is empty');
	});
});

describe('secrets', () => {
	const secret = 'p@ss w/rd+Key?&=long-enough';

	test('secretForms lists the raw, base64, base64url and URL-encoded forms', () => {
		const forms = secretForms(secret);
		for (const form of [
			secret,
			b64(secret),
			b64url(secret),
			encodeURIComponent(secret),
			'p%40ss+w%2Frd%2BKey%3F%26%3Dlong-enough',
		]) {
			expect(forms).toContain(form);
		}
		expect(secretForms('')).toEqual([]);
	});

	test('base64 of the secret inside a longer base64 string is scrubbed at every byte alignment', () => {
		for (const before of ['', 'a', 'ab', 'abc', 'Basic api:']) {
			for (const after of ['', 'z', 'zz', 'zzz']) {
				for (const encode of [b64, b64url]) {
					const text = `token=${encode(`${before}${secret}${after}`)};`;
					const out = scrubSecrets(text, [secret]);
					expect(out).toContain(REDACTED);
					expectNoLeak(out, secret);
				}
			}
		}
	});

	test('scrubSecrets leaves other text alone and takes several secrets', () => {
		expect(scrubSecrets('550 user unknown', [secret])).toBe('550 user unknown');
		expect(
			scrubSecrets('a=k1-secret-value b=k2-other-value', ['k1-secret-value', 'k2-other-value']),
		).toBe(`a=${REDACTED} b=${REDACTED}`);
	});

	test('capText folds whitespace, cuts with an ellipsis and never splits a surrogate pair', () => {
		expect(capText(' a\r\n  b\tc ')).toBe('a b c');
		expect(capText('x'.repeat(400))).toHaveLength(300);
		expect(capText('x'.repeat(400)).endsWith('…')).toBe(true);
		const emoji = capText(`${'x'.repeat(298)}😀😀`, 300);
		expect(emoji).toBe(`${'x'.repeat(298)}…`);
	});

	test('safeText scrubs before it cuts: a secret across the cut leaves nothing behind', () => {
		for (let offset = 270; offset < 300; offset++) {
			const out = safeText(`${'a'.repeat(offset)}${secret}${'b'.repeat(100)}`, [secret]);
			expect(out.length).toBeLessThanOrEqual(300);
			expectNoLeak(out, secret);
		}
	});
});

describe('ApiTransport.verify (the credential test)', () => {
	const c = API_CASES.find((x) => x.id === 'ses') as ApiCase;

	test('ok on 2xx; a failure names the status and never the secret, in any encoding', async () => {
		nock(c.origin).get('/v2/email/account').reply(200, '{}');
		expect(await apiTransport(c).verify()).toEqual({ ok: true });
		nock(c.origin)
			.get('/v2/email/account')
			.reply(
				403,
				errorBody(
					`${'a'.repeat(280)}${SES_SECRET} ${b64(SES_SECRET)} ${encodeURIComponent(SES_TOKEN)}`,
				),
				{ 'x-amzn-ErrorType': 'InvalidSignatureException' },
			);
		const result = await apiTransport(c).verify();
		expect(result.ok).toBe(false);
		const message = result.ok ? '' : result.message;
		expect(message).toMatch(/^Amazon SES: HTTP 403 InvalidSignatureException/);
		for (const secret of c.secrets) expectNoLeak(message, secret);
	});
});
