import type { IDataObject, INode } from 'n8n-workflow';
import { closeRedisStateStores } from '../../lib/state/connection';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { runWorkflow, type WorkflowJson } from '../helpers/engine';
import { recipients } from '../helpers/recipients';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

/**
 * The send node's outputs as n8n shows them, with real Redis and a real SMTP sink: nothing that
 * did not go appears on Sent, whatever the user chose for errors, and a run that delivered nothing
 * says so. Before: with "On Error: Continue" a Redis outage put every item on Sent (n8n puts a
 * failed node's items on its first output), and a run that sent nothing looked like any other.
 */

function sendWorkflow(send: Partial<INode> & { parameters: IDataObject }): WorkflowJson {
	const node = (name: string, type: string, parameters: IDataObject = {}, x = 0): INode => ({
		id: name,
		name,
		type,
		typeVersion: 1,
		position: [x, 0],
		parameters: parameters as INode['parameters'],
	});
	return {
		id: 'wfSendOutcomes',
		nodes: [
			node('Manual Trigger', 'n8n-nodes-base.manualTrigger'),
			node('Recipients', 'test.injectedItems', {}, 200),
			{
				...node('Send', 'n8n-nodes-postal-routes.loadBalancedSend', {}, 400),
				credentials: { postalSmtp: { id: 'smtp-a', name: 'Relay A' } },
				...send,
				parameters: {
					provider: 'smtp',
					from: 'Shop <news@shop.example>',
					subject: 'Hello',
					text: 'Hi',
					routeName: 'Relay A',
					...send.parameters,
				},
			},
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: 'Send', type: 'main', index: 0 }]] },
		},
	};
}

const record = (i: { json: IDataObject }) => i.json.postalDelivery as IDataObject;

describe('Load-Balanced Send: honest outputs in n8n', () => {
	let redis: RedisServer;
	let sink: SmtpSink | undefined;
	beforeAll(async () => {
		redis = await startRedisServer({ persistent: true });
	});
	afterAll(async () => {
		closeSmtpTransports();
		await closeRedisStateStores();
		await redis.stop();
	});
	beforeEach(() => resetEmbeddedStateStore());
	afterEach(async () => {
		closeSmtpTransports();
		await sink?.stop();
		sink = undefined;
	});

	const redisSend = (extra: IDataObject = {}): Partial<INode> & { parameters: IDataObject } => ({
		onError: 'continueRegularOutput',
		credentials: {
			postalSmtp: { id: 'smtp-a', name: 'Relay A' },
			postalRedis: { id: 'redis-1', name: 'Redis' },
		},
		parameters: { stateStore: 'redis', options: { concurrency: 1 }, ...extra },
	});
	const credentials = (smtpPort: number, redisPort: number): Record<string, IDataObject> => ({
		'smtp-a': { host: '127.0.0.1', port: smtpPort, security: 'none' },
		'redis-1': { mode: 'standalone', host: '127.0.0.1', port: redisPort, keyPrefix: 'outcomes:' },
	});

	it('"On Error: Continue" with Redis dying mid-run: Sent holds exactly what the sink received', async () => {
		sink = await startSmtpSink({
			reply: (ctx) => {
				if (ctx.phase === 'rcpt' && ctx.messageIndex === 20) void redis.stop();
				return undefined;
			},
		});
		const people = recipients(50, 7, ['gmail.com']);
		const run = await runWorkflow(
			sendWorkflow(redisSend()),
			{ Recipients: people },
			{ credentials: credentials(sink.port, redis.port) },
		);
		expect(run.error).toBeUndefined(); // the user chose to continue
		const [sent, failed, fallback, skipped] = run.outputs('Send');
		expect(sent.length).toBe(sink.messages.length); // before: 50 on Sent, about 20 delivered
		expect(sent.length).toBeGreaterThanOrEqual(20);
		expect(sent.length).toBeLessThan(50);
		expect(sent.map((i) => record(i).status)).toEqual(sent.map(() => 'sent'));
		expect(failed.length).toBe(50 - sent.length);
		for (const item of failed) {
			expect(record(item).status).toBe('not-sent');
			expect(record(item).error).toMatch(/not sent: .*Redis/);
		}
		expect(fallback.length + skipped.length).toBe(0);
		await redis.start();
	});

	it('"On Error: Continue" with Redis down from the start: nothing on Sent, all on Failed', async () => {
		sink = await startSmtpSink();
		await redis.stop();
		try {
			const run = await runWorkflow(
				sendWorkflow(redisSend()),
				{ Recipients: recipients(5, 8, ['gmail.com']) },
				{ credentials: credentials(sink.port, redis.port) },
			);
			const [sent, failed] = run.outputs('Send');
			expect(sent).toHaveLength(0);
			expect(failed.map((i) => record(i).status)).toEqual(Array(5).fill('not-sent'));
			expect(sink.messages).toHaveLength(0);
		} finally {
			await redis.start();
		}
	});

	it('"Continue on Local State": every item says the send used local state', async () => {
		sink = await startSmtpSink();
		await redis.stop();
		try {
			const run = await runWorkflow(
				sendWorkflow(redisSend({ continueOnLocalState: true })),
				{ Recipients: recipients(3, 9, ['gmail.com']) },
				{ credentials: credentials(sink.port, redis.port) },
			);
			const [sent] = run.outputs('Send');
			expect(sent).toHaveLength(3);
			for (const item of sent)
				expect(record(item).stateFallback).toMatch(/Redis was unreachable.*local state/);
		} finally {
			await redis.start();
		}
	});

	it('a run that delivered nothing says so in the output pane, naming the first reason', async () => {
		sink = await startSmtpSink({
			reply: (ctx) =>
				ctx.phase === 'rcpt' ? { code: 550, message: '5.1.1 no such user' } : undefined,
		});
		const run = await runWorkflow(
			sendWorkflow({ parameters: {} }),
			{ Recipients: recipients(3, 10, ['gmail.com']) },
			{ credentials: { 'smtp-a': { host: '127.0.0.1', port: sink.port, security: 'none' } } },
		);
		const task = run.run.data.resultData.runData.Send[0];
		expect(task.hints).toEqual([
			expect.objectContaining({
				type: 'warning',
				message: expect.stringMatching(
					/^No message was delivered: 0 on Fallback, 3 failed, 0 skipped\. First reason: .*550/,
				),
			}),
		]);
		// a run that delivered something has no such hint
		const fine = await startSmtpSink();
		try {
			const good = await runWorkflow(
				sendWorkflow({ parameters: { campaignId: 'other' } }),
				{ Recipients: recipients(2, 11, ['gmail.com']) },
				{ credentials: { 'smtp-a': { host: '127.0.0.1', port: fine.port, security: 'none' } } },
			);
			expect(good.run.data.resultData.runData.Send[0].hints ?? []).toEqual([]);
		} finally {
			await fine.stop();
		}
	});

	it('a repeated send leaves on Skipped, with no error', async () => {
		sink = await startSmtpSink();
		const people = recipients(4, 12, ['gmail.com']);
		const creds = { 'smtp-a': { host: '127.0.0.1', port: sink.port, security: 'none' } };
		await runWorkflow(
			sendWorkflow({ parameters: {} }),
			{ Recipients: people },
			{ credentials: creds },
		);
		const again = await runWorkflow(
			sendWorkflow({ parameters: {} }),
			{ Recipients: people },
			{ credentials: creds },
		);
		const [sent, , , skipped] = again.outputs('Send');
		expect(sent).toHaveLength(0);
		expect(skipped.map((i) => record(i).status)).toEqual(Array(4).fill('skipped-duplicate'));
		expect(skipped.every((i) => record(i).error === undefined)).toBe(true);
		expect(sink.messages).toHaveLength(4);
	});
});
