import { RedisStateStore } from '../../lib/state/redis';
import type { StateStore } from '../../lib/state/types';
import { redisCli } from '../helpers/redisCluster';
import { startRedisSentinel, type RedisSentinel } from '../helpers/redisSentinel';
import {
	describeHealthContract,
	describeRateAndOnceContract,
	describeStateStoreContract,
} from './stateStore.contract';

/** The RedisStateStore through a real Redis Sentinel (one master, one sentinel): the shared contract. */

let sentinel: RedisSentinel;
let n = 0;
beforeAll(async () => {
	sentinel = await startRedisSentinel();
}, 30_000);
afterAll(async () => {
	await sentinel?.stop();
});

const connection = (keyPrefix: string) => ({
	mode: 'sentinel' as const,
	host: '127.0.0.1',
	port: 0,
	nodes: [`127.0.0.1:${sentinel.sentinelPort}`],
	sentinelName: sentinel.masterName,
	keyPrefix,
});
const create = async () => new RedisStateStore(connection(`s${++n}:`));
const destroy = async (store: StateStore) => store.close();
describeStateStoreContract('redis sentinel', create, destroy);
describeRateAndOnceContract('redis sentinel', create, destroy);
describeHealthContract('redis sentinel', create, destroy);

describe('RedisStateStore through Redis Sentinel', () => {
	let store: RedisStateStore;
	afterEach(async () => {
		await store?.close();
	});

	it('finds the master through the sentinel and writes there', async () => {
		const prefix = `direct${++n}:`;
		store = new RedisStateStore(connection(prefix));
		expect(await store.ping()).toBe('PONG');
		await store.setCircuit('r-sentinel', { openUntil: 42, ejections: 1 });
		// read straight from the master's port: the store's writes went to the master the sentinel named
		expect(
			JSON.parse(
				await redisCli(sentinel.masterPort, ['HGET', `${prefix}{circuits}`, 'r-sentinel']),
			),
		).toEqual({ openUntil: 42, ejections: 1 });
		expect((await redisCli(sentinel.masterPort, ['ROLE'])).split('\n')[0].trim()).toBe('master');
	});
});
