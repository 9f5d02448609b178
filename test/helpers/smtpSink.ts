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

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
	const tls = options.tls ?? 'none';
	const rcptAttempts = new Map<string, number>();
	const sockets = new Set<Socket>();
	let transactions = 0;
	let open = 0;

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
		authOptional: !options.auth,
		allowInsecureAuth: true,
		disabledCommands: [...(options.auth ? [] : ['AUTH']), ...(tls === 'none' ? ['STARTTLS'] : [])],
		secure: tls === 'implicit',
		...(tls === 'none' ? {} : (options.certificate ?? fixtureCert())),
		onConnect(_session, callback) {
			sink.connections++;
			open++;
			callback();
		},
		onClose() {
			open--;
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
		onMailFrom(_address, _session, callback) {
			transactions++;
			callback();
		},
		onRcptTo(address, _session, callback) {
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
				const finish = async () => {
					if (stream.sizeExceeded)
						return callback(smtpError({ code: 552, message: '5.3.4 Message too big' }));
					for (const rcpt of rcpts) {
						const reply = options.reply?.({
							phase: 'data',
							rcpt,
							attempt: rcptAttempts.get(rcpt) ?? 1,
							messageIndex,
						});
						if (reply) return callback(smtpError(reply));
					}
					const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
					sink.messages.push({
						parsed: await simpleParser(raw),
						mailFrom,
						rcpts,
						raw,
						ehlo: session.hostNameAppearsAs,
						secure: session.secure,
					});
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
