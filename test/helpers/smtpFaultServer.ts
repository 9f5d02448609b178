/**
 * A raw SMTP server on 127.0.0.1 (node:net, no SMTP library) that speaks just enough ESMTP for
 * nodemailer and then fails at one chosen moment of one chosen transaction, the way a crashing or
 * overloaded relay does:
 *  - closeAfterDot:   reads the whole message up to the final `\r\n.\r\n`, then drops the connection
 *  - silentAfterDot:  reads the final dot and never answers it
 *  - closeMidBody:    drops the connection on the first chunk of the message body
 *  - closeAfterRcpt:  drops the connection when RCPT TO arrives, without a reply
 *  - silentAfterRcpt: reads RCPT TO and never answers it
 * Transactions before the faulty one are accepted normally (250 after the dot), so a reused pooled
 * connection can be tested too. It counts what it saw, so a test can tell how often a message
 * really arrived.
 */

import net from 'node:net';

export type SmtpFault =
	'closeAfterDot' | 'silentAfterDot' | 'closeMidBody' | 'closeAfterRcpt' | 'silentAfterRcpt';

export interface SmtpFaultServerOptions {
	fault: SmtpFault;
	/** the transaction (MAIL FROM) that meets the fault, from 1; default 1 */
	faultOn?: number;
}

export interface SmtpFaultServer {
	port: number;
	/** connections accepted */
	connections: number;
	/** MAIL FROM commands seen: every attempt to send a message */
	transactions: number;
	/** messages received in full, final dot included */
	messages: number;
	/** bytes of message data received (after 354), over all transactions */
	bodyBytes: number;
	/** every command line, in order (message data not included) */
	commands: string[];
	stop(): Promise<void>;
}

const END_OF_DATA = '\r\n.\r\n';

export async function startSmtpFaultServer(
	options: SmtpFaultServerOptions,
): Promise<SmtpFaultServer> {
	const faultOn = options.faultOn ?? 1;
	const sockets = new Set<net.Socket>();
	const state: Omit<SmtpFaultServer, 'stop'> = {
		port: 0,
		connections: 0,
		transactions: 0,
		messages: 0,
		bodyBytes: 0,
		commands: [],
	};

	const server = net.createServer((socket) => {
		state.connections++;
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
		socket.on('error', () => undefined);
		let buffer = ''; // input not handled yet (latin1)
		let inData = false;
		let transaction = 0;
		const faulty = () => transaction === faultOn;
		const reply = (line: string) => socket.write(`${line}\r\n`);
		const drop = () => {
			socket.destroy();
			return false;
		};

		/** Handles what arrived; returns false once the connection is gone or must stay silent. */
		const handle = (): boolean => {
			for (;;) {
				if (inData) {
					if (!buffer) return true;
					if (options.fault === 'closeMidBody' && faulty()) return drop();
					const end = buffer.indexOf(END_OF_DATA);
					if (end < 0) {
						// keep just enough to find an end marker split across chunks
						buffer = buffer.slice(-(END_OF_DATA.length - 1));
						return true;
					}
					state.messages++;
					buffer = buffer.slice(end + END_OF_DATA.length);
					inData = false;
					if (faulty() && options.fault === 'closeAfterDot') return drop();
					if (faulty() && options.fault === 'silentAfterDot') return false;
					reply(`250 2.0.0 Ok: queued as fault-${state.messages}`);
					continue;
				}
				const eol = buffer.indexOf('\r\n');
				if (eol < 0) return true;
				const line = buffer.slice(0, eol);
				buffer = buffer.slice(eol + 2);
				state.commands.push(line);
				const verb = line.split(/[ :]/)[0].toUpperCase();
				if (verb === 'EHLO') reply('250-fault.test\r\n250-8BITMIME\r\n250 SIZE 52428800');
				else if (verb === 'HELO') reply('250 fault.test');
				else if (verb === 'MAIL') {
					transaction = ++state.transactions;
					reply('250 2.1.0 Ok');
				} else if (verb === 'RCPT') {
					if (options.fault === 'closeAfterRcpt' && faulty()) return drop();
					if (options.fault === 'silentAfterRcpt' && faulty()) return false;
					reply('250 2.1.5 Ok');
				} else if (verb === 'DATA') {
					reply('354 End data with <CR><LF>.<CR><LF>');
					inData = true;
					state.bodyBytes += buffer.length;
				} else if (verb === 'RSET' || verb === 'NOOP') reply('250 2.0.0 Ok');
				else if (verb === 'QUIT') {
					socket.end('221 2.0.0 Bye\r\n');
					return false;
				} else reply('502 5.5.2 Error: command not recognized');
			}
		};

		let open = true;
		reply('220 fault.test ESMTP ready');
		socket.on('data', (chunk: Buffer) => {
			if (!open) return; // silent from here on: what comes is read and ignored
			if (inData) state.bodyBytes += chunk.length;
			buffer += chunk.toString('latin1');
			open = handle();
		});
	});

	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	state.port = (server.address() as net.AddressInfo).port;
	return Object.assign(state, {
		stop: async () => {
			const closed = new Promise<void>((resolve) => server.close(() => resolve()));
			for (const socket of sockets) socket.destroy();
			await closed;
		},
	});
}
