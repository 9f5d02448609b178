import { RedisStateStore } from '../../lib/state/redis';
import type { StateStore } from '../../lib/state/types';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { describeHealthContract, describeRateAndOnceContract, describeStateStoreContract } from './stateStore.contract';

let server: RedisServer;
let n = 0;
beforeAll(async () => {
	server = await startRedisServer();
});
afterAll(async () => {
	await server.stop();
});

const create = async () => new RedisStateStore({ mode: 'standalone', host: '127.0.0.1', port: server.port, keyPrefix: `t${++n}:` });
const destroy = async (store: StateStore) => store.close();
describeStateStoreContract('redis', create, destroy);
describeRateAndOnceContract('redis', create, destroy);
describeHealthContract('redis', create, destroy);
