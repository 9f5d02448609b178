/**
 * Security properties of the transports, each against a real counterpart: an smtp-server sink on
 * loopback for SMTP, nock for the email APIs.
 *  2. item data (attachment MIME types, file names, field names) cannot alter a provider request
 */

import https from 'node:https';
import nock from 'nock';
import { API_PROVIDERS, ApiTransport, type ApiProviderId } from '../../lib/transports/api';
import { checkMimeType } from '../../lib/transports/mime';
import { parseSmtpCredential, SmtpTransport, type SmtpCredentialInput } from '../../lib/transports/smtp';
import type { HttpClient, OutgoingMessage, SendFailure, SendOutcome } from '../../lib/transports/types';
import { startSmtpSink } from '../helpers/smtpSink';

const httpsClient: HttpClient = (request) =>
	new Promise((resolve, reject) => {
		const req = https.request(request.url, { method: request.method, headers: request.headers }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
			res.on('error', reject);
		});
		req.on('error', reject);
		req.end(request.body);
	});

const NOW = new Date('2024-01-02T03:04:05Z');

const MESSAGE: OutgoingMessage = {
	from: { address: 'news@sender.example', name: 'Sender Co' },
	to: [{ address: 'ann@example.org', name: 'Ann' }],
	cc: [],
	bcc: [],
	subject: 'Your receipt',
	text: 'Thanks for your order.',
	headers: {},
	attachments: [{ filename: 'receipt.txt', contentType: 'text/plain', content: Buffer.from('total: 42\n') }],
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
// 2. Item data cannot alter a provider request
// ---------------------------------------------------------------------------------------------------

const INJECTED_TYPE = 'text/plain\r\nContent-Disposition: form-data; name="bcc"\r\n\r\nvictim@evil.test';
const INJECTED_NAME = 'x.txt"\r\nContent-Disposition: form-data; name="bcc"\r\n\r\nvictim@evil.test\r\n--';

interface ApiCase {
	id: ApiProviderId;
	data: Record<string, string>;
	origin: string;
	sendPath: string;
	ok: { status: number; body: string };
	/** every secret of the credential, as secrets() should list them */
	secrets: string[];
}

const SES_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SES_TOKEN = 'FwoGZXIvYXdzEXAMPLE/session+token==';

const API_CASES: ApiCase[] = [
	{ id: 'sendgrid', data: { apiKey: 'SG.test-key.secret-part/x+y' }, origin: 'https://api.sendgrid.com', sendPath: '/v3/mail/send', ok: { status: 202, body: '' }, secrets: ['SG.test-key.secret-part/x+y'] },
	{ id: 'mailgun', data: { apiKey: 'key-mailgun-secret-3f9a', domain: 'mg.sender.example' }, origin: 'https://api.mailgun.net', sendPath: '/v3/mg.sender.example/messages', ok: { status: 200, body: '{"id":"<m@mg>"}' }, secrets: ['key-mailgun-secret-3f9a'] },
	{ id: 'postmark', data: { serverToken: 'pm-server-token-secret-77' }, origin: 'https://api.postmarkapp.com', sendPath: '/email', ok: { status: 200, body: '{"MessageID":"pm-1","ErrorCode":0}' }, secrets: ['pm-server-token-secret-77'] },
	{ id: 'sparkpost', data: { apiKey: 'sp-api-key-secret+plus/slash' }, origin: 'https://api.sparkpost.com', sendPath: '/api/v1/transmissions', ok: { status: 200, body: '{"results":{"id":"1"}}' }, secrets: ['sp-api-key-secret+plus/slash'] },
	{ id: 'ses', data: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SES_SECRET, sessionToken: SES_TOKEN, region: 'eu-west-1' }, origin: 'https://email.eu-west-1.amazonaws.com', sendPath: '/v2/email/outbound-emails', ok: { status: 200, body: '{"MessageId":"ses-1"}' }, secrets: [SES_SECRET, SES_TOKEN] },
	{ id: 'resend', data: { apiKey: 're_test_secret_key_4k2' }, origin: 'https://api.resend.com', sendPath: '/emails', ok: { status: 200, body: '{"id":"r-1"}' }, secrets: ['re_test_secret_key_4k2'] },
	{ id: 'brevo', data: { apiKey: 'xkeysib-brevo-secret-9z' }, origin: 'https://api.brevo.com', sendPath: '/v3/smtp/email', ok: { status: 201, body: '{"messageId":"b-1"}' }, secrets: ['xkeysib-brevo-secret-9z'] },
];

function apiTransport(c: ApiCase): ApiTransport<unknown> {
	const provider = API_PROVIDERS[c.id];
	return new ApiTransport(provider, provider.parseCredential(c.data), httpsClient, () => NOW);
}

/** Records the bodies that reach nock (any number of requests). */
function capture(c: ApiCase, status = c.ok.status, reply: string | (() => string) = c.ok.body): Array<{ body: string; contentType: string }> {
	const seen: Array<{ body: string; contentType: string }> = [];
	nock(c.origin)
		.post(c.sendPath)
		.times(50)
		.reply(function (_uri, body) {
			seen.push({ body: typeof body === 'string' ? body : JSON.stringify(body), contentType: String(this.req.headers['content-type'] ?? '') });
			return [status, typeof reply === 'function' ? reply() : reply];
		});
	return seen;
}

/** Parses multipart/form-data the way a server would: every part's headers and name. */
function formParts(body: string, contentType: string): Array<{ name: string; names: string[]; filename?: string; type?: string; headers: string[]; value: string }> {
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
		attachments: [{ filename: 'report.txt', contentType: INJECTED_TYPE, content: Buffer.from('hello') }],
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
			attachments: [{ filename: INJECTED_NAME, contentType: 'text/plain', content: Buffer.from('hello') }],
		};
		expect(await apiTransport(c).send(message)).toMatchObject({ ok: true });
		expect(seen).toHaveLength(1);
		const parts = formParts(seen[0].body, seen[0].contentType);
		expect(parts.map((p) => p.name)).toEqual(['from', 'to', 'subject', 'text', expect.stringMatching(/^v:k/), 'attachment']);
		for (const part of parts) {
			// one Content-Disposition per part, and nothing but the headers a form part has
			expect(part.headers.filter((h) => /^content-disposition:/i.test(h))).toHaveLength(1);
			expect(part.headers.every((h) => /^content-(disposition|type):/i.test(h))).toBe(true);
		}
		const file = parts.find((p) => p.name === 'attachment');
		expect(file).toMatchObject({ type: 'text/plain', value: 'hello' });
		expect(file?.filename).not.toMatch(/[\r\n"]/);
	});

	test.each(API_CASES.map((c) => [c.id, c] as const))('%s refuses an attachment whose MIME type is not type/subtype', async (_id, c) => {
		const seen = capture(c);
		const failure = expectFailure(await apiTransport(c).send(injected));
		expect(failure).toMatchObject({ kind: 'permanent', scope: 'recipient' });
		expect(failure.message).toContain('report.txt');
		expect(failure.message).not.toMatch(/[\r\n]/);
		expect(seen).toHaveLength(0);
	});

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
// The pieces on their own
// ---------------------------------------------------------------------------------------------------

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
