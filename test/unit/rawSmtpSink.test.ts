/**
 * The benchmarks' raw SMTP sink (test/helpers/rawSmtpSink.ts): nodemailer 10 (pooled, pipelining)
 * and nodemailer 8 (a connection per message, as n8n's Send Email) deliver through it intact, and
 * the protocol edges a hand-written client reaches behave as a server's would.
 */
import { connect, type Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import { startRawSmtpSink, type RawSmtpSink } from '../helpers/rawSmtpSink';

let sink: RawSmtpSink;
afterEach(async () => sink?.stop());

const bodies = [
	'plain line',
	'.starts with a dot\n..two dots\n.\nonly a dot above',
	'ends with a dot line\n.',
	'über 8-bit: Grüße, ☃',
	`long ${'x'.repeat(5000)}`,
	'',
];

describe('raw SMTP sink', () => {
	it('receives what pooled, pipelining nodemailer 10 sends, unstuffed and whole', async () => {
		sink = await startRawSmtpSink({ keep: true });
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const nodemailer = require('nodemailer');
		const transport = nodemailer.createTransport({
			host: '127.0.0.1',
			port: sink.port,
			secure: false,
			ignoreTLS: true,
			pool: true,
			maxConnections: 3,
		});
		const n = 30;
		const infos = await Promise.all(
			Array.from({ length: n }, (_, i) =>
				transport.sendMail({
					from: i % 2 ? 'odd@shop.example' : 'even@shop.example',
					to: [`user${i}@gmail.com`, `copy${i}@outlook.com`],
					subject: `Hello ${i}`,
					text: bodies[i % bodies.length],
				}),
			),
		);
		transport.close();
		for (const info of infos as Array<{ response: string }>)
			expect(info.response).toMatch(/^250 OK queued as raw-\d+$/);
		expect(sink.stats()).toMatchObject({
			count: n,
			bySender: { 'odd@shop.example': n / 2, 'even@shop.example': n / 2 },
		});
		expect(sink.stats().connections).toBeLessThanOrEqual(3);
		for (const m of sink.messages) {
			const parsed = await simpleParser(m.data);
			const i = Number(/Hello (\d+)/.exec(parsed.subject ?? '')?.[1]);
			expect(m.rcpts).toEqual([`user${i}@gmail.com`, `copy${i}@outlook.com`]);
			expect((parsed.text ?? '').replace(/\n$/, '')).toBe(bodies[i % bodies.length]);
		}
	});

	it("takes nodemailer 8's one connection per message (n8n's Send Email)", async () => {
		sink = await startRawSmtpSink();
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const nodemailer8 = require('nodemailer-n8n');
		for (let i = 0; i < 4; i++) {
			const transport = nodemailer8.createTransport(
				{ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true },
				{ disableFileAccess: true, disableUrlAccess: true },
			);
			await transport.sendMail({ from: 'n8n@shop.example', to: `u${i}@gmail.com`, text: 'hi' });
		}
		expect(sink.stats()).toEqual({
			count: 4,
			bySender: { 'n8n@shop.example': 4 },
			connections: 4,
		});
	});

	it('answers pipelined commands in order, finds the end of data across chunks, and refuses out-of-order commands', async () => {
		sink = await startRawSmtpSink({ keep: true, maxSize: 1000 });
		const c = await client(sink.port);
		expect(await c.reply()).toMatch(/^220 /);
		c.send('MAIL FROM:<a@b.example>\r\n');
		expect(await c.reply()).toMatch(/^503 /); // no EHLO yet
		c.send('EHLO tester\r\n');
		expect(await c.reply()).toBe(
			'250-raw-sink.localhost Hello tester\n250-PIPELINING\n250-8BITMIME\n250 SIZE 1000',
		);
		c.send('DATA\r\n');
		expect(await c.reply()).toMatch(/^503 /);
		c.send('MAIL FROM:<a@b.example> SIZE=5000\r\n');
		expect(await c.reply()).toMatch(/^552 /);
		c.send('FROB\r\nNOOP\r\n');
		expect(await c.reply()).toMatch(/^502 /);
		expect(await c.reply()).toBe('250 OK');
		// one write: the envelope and DATA, as nodemailer pipelines them
		c.send('MAIL FROM:<a@b.example> BODY=8BITMIME\r\nRCPT TO:<x@y.example>\r\nDATA\r\n');
		expect([await c.reply(), await c.reply(), await c.reply()]).toEqual([
			'250 OK',
			'250 Accepted',
			'354 End data with <CR><LF>.<CR><LF>',
		]);
		// the end marker split over three writes, a stuffed dot line before it
		c.send('Subject: t\r\n\r\n..dot\r\nline\r');
		await pause();
		c.send('\n.');
		await pause();
		c.send('\r\nRSET\r\n');
		expect(await c.reply()).toBe('250 OK queued as raw-1');
		expect(await c.reply()).toBe('250 Flushed');
		// an empty message, then a transaction RSET throws away
		c.send('MAIL FROM:<> \r\nRCPT TO:<z@y.example>\r\nDATA\r\n');
		expect([await c.reply(), await c.reply(), await c.reply()]).toEqual([
			'250 OK',
			'250 Accepted',
			'354 End data with <CR><LF>.<CR><LF>',
		]);
		c.send('.\r\nMAIL FROM:<gone@b.example>\r\nRSET\r\nRCPT TO:<q@y.example>\r\n');
		expect([await c.reply(), await c.reply(), await c.reply(), await c.reply()]).toEqual([
			'250 OK queued as raw-2',
			'250 OK',
			'250 Flushed',
			'503 Need MAIL command',
		]);
		c.send('QUIT\r\n');
		expect(await c.reply()).toMatch(/^221 /);
		await c.closed;
		expect(sink.messages.map((m) => [m.mailFrom, m.rcpts, m.params, m.data.toString()])).toEqual([
			['a@b.example', ['x@y.example'], 'BODY=8BITMIME', 'Subject: t\r\n\r\n.dot\r\nline\r\n'],
			['', ['z@y.example'], '', ''],
		]);
		expect(sink.stats().bySender).toEqual({ 'a@b.example': 1, '': 1 });
	});
});

const pause = () => new Promise((r) => setTimeout(r, 30));

/** A line-based SMTP client: `reply()` resolves with the next whole reply (its lines joined by \n). */
async function client(port: number) {
	const socket: Socket = connect(port, '127.0.0.1');
	socket.setNoDelay(true);
	await new Promise((r) => socket.once('connect', r));
	let buffered = '';
	const replies: string[] = [];
	const waiting: Array<(r: string) => void> = [];
	let lines: string[] = [];
	socket.on('data', (d: Buffer) => {
		buffered += d.toString('utf8');
		let i: number;
		while ((i = buffered.indexOf('\r\n')) >= 0) {
			const line = buffered.slice(0, i);
			buffered = buffered.slice(i + 2);
			lines.push(line);
			if (line[3] === '-') continue;
			const reply = lines.join('\n');
			lines = [];
			const w = waiting.shift();
			if (w) w(reply);
			else replies.push(reply);
		}
	});
	return {
		send: (text: string) => socket.write(text),
		reply: () =>
			new Promise<string>((resolve) => {
				const r = replies.shift();
				if (r !== undefined) resolve(r);
				else waiting.push(resolve);
			}),
		closed: new Promise((r) => socket.once('close', r)),
	};
}
