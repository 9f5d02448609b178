import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { closeRedisStateStores } from '../../lib/state/connection';
import { RedisStateStore } from '../../lib/state/redis';
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

/**
 * "A 60/min route holding a 180/min share made the run last a minute while the other route sat
 * idle": the send node reports its route's limit to Redis, and a partitioner set to move the excess
 * gives that route only what it can send. The real engine, the real nodes, a real redis-server.
 */
describe('Route Partitioner on Redis: a route whose own limit is below its share', () => {
	let redis: RedisServer;
	let sinks: SmtpSink[] = [];
	let prefix = 0;
	beforeAll(async () => {
		redis = await startRedisServer();
	});
	afterAll(async () => {
		await closeRedisStateStores();
		await redis.stop();
	});
	beforeEach(() => resetEmbeddedStateStore());
	afterEach(async () => {
		closeSmtpTransports();
		await Promise.all(sinks.map((s) => s.stop()));
		sinks = [];
	});

	const route = (item: INodeExecutionData) => item.json.postalRoute as IDataObject;

	async function setup(capacity: 'exact' | 'move') {
		// the campaign: 40/second split 70/30 (Relay B's share 12/second); Relay B's connection: 4/second
		let workflow: WorkflowJson = withParameters(loadWorkflow('send-split'), 'Gmail Split', {
			sticky: false,
			options: { campaignRate: 40, campaignRatePer: 'second', capacity },
		});
		const sendB = workflow.nodes.find((n) => n.name === 'Send B')!;
		workflow = withParameters(workflow, 'Send B', {
			options: {
				...(sendB.parameters.options as IDataObject),
				rateLimit: 4,
				rateLimitPer: 'second',
			},
		});
		for (const node of ['Gmail Split', 'Send A', 'Send B', 'Backup Send'])
			workflow = withRedisState(workflow, node);
		sinks = [await startSmtpSink(), await startSmtpSink(), await startSmtpSink()];
		const keyPrefix = `capacity${++prefix}:`;
		const smtp = (port: number) => ({ host: '127.0.0.1', port, security: 'none' });
		const credentials: Record<string, IDataObject> = {
			'smtp-a': smtp(sinks[0].port),
			'smtp-b': smtp(sinks[1].port),
			'smtp-c': smtp(sinks[2].port),
			'redis-1': { mode: 'standalone', host: '127.0.0.1', port: redis.port, keyPrefix },
		};
		const run = (seed: number) =>
			runWorkflow(workflow, { Recipients: recipients(40, seed, ['gmail.com']) }, { credentials });
		return { run, keyPrefix };
	}

	it('Move the excess: after Relay B reported 4/second, it gets 10% of the items and Relay A the rest, marked via "capacity"', async () => {
		const { run, keyPrefix } = await setup('move');

		// first run: nothing reported yet, the exact split; Send B reports its limit as it runs
		const first = await run(1);
		expect(first.error).toBeUndefined();
		const [toA1, toB1] = first.outputs('Gmail Split');
		expect([toA1.length, toB1.length]).toEqual([28, 12]);
		const store = new RedisStateStore({
			mode: 'standalone',
			host: '127.0.0.1',
			port: redis.port,
			keyPrefix,
		});
		expect(await store.getRouteLimits('wfSendSplit', ['Relay A', 'Relay B'])).toEqual([
			null,
			{ limit: 4, per: 'second', kind: 'connection' },
		]);
		await store.close();

		const second = await run(2);
		expect(second.error).toBeUndefined();
		const [toA, toB] = second.outputs('Gmail Split');
		expect([toA.length, toB.length]).toEqual([36, 4]);
		const moved = toA.filter((i) => route(i).via === 'capacity');
		expect(moved).toHaveLength(8);
		expect(new Set(moved.map((i) => route(i).reason))).toEqual(
			new Set(['Relay B: its connection limit 4/s is below its share 12/s']),
		);
		// every route within its own limit, the campaign at its 40/second
		expect(route(toB[0]).rate).toMatchObject({ limit: 4, per: 'second', campaignLimit: 40 });
		expect(route(toA[0]).rate).toMatchObject({ limit: 36, per: 'second', campaignLimit: 40 });
		// and all of it went out, once
		expect(second.outputs('Send A')[0]).toHaveLength(36);
		expect(second.outputs('Send B')[0]).toHaveLength(4);
		expect(sinks[0].messages.length + sinks[1].messages.length).toBe(80);
	});

	it('Keep the exact split (the default): Relay B keeps its 30% after reporting its limit', async () => {
		const { run } = await setup('exact');
		expect((await run(3)).error).toBeUndefined();
		const second = await run(4);
		const [toA, toB] = second.outputs('Gmail Split');
		expect([toA.length, toB.length]).toEqual([28, 12]);
		expect([...toA, ...toB].some((i) => route(i).via === 'capacity')).toBe(false);
		expect(route(toB[0]).rate).toMatchObject({ limit: 12, per: 'second' });
	});
});
