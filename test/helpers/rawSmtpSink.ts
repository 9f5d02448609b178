/**
 * A raw SMTP sink on `net`, for benchmarks: greets at once, accepts everything, counts messages.
 *
 * Why not smtp-server: smtp-server 3.x holds every new connection for a fixed 100 ms before it
 * greets ("a small delay for detecting early talkers": `setTimeout(() => this.connectionReady(),
 * 100)` in SMTPConnection#init, no option turns it off) and, unless `disableReverseLookup`, makes a
 * reverse DNS lookup per connection. A sender that opens one connection per message (n8n's Send
 * Email) then measures the sink, not itself.
 *
 * Speaks what nodemailer needs: the greeting, EHLO (PIPELINING, 8BITMIME, SIZE) and HELO, MAIL FROM
 * (SIZE= checked against the limit), RCPT TO, DATA (the end is the line `.` after CRLF, found across
 * chunk boundaries), RSET, NOOP, QUIT; anything else gets 502. Commands that arrive together
 * (PIPELINING) are answered in order, in one write. Lines end in CRLF (a bare LF ends a command
 * too); no TLS, no AUTH. Bodies are discarded unless `keep` (then dot-unstuffed, for tests).
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface RawSinkMessage {
	mailFrom: string;
	rcpts: string[];
	/** the MAIL FROM parameters as sent (e.g. `BODY=8BITMIME SIZE=512`) */
	params: string;
	/** the message as the client meant it: the final `.` line removed, leading dots unstuffed */
	data: Buffer;
}

export interface RawSinkStats {
	/** messages accepted (the reply to the final dot was 250) */
	count: number;
	/** accepted messages per envelope sender */
	bySender: Record<string, number>;
	/** connections accepted since the start */
	connections: number;
}

export interface RawSmtpSinkOptions {
	/** keep every message (`messages`) instead of discarding bodies */
	keep?: boolean;
	/** the SIZE limit advertised and enforced at MAIL FROM; default 10 MiB */
	maxSize?: number;
	/** the host name in the greeting and EHLO reply */
	name?: string;
}

export interface RawSmtpSink {
	port: number;
	stats(): RawSinkStats;
	/** the messages, with `keep` */
	messages: RawSinkMessage[];
	stop(): Promise<void>;
}

const EOD = Buffer.from('\r\n.\r\n');
const CRLF = Buffer.from('\r\n');
/** a command line longer than this without a line end closes the connection (RFC 5321: 512) */
const MAX_LINE = 4096;

export function startRawSmtpSink(options: RawSmtpSinkOptions = {}): Promise<RawSmtpSink> {
	const maxSize = options.maxSize ?? 10 * 1024 * 1024;
	const name = options.name ?? 'raw-sink.localhost';
	const messages: RawSinkMessage[] = [];
	const stats: RawSinkStats = { count: 0, bySender: {}, connections: 0 };
	const sockets = new Set<Socket>();

	const server: Server = createServer((socket) => {
		stats.connections++;
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
		// every batch of replies goes out in one write; Nagle would only hold it back until the client
		// acknowledged the previous one (smtp-server does the same)
		socket.setNoDelay(true);
		socket.on('error', () => undefined); // a client that closes without QUIT (nodemailer does)
		serve(socket);
		socket.write(`220 ${name} ESMTP postal-routes raw sink\r\n`);
	});

	function serve(socket: Socket): void {
		let mode: 'command' | 'data' | 'closed' = 'command';
		// a function, so TypeScript does not narrow `mode` across the calls that change it
		const closed = () => mode === 'closed';
		let helo = false;
		let mailFrom: string | undefined;
		let params = '';
		let rcpts: string[] = [];
		/** an unfinished command line */
		let pending: Buffer | undefined;
		/** the last (up to 4) bytes of the data so far: the end marker may start in an earlier chunk */
		let tail: Buffer = CRLF;
		let body: Buffer[] = [];

		const reset = () => {
			mailFrom = undefined;
			params = '';
			rcpts = [];
		};

		const command = (line: string, out: string[]): void => {
			const verb = line.slice(0, 4).toUpperCase();
			const arg = line.slice(4);
			if (line.length > 4 && line[4] !== ' ') {
				out.push('500 Command unrecognized');
				return;
			}
			switch (verb) {
				case 'EHLO':
					helo = true;
					reset();
					out.push(
						`250-${name} Hello ${arg.trim() || 'there'}`,
						'250-PIPELINING',
						'250-8BITMIME',
						`250 SIZE ${maxSize}`,
					);
					return;
				case 'HELO':
					helo = true;
					reset();
					out.push(`250 ${name}`);
					return;
				case 'MAIL': {
					const m = /^ FROM:\s*<([^>]*)>\s*(.*)$/i.exec(arg);
					if (!helo) out.push('503 Send EHLO or HELO first');
					else if (mailFrom !== undefined) out.push('503 Nested MAIL command');
					else if (!m) out.push('501 Syntax: MAIL FROM:<address>');
					else {
						const size = /(?:^|\s)SIZE=(\d+)/i.exec(m[2]);
						if (size && Number(size[1]) > maxSize)
							out.push('552 Message size exceeds fixed maximum message size');
						else {
							mailFrom = m[1];
							params = m[2].trim();
							out.push('250 OK');
						}
					}
					return;
				}
				case 'RCPT': {
					const m = /^ TO:\s*<([^>]+)>/i.exec(arg);
					if (mailFrom === undefined) out.push('503 Need MAIL command');
					else if (!m) out.push('501 Syntax: RCPT TO:<address>');
					else {
						rcpts.push(m[1]);
						out.push('250 Accepted');
					}
					return;
				}
				case 'DATA':
					if (line.length !== 4) out.push('501 No parameters allowed');
					else if (mailFrom === undefined) out.push('503 Need MAIL command');
					else if (!rcpts.length) out.push('503 Need RCPT command');
					else {
						mode = 'data';
						tail = CRLF;
						body = [];
						out.push('354 End data with <CR><LF>.<CR><LF>');
					}
					return;
				case 'RSET':
					reset();
					out.push('250 Flushed');
					return;
				case 'NOOP':
					out.push('250 OK');
					return;
				case 'QUIT':
					out.push(`221 ${name} Bye`);
					mode = 'closed';
					return;
				default:
					out.push(line.trim() ? '502 Command not implemented' : '500 Error: bad syntax');
			}
		};

		/** The message ended: count it (and keep it), answer, back to commands. */
		const accept = (out: string[]): void => {
			const from = mailFrom as string;
			stats.count++;
			stats.bySender[from] = (stats.bySender[from] ?? 0) + 1;
			if (options.keep) {
				// the data as received, from the line after DATA up to and with the final ".\r\n"
				const raw = Buffer.concat(body).toString('latin1');
				const unstuffed = raw.slice(0, raw.length - 3).replace(/(^|\r\n)\./g, '$1');
				messages.push({ mailFrom: from, rcpts, params, data: Buffer.from(unstuffed, 'latin1') });
			}
			out.push(`250 OK queued as raw-${stats.count}`);
			body = [];
			reset();
			mode = 'command';
		};

		/** Where in `chunk` (from `from`) the data ends (the index after the marker), or -1. */
		const findEnd = (chunk: Buffer, from: number): number => {
			const head = chunk.subarray(from, from + 4);
			const joint = Buffer.concat([tail, head]).indexOf(EOD);
			if (joint >= 0) return from + joint + EOD.length - tail.length;
			const i = chunk.indexOf(EOD, from);
			return i < 0 ? -1 : i + EOD.length;
		};

		socket.on('data', (data: Buffer) => {
			if (closed()) return;
			let chunk = data;
			if (pending) {
				chunk = Buffer.concat([pending, data]);
				pending = undefined;
			}
			const out: string[] = [];
			let pos = 0;
			while (pos < chunk.length && !closed()) {
				if (mode === 'data') {
					const end = findEnd(chunk, pos);
					if (end < 0) {
						const rest = chunk.subarray(pos);
						if (options.keep) body.push(Buffer.from(rest));
						tail = Buffer.from(
							rest.length >= 4
								? rest.subarray(rest.length - 4)
								: Buffer.concat([tail, rest]).subarray(-4),
						);
						pos = chunk.length;
					} else {
						if (options.keep) body.push(Buffer.from(chunk.subarray(pos, end)));
						pos = end;
						accept(out);
					}
					continue;
				}
				const nl = chunk.indexOf(10, pos);
				if (nl < 0) {
					if (chunk.length - pos > MAX_LINE) {
						out.push('500 Line too long');
						mode = 'closed';
					} else pending = Buffer.from(chunk.subarray(pos));
					break;
				}
				const line = chunk.toString('utf8', pos, nl > pos && chunk[nl - 1] === 13 ? nl - 1 : nl);
				pos = nl + 1;
				command(line, out);
			}
			if (out.length) socket.write(`${out.join('\r\n')}\r\n`);
			if (closed()) socket.end();
		});
	}

	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address() as { port: number };
			resolve({
				port: address.port,
				stats: () => ({ ...stats, bySender: { ...stats.bySender } }),
				messages,
				stop: () =>
					new Promise<void>((done) => {
						for (const s of sockets) s.destroy();
						server.close(() => done());
					}),
			});
		});
	});
}
