/**
 * An SMTP sink in its own process for the send benchmarks: accepts everything, discards bodies,
 * counts messages. Sends {port} over IPC once listening; answers a "stats" message with
 * {count, bySender, connections} and stops on "stop".
 *
 * argv[2] picks the server:
 *   raw          (default) test/helpers/rawSmtpSink.ts: greets at once
 *   smtp-server  smtp-server as the send benchmark used it before: every new connection waits a
 *                fixed 100 ms before the greeting (SMTPConnection#init, no option) plus a reverse
 *                DNS lookup of 127.0.0.1
 */
import { SMTPServer } from 'smtp-server';
import { startRawSmtpSink, type RawSinkStats } from '../test/helpers/rawSmtpSink';

const kind = process.argv[2] ?? 'raw';

async function start(): Promise<{ port: number; stats(): RawSinkStats; stop(): Promise<void> }> {
	if (kind === 'raw') return startRawSmtpSink();
	if (kind !== 'smtp-server') throw new Error(`unknown sink "${kind}" (raw or smtp-server)`);
	const stats: RawSinkStats = { count: 0, bySender: {}, connections: 0 };
	const server = new SMTPServer({
		authOptional: true,
		disabledCommands: ['STARTTLS'],
		logger: false,
		size: 10 * 1024 * 1024,
		onConnect(_session, callback) {
			stats.connections++;
			callback();
		},
		onData(stream, session, callback) {
			stream.on('data', () => undefined);
			stream.on('end', () => {
				const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
				stats.count++;
				stats.bySender[from] = (stats.bySender[from] ?? 0) + 1;
				callback();
			});
		},
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.server.address() as { port: number }).port,
		stats: () => ({ ...stats, bySender: { ...stats.bySender } }),
		stop: () => new Promise((resolve) => server.close(() => resolve())),
	};
}

start().then(
	(sink) => {
		process.send?.({ port: sink.port });
		process.on('message', (m: { type: string }) => {
			if (m.type === 'stats') process.send?.({ stats: sink.stats() });
			if (m.type === 'stop') void sink.stop().finally(() => process.exit(0));
		});
		// the benchmark went away without stopping us
		process.on('disconnect', () => process.exit(0));
	},
	(error) => {
		console.error(error);
		process.exit(1);
	},
);
