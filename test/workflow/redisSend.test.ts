import type { IDataObject } from 'n8n-workflow';
import { closeRedisStateStores } from '../../lib/state/connection';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { loadWorkflow, runWorkflow, withRedisState, type WorkflowJson } from '../helpers/engine';
import { recipients } from '../helpers/recipients';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

describe('sending on Redis state: Redis dies mid-run, restarts, and the campaign is re-run', () => {
	let redis: RedisServer;
	let sinks: SmtpSink[] = [];
	beforeAll(async () => {
		redis = await startRedisServer({ persistent: true });
	});
	afterAll(async () => {
		closeSmtpTransports();
		await closeRedisStateStores();
		await Promise.all(sinks.map((s) => s.stop()));
		await redis.stop();
	});
	beforeEach(() => resetEmbeddedStateStore());

	it('stops with a clear error, sends nothing the state did not record, then delivers every recipient exactly once', async () => {
		let workflow: WorkflowJson = loadWorkflow('send-split');
		for (const node of ['Gmail Split', 'Send A', 'Send B', 'Backup Send'])
			workflow = withRedisState(workflow, node);
		const people = recipients(600, 91, ['gmail.com']);

		// Redis goes down while Send A is at its 101st message
		const a: SmtpSink = await startSmtpSink({
			reply: (ctx) => {
				if (ctx.phase === 'rcpt' && ctx.messageIndex === 100) void redis.stop();
				return undefined;
			},
		});
		sinks = [a, await startSmtpSink(), await startSmtpSink()];
		const [, b, c] = sinks;
		const smtp = (port: number) => ({ host: '127.0.0.1', port, security: 'none', poolSize: 2 });
		const credentials: Record<string, IDataObject> = {
			'smtp-a': smtp(a.port),
			'smtp-b': smtp(b.port),
			'smtp-c': smtp(c.port),
			'redis-1': {
				mode: 'standalone',
				host: '127.0.0.1',
				port: redis.port,
				keyPrefix: 'fault:',
				password: 'redis-secret-9',
			},
		};

		const first = await runWorkflow(workflow, { Recipients: people }, { credentials });
		expect(first.error?.message).toMatch(
			/Redis at 127\.0\.0\.1:\d+.*Sending stopped: without the shared state a message could go out twice or past its limits/,
		);
		expect(JSON.stringify(first.run)).not.toContain('redis-secret-9');
		const sentBeforeOutage = a.messages.length;
		expect(sentBeforeOutage).toBeGreaterThanOrEqual(100);
		expect(sentBeforeOutage).toBeLessThan(420); // it stopped: nothing more after the failure surfaced
		expect(b.messages).toHaveLength(0); // the run ended at Send A

		await redis.start();
		const second = await runWorkflow(workflow, { Recipients: people }, { credentials });
		expect(second.error).toBeUndefined();

		const delivered = [...a.messages, ...b.messages, ...c.messages].map((m) => m.rcpts[0]);
		expect(new Set(delivered).size).toBe(delivered.length); // nobody twice
		expect(delivered).toHaveLength(600); // nobody lost
		expect(a.messages).toHaveLength(420);
		expect(b.messages).toHaveLength(180);
		// the re-run skipped what the first run had sent, on Skipped (never on Sent), without an error
		const [sentAgain, , , skipped] = second.outputs('Send A');
		expect(skipped).toHaveLength(sentBeforeOutage);
		for (const item of skipped) {
			const record = item.json.postalDelivery as IDataObject;
			expect(record.status).toBe('skipped-duplicate');
			expect(record.error).toBeUndefined();
			expect(record.skip).toMatchObject({ reason: 'already-sent' });
		}
		expect(sentAgain).toHaveLength(420 - sentBeforeOutage);
	});
});
