/**
 * The demo's SMTP relays, in a process of their own (so what they cost is not counted as the
 * demo's, and they run on another core when there is one): each accepts every message, keeps
 * nothing but counts and the first message's headers, and answers on IPC.
 *
 *   argv[2]   how many relays (default 2)
 *   → parent  { ports: number[] } once listening
 *   ← parent  { type: 'stats' } → { relays: RelayStats[], cpuMs }   ({ type: 'stop' } → exits)
 *
 * Like any smtp-server, a relay waits 100 ms before it greets a new connection (its check for
 * clients that talk too soon); the reverse DNS lookup of the client is off.
 */
import { SMTPServer } from 'smtp-server';

export interface RelayStats {
	port: number;
	messages: number;
	connections: number;
	bytes: number;
	/** messages that carried each `name: value` of the headers counted (X-Virtual-MTA) */
	headers: Record<string, number>;
	/** the first message: its Subject and To, and the greeting line of its text */
	first?: { subject?: string; to?: string; greeting?: string };
}

const COUNTED = ['x-virtual-mta'];

function relay(): { server: SMTPServer; stats: RelayStats } {
	const stats: RelayStats = { port: 0, messages: 0, connections: 0, bytes: 0, headers: {} };
	const server = new SMTPServer({
		authOptional: true,
		disabledCommands: ['AUTH', 'STARTTLS'],
		disableReverseLookup: true,
		logger: false,
		size: 25 * 1024 * 1024,
		onConnect(_session, callback) {
			stats.connections++;
			callback();
		},
		onData(stream, _session, callback) {
			// the headers of every message (the first one's beginning too, for its greeting)
			const keep = stats.messages === 0 ? 16_384 : 0;
			let head = '';
			let inHead = true;
			stream.on('data', (chunk: Buffer) => {
				stats.bytes += chunk.length;
				if (!inHead && head.length >= keep) return;
				head += chunk.toString('latin1');
				if (inHead && head.includes('\r\n\r\n')) inHead = false;
			});
			stream.on('end', () => {
				stats.messages++;
				const end = head.indexOf('\r\n\r\n');
				const fields = new Map<string, { name: string; value: string }>();
				for (const line of head
					.slice(0, end < 0 ? undefined : end)
					.replace(/\r\n[ \t]+/g, ' ')
					.split('\r\n')) {
					const colon = line.indexOf(':');
					if (colon > 0)
						fields.set(line.slice(0, colon).trim().toLowerCase(), {
							name: line.slice(0, colon).trim(),
							value: line.slice(colon + 1).trim(),
						});
				}
				for (const name of COUNTED) {
					const field = fields.get(name);
					if (field === undefined) continue;
					const key = `${field.name}: ${field.value}`;
					stats.headers[key] = (stats.headers[key] ?? 0) + 1;
				}
				if (stats.messages === 1)
					stats.first = {
						subject: fields.get('subject')?.value,
						to: fields.get('to')?.value,
						greeting: /Hello [^\r\n<=]*/.exec(head.slice(end))?.[0],
					};
				callback();
			});
		},
	});
	server.on('error', () => undefined);
	return { server, stats };
}

const relays = Array.from({ length: Number(process.argv[2] ?? 2) }, relay);
Promise.all(
	relays.map(
		(r) =>
			new Promise<void>((resolve) =>
				r.server.listen(0, '127.0.0.1', () => {
					r.stats.port = (r.server.server.address() as { port: number }).port;
					resolve();
				}),
			),
	),
).then(() => process.send?.({ ports: relays.map((r) => r.stats.port) }));

process.on('message', (m: { type: string }) => {
	if (m.type === 'stats') {
		const cpu = process.cpuUsage();
		process.send?.({ relays: relays.map((r) => r.stats), cpuMs: (cpu.user + cpu.system) / 1000 });
	}
	if (m.type === 'stop') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
