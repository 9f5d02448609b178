/**
 * How the transports report the failures that decide what the pipeline may do next, each against
 * a real counterpart on loopback:
 *  1. failures no retry can fix (refused credentials, a certificate or TLS version the route does
 *     not accept) open the route's circuit at once; a relay that is down or unresolvable does not
 *  2. the end of the message without an answer (raw fault servers written with node:net): unknown,
 *     never retried, because the server may have the message; earlier failures stay transient
 *  3. some recipients refused (an smtp-server sink answering RCPT TO per recipient): a success that
 *     says who was refused and why, and a resend to those only (envelopeTo)
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PROVIDERS, ApiTransport } from '../../lib/transports/api';
import {
	parseSmtpCredential,
	SmtpTransport,
	type SmtpCredentialInput,
	type SmtpTransportOptions,
} from '../../lib/transports/smtp';
import type {
	HttpClient,
	OutgoingMessage,
	SendFailure,
	SendOutcome,
	SendSuccess,
} from '../../lib/transports/types';
import { httpsClient } from '../helpers/http';
import { plainMessage } from '../helpers/messages';
import { startSmtpFaultServer, type SmtpFault } from '../helpers/smtpFaultServer';
import {
	fixtureCert,
	otherHostCert,
	startSmtpSink,
	type SmtpSink,
	type SmtpSinkOptions,
} from '../helpers/smtpSink';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()?.();
});

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

async function sink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
	const s = await startSmtpSink(options);
	cleanups.push(() => s.stop());
	return s;
}

async function faultServer(fault: SmtpFault, faultOn = 1) {
	const s = await startSmtpFaultServer({ fault, faultOn });
	cleanups.push(() => s.stop());
	return s;
}

function expectFailure(outcome: SendOutcome): SendFailure {
	if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
	return outcome;
}

function expectSuccess(outcome: SendOutcome): SendSuccess {
	if (!outcome.ok) throw new Error(`expected a success, got ${JSON.stringify(outcome)}`);
	return outcome;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// nodemailer's pool requeues a message whose connection closed before its send callback ran,
// after 50 ms: waiting past that shows no second copy is on its way
const REQUEUE_WINDOW_MS = 300;

/** Large enough that the body cannot all be in socket buffers when the server drops mid-body. */
const bigMessage = (): OutgoingMessage => ({
	...plainMessage('to@example.org'),
	attachments: [
		{
			filename: 'big.bin',
			contentType: 'application/octet-stream',
			content: Buffer.alloc(8 * 1024 * 1024, 0x5a),
		},
	],
});

// ---------------------------------------------------------------------------------------------------
// 1. Failures no retry fixes open the circuit; a relay that is down or unresolvable does not
// ---------------------------------------------------------------------------------------------------

const CHILD = join(__dirname, '../helpers/smtpTlsChild.ts');

/** Runs test/helpers/smtpTlsChild.ts with these certificates trusted (NODE_EXTRA_CA_CERTS). */
function sendFromChild(
	trusted: Buffer[],
	jobs: Array<{ name: string; port: number; security: 'tls' | 'starttls' }>,
): Promise<Record<string, SendOutcome>> {
	const dir = mkdtempSync(join(tmpdir(), 'postal-ca-'));
	const bundle = join(dir, 'ca.pem');
	writeFileSync(bundle, Buffer.concat(trusted));
	return new Promise((resolve, reject) => {
		const child = spawn(
			process.execPath,
			['-r', 'ts-node/register/transpile-only', CHILD, JSON.stringify(jobs)],
			{
				env: { ...process.env, NODE_EXTRA_CA_CERTS: bundle },
				stdio: ['ignore', 'pipe', 'pipe'],
			},
		);
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d) => (stdout += d));
		child.stderr.on('data', (d) => (stderr += d));
		child.on('error', reject);
		child.on('exit', (code) => {
			rmSync(dir, { recursive: true, force: true });
			if (code !== 0) return reject(new Error(`child exited with ${code}: ${stderr}`));
			resolve(JSON.parse(stdout) as Record<string, SendOutcome>);
		});
	});
}

describe('SMTP: what opens the circuit at once', () => {
	test('a trusted certificate issued for another host name: blocked, opens the circuit (implicit TLS and STARTTLS)', async () => {
		const right = await sink({ tls: 'implicit' });
		const wrongImplicit = await sink({ tls: 'implicit', certificate: otherHostCert() });
		const wrongStarttls = await sink({ tls: 'starttls', certificate: otherHostCert() });
		const outcomes = await sendFromChild(
			[fixtureCert().cert, otherHostCert().cert],
			[
				// the control: the fixture for 127.0.0.1, trusted the same way, is accepted
				{ name: 'matching', port: right.port, security: 'tls' },
				{ name: 'implicit', port: wrongImplicit.port, security: 'tls' },
				{ name: 'starttls', port: wrongStarttls.port, security: 'starttls' },
			],
		);
		expect(outcomes.matching).toMatchObject({ ok: true });
		expect(right.messages).toHaveLength(1);
		for (const name of ['implicit', 'starttls']) {
			expect(outcomes[name]).toMatchObject({
				ok: false,
				kind: 'blocked',
				scope: 'route',
				opensCircuit: true,
				message: expect.stringMatching(/does not match certificate's altnames/),
			});
		}
		expect(wrongImplicit.messages).toHaveLength(0);
		expect(wrongStarttls.messages).toHaveLength(0);
	});

	test('implicit TLS against a plain-text port (wrong version number): blocked, opens the circuit', async () => {
		const s = await sink({ tls: 'none' });
		const failure = expectFailure(
			await transportTo(s.port, { security: 'tls' }).send(plainMessage('to@example.org')),
		);
		expect(failure).toMatchObject({ kind: 'blocked', scope: 'route', opensCircuit: true });
		expect(failure.message).toMatch(/wrong version number/);
		expect(failure.message.length).toBeLessThanOrEqual(300);
		expect(s.messages).toHaveLength(0);
	});

	test('an unresolvable relay host (.invalid): transient for the route, counts toward the circuit but does not open it', async () => {
		const t = new SmtpTransport(
			parseSmtpCredential({ host: 'relay.postal-routes.invalid', port: 2525, security: 'none' }),
			{ connectionTimeoutMs: 3000 },
		);
		cleanups.push(() => t.close());
		const failure = expectFailure(await t.send(plainMessage('to@example.org')));
		expect(failure).toMatchObject({ kind: 'transient', scope: 'route' });
		expect(failure.opensCircuit).toBeUndefined();
		// ENOTFOUND where a resolver answers, EAI_AGAIN where none can be reached
		expect(failure.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
	});
});

describe('API transports: a certificate the client refuses opens the circuit', () => {
	test('a self-signed certificate in front of the API (interception or a wrong endpoint): blocked, opens the circuit', async () => {
		const server = https.createServer(fixtureCert(), (_req, res) => res.end('{}'));
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
		const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
		// the provider's request, sent to the local server instead of the provider's host
		const redirected: HttpClient = (request) =>
			httpsClient({ ...request, url: request.url.replace(/^https:\/\/[^/]+/, origin) });
		const provider = API_PROVIDERS.resend;
		const failure = expectFailure(
			await new ApiTransport(
				provider,
				provider.parseCredential({ apiKey: 're_key_123456' }),
				redirected,
			).send(plainMessage('to@example.org')),
		);
		expect(failure).toEqual({
			ok: false,
			kind: 'blocked',
			scope: 'route',
			opensCircuit: true,
			message: 'Resend: request failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
		});
	});
});

// ---------------------------------------------------------------------------------------------------
// 2. The end of the message without an answer
// ---------------------------------------------------------------------------------------------------

describe('SMTP: a failure after the final dot is an unknown outcome, before it a transient one', () => {
	// a short socket timeout, so the server that never answers the dot times out quickly
	const options: SmtpTransportOptions = { socketTimeoutMs: 400 };

	test.each([
		['closeAfterDot', 'the server reads the whole message, then drops the connection'],
		['silentAfterDot', 'the server reads the final dot and never answers it'],
	] as const)(
		'%s (%s): unknown, and the server has the message exactly once',
		async (fault, _how) => {
			const s = await faultServer(fault);
			const failure = expectFailure(
				await transportTo(s.port, {}, options).send(plainMessage('to@example.org')),
			);
			expect(failure).toEqual({
				ok: false,
				kind: 'unknown',
				scope: 'route',
				message: expect.stringMatching(
					/^No reply to the end of the message \(.+\): it may have been delivered$/,
				),
			});
			expect(failure.message).toMatch(fault === 'closeAfterDot' ? /ECONNECTION/ : /ETIMEDOUT/);
			await sleep(REQUEUE_WINDOW_MS);
			expect(s.messages).toBe(1);
			expect(s.transactions).toBe(1);
			expect(s.connections).toBe(1);
		},
	);

	test('closeAfterDot on a reused pooled connection: the first message went, the second is unknown and arrived once', async () => {
		const s = await faultServer('closeAfterDot', 2);
		const t = transportTo(s.port, { poolSize: 1 }, options);
		expect(await t.send(plainMessage('first@example.org'))).toMatchObject({ ok: true });
		expect(await t.send(plainMessage('second@example.org'))).toMatchObject({
			ok: false,
			kind: 'unknown',
			scope: 'route',
		});
		await sleep(REQUEUE_WINDOW_MS);
		expect(s.connections).toBe(1);
		expect(s.transactions).toBe(2);
		expect(s.messages).toBe(2);
	});

	test.each([
		['closeMidBody', 'the server drops the connection in the middle of the body'],
		['closeAfterRcpt', 'the server drops the connection at RCPT TO'],
		['silentAfterRcpt', 'the server never answers RCPT TO'],
	] as const)('%s (%s): transient for the route, nothing delivered', async (fault, _how) => {
		const s = await faultServer(fault);
		const failure = expectFailure(
			await transportTo(s.port, {}, options).send(
				fault === 'closeMidBody' ? bigMessage() : plainMessage('to@example.org'),
			),
		);
		expect(failure).toMatchObject({ kind: 'transient', scope: 'route' });
		expect(failure.opensCircuit).toBeUndefined();
		await sleep(REQUEUE_WINDOW_MS);
		expect(s.messages).toBe(0);
		// the body had started arriving when the server dropped it, and only then
		expect(s.bodyBytes > 0).toBe(fault === 'closeMidBody');
	});
});

// ---------------------------------------------------------------------------------------------------
// 3. Some recipients refused
// ---------------------------------------------------------------------------------------------------

/** A sink that takes ok@ and refuses busy@ (452, try later) and gone@ (550 5.1.1) at RCPT TO. */
const refusingSink = () =>
	sink({
		reply: ({ phase, rcpt }) => {
			if (phase !== 'rcpt') return undefined;
			if (rcpt === 'busy@example.org')
				return { code: 452, message: '4.2.0 <busy@example.org>: mailbox busy, try again later' };
			if (rcpt === 'gone@example.org')
				return {
					code: 550,
					message: '5.1.1 <gone@example.org>: Recipient address rejected: User unknown',
				};
			return undefined;
		},
	});

const threeRecipients = (over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
	...plainMessage('ok@example.org'),
	to: [{ address: 'ok@example.org' }, { address: 'busy@example.org', name: 'Busy Person' }],
	cc: [{ address: 'gone@example.org' }],
	...over,
});

describe('SMTP: some recipients refused', () => {
	test('ok@ accepted, busy@ 452, gone@ 550 5.1.1: a success that names both refusals, with their codes', async () => {
		const s = await refusingSink();
		const success = expectSuccess(await transportTo(s.port).send(threeRecipients()));
		expect(success.code).toBe(250);
		expect(success.refused).toEqual([
			{
				address: 'busy@example.org',
				// the route took the message for ok@: the deferral is busy@'s, not the route's
				failure: {
					ok: false,
					kind: 'transient',
					scope: 'recipient',
					code: 452,
					enhancedCode: '4.2.0',
					message: expect.stringContaining('mailbox busy'),
				},
			},
			{
				address: 'gone@example.org',
				failure: {
					ok: false,
					kind: 'permanent',
					scope: 'recipient',
					code: 550,
					enhancedCode: '5.1.1',
					message: expect.stringContaining('User unknown'),
				},
			},
		]);
		expect(s.messages).toHaveLength(1);
		expect(s.messages[0].rcpts).toEqual(['ok@example.org']);
	});

	test('every recipient refused: still a failure, with what each one was told', async () => {
		const s = await refusingSink();
		const failure = expectFailure(
			await transportTo(s.port).send(
				threeRecipients({
					to: [{ address: 'busy@example.org' }],
					cc: [{ address: 'gone@example.org' }],
				}),
			),
		);
		// nodemailer reports the deferred reply for the whole message: worth a retry later
		expect(failure).toMatchObject({ kind: 'transient', scope: 'route', code: 452 });
		expect(failure.refused).toEqual([
			{
				address: 'busy@example.org',
				failure: expect.objectContaining({ kind: 'transient', code: 452, enhancedCode: '4.2.0' }),
			},
			{
				address: 'gone@example.org',
				failure: expect.objectContaining({
					kind: 'permanent',
					scope: 'recipient',
					code: 550,
					enhancedCode: '5.1.1',
				}),
			},
		]);
		expect(s.messages).toHaveLength(0);
	});

	test('envelopeTo: the resend goes to busy@ alone, with the headers of the first send', async () => {
		const s = await sink();
		const t = transportTo(s.port);
		const message = threeRecipients({
			bcc: [{ address: 'hidden@example.org' }],
			// as the pipeline writes it; case does not matter
			envelopeTo: ['BUSY@example.org', 'hidden@example.org'],
		});
		expectSuccess(await t.send(message));
		expect(s.messages).toHaveLength(1);
		const { rcpts, parsed, raw } = s.messages[0];
		expect(rcpts).toEqual(['busy@example.org', 'hidden@example.org']);
		// headers stay as they are: To and Cc name everyone the message is addressed to
		expect(parsed.to).toMatchObject({
			value: [{ address: 'ok@example.org' }, { address: 'busy@example.org', name: 'Busy Person' }],
		});
		expect(parsed.cc).toMatchObject({ value: [{ address: 'gone@example.org' }] });
		expect(raw.toString('latin1')).not.toContain('hidden@example.org');
	});

	test.each([
		[[], 'envelopeTo names no recipient'],
		[
			['ok@example.org', 'stranger@example.net'],
			"envelopeTo[1] is not one of the message's To, Cc or Bcc addresses",
		],
	])('envelopeTo %j: refused before connecting', async (envelopeTo, problem) => {
		const s = await sink();
		const failure = expectFailure(await transportTo(s.port).send(threeRecipients({ envelopeTo })));
		expect(failure).toEqual({
			ok: false,
			kind: 'permanent',
			scope: 'recipient',
			message: `SMTP: ${problem}`,
		});
		expect(s.connections).toBe(0);
	});
});

describe('API transports: envelopeTo', () => {
	const unreachable: HttpClient = () => {
		throw new Error('no request may be made');
	};

	test.each(
		(['sendgrid', 'mailgun', 'postmark', 'ses', 'resend', 'brevo'] as const).map((id) => [id]),
	)(
		'%s cannot address part of the recipients: blocked for the route, no request made',
		async (id) => {
			const provider = API_PROVIDERS[id];
			const key = 'key-0123456789';
			const data = {
				sendgrid: { apiKey: key },
				mailgun: { apiKey: key, domain: 'mg.example.com' },
				postmark: { serverToken: key },
				ses: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: key, region: 'eu-west-1' },
				resend: { apiKey: key },
				brevo: { apiKey: key },
			}[id];
			let requests = 0;
			const counting: HttpClient = (request) => {
				requests++;
				return unreachable(request);
			};
			const t = new ApiTransport(provider, provider.parseCredential(data), counting);
			const failure = expectFailure(
				await t.send(threeRecipients({ envelopeTo: ['busy@example.org'] })),
			);
			expect(failure).toEqual({
				ok: false,
				kind: 'blocked',
				scope: 'route',
				message: `${provider.label}: not sent: a resend to part of the recipients (envelopeTo) needs an SMTP route; this API sends every message to all of its To, Cc and Bcc addresses`,
			});
			expect(requests).toBe(0);
		},
	);

	test('SparkPost addresses the subset: only those recipients, each with the same To and CC headers', async () => {
		const provider = API_PROVIDERS.sparkpost;
		const bodies: string[] = [];
		const capture: HttpClient = async (request) => {
			bodies.push(String(request.body));
			return {
				statusCode: 200,
				headers: {},
				body: JSON.stringify({
					results: { id: 'sp-1', total_accepted_recipients: 1, total_rejected_recipients: 0 },
				}),
			};
		};
		const t = new ApiTransport(
			provider,
			provider.parseCredential({ apiKey: 'key-0123456789' }),
			capture,
		);
		expect(await t.send(threeRecipients({ envelopeTo: ['gone@example.org'] }))).toMatchObject({
			ok: true,
			messageId: 'sp-1',
		});
		const full = new ApiTransport(
			provider,
			provider.parseCredential({ apiKey: 'key-0123456789' }),
			capture,
		);
		expect(await full.send(threeRecipients())).toMatchObject({ ok: true });
		type Body = {
			recipients: Array<{ address: { email: string; header_to: string } }>;
			content: { headers?: Record<string, string> };
		};
		const [subset, everyone] = bodies.map((b) => JSON.parse(b) as Body);
		const headerTo = 'ok@example.org, "Busy Person" <busy@example.org>';
		expect(everyone.recipients.map((r) => r.address)).toEqual([
			{ email: 'ok@example.org', header_to: headerTo },
			{ email: 'busy@example.org', name: 'Busy Person', header_to: headerTo },
			{ email: 'gone@example.org', header_to: headerTo },
		]);
		expect(subset.recipients).toEqual([
			{ address: { email: 'gone@example.org', header_to: headerTo } },
		]);
		// the same content, the CC header naming gone@ included
		expect(subset.content).toEqual(everyone.content);
		expect(subset.content.headers).toEqual({ CC: 'gone@example.org' });
	});

	test('an envelopeTo that is not among the recipients is refused by every API transport', async () => {
		for (const provider of Object.values(API_PROVIDERS)) {
			const t = new ApiTransport(provider, {}, unreachable);
			expect(
				expectFailure(await t.send(threeRecipients({ envelopeTo: ['stranger@example.net'] }))),
			).toEqual({
				ok: false,
				kind: 'permanent',
				scope: 'recipient',
				message: `${provider.label}: not sent: envelopeTo[0] is not one of the message's To, Cc or Bcc addresses`,
			});
		}
	});
});
