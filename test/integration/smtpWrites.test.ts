/**
 * The SMTP transport holds the connection's writes while a message passes (holdWritesWhilePassing
 * in lib/transports/smtp.ts): a multipart message leaves in one write instead of one per MIME
 * chunk, and a message larger than the socket's buffer still goes (a held socket never drains).
 * Writes are counted on the client's sockets, against our raw sink on loopback.
 */
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { parseSmtpCredential, SmtpTransport } from '../../lib/transports/smtp';
import type { OutgoingMessage } from '../../lib/transports/types';
import { startRawSmtpSink, type RawSmtpSink } from '../helpers/rawSmtpSink';

const message = (i: number, over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
	from: { address: 'news@shop.example', name: 'Shop' },
	to: [{ address: `user${i}@example.org` }],
	cc: [],
	bcc: [],
	subject: `Hello ${i}`,
	text: 'Hi there',
	html: '<p>Hi there</p>',
	headers: {},
	attachments: [],
	tags: [],
	metadata: {},
	...over,
});

/**
 * writes to the socket (net.Socket#_writeGeneric: one per write or writev handed to the system) on
 * client sockets to `port` while `fn` runs; the sink's own replies are not counted
 */
async function countWrites(port: number, fn: () => Promise<unknown>): Promise<number> {
	const proto = net.Socket.prototype as unknown as {
		_writeGeneric: (...args: unknown[]) => unknown;
	};
	const generic = proto._writeGeneric;
	let writes = 0;
	proto._writeGeneric = function (this: net.Socket, ...args: unknown[]) {
		if (this.remotePort === port) writes++;
		return generic.apply(this, args);
	};
	try {
		await fn();
	} finally {
		proto._writeGeneric = generic;
	}
	return writes;
}

let sink: RawSmtpSink;
let transport: SmtpTransport;
beforeEach(async () => {
	sink = await startRawSmtpSink({ keep: true, maxSize: 50 * 1024 * 1024 });
	transport = new SmtpTransport(
		parseSmtpCredential({ host: '127.0.0.1', port: sink.port, security: 'none', poolSize: 1 }),
	);
});
afterEach(async () => {
	transport.close();
	await sink.stop();
});

test('a multipart message and its final dot leave in one write after the envelope batch', async () => {
	// the connection's own set-up (greeting, EHLO) first, so only the messages are counted
	expect((await transport.send(message(0))).ok).toBe(true);
	const n = 20;
	const writes = await countWrites(sink.port, async () => {
		for (let i = 1; i <= n; i++) expect((await transport.send(message(i))).ok).toBe(true);
	});
	// per message: MAIL FROM + RCPT TO + DATA (pipelined, one write), then the message with its
	// final dot; without the hold, the message was a write per MIME chunk (9 in all for this one)
	expect(writes / n).toBe(2);
	expect(sink.stats().count).toBe(n + 1);
	const last = sink.messages[n].data.toString();
	expect(last).toContain('Subject: Hello 20');
	expect(last).toContain('<p>Hi there</p>');
});

test('a message larger than the socket buffer still goes, byte for byte', async () => {
	const content = randomBytes(3 * 1024 * 1024);
	const outcome = await transport.send(
		message(1, {
			attachments: [{ filename: 'big.bin', contentType: 'application/octet-stream', content }],
		}),
	);
	expect(outcome.ok).toBe(true);
	const data = sink.messages[0].data.toString();
	const base64 = data
		.slice(data.indexOf('filename=big.bin'))
		.split('\r\n\r\n')[1]
		.split('\r\n--')[0]
		.replace(/\r\n/g, '');
	const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
	expect(sha(Buffer.from(base64, 'base64'))).toBe(sha(content));
	// and the connection is usable afterwards (not left held)
	expect((await transport.send(message(2))).ok).toBe(true);
	expect(sink.stats().count).toBe(2);
});
