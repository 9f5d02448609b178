/**
 * A real SMTP server on 127.0.0.1 for transport tests: records what arrives, and can authenticate,
 * speak STARTTLS or implicit TLS (fixture certificate), answer slowly, or reject by script.
 */

import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

const TLS_DIR = join(__dirname, '..', 'fixtures', 'tls');
export const fixtureCert = (): { key: Buffer; cert: Buffer } => ({
	key: readFileSync(join(TLS_DIR, 'key.pem')),
	cert: readFileSync(join(TLS_DIR, 'cert.pem')),
});
/** A certificate for relay.other.example only: trusted, it still does not match 127.0.0.1. */
export const otherHostCert = (): { key: Buffer; cert: Buffer } => ({
	key: readFileSync(join(TLS_DIR, 'other-host-key.pem')),
	cert: readFileSync(join(TLS_DIR, 'other-host-cert.pem')),
});

export interface SinkReplyContext {
	phase: 'rcpt' | 'data';
	rcpt: string;
	/** how many times this recipient has been offered at RCPT so far, from 1 */
	attempt: number;
	/** how many transactions (MAIL FROM) came before this one, from 0 */
	messageIndex: number;
}

/**
 * What the sink saw, as it happened (for tests that need to know what was on the wire at an
 * instant): a connection, a transaction's MAIL FROM and RCPT TO, the whole message received (the
 * final dot), the final reply to it sent (`code` 250, or the rejection's), a connection closed.
 */
export interface SinkEvent {
	type: 'connect' | 'mail' | 'rcpt' | 'data' | 'reply' | 'close';
	/** smtp-server's session id: one per connection */
	session: string;
	/** rcpt: the address; data and reply: the transaction's recipients */
	rcpts?: string[];
	/** reply: the code sent */
	code?: number;
	/** performance.now() when it happened */
	at: number;
}

export interface SmtpSinkOptions {
	/** require AUTH with these; anything else gets 535 */
	auth?: { user: string; pass: string };
	tls?: 'none' | 'starttls' | 'implicit';
	/** the key and certificate for TLS; default the fixture for localhost / 127.0.0.1 */
	certificate?: { key: Buffer; cert: Buffer };
	/** answer the end of DATA this late */
	delayMs?: number;
	/** reject at RCPT or at the end of DATA: return a reply, or undefined to accept */
	reply?: (ctx: SinkReplyContext) => undefined | { code: number; message: string };
	/** offer DSN (RFC 3461) in EHLO; default off, as smtp-server has it */
	dsn?: boolean;
	/** called for every event, synchronously, in the order the sink handled them */
	onEvent?: (event: SinkEvent) => void;
}

export interface SinkMessage {
	parsed: ParsedMail;
	mailFrom: string;
	/** envelope recipients (bcc included) */
	rcpts: string[];
	raw: Buffer;
	/** the name the client gave with EHLO/HELO */
	ehlo: string;
	/** the session ran over TLS (implicit or after STARTTLS) */
	secure: boolean;
	/** the DSN parameters of MAIL FROM (RFC 3461: RET, ENVID) and each RCPT TO's NOTIFY */
	dsn?: { ret: string | null; envid: string | null; notify: Array<string[] | undefined> };
}

export interface SmtpSink {
	port: number;
	messages: SinkMessage[];
	attempts: { rcpt: number; data: number };
	/** AUTH attempts refused so far (each one counts toward a relay's lockout) */
	authFailures: number;
	/** connections accepted so far */
	connections: number;
	/** connections open now */
	openConnections(): number;
	/** stop listening AND drop every open connection, at once */
	stop(): Promise<void>;
	/** stop listening, give clients 500 ms to QUIT, then drop them */
	close(): Promise<void>;
}

const smtpError = (r: { code: number; message: string }) =>
	Object.assign(new Error(r.message), { responseCode: r.code });

/** smtp-server's DSN fields (its types leave them out) */
function dsnOf(envelope: unknown): SinkMessage['dsn'] {
	const e = envelope as {
		dsn?: { ret?: string | null; envid?: string | null };
		rcptTo: Array<{ dsn?: { notify?: string[] } }>;
	};
	return {
		ret: e.dsn?.ret ?? null,
		envid: e.dsn?.envid ?? null,
		notify: e.rcptTo.map((r) => r.dsn?.notify),
	};
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
	const tls = options.tls ?? 'none';
	const rcptAttempts = new Map<string, number>();
	const sockets = new Set<Socket>();
	let transactions = 0;
	let open = 0;
	const emit = (e: Omit<SinkEvent, 'at'>) => options.onEvent?.({ ...e, at: performance.now() });

	const sink: Omit<SmtpSink, 'port'> & { port: number } = {
		port: 0,
		messages: [],
		attempts: { rcpt: 0, data: 0 },
		authFailures: 0,
		connections: 0,
		openConnections: () => open,
		stop: async () => {
			const closed = new Promise<void>((resolve) => server.close(() => resolve()));
			// smtp-server would wait closeTimeout for clients: a stopped sink must refuse now
			for (const connection of server.connections)
				(connection as unknown as { _socket?: Socket })._socket?.destroy();
			for (const socket of sockets) socket.destroy();
			await closed;
		},
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};

	const serverOptions: SMTPServerOptions = {
		logger: false,
		closeTimeout: 500,
		size: 25 * 1024 * 1024, // advertised SIZE, like a real MTA (PIPELINING and 8BITMIME are on by default)
		// DSN (RFC 3461) as Postfix and Exim offer it; smtp-server hides it unless told
		hideDSN: !options.dsn,
		authOptional: !options.auth,
		allowInsecureAuth: true,
		disabledCommands: [...(options.auth ? [] : ['AUTH']), ...(tls === 'none' ? ['STARTTLS'] : [])],
		secure: tls === 'implicit',
		...(tls === 'none' ? {} : (options.certificate ?? fixtureCert())),
		onConnect(session, callback) {
			sink.connections++;
			open++;
			emit({ type: 'connect', session: session.id });
			callback();
		},
		onClose(session) {
			open--;
			emit({ type: 'close', session: session.id });
		},
		onAuth(auth, _session, callback) {
			const ok =
				options.auth && auth.username === options.auth.user && auth.password === options.auth.pass;
			if (!ok) {
				sink.authFailures++;
				return callback(
					smtpError({ code: 535, message: '5.7.8 Authentication credentials invalid' }),
				);
			}
			callback(null, { user: auth.username });
		},
		onMailFrom(_address, session, callback) {
			transactions++;
			emit({ type: 'mail', session: session.id });
			callback();
		},
		onRcptTo(address, session, callback) {
			emit({ type: 'rcpt', session: session.id, rcpts: [address.address] });
			sink.attempts.rcpt++;
			const attempt = (rcptAttempts.get(address.address) ?? 0) + 1;
			rcptAttempts.set(address.address, attempt);
			const reply = options.reply?.({
				phase: 'rcpt',
				rcpt: address.address,
				attempt,
				messageIndex: transactions - 1,
			});
			callback(reply ? smtpError(reply) : undefined);
		},
		onData(stream, session, callback) {
			sink.attempts.data++;
			const chunks: Buffer[] = [];
			// the stream must be consumed, or the session stalls
			stream.on('data', (chunk: Buffer) => chunks.push(chunk));
			stream.on('end', () => {
				const raw = Buffer.concat(chunks);
				const rcpts = session.envelope.rcptTo.map((a) => a.address);
				const messageIndex = transactions - 1;
				emit({ type: 'data', session: session.id, rcpts });
				const refuse = (r: { code: number; message: string }) => {
					emit({ type: 'reply', session: session.id, rcpts, code: r.code });
					callback(smtpError(r));
				};
				const finish = async () => {
					if (stream.sizeExceeded) return refuse({ code: 552, message: '5.3.4 Message too big' });
					for (const rcpt of rcpts) {
						const reply = options.reply?.({
							phase: 'data',
							rcpt,
							attempt: rcptAttempts.get(rcpt) ?? 1,
							messageIndex,
						});
						if (reply) return refuse(reply);
					}
					const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
					sink.messages.push({
						parsed: await simpleParser(raw),
						mailFrom,
						rcpts,
						raw,
						ehlo: session.hostNameAppearsAs,
						secure: session.secure,
						dsn: dsnOf(session.envelope),
					});
					emit({ type: 'reply', session: session.id, rcpts, code: 250 });
					callback(null, 'OK: queued as sink-' + sink.messages.length);
				};
				const run = () => void finish().catch((err: Error) => callback(err));
				if (options.delayMs) setTimeout(run, options.delayMs);
				else run();
			});
		},
	};

	const server = new SMTPServer(serverOptions);
	// client resets, refused certificates etc. surface here; they are expected in these tests
	server.on('error', () => undefined);
	server.server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
	});

	await new Promise<void>((resolve, reject) => {
		server.server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	sink.port = (server.server.address() as AddressInfo).port;
	return sink;
}
