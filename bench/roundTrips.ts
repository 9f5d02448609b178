/**
 * Redis round trips per sent message: Load-Balanced Send through the n8n engine (n8n-core's
 * WorkflowExecute) on a real redis-server, 1,000 messages to a local SMTP sink, with the default
 * duplicate protection, without and with a connection rate limit. Counted two ways: every command
 * a client of this process sends (ioredis, patched at its prototype; the store sends one command
 * at a time, so each is a round trip), and the server's own INFO commandstats (scripts called, and
 * every command run, those inside scripts included).
 */
import Redis from 'ioredis';
import type { IDataObject, INode } from 'n8n-workflow';
import { closeRedisStateStores } from '../lib/state/connection';
import { resetEmbeddedStateStore } from '../lib/state/registry';
import { closeSmtpTransports } from '../lib/transports/smtp';
import type { WorkflowJson } from '../test/helpers/engine';
import { recipients } from '../test/helpers/recipients';
import { startRedisServer } from '../test/helpers/redisServer';
import { startSmtpSink } from '../test/helpers/smtpSink';

const N = 1000;
const TARGET = 1.1;

function workflow(options: IDataObject): WorkflowJson {
	const node = (name: string, type: string, x: number, parameters: IDataObject = {}): INode => ({
		id: name,
		name,
		type,
		typeVersion: 1,
		position: [x, 0],
		parameters: parameters as INode['parameters'],
	});
	return {
		id: 'benchRoundTrips',
		nodes: [
			node('Manual Trigger', 'n8n-nodes-base.manualTrigger', 0),
			node('Recipients', 'test.injectedItems', 200),
			{
				...node('Send', 'n8n-nodes-postal-routes.loadBalancedSend', 400, {
					provider: 'smtp',
					routeName: 'Relay A',
					stateStore: 'redis',
					from: 'Shop <news@shop.example>',
					subject: 'Hello',
					text: 'Hi there',
					options,
				}),
				credentials: {
					postalSmtp: { id: 'smtp-a', name: 'Relay A' },
					postalRedis: { id: 'redis-1', name: 'Redis' },
				},
			},
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: 'Send', type: 'main', index: 0 }]] },
		},
	};
}

async function commandStats(admin: Redis): Promise<Record<string, number>> {
	const info = await admin.info('commandstats');
	const out: Record<string, number> = {};
	for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
	return out;
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

export async function benchRoundTrips(): Promise<void> {
	const { runWorkflow } = await import('../test/helpers/engine');
	const server = await startRedisServer();
	const sink = await startSmtpSink();
	const admin = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
	await admin.connect();
	// every command any other client of this process sends
	let sent = 0;
	const proto = Redis.prototype as unknown as { sendCommand: (...a: unknown[]) => unknown };
	const original = proto.sendCommand;
	proto.sendCommand = function (this: Redis, ...args: unknown[]) {
		if (this !== admin) sent++;
		return original.apply(this, args);
	};
	const credentials = {
		'smtp-a': { host: '127.0.0.1', port: sink.port, security: 'none' },
		'redis-1': { mode: 'standalone', host: '127.0.0.1', port: server.port, keyPrefix: 'rt:' },
	};
	const runs: Array<[string, IDataObject]> = [
		['no rate limit', {}],
		['200/s connection limit', { rateLimit: 200, rateLimitPer: 'second' }],
	];
	console.log(
		`\n## Redis per sent message: Load-Balanced Send through the n8n engine, ${N.toLocaleString('en')} messages, default settings (duplicate protection on, 5 connections)`,
	);
	try {
		let k = 0;
		for (const [label, options] of runs) {
			resetEmbeddedStateStore();
			const people = recipients(N, 31 + k++, ['gmail.com']);
			const before = await commandStats(admin);
			sent = 0;
			const run = await runWorkflow(
				workflow(options),
				{ Recipients: people },
				{ credentials: credentials as Record<string, IDataObject> },
			);
			const clientCommands = sent;
			const after = await commandStats(admin);
			if (run.error) throw run.error;
			const delivered = run.outputs('Send')[0].length;
			if (delivered !== N) throw new Error(`only ${delivered} of ${N} sent (${label})`);
			const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
			const scripts = delta('evalsha') + delta('eval');
			// the INFO call that read `before` is itself counted in `after`
			const server = sum(after) - sum(before) - 1;
			const perMessage = clientCommands / delivered;
			console.log(
				`  ${label.padEnd(24)} round trips ${perMessage.toFixed(3)} per message (${clientCommands} commands sent by the node for ${delivered} sent) · scripts ${(scripts / delivered).toFixed(3)} per message · ${(server / delivered).toFixed(2)} commands run by the server per message   target ≤ ${TARGET}: ${perMessage <= TARGET ? 'MET' : 'MISSED'}`,
			);
			closeSmtpTransports();
			await closeRedisStateStores();
		}
	} finally {
		proto.sendCommand = original;
		admin.disconnect();
		await sink.stop();
		await server.stop();
	}
}
