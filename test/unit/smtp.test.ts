import net from 'node:net';
import {
	closeSmtpTransports,
	parseSmtpCredential,
	SmtpTransport,
	smtpTransportFor,
	testSmtpCredential,
	type SmtpCredentialInput,
	type SmtpTransportOptions,
} from '../../lib/transports/smtp';
import {
	classifySmtpError,
	parseSmtpReply,
	type SmtpErrorLike,
} from '../../lib/transports/smtpReplies';
import type {
	OutgoingMessage,
	SendFailure,
	SendOutcome,
	SendSuccess,
} from '../../lib/transports/types';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from '../helpers/smtpSink';

// ---------------------------------------------------------------------------------------------
// Reply classification: real replies as nodemailer hands them over
// ---------------------------------------------------------------------------------------------

type Expect = Pick<SendFailure, 'kind' | 'scope' | 'opensCircuit'> & { enhancedCode?: string };
const rcpt = (response: string): SmtpErrorLike => ({
	code: 'EENVELOPE',
	command: 'RCPT TO',
	response,
	message: `Recipient command failed: ${response}`,
});
const data = (response: string): SmtpErrorLike => ({
	code: 'EMESSAGE',
	command: 'DATA',
	response,
	message: `Message failed: ${response}`,
});
const mailFrom = (response: string): SmtpErrorLike => ({
	code: 'EENVELOPE',
	command: 'MAIL FROM',
	response,
	message: `Mail command failed: ${response}`,
});
const auth = (response: string): SmtpErrorLike => ({
	code: 'EAUTH',
	command: 'AUTH PLAIN',
	response,
	message: `Invalid login: ${response}`,
});
const gmail = (code: string, lines: string[]) =>
	lines
		.map((l, i) => `${code.slice(0, 3)}${i < lines.length - 1 ? '-' : ' '}${code.slice(4)} ${l}`)
		.join('\n');

const replyTable: Array<[string, SmtpErrorLike, Expect]> = [
	// Yahoo / AOL (postmaster.yahooinc.com/error-codes): TS codes are policy deferrals, even with 421
	[
		'yahoo TSS04',
		mailFrom(
			'421 4.7.0 [TSS04] Messages from 198.51.100.7 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
		),
		{ kind: 'blocked', scope: 'route', enhancedCode: '4.7.0' },
	],
	[
		'yahoo TS03',
		mailFrom(
			'421 4.7.1 [TS03] All messages from 198.51.100.7 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes',
		),
		{ kind: 'blocked', scope: 'route' },
	],
	[
		'yahoo TS01',
		rcpt(
			'421 4.16.55 [TS01] Messages from 198.51.100.7 temporarily deferred due to excessive user complaints',
		),
		{ kind: 'blocked', scope: 'route', enhancedCode: '4.16.55' },
	],
	[
		'yahoo BL21',
		mailFrom(
			"553 5.7.1 [BL21] Connections will not be accepted from 198.51.100.7, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
		),
		{ kind: 'blocked', scope: 'route' },
	],
	[
		'yahoo 554 5.7.9 policy',
		data(
			'554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes',
		),
		{ kind: 'blocked', scope: 'route', enhancedCode: '5.7.9' },
	],
	// Microsoft
	[
		'outlook S3140',
		mailFrom(
			"550 5.7.1 Unfortunately, messages from [198.51.100.7] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [DM6NAM12FT056.eop-nam12.prod.protection.outlook.com]",
		),
		{ kind: 'blocked', scope: 'route' },
	],
	[
		'outlook OU-002',
		mailFrom(
			"550 5.7.1 Unfortunately, messages from [198.51.100.7] weren't sent. Please contact your Internet service provider since part of their network is on our block list (OU-002).",
		),
		{ kind: 'blocked', scope: 'route' },
	],
	[
		'hotmail SC-001 (no enhanced code)',
		mailFrom(
			"550 SC-001 (BAY004-MC4F49) Unfortunately, messages from 198.51.100.7 weren't sent. Please contact your Internet service provider since part of their network is on our block list.",
		),
		{ kind: 'blocked', scope: 'route' },
	],
	[
		'm365 5.7.606',
		rcpt(
			'550 5.7.606 Access denied, banned sending IP [198.51.100.7]. To request removal from this list please visit https://sender.office.com/ and follow the directions. (AS16012609)',
		),
		{ kind: 'blocked', scope: 'route', enhancedCode: '5.7.606' },
	],
	[
		'm365 5.7.708',
		rcpt(
			'550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP. For more information please go to http://go.microsoft.com/fwlink/?LinkId=526653 AS(7171)',
		),
		{ kind: 'blocked', scope: 'route', enhancedCode: '5.7.708' },
	],
	[
		'm365 451 4.7.500 server busy',
		rcpt(
			'451 4.7.500 Server busy. Please try again later from [198.51.100.7]. (AS761) [BN1NAM02FT012.eop-nam02.prod.protection.outlook.com]',
		),
		{ kind: 'transient', scope: 'route', enhancedCode: '4.7.500' },
	],
	[
		'exchange 421 4.3.2 concurrency',
		mailFrom(
			'421 4.3.2 The maximum number of concurrent connections has exceeded a limit, closing transmission channel',
		),
		{ kind: 'transient', scope: 'route' },
	],
	[
		'exchange 5.1.10 recipient not found',
		rcpt('550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'),
		{ kind: 'permanent', scope: 'recipient', enhancedCode: '5.1.10' },
	],
	[
		'exchange 5.7.1 RESOLVER.RST (group restriction)',
		rcpt('550 5.7.1 RESOLVER.RST.AuthRequired; authentication required'),
		{ kind: 'permanent', scope: 'recipient' },
	],
	// Gmail (multi-line, as nodemailer joins them)
	[
		'gmail 5.7.26 unauthenticated',
		data(
			gmail('550-5.7.26', [
				'This mail has been blocked because the sender is unauthenticated.',
				'Gmail requires all senders to authenticate with either SPF or DKIM.',
				'https://support.google.com/mail/answer/81126#authentication a1si - gsmtp',
			]),
		),
		{ kind: 'blocked', scope: 'route', enhancedCode: '5.7.26' },
	],
	[
		'gmail 5.7.27 SPF',
		data(
			gmail('550-5.7.27', [
				'This mail has been blocked because the sender is unauthenticated.',
				'The sender must pass SPF. - gsmtp',
			]),
		),
		{ kind: 'blocked', scope: 'route', enhancedCode: '5.7.27' },
	],
	[
		'gmail 5.7.28 unusual rate',
		data(
			gmail('550-5.7.28', [
				'[198.51.100.7] Our system has detected an unusual rate of',
				'unsolicited mail originating from your IP address. - gsmtp',
			]),
		),
		{ kind: 'blocked', scope: 'route', enhancedCode: '5.7.28' },
	],
	[
		'gmail 421 4.7.0 rate limited',
		data(
			gmail('421-4.7.0', [
				'[198.51.100.7 15] Our system has detected an unusual rate of',
				'unsolicited mail originating from your IP address. To protect our',
				'users from spam, mail sent from your IP address has been temporarily',
				'rate limited. - gsmtp',
			]),
		),
		{ kind: 'transient', scope: 'route', enhancedCode: '4.7.0' },
	],
	[
		'gmail 5.1.1 no such user',
		rcpt(
			gmail('550-5.1.1', [
				'The email account that you tried to reach does not exist. Please try',
				"double-checking the recipient's email address. https://support.google.com/mail/?p=NoSuchUser - gsmtp",
			]),
		),
		{ kind: 'permanent', scope: 'recipient', enhancedCode: '5.1.1' },
	],
	[
		'gmail 5.2.1 disabled',
		rcpt(
			'550 5.2.1 The email account that you tried to reach is disabled. https://support.google.com/mail/?p=DisabledUser - gsmtp',
		),
		{ kind: 'permanent', scope: 'recipient' },
	],
	[
		'gmail 452 4.2.2 over quota',
		rcpt(
			'452 4.2.2 The email account that you tried to reach is over quota. https://support.google.com/mail/?p=OverQuotaTemp - gsmtp',
		),
		{ kind: 'transient', scope: 'recipient', enhancedCode: '4.2.2' },
	],
	[
		'gmail 535 bad credentials',
		auth(
			'535 5.7.8 Username and Password not accepted. https://support.google.com/mail/?p=BadCredentials - gsmtp',
		),
		{ kind: 'blocked', scope: 'route', enhancedCode: '5.7.8', opensCircuit: true },
	],
	[
		'gmail 534 application-specific password required',
		auth(
			gmail('534-5.7.9', [
				'Application-specific password required. Learn more at',
				'https://support.google.com/mail/?p=InvalidSecondFactor - gsmtp',
			]),
		),
		{ kind: 'blocked', scope: 'route', enhancedCode: '5.7.9', opensCircuit: true },
	],
	[
		'm365 535 5.7.139 SMTP AUTH disabled for the tenant',
		auth(
			'535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.',
		),
		{ kind: 'blocked', scope: 'route', enhancedCode: '5.7.139', opensCircuit: true },
	],
	[
		'530 5.7.0 authentication required, at MAIL FROM',
		mailFrom('530 5.7.0 Authentication required'),
		{ kind: 'blocked', scope: 'route', enhancedCode: '5.7.0', opensCircuit: true },
	],
	[
		'538 encryption required for the mechanism',
		auth('538 5.7.11 Encryption required for requested authentication mechanism'),
		{ kind: 'blocked', scope: 'route', opensCircuit: true },
	],
	[
		'454 4.7.0 too many logins',
		auth('454 4.7.0 Too many login attempts, please try again later.'),
		{ kind: 'transient', scope: 'route' },
	],
	[
		'454 TLS not available now',
		{
			code: 'ETLS',
			command: 'STARTTLS',
			response: '454 4.7.0 TLS not available due to local problem',
			message: 'Error upgrading connection with STARTTLS',
		},
		{ kind: 'transient', scope: 'route' },
	],
	// Postfix / generic MTAs
	[
		'postfix greylisting 450 4.2.0',
		rcpt(
			'450 4.2.0 <to@example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html',
		),
		{ kind: 'transient', scope: 'route' },
	],
	[
		'451 4.7.1 try again later',
		rcpt('451 4.7.1 Service unavailable - try again later'),
		{ kind: 'transient', scope: 'route' },
	],
	[
		'452 4.5.3 too many recipients',
		rcpt('452 4.5.3 Error: too many recipients'),
		{ kind: 'transient', scope: 'route' },
	],
	[
		'postfix 554 5.7.1 client host rejected',
		rcpt('554 5.7.1 <unknown[198.51.100.7]>: Client host rejected: Access denied'),
		{ kind: 'blocked', scope: 'route' },
	],
	[
		'postfix relay access denied',
		rcpt('554 5.7.1 <to@example.org>: Relay access denied'),
		{ kind: 'blocked', scope: 'route' },
	],
	[
		'552 5.2.2 mailbox full',
		rcpt('552 5.2.2 <to@example.org>: Mailbox full'),
		{ kind: 'permanent', scope: 'recipient', enhancedCode: '5.2.2' },
	],
	[
		'553 5.1.3 bad address',
		rcpt('553 5.1.3 <to@@example.org>: Recipient address rejected: bad address syntax'),
		{ kind: 'permanent', scope: 'recipient' },
	],
	[
		'553 5.1.8 sender domain',
		mailFrom('553 5.1.8 <sender@nowhere.invalid>: Sender address rejected: Domain not found'),
		{ kind: 'permanent', scope: 'route' },
	],
	[
		'552 5.3.4 too big',
		data('552 5.3.4 Message size exceeds fixed maximum message size'),
		{ kind: 'permanent', scope: 'recipient' },
	],
	[
		'554 poor reputation, no enhanced code',
		mailFrom(
			"554 Your access to this mail system has been rejected due to the sending MTA's poor reputation.",
		),
		{ kind: 'blocked', scope: 'route' },
	],
	[
		'550 mailbox unavailable, no enhanced code',
		rcpt('550 Requested action not taken: mailbox unavailable'),
		{ kind: 'permanent', scope: 'recipient' },
	],
	[
		'503 bad sequence',
		rcpt('503 5.5.1 Error: need MAIL command'),
		{ kind: 'transient', scope: 'route' },
	],
	// failures without a reply
	[
		'connection refused',
		{
			code: 'ESOCKET',
			originalCode: 'ECONNREFUSED',
			command: 'CONN',
			message: 'connect ECONNREFUSED 127.0.0.1:2525',
		},
		{ kind: 'transient', scope: 'route' },
	],
	[
		'socket timeout',
		{ code: 'ETIMEDOUT', command: 'CONN', message: 'Timeout' },
		{ kind: 'transient', scope: 'route' },
	],
	[
		'dns failure',
		{
			code: 'EDNS',
			originalCode: 'ENOTFOUND',
			command: 'CONN',
			message: 'getaddrinfo ENOTFOUND smtp.nowhere.invalid',
		},
		{ kind: 'transient', scope: 'route' },
	],
	[
		'dns lookup failed for now',
		{
			code: 'EDNS',
			originalCode: 'EAI_AGAIN',
			command: 'CONN',
			message: 'getaddrinfo EAI_AGAIN smtp.example.com',
		},
		{ kind: 'transient', scope: 'route' },
	],
	[
		'TLS handshake reset (not configuration)',
		{
			code: 'ESOCKET',
			originalCode: 'ECONNRESET',
			command: 'CONN',
			message: 'Client network socket disconnected before secure TLS connection was established',
		},
		{ kind: 'transient', scope: 'route' },
	],
	[
		'implicit TLS against a plain-text port (wrong version number)',
		{
			code: 'ESOCKET',
			originalCode: 'ERR_SSL_WRONG_VERSION_NUMBER',
			command: 'CONN',
			message:
				'80BC2E01:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:355:',
		},
		{ kind: 'blocked', scope: 'route', opensCircuit: true },
	],
	[
		'no shared TLS version',
		{
			code: 'ESOCKET',
			originalCode: 'ERR_SSL_UNSUPPORTED_PROTOCOL',
			command: 'CONN',
			message: 'C0F7:error:0A000102:SSL routines:ssl_choose_client_version:unsupported protocol',
		},
		{ kind: 'blocked', scope: 'route', opensCircuit: true },
	],
	[
		'certificate for another host name',
		{
			code: 'ESOCKET',
			originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID',
			command: 'CONN',
			message:
				"Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
		},
		{ kind: 'blocked', scope: 'route', opensCircuit: true },
	],
	[
		'expired certificate',
		{
			code: 'ESOCKET',
			originalCode: 'CERT_HAS_EXPIRED',
			command: 'CONN',
			message: 'certificate has expired',
		},
		{ kind: 'blocked', scope: 'route', opensCircuit: true },
	],
	[
		'AUTH demanded but no credentials given (ENOAUTH)',
		{
			code: 'ENOAUTH',
			command: 'API',
			message: 'Authentication info was not provided',
		},
		{ kind: 'blocked', scope: 'route', opensCircuit: true },
	],
	[
		'connection closed',
		{ code: 'ECONNECTION', command: 'CONN', message: 'Connection closed unexpectedly' },
		{ kind: 'transient', scope: 'route' },
	],
	[
		'self-signed certificate',
		{
			code: 'ETLS',
			command: 'STARTTLS',
			message: 'Error initiating TLS - self-signed certificate',
		},
		{ kind: 'blocked', scope: 'route', opensCircuit: true },
	],
	[
		'missing credentials',
		{ code: 'EAUTH', command: 'API', message: 'Missing credentials for "PLAIN"' },
		{ kind: 'blocked', scope: 'route', opensCircuit: true },
	],
	[
		'STARTTLS required but not offered',
		{
			code: 'ETLS',
			command: 'STARTTLS',
			response: '502 Error: command not implemented',
			message: 'Error upgrading connection with STARTTLS',
		},
		{ kind: 'blocked', scope: 'route', opensCircuit: true },
	],
	[
		'all recipients rejected, one deferred',
		{
			code: 'EENVELOPE',
			command: 'RCPT TO',
			response: '451 4.7.1 Greylisted',
			responseCode: 451,
			message: "Can't send mail - all recipients were rejected: 451 4.7.1 Greylisted",
		},
		{ kind: 'transient', scope: 'route' },
	],
];

describe('classifySmtpError: real-world replies', () => {
	test.each(replyTable)('%s', (_name, err, expected) => {
		const failure = classifySmtpError(err);
		expect(failure).toMatchObject({ ok: false, kind: expected.kind, scope: expected.scope });
		// only what no retry can fix opens the circuit at once
		expect(failure.opensCircuit).toBe(expected.opensCircuit);
		if (expected.enhancedCode) expect(failure.enhancedCode).toBe(expected.enhancedCode);
		if (err.response) expect(failure.code).toBe(Number(err.response.slice(0, 3)));
		expect(failure.message).not.toMatch(/\n/);
	});

	test('never throws, whatever it is handed', () => {
		for (const thing of [undefined, null, 'boom', 42, {}, new Error('x')]) {
			expect(classifySmtpError(thing)).toMatchObject({
				ok: false,
				kind: 'transient',
				scope: 'route',
			});
		}
	});

	test('parseSmtpReply: enhanced code only where it stands alone, never the tail of an IP', () => {
		expect(parseSmtpReply('550 Blocked: 10.5.100.1 is listed')).toEqual({
			code: 550,
			enhancedCode: undefined,
			text: '550 Blocked: 10.5.100.1 is listed',
		});
		expect(parseSmtpReply('550-5.1.1 No such user\r\n550 5.1.1 try again').enhancedCode).toBe(
			'5.1.1',
		);
		expect(parseSmtpReply('421 Service not available (4.3.2)').enhancedCode).toBe('4.3.2');
	});
});

// ---------------------------------------------------------------------------------------------
// Credential
// ---------------------------------------------------------------------------------------------

describe('parseSmtpCredential', () => {
	test('defaults: port by security, pool of 5, 100 messages per connection, no rate limit, strict certificates', () => {
		expect(parseSmtpCredential({ host: 'smtp.example.com', security: 'tls' })).toMatchObject({
			port: 465,
			poolSize: 5,
			messagesPerConnection: 100,
			rateLimit: 0,
			allowUnauthorizedCerts: false,
		});
		expect(parseSmtpCredential({ host: 'smtp.example.com' })).toMatchObject({
			port: 587,
			security: 'starttls',
		});
		expect(
			parseSmtpCredential({ host: 'smtp.example.com', security: 'starttlsRequired', port: 0 }).port,
		).toBe(587);
		expect(parseSmtpCredential({ host: 'smtp.example.com', security: 'none', port: '' }).port).toBe(
			25,
		);
		expect(
			parseSmtpCredential({ host: 'smtp.example.com', security: 'none', port: 2525 }).port,
		).toBe(2525);
	});

	test('errors name the field and never echo the password', () => {
		const secret = 'S3cr3t-hunter2';
		expect(() => parseSmtpCredential({ host: '', password: secret })).toThrow(/host/);
		expect(() => parseSmtpCredential({ host: 'h', port: 70000, password: secret })).toThrow(/port/);
		expect(() => parseSmtpCredential({ host: 'h', security: 'ssl', password: secret })).toThrow(
			/security must be one of 'tls', 'starttls'/,
		);
		for (const bad of [
			{ host: 'h', password: 12345 },
			{ host: 'h', password: { secret } },
			{ password: secret, poolSize: 0 },
		]) {
			try {
				parseSmtpCredential(bad);
				throw new Error('expected a parse error');
			} catch (err) {
				expect((err as Error).message).toMatch(/^Invalid SMTP credential: /);
				expect((err as Error).message).not.toContain(secret);
				expect((err as Error).message).not.toContain('12345');
			}
		}
	});
});

// ---------------------------------------------------------------------------------------------
// SmtpTransport against real sinks on loopback
// ---------------------------------------------------------------------------------------------

const message = (over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
	from: { address: 'sender@example.com', name: 'Route Sender' },
	to: [{ address: 'to@example.org', name: 'To Person' }],
	cc: [],
	bcc: [],
	subject: 'Hello',
	text: 'Hi there',
	headers: {},
	attachments: [],
	tags: [],
	metadata: {},
	...over,
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!();
});
afterAll(() => closeSmtpTransports());

async function sink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
	const s = await startSmtpSink(options);
	cleanups.push(() => s.stop());
	return s;
}

function transportTo(
	port: number,
	over: Partial<SmtpCredentialInput> = {},
	options?: SmtpTransportOptions,
): SmtpTransport {
	const t = new SmtpTransport(
		parseSmtpCredential({ host: '127.0.0.1', port, security: 'none', ...over }),
		options,
	);
	cleanups.push(() => t.close());
	return t;
}

function expectFailure(outcome: SendOutcome): SendFailure {
	if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
	return outcome;
}

async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error('condition not met in time');
		await sleep(10);
	}
}

describe('SmtpTransport', () => {
	test('delivers a parseable message: headers, cc, reply-to, attachments; bcc only in the envelope', async () => {
		const s = await sink();
		const t = transportTo(s.port, { ehloName: 'mta1.example.com' });
		const outcome = await t.send(
			message({
				cc: [{ address: 'cc@example.org' }],
				bcc: [{ address: 'hidden@example.org' }],
				replyTo: { address: 'replies@example.com', name: 'Replies' },
				subject: 'Quarterly numbers ✓',
				html: '<p>Hi <img src="cid:logo@example"></p>',
				headers: { 'X-Virtual-MTA': 'pool-a', 'List-Unsubscribe': '<mailto:unsub@example.com>' },
				attachments: [
					{ filename: 'report.csv', contentType: 'text/csv', content: Buffer.from('a,b\n1,2\n') },
					{
						filename: 'logo.png',
						contentType: 'image/png',
						content: Buffer.from([0x89, 0x50, 0x4e, 0x47]),
						cid: 'logo@example',
					},
				],
			}),
		);
		expect(outcome).toMatchObject({ ok: true, code: 250 });
		const success = outcome as SendSuccess;
		expect(success.response).toContain('queued as sink-1');
		expect(success.refused).toBeUndefined();

		expect(s.messages).toHaveLength(1);
		const { parsed, rcpts, mailFrom, ehlo, secure, raw } = s.messages[0];
		expect(success.messageId).toBe(
			parsed.messageId && `<${parsed.messageId.replace(/^<|>$/g, '')}>`,
		);
		expect(mailFrom).toBe('sender@example.com');
		expect(rcpts.sort()).toEqual(['cc@example.org', 'hidden@example.org', 'to@example.org']);
		expect(ehlo).toBe('mta1.example.com');
		expect(secure).toBe(false);
		expect(parsed.subject).toBe('Quarterly numbers ✓');
		expect(parsed.from?.value).toEqual([{ address: 'sender@example.com', name: 'Route Sender' }]);
		expect(parsed.headers.get('x-virtual-mta')).toBe('pool-a');
		expect(raw.toString('latin1')).toMatch(/^List-Unsubscribe: <mailto:unsub@example\.com>\r$/m);
		expect(JSON.stringify(parsed.cc)).toContain('cc@example.org');
		expect(parsed.replyTo?.value).toEqual([{ address: 'replies@example.com', name: 'Replies' }]);
		expect(parsed.bcc).toBeUndefined();
		expect(raw.toString('latin1')).not.toMatch(/^bcc:/im);
		expect(raw.toString('latin1')).not.toContain('hidden@example.org');
		const csv = parsed.attachments.find((a) => a.filename === 'report.csv');
		expect(csv).toMatchObject({ contentType: 'text/csv', contentDisposition: 'attachment' });
		expect(csv?.content.toString()).toBe('a,b\n1,2\n');
		const logo = parsed.attachments.find((a) => a.filename === 'logo.png');
		expect(logo).toMatchObject({
			contentType: 'image/png',
			cid: 'logo@example',
			contentDisposition: 'inline',
		});
	});

	test('451 then accept: the deferral is transient for the route, the next send goes through', async () => {
		const s = await sink({
			reply: ({ phase, attempt }) =>
				phase === 'rcpt' && attempt === 1
					? { code: 451, message: '4.7.1 Greylisted, try again later' }
					: undefined,
		});
		const t = transportTo(s.port);
		const first = expectFailure(await t.send(message()));
		expect(first).toMatchObject({
			kind: 'transient',
			scope: 'route',
			code: 451,
			enhancedCode: '4.7.1',
		});
		expect(await t.send(message())).toMatchObject({ ok: true });
		expect(s.messages).toHaveLength(1);
		expect(s.attempts.rcpt).toBe(2);
	});

	test("550 5.1.1 at RCPT: permanent, the recipient's problem", async () => {
		const s = await sink({
			reply: ({ rcpt }) =>
				rcpt === 'gone@example.org'
					? { code: 550, message: '5.1.1 <gone@example.org>: user unknown' }
					: undefined,
		});
		const t = transportTo(s.port);
		const failure = expectFailure(await t.send(message({ to: [{ address: 'gone@example.org' }] })));
		expect(failure).toMatchObject({
			kind: 'permanent',
			scope: 'recipient',
			code: 550,
			enhancedCode: '5.1.1',
		});
		expect(failure.message).toContain('user unknown');

		// one bad recipient among good ones: delivered, with the refusal reported beside it
		const partial = (await t.send(
			message({ to: [{ address: 'to@example.org' }, { address: 'gone@example.org' }] }),
		)) as SendSuccess;
		expect(partial.ok).toBe(true);
		expect(partial.refused).toEqual([
			{
				address: 'gone@example.org',
				failure: expect.objectContaining({ kind: 'permanent', scope: 'recipient', code: 550 }),
			},
		]);
		expect(s.messages[0].rcpts).toEqual(['to@example.org']);
	});

	test('554 5.7.1 at DATA: blocked on policy grounds, a route problem', async () => {
		const s = await sink({
			reply: ({ phase }) =>
				phase === 'data'
					? { code: 554, message: '5.7.1 Message rejected: sending IP listed at zen.spamhaus.org' }
					: undefined,
		});
		const failure = expectFailure(await transportTo(s.port).send(message()));
		expect(failure).toMatchObject({
			kind: 'blocked',
			scope: 'route',
			code: 554,
			enhancedCode: '5.7.1',
		});
		expect(s.attempts.data).toBe(1);
	});

	test('connection refused: transient for the route, quickly', async () => {
		const port = await freePort();
		const started = Date.now();
		const failure = expectFailure(await transportTo(port).send(message()));
		expect(failure).toMatchObject({ kind: 'transient', scope: 'route' });
		// a relay that is down counts toward the circuit, but may come back: it does not open it
		expect(failure.opensCircuit).toBeUndefined();
		expect(failure.message).toMatch(/ECONNREFUSED/);
		expect(Date.now() - started).toBeLessThan(2000);
	});

	test('a sink stopped mid-run really refuses: open pooled connections are dropped too', async () => {
		const s = await startSmtpSink();
		const t = transportTo(s.port);
		expect(await t.send(message())).toMatchObject({ ok: true });
		await s.stop();
		expect(expectFailure(await t.send(message()))).toMatchObject({
			kind: 'transient',
			scope: 'route',
		});
	});

	test('a reply to the final dot slower than the socket timeout: unknown, and indeed delivered', async () => {
		// the server queues the message after 1.5 s; the client gave up after 300 ms. Retrying would
		// have sent it twice: the outcome is unknown, not transient
		const s = await sink({ delayMs: 1500 });
		const started = Date.now();
		const failure = expectFailure(
			await transportTo(s.port, {}, { socketTimeoutMs: 300 }).send(message()),
		);
		expect(failure).toMatchObject({ kind: 'unknown', scope: 'route' });
		expect(failure.message).toMatch(/may have been delivered/);
		expect(Date.now() - started).toBeLessThan(1400);
		await waitFor(() => s.messages.length === 1);
		expect(s.attempts.data).toBe(1);
	});

	describe('AUTH', () => {
		const user = 'route-user';
		const password = 'correct horse battery staple';
		const wrong = 'wr0ng-Pa55word!';
		const b64 = (s: string) => Buffer.from(s).toString('base64');
		// the sink speaks no TLS: authenticating needs the explicit plain-text choice
		const security = 'noneInsecureAuth';

		test('correct credentials deliver; a wrong password (535 5.7.8) blocks the route, opens its circuit and never appears in messages', async () => {
			const s = await sink({ auth: { user, pass: password } });
			expect(await transportTo(s.port, { security, user, password }).send(message())).toMatchObject(
				{ ok: true },
			);

			const bad = transportTo(s.port, { security, user, password: wrong });
			const failure = expectFailure(await bad.send(message()));
			expect(failure).toMatchObject({
				kind: 'blocked',
				scope: 'route',
				opensCircuit: true,
				code: 535,
				enhancedCode: '5.7.8',
			});
			const verified = await bad.verify();
			expect(verified.ok).toBe(false);
			const tested = await testSmtpCredential({
				host: '127.0.0.1',
				port: s.port,
				security,
				user,
				password: wrong,
			});
			expect(tested.status).toBe('Error');
			for (const text of [failure.message, !verified.ok ? verified.message : '', tested.message]) {
				expect(text).toMatch(/535/);
				expect(text).not.toContain(wrong);
				expect(text).not.toContain(b64(wrong));
				expect(text).not.toContain(b64(`\0${user}\0${wrong}`));
			}
			expect(s.messages).toHaveLength(1);
		});

		test('verify() and testSmtpCredential() succeed with the right password', async () => {
			const s = await sink({ auth: { user, pass: password } });
			expect(await transportTo(s.port, { security, user, password }).verify()).toEqual({
				ok: true,
			});
			expect(
				await testSmtpCredential({ host: '127.0.0.1', port: s.port, security, user, password }),
			).toEqual({ status: 'OK', message: 'Connection successful' });
			expect(await testSmtpCredential({ host: '', password })).toMatchObject({
				status: 'Error',
				message: expect.stringContaining('host'),
			});
		});

		test('a server that echoes the password back has it redacted', async () => {
			const echoed = 'echo-me-n0t';
			const s = await sink({
				reply: () => ({
					code: 550,
					message: `5.7.1 rejected, your password is ${echoed} (${b64(echoed)})`,
				}),
			});
			const failure = expectFailure(
				await transportTo(s.port, { security, user: 'u', password: echoed }, {}).send(message()),
			);
			expect(failure.message).toContain('[redacted]');
			expect(failure.message).not.toContain(echoed);
			expect(failure.message).not.toContain(b64(echoed));
		});
	});

	describe('TLS with the self-signed fixture certificate', () => {
		// A certificate the route does not accept is configuration, like a wrong password: retrying
		// the same route cannot fix it, so blocked/route with the circuit opened at once
		test('STARTTLS: refused by default (blocked/route, opens the circuit), accepted with allowUnauthorizedCerts', async () => {
			const s = await sink({ tls: 'starttls' });
			const failure = expectFailure(
				await transportTo(s.port, { security: 'starttls' }).send(message()),
			);
			expect(failure).toMatchObject({ kind: 'blocked', scope: 'route', opensCircuit: true });
			expect(failure.message).toMatch(/certificate/i);
			expect(s.messages).toHaveLength(0);

			expect(
				await transportTo(s.port, { security: 'starttls', allowUnauthorizedCerts: true }).send(
					message(),
				),
			).toMatchObject({ ok: true });
			expect(s.messages[0].secure).toBe(true);
		});

		test('implicit TLS: refused by default (blocked/route, opens the circuit), accepted with allowUnauthorizedCerts', async () => {
			const s = await sink({ tls: 'implicit' });
			const failure = expectFailure(await transportTo(s.port, { security: 'tls' }).send(message()));
			expect(failure).toMatchObject({ kind: 'blocked', scope: 'route', opensCircuit: true });
			expect(failure.message).toMatch(/certificate/i);

			expect(
				await transportTo(s.port, { security: 'tls', allowUnauthorizedCerts: true }).send(
					message(),
				),
			).toMatchObject({ ok: true });
			expect(s.messages[0].secure).toBe(true);
		});

		test('starttlsRequired against a server without STARTTLS fails instead of sending in plain text', async () => {
			const s = await sink({ tls: 'none' });
			const failure = expectFailure(
				await transportTo(s.port, { security: 'starttlsRequired' }).send(message()),
			);
			// blocked, not permanent: this route cannot send it, a backup route (Fallback) may; and
			// nothing will go through it until the server or the credential changes
			expect(failure).toMatchObject({ kind: 'blocked', scope: 'route', opensCircuit: true });
			expect(failure.message).toMatch(
				/offers no STARTTLS.*Security setting is 'STARTTLS Required'/,
			);
			expect(s.attempts.rcpt).toBe(0);
		});

		test('none: ignores an offered STARTTLS (so no certificate error) and sends in plain text', async () => {
			const s = await sink({ tls: 'starttls' });
			expect(await transportTo(s.port, { security: 'none' }).send(message())).toMatchObject({
				ok: true,
			});
			expect(s.messages[0].secure).toBe(false);
		});
	});

	describe('pooling', () => {
		test('50 concurrent sends share at most poolSize connections', async () => {
			const s = await sink();
			const t = transportTo(s.port, { poolSize: 3 });
			const outcomes = await Promise.all(
				Array.from({ length: 50 }, (_, i) => t.send(message({ subject: `m${i}` }))),
			);
			expect(outcomes.every((o) => o.ok)).toBe(true);
			expect(s.messages).toHaveLength(50);
			expect(s.connections).toBeGreaterThanOrEqual(1);
			expect(s.connections).toBeLessThanOrEqual(3);
		});

		test('a connection is replaced after messagesPerConnection messages', async () => {
			const s = await sink();
			const t = transportTo(s.port, { poolSize: 1, messagesPerConnection: 2 });
			for (let i = 0; i < 5; i++) expect(await t.send(message())).toMatchObject({ ok: true });
			expect(s.connections).toBe(3);
		});
	});

	describe('registry', () => {
		afterEach(() => closeSmtpTransports());

		test('same credential → same transport (and pool); a different credential → another one', async () => {
			const s = await sink();
			const cred = { host: '127.0.0.1', port: s.port, security: 'none', user: '', password: '' };
			const a = smtpTransportFor(cred);
			expect(smtpTransportFor({ ...cred })).toBe(a);
			expect(smtpTransportFor({ security: 'none', port: s.port, host: '127.0.0.1' })).toBe(a); // defaults fill in the same
			expect(smtpTransportFor({ ...cred, password: 'other' })).not.toBe(a);
			expect(smtpTransportFor({ ...cred, poolSize: 2 })).not.toBe(a);
			expect(smtpTransportFor(cred, { socketTimeoutMs: 1000 })).not.toBe(a);

			await Promise.all([
				a.send(message()),
				smtpTransportFor(cred).send(message()),
				a.send(message()),
			]);
			expect(s.connections).toBeLessThanOrEqual(3);
			expect(s.messages).toHaveLength(3);
		});

		test('closes a transport after the idle timeout, reset by each use', async () => {
			const s = await sink();
			const cred = { host: '127.0.0.1', port: s.port, security: 'none' };
			const t = smtpTransportFor(cred, { idleTimeoutMs: 500 });
			expect(await t.send(message())).toMatchObject({ ok: true });
			expect(s.openConnections()).toBe(1);
			await sleep(300);
			expect(await t.send(message())).toMatchObject({ ok: true }); // resets the timer
			await sleep(300); // over 500 ms after the first use, 300 after the last
			expect(smtpTransportFor(cred, { idleTimeoutMs: 500 })).toBe(t);
			expect(s.openConnections()).toBe(1);
			await waitFor(() => s.openConnections() === 0); // idle close
			expect(smtpTransportFor(cred, { idleTimeoutMs: 500 })).not.toBe(t);
			// a holder of the closed transport can still send: it opens a new pool
			expect(await t.send(message())).toMatchObject({ ok: true });
			t.close();
		});
	});

	test('TCP_NODELAY is set on the client socket (nodemailer smtp-connection _onConnect)', async () => {
		// nodemailer >= 10.1 calls socket.setNoDelay(true) in SMTPConnection#_onConnect
		// (dist/cjs/smtp-connection/index.js), once the connection is up and before the greeting
		const s = await sink();
		const spy = jest.spyOn(net.Socket.prototype, 'setNoDelay');
		try {
			expect(await transportTo(s.port).send(message())).toMatchObject({ ok: true });
			const calls = spy.mock.calls.map((args, i) => ({
				noDelay: args[0],
				socket: spy.mock.contexts[i] as net.Socket,
			}));
			const client = calls.filter((c) => c.socket.remotePort === s.port);
			expect(client.length).toBeGreaterThanOrEqual(1);
			expect(client.every((c) => c.noDelay === true)).toBe(true);
		} finally {
			spy.mockRestore();
		}
	});
});
