/**
 * An SMTP sink in its own process for the send benchmark: accepts everything, discards bodies,
 * counts messages. Prints its port as JSON; answers {count} on an IPC "count" message.
 */
import { SMTPServer } from 'smtp-server';

let count = 0;
const server = new SMTPServer({
	authOptional: true,
	disabledCommands: ['STARTTLS'],
	logger: false,
	size: 10 * 1024 * 1024,
	onData(stream, _session, callback) {
		stream.on('data', () => undefined);
		stream.on('end', () => {
			count++;
			callback();
		});
	},
});
server.listen(0, '127.0.0.1', () => {
	const address = server.server.address() as { port: number };
	process.send?.({ port: address.port });
});
process.on('message', (m: { type: string }) => {
	if (m.type === 'count') process.send?.({ count });
	if (m.type === 'stop') server.close(() => process.exit(0));
});
