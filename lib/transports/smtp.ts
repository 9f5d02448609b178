/**
 * SMTP through nodemailer: one pooled nodemailer transport per credential, shared by every n8n
 * execution in the process (registry below), so connections are reused instead of re-opened.
 */

import { createHash } from 'node:crypto';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
// the mailer and its pool, not nodemailer's entry: that one also brings the sendmail transport
// (child_process) and the test-account code that reads environment variables
import Mail from 'nodemailer/lib/mailer';
import SMTPPool from 'nodemailer/lib/smtp-pool';
import type { SendMailOptions, SMTPPoolOptions, SMTPPoolSentMessageInfo } from 'nodemailer';
import { z } from 'zod';
import { RATE_UNIT_NAMES } from '../throttle/units';
import { parseCredentialData } from '../util/credential';
import { capText, safeText } from '../util/secrets';
import { envelopeRestriction } from './envelope';
import { attachmentTypeProblem } from './mime';
import type { ProbeOptions, ProbeResult } from './probe';
import { probeSmtp } from './smtpProbe';
import {
	classifySmtpError,
	parseSmtpReply,
	refusals,
	type SmtpErrorContext,
	type SmtpErrorLike,
} from './smtpReplies';
import type {
	MailAddress,
	OutgoingMessage,
	SendFailure,
	SendOutcome,
	SendSuccess,
	Transport,
} from './types';

// ---------------------------------------------------------------------------------------------
// Credential
// ---------------------------------------------------------------------------------------------

/**
 * tls: implicit TLS. starttls: STARTTLS when offered, and required once a user or password is set.
 * starttlsRequired: always required. none: no TLS, and never a password. noneInsecureAuth: no TLS,
 * the password in clear: the one choice that sends it unencrypted, and its label says so.
 */
export const SMTP_SECURITY = [
	'tls',
	'starttls',
	'starttlsRequired',
	'none',
	'noneInsecureAuth',
] as const;
export type SmtpSecurity = (typeof SMTP_SECURITY)[number];

/** The option names of the credential's Security field (credentials/PostalSmtp.credentials.ts), for messages. */
export const SMTP_SECURITY_LABELS: Record<SmtpSecurity, string> = {
	tls: 'SSL/TLS (Implicit, Usually Port 465)',
	starttls: 'STARTTLS (Usually Port 587)',
	starttlsRequired: 'STARTTLS Required',
	none: 'None (No Encryption, No Password)',
	noneInsecureAuth: 'None — Send Password Unencrypted (Not Recommended)',
};

const DEFAULT_PORT: Record<SmtpSecurity, number> = {
	tls: 465,
	starttls: 587,
	starttlsRequired: 587,
	none: 25,
	noneInsecureAuth: 25,
};

/** n8n stores an unset number as 0 or '' */
const unset = (v: unknown) => (v === '' || v === null || v === 0 ? undefined : v);

export const smtpCredentialSchema = z
	.object({
		host: z.string().trim().min(1, 'is required'),
		/** empty: 465 for tls, 587 for starttls, 25 for none / noneInsecureAuth */
		port: z.preprocess(unset, z.coerce.number().int().min(1).max(65535).optional()),
		security: z.enum(SMTP_SECURITY).default('starttls'),
		user: z.string().default(''),
		password: z.string().default(''),
		/** the name sent with EHLO; empty: the machine's host name (nodemailer's default) */
		ehloName: z.string().trim().default(''),
		allowUnauthorizedCerts: z.boolean().default(false),
		poolSize: z.preprocess(unset, z.coerce.number().int().min(1).max(100).default(5)),
		messagesPerConnection: z.preprocess(unset, z.coerce.number().int().min(1).default(100)),
		/** messages per rateLimitPer through this credential; 0 = no limit. Enforced by the send node as a
		 * GCRA limit in the state store (so it holds across workers), not by nodemailer's per-process pool. */
		rateLimit: z.coerce.number().min(0).default(0),
		rateLimitPer: z.enum(RATE_UNIT_NAMES).default('second'),
		/** whose credential form the fields came from, so messages name that form's settings */
		source: z.enum(['postalRoutes', 'n8n']).default('postalRoutes'),
	})
	.transform((c) => ({ ...c, port: c.port ?? DEFAULT_PORT[c.security] }));

/** A user or a password: something to authenticate with, so the connection must be encrypted. */
const hasLogin = (c: { user: string; password: string }) => Boolean(c.user || c.password);

export type SmtpCredential = z.output<typeof smtpCredentialSchema>;
export type SmtpCredentialInput = z.input<typeof smtpCredentialSchema>;

/** Parses n8n credential data. The error names the field and never echoes a value (no password leaks). */
export function parseSmtpCredential(
	data: unknown,
	label = 'Invalid SMTP credential',
): SmtpCredential {
	return parseCredentialData(smtpCredentialSchema, data, label);
}

// ---------------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------------

export interface SmtpTransportOptions {
	/** TCP connect up to the end of the TLS/STARTTLS setup; default 10 s */
	connectionTimeoutMs?: number;
	/** wait for the 220 greeting; default 10 s */
	greetingTimeoutMs?: number;
	/** inactivity on an open connection (also a slow reply to DATA); default 30 s */
	socketTimeoutMs?: number;
}

type PoolMailer = ReturnType<typeof createPool>;

function createPool(options: SMTPPoolOptions & { pool: true }) {
	// what nodemailer.createTransport does for a pool's options
	const mailer = new Mail<SMTPPoolSentMessageInfo, SMTPPoolOptions>(new SMTPPool(options), options);
	// a 'stream' plugin runs for every message once it is compiled, before the pool sends it
	mailer.use('stream', (mail, done) => {
		const progress = (mail.data as ProgressCarrier)[PROGRESS];
		if (progress) mail.message.processFunc((input) => progress.track(input));
		done();
	});
	return mailer;
}

// ---------------------------------------------------------------------------------------------
// Did the final dot go out? (an error without a reply after it is an unknown outcome)
// ---------------------------------------------------------------------------------------------

/**
 * The key under which send() hands a message's BodyProgress to the stream plugin. nodemailer
 * copies the message's own string keys into mail.data (MailMessage, shared.copyOwnKeys).
 */
const PROGRESS = 'postalRoutesBodyProgress';
type ProgressCarrier = { [PROGRESS]?: BodyProgress };

/**
 * The message stream nodemailer sends, watched where it goes. nodemailer pipes it into its
 * DataStream (SMTPConnection#send: `message.pipe(stream)`), which writes to the socket
 * (`dataStream.pipe(this._socket, { end: false })`) and, when the message ends, appends the final
 * `\r\n.\r\n` (DataStream#_flush). So:
 *  - the message not read to its end: the final dot cannot have been written;
 *  - the stream it was piped into not ended either: its last bytes, the dot among them, have not
 *    been handed to the socket.
 * Only when both ended can the server have the whole message. The two are public stream state
 * (readableEnded), read when the send fails; nothing is inferred from error text. The stream is
 * watched, not wrapped: a stage of our own in the message's way cost a tenth of a send's CPU.
 */
class WatchedMessage {
	private readonly readers: NodeJS.WritableStream[] = [];

	constructor(private readonly message: Readable) {
		const pipe = message.pipe.bind(message);
		message.pipe = <T extends NodeJS.WritableStream>(
			destination: T,
			options?: { end?: boolean },
		) => {
			this.readers.push(destination);
			const piped = pipe(destination, options);
			holdWritesWhilePassing(destination);
			return piped;
		};
	}

	/** the final dot may have been written to the connection */
	get finalDotWritten(): boolean {
		if (!this.message.readableEnded) return false;
		// a reader that is itself a stream (nodemailer's DataStream): has it passed everything on?
		// A reader that is not (or none seen): the message was read to its end, assume it went
		const ended = this.readers
			.map((r) => (r as { readableEnded?: unknown }).readableEnded)
			.filter((e): e is boolean => typeof e === 'boolean');
		return ended.length === 0 || ended.includes(true);
	}
}

/**
 * Holds the connection's writes while one message passes through nodemailer's DataStream, so the
 * message and its final dot leave in one write instead of one per MIME chunk (a multipart message
 * was 8 writes of its 11 per send; with this, 4: measured 445 → 320 µs of CPU per message on a
 * loopback sink). The writes are released when the message has passed, or as soon as the socket's
 * buffer is full (a held socket never drains: a large message would wait forever), or when either
 * stream fails. The socket is the stream nodemailer piped the DataStream into (Node's
 * `_readableState.pipes`); if none is found, nothing is held. test/integration/smtpWrites.test.ts
 * counts the writes.
 */
function holdWritesWhilePassing(data: NodeJS.WritableStream): void {
	const pipes = (data as { _readableState?: { pipes?: unknown } })._readableState?.pipes;
	const socket = Array.isArray(pipes) ? pipes.find((p) => p instanceof Socket) : undefined;
	if (!(socket instanceof Socket) || !(data instanceof Readable)) return;
	socket.cork();
	let held = true;
	const release = (): void => {
		if (!held) return;
		held = false;
		data.off('data', full);
		socket.uncork();
	};
	// after the pipe's own 'data' listener has written the chunk
	const full = (): void => {
		if (socket.writableNeedDrain) release();
	};
	data.on('data', full);
	data.once('end', release);
	data.once('error', release);
	data.once('close', release);
}

/** One send's message streams: nodemailer makes one per attempt (its pool may requeue a message). */
class BodyProgress {
	private readonly watched: WatchedMessage[] = [];

	track(input: Readable): Readable {
		this.watched.push(new WatchedMessage(input));
		return input;
	}

	/** any attempt's final dot may have gone out: the server may hold the message */
	get sent(): boolean {
		return this.watched.some((m) => m.finalDotWritten);
	}
}

export class SmtpTransport implements Transport {
	readonly provider = 'smtp';
	/** set by the registry: called when a send starts or ends, to push the idle close back */
	activity?: () => void;
	private mailer?: PoolMailer;
	private inFlight = 0;
	private readonly secrets: string[];

	constructor(
		readonly credential: SmtpCredential,
		private readonly options: SmtpTransportOptions = {},
	) {
		const { user, password } = credential;
		// the password as typed and as it travels in AUTH PLAIN / LOGIN, should a server echo it
		this.secrets = password
			? [
					password,
					b64(password),
					b64(`\0${user}\0${password}`),
					b64(`${user}\0${user}\0${password}`),
				]
			: [];
	}

	/** the pool's connections: nodemailer queues any send beyond them */
	get maxParallel(): number {
		return this.credential.poolSize;
	}

	/** true while sends are in flight */
	get busy(): boolean {
		return this.inFlight > 0;
	}

	async send(message: OutgoingMessage): Promise<SendOutcome> {
		const refused = this.plainLoginRefusal();
		if (refused) return refused;
		// nodemailer writes the type into a MIME part header: a CR/LF there would add headers
		const badType = attachmentTypeProblem(message.attachments);
		const envelope = envelopeRestriction(message);
		const problem = badType ?? (envelope.kind === 'invalid' ? envelope.problem : undefined);
		if (problem)
			return {
				ok: false,
				kind: 'permanent',
				scope: 'recipient',
				message: safeText(`SMTP: ${problem}`, this.secrets),
			};
		const progress = new BodyProgress();
		const options: SendMailOptions & ProgressCarrier = {
			...toMailOptions(message, envelope.kind === 'subset' ? envelope.to : undefined),
			[PROGRESS]: progress,
		};
		this.inFlight++;
		this.activity?.();
		try {
			const info = await this.pool().sendMail(options);
			return this.success(info);
		} catch (err) {
			return this.failure(err, { bodySent: progress.sent });
		} finally {
			this.inFlight--;
			this.activity?.();
		}
	}

	/** Connect, EHLO, STARTTLS and AUTH as configured (nodemailer's verify), on its own connection. */
	async verify(): Promise<{ ok: true } | { ok: false; message: string }> {
		const refused = this.plainLoginRefusal();
		if (refused) return { ok: false, message: refused.message };
		try {
			await this.pool().verify();
			return { ok: true };
		} catch (err) {
			return { ok: false, message: this.failure(err).message };
		}
	}

	/**
	 * An active health check on a connection of its own (never the pool's): connect, greeting,
	 * EHLO, STARTTLS as the credential says, AUTH when it has a login; then QUIT. No mail. Each step
	 * is timed from nodemailer's transaction log (which masks what AUTH sends); every reply
	 * and the error are scrubbed of the password. Everything within `timeoutMs`. With
	 * `options.envelope`, MAIL FROM, RCPT TO (the seed address) and RSET after AUTH, never DATA.
	 */
	async probe(timeoutMs: number, probeOptions: ProbeOptions = {}): Promise<ProbeResult> {
		const refused = this.plainLoginRefusal();
		if (refused) return { ok: false, steps: [], latencyMs: 0, error: refused.message };
		const { auth, ...options } = this.connectionOptions();
		return probeSmtp({
			options: {
				...options,
				connectionTimeout: timeoutMs,
				greetingTimeout: timeoutMs,
				socketTimeout: timeoutMs,
				dnsTimeout: timeoutMs,
			},
			auth,
			timeoutMs,
			...(probeOptions.envelope ? { envelope: probeOptions.envelope } : {}),
			clean: (text) => safeText(text, this.secrets),
			failure: (err) => this.failure(err).message,
		});
	}

	/**
	 * Closes the pooled connections (idle ones at once, busy ones after their message). A later
	 * send() opens a new pool, so a holder of a transport the registry closed still works.
	 */
	close(): void {
		this.mailer?.close();
		this.mailer = undefined;
	}

	private pool(): PoolMailer {
		if (this.mailer) return this.mailer;
		const c = this.credential;
		this.mailer = createPool({
			...this.connectionOptions(),
			pool: true,
			maxConnections: c.poolSize,
			maxMessages: c.messagesPerConnection,
		});
		return this.mailer;
	}

	/** How nodemailer connects for this credential: the pool's and the probe's one source. */
	private connectionOptions() {
		const c = this.credential;
		const o = this.options;
		const connectionTimeout = o.connectionTimeoutMs ?? 10_000;
		return {
			host: c.host,
			port: c.port,
			secure: c.security === 'tls',
			// with a password at stake STARTTLS is not optional: nodemailer then fails instead of
			// going on in plain text, and so never sends AUTH over an unencrypted connection
			requireTLS: this.requiresStarttls(),
			ignoreTLS: c.security === 'none' || c.security === 'noneInsecureAuth',
			name: c.ehloName || undefined,
			// never for 'none' (send() refuses first; this keeps it so should that ever change)
			auth: hasLogin(c) && c.security !== 'none' ? { user: c.user, pass: c.password } : undefined,
			tls: { rejectUnauthorized: !c.allowUnauthorizedCerts },
			connectionTimeout,
			greetingTimeout: o.greetingTimeoutMs ?? 10_000,
			socketTimeout: o.socketTimeoutMs ?? 30_000,
			dnsTimeout: connectionTimeout,
			// messages carry Buffers only; never let a message make nodemailer read a file or URL
			disableFileAccess: true,
			disableUrlAccess: true,
			logger: false as const,
		};
	}

	private success(info: SMTPPoolSentMessageInfo): SendSuccess {
		const reply = parseSmtpReply(info.response ?? '');
		const outcome: SendSuccess = {
			ok: true,
			// a server that rewrites Message-ID (Microsoft 365, SES) tells its own: the delivered copy carries that one
			messageId: info.serverMessageId ?? info.messageId,
			code: reply.code ?? 250,
			enhancedCode: reply.enhancedCode,
			response: safeText(info.response ?? '', this.secrets),
		};
		// the server took the message for some recipients and refused others at RCPT TO
		const refused = refusals(
			{
				rejected: info.rejected?.map(String),
				rejectedErrors: info.rejectedErrors as SmtpErrorLike[] | undefined,
			},
			this.secrets,
			{ othersAccepted: true },
		);
		if (refused.length) outcome.refused = refused;
		return outcome;
	}

	private failure(err: unknown, context: SmtpErrorContext = {}): SendFailure {
		return this.starttlsMissing(err) ?? classifySmtpError(err, this.secrets, context);
	}

	private requiresStarttls(): boolean {
		const { security } = this.credential;
		return (
			security === 'starttlsRequired' || (security === 'starttls' && hasLogin(this.credential))
		);
	}

	/** 'none' with a user or password: refused before connecting, the password would go in clear. */
	private plainLoginRefusal(): SendFailure | undefined {
		const c = this.credential;
		if (c.security !== 'none' || !hasLogin(c)) return undefined;
		return {
			ok: false,
			// blocked/route: this route will not send it, another (a Fallback backup) may; no retry
			// here. Nothing goes through it until the credential changes: its circuit opens at once
			kind: 'blocked',
			scope: 'route',
			opensCircuit: true,
			message:
				`Not sent: the SMTP credential has a user or password, but its Security setting is '${SMTP_SECURITY_LABELS.none}', which never sends them. ` +
				`Choose 'SSL/TLS' or 'STARTTLS' if the server supports TLS; else '${SMTP_SECURITY_LABELS.noneInsecureAuth}', or clear User and Password.`,
		};
	}

	/**
	 * nodemailer's error when STARTTLS was required and the server does not do it (a 5xx to
	 * STARTTLS, or a HELO-only server), said in the credential's terms. A 4xx (454 TLS not available
	 * now) and certificate errors keep their own classification.
	 */
	private starttlsMissing(error: unknown): SendFailure | undefined {
		if (!this.requiresStarttls() || typeof error !== 'object' || error === null) return undefined;
		const err = error as SmtpErrorLike;
		const refused =
			err.code === 'ETLS' && err.command === 'STARTTLS' && (err.responseCode ?? 0) >= 500;
		const heloOnly =
			err.code === 'ECONNECTION' && err.command === 'EHLO' && /STARTTLS/.test(err.message ?? '');
		if (!refused && !heloOnly) return undefined;
		const c = this.credential;
		const server = `${c.host}:${c.port} offers no STARTTLS`;
		const message =
			c.source === 'n8n' && hasLogin(c)
				? `Not sent: ${server}, and a password is never sent unencrypted. Turn the n8n SMTP credential's 'SSL/TLS' on if the server supports it (usually port 465), or, for a relay on a trusted network, use a Postal Routes SMTP credential set to '${SMTP_SECURITY_LABELS.noneInsecureAuth}'.`
				: hasLogin(c)
					? `Not sent: ${server}, and the credential's Security setting '${SMTP_SECURITY_LABELS[c.security]}' never sends the password unencrypted. ` +
						`Use 'SSL/TLS' if the server supports it (usually port 465), else '${SMTP_SECURITY_LABELS.noneInsecureAuth}'.`
					: `Not sent: ${server}, and the credential's Security setting is '${SMTP_SECURITY_LABELS[c.security]}'. ` +
						`Use 'SSL/TLS' if the server supports it (usually port 465), or '${SMTP_SECURITY_LABELS.starttls}' to send unencrypted when it is not offered.`;
		// blocked/route, not permanent: the route cannot take any message, a backup route may. Our own
		// words, no server text: capped, not scrubbed (a one-letter password would blank every letter)
		return {
			ok: false,
			kind: 'blocked',
			scope: 'route',
			// no message can go until the server or the credential changes: open the circuit at once
			opensCircuit: true,
			...(err.responseCode ? { code: err.responseCode } : {}),
			message: capText(message),
		};
	}
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

const toAddress = (a: MailAddress) => ({ name: a.name ?? '', address: a.address });

/**
 * What the pooled transport hands nodemailer for a message (exported for the envelope property
 * test). `envelopeTo`: the recipients to send to (RCPT TO), checked by envelopeRestriction; the
 * headers still name everyone the message is addressed to.
 */
export function toMailOptions(m: OutgoingMessage, envelopeTo?: string[]): SendMailOptions {
	const bare = (list: MailAddress[]) => list.map((a) => a.address);
	// an envelope given to nodemailer replaces the one it derives: with a return path (VERP) and no
	// subset, its recipients are the headers' own, as nodemailer would take them
	const envelope =
		envelopeTo || m.returnPath
			? {
					from: m.returnPath ?? m.from.address,
					...(envelopeTo
						? { to: envelopeTo }
						: { to: bare(m.to), cc: bare(m.cc), bcc: bare(m.bcc) }),
				}
			: undefined;
	return {
		...(envelope ? { envelope } : {}),
		from: toAddress(m.from),
		to: m.to.map(toAddress),
		cc: m.cc.length ? m.cc.map(toAddress) : undefined,
		// bcc goes into the envelope only; nodemailer never writes a Bcc header for SMTP
		bcc: m.bcc.length ? m.bcc.map(toAddress) : undefined,
		replyTo: m.replyTo ? toAddress(m.replyTo) : undefined,
		subject: m.subject,
		text: m.text,
		html: m.html,
		headers: { ...m.headers },
		// RFC 3461: the reference as the envelope id, and only the headers back in a bounce (nodemailer
		// sends these only to a server that offers DSN)
		...(m.reference
			? { dsn: { id: m.reference, return: 'headers', notify: ['failure', 'delay'] } }
			: {}),
		attachments: m.attachments.map((a) => ({
			filename: a.filename,
			content: a.content,
			contentType: a.contentType,
			...(a.cid ? { cid: a.cid, contentDisposition: 'inline' } : {}),
		})),
	};
}

// ---------------------------------------------------------------------------------------------
// Process-wide registry: one transport (one pool) per credential, closed when idle
// ---------------------------------------------------------------------------------------------

export interface SmtpRegistryOptions extends SmtpTransportOptions {
	/** close the transport after this long without a send; default 5 min. Not part of the key. */
	idleTimeoutMs?: number;
}

interface RegistryEntry {
	transport: SmtpTransport;
	idleTimeoutMs: number;
	timer?: NodeJS.Timeout;
}

const registry = new Map<string, RegistryEntry>();

/**
 * The shared transport for a credential. Keyed by a sha256 of the parsed credential and the
 * timeouts, so the key holds no secret and equal settings share one pool across executions.
 */
export function smtpTransportFor(
	credential: unknown,
	options: SmtpRegistryOptions = {},
): SmtpTransport {
	const parsed = parseSmtpCredential(credential);
	const { idleTimeoutMs = 5 * 60_000, ...transportOptions } = options;
	const key = createHash('sha256')
		.update(JSON.stringify([sortedEntries(parsed), sortedEntries(transportOptions)]))
		.digest('hex');
	let entry = registry.get(key);
	if (!entry) {
		const created: RegistryEntry = {
			transport: new SmtpTransport(parsed, transportOptions),
			idleTimeoutMs,
		};
		created.transport.activity = () => armIdleClose(key, created);
		registry.set(key, created);
		entry = created;
	}
	armIdleClose(key, entry);
	return entry.transport;
}

/** Closes every shared transport (tests, shutdown). */
export function closeSmtpTransports(): void {
	for (const entry of registry.values()) {
		clearTimeout(entry.timer);
		entry.transport.activity = undefined;
		entry.transport.close();
	}
	registry.clear();
}

function armIdleClose(key: string, entry: RegistryEntry): void {
	clearTimeout(entry.timer);
	entry.timer = setTimeout(() => {
		// a long send (rate limit, slow server) is not idleness
		if (entry.transport.busy) return armIdleClose(key, entry);
		if (registry.get(key) === entry) registry.delete(key);
		entry.transport.activity = undefined;
		entry.transport.close();
	}, entry.idleTimeoutMs);
	// never keep n8n (or jest) alive just to close an idle pool
	entry.timer.unref();
}

function sortedEntries(o: object): Array<[string, unknown]> {
	return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Credential test (the node's credentialTest method calls this; plain types, no n8n import)
// ---------------------------------------------------------------------------------------------

export async function testSmtpCredential(
	data: unknown,
	options?: SmtpTransportOptions,
): Promise<{ status: 'OK' | 'Error'; message: string }> {
	let credential: SmtpCredential;
	try {
		credential = parseSmtpCredential(data);
	} catch (err) {
		return { status: 'Error', message: (err as Error).message };
	}
	const transport = new SmtpTransport(credential, options);
	try {
		const result = await transport.verify();
		return result.ok
			? { status: 'OK', message: 'Connection successful' }
			: { status: 'Error', message: result.message };
	} finally {
		transport.close();
	}
}
