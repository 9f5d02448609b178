import Redis from 'ioredis';
import type { IDataObject } from 'n8n-workflow';
import { closeRedisStateStores } from '../../lib/state/connection';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import {
	loadWorkflow,
	runWorkflow,
	withParameters,
	withRedisState,
	type WorkflowJson,
} from '../helpers/engine';
import { recipients } from '../helpers/recipients';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const DAY = 86_400_000;

describe('what a campaign leaves in Redis', () => {
	let redis: RedisServer;
	let client: Redis;
	let sinks: SmtpSink[] = [];
	beforeAll(async () => {
		redis = await startRedisServer();
		client = new Redis({ host: '127.0.0.1', port: redis.port });
	});
	afterAll(async () => {
		closeSmtpTransports();
		await closeRedisStateStores();
		client.disconnect();
		await Promise.all(sinks.map((s) => s.stop()));
		await redis.stop();
	});

	async function dump(prefix: string): Promise<{ keys: string[]; text: string }> {
		const keys = await client.keys(`${prefix}*`);
		let text = keys.join('\n');
		for (const key of keys) {
			const type = await client.type(key);
			if (type === 'string') text += `\n${await client.get(key)}`;
			if (type === 'hash') text += `\n${JSON.stringify(await client.hgetall(key))}`;
			if (type === 'set') text += `\n${(await client.smembers(key)).join('\n')}`;
		}
		return { keys, text: text.toLowerCase() };
	}

	it('no recipient address in any key or value; duplicate markers live Duplicate Protection (Days)', async () => {
		resetEmbeddedStateStore();
		let workflow: WorkflowJson = loadWorkflow('send-split');
		for (const node of ['Gmail Split', 'Send A', 'Send B', 'Backup Send'])
			workflow = withRedisState(workflow, node);
		const sendA = workflow.nodes.find((n) => n.name === 'Send A')!;
		workflow = withParameters(workflow, 'Send A', {
			options: { ...(sendA.parameters.options as IDataObject), duplicateWindowDays: 2 },
		});
		sinks = [await startSmtpSink(), await startSmtpSink(), await startSmtpSink()];
		const smtp = (port: number) => ({ host: '127.0.0.1', port, security: 'none' });
		const [a, b, c] = sinks;
		const people = recipients(50, 5, ['gmail.com']);
		const credentials: Record<string, IDataObject> = {
			'smtp-a': smtp(a.port),
			'smtp-b': smtp(b.port),
			'smtp-c': smtp(c.port),
			'redis-1': { mode: 'standalone', host: '127.0.0.1', port: redis.port, keyPrefix: 'stored:' },
		};
		const run = await runWorkflow(workflow, { Recipients: people }, { credentials });
		expect(run.error).toBeUndefined();
		expect(a.messages.length + b.messages.length).toBe(50);

		const { keys, text } = await dump('stored:');
		expect(keys.filter((k) => k.includes(':sticky:'))).toHaveLength(1);
		for (const person of people) {
			const address = String(person.email).toLowerCase();
			expect(text).not.toContain(address);
			expect(text).not.toContain(address.split('@')[0]);
		}
		// Send A's markers: 2 days; Send B's (no option): the default 90
		const ttls = await Promise.all(
			keys.filter((k) => k.includes(':once:')).map((k) => client.pttl(k)),
		);
		expect(ttls).toHaveLength(50);
		expect(ttls.filter((t) => t > 1.9 * DAY && t <= 2 * DAY)).toHaveLength(a.messages.length);
		expect(ttls.filter((t) => t > 89.9 * DAY && t <= 90 * DAY)).toHaveLength(b.messages.length);
	});
});
