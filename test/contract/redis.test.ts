import type Redis from 'ioredis';
import { deliver, type DeliveryJob } from '../../lib/delivery/pipeline';
import { Partitioner } from '../../lib/routing/partitioner';
import { parseRoutePlan } from '../../lib/routing/plan';
import { RedisStateStore } from '../../lib/state/redis';
import type { StateStore } from '../../lib/state/types';
import type { Transport } from '../../lib/transports/types';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { describeKeyIsolationContract } from './keyIsolation.contract';
import {
	describeHealthContract,
	describeRateAndOnceContract,
	describeStateStoreContract,
} from './stateStore.contract';

let server: RedisServer;
let n = 0;
beforeAll(async () => {
	server = await startRedisServer();
});
afterAll(async () => {
	await server.stop();
});

const create = async () =>
	new RedisStateStore({
		mode: 'standalone',
		host: '127.0.0.1',
		port: server.port,
		keyPrefix: `t${++n}:`,
	});
const destroy = async (store: StateStore) => store.close();
describeStateStoreContract('redis', create, destroy);
describeRateAndOnceContract('redis', create, destroy);
describeHealthContract('redis', create, destroy);
describeKeyIsolationContract('redis', create, destroy);

describe('RedisStateStore: rate slots, first come first served across clients', () => {
	it('gives two store clients on one Redis their slots in the order their calls arrive, one interval apart', async () => {
		const keyPrefix = `fifo${++n}:`;
		const [a, b] = [0, 1].map(
			() =>
				new RedisStateStore({
					mode: 'standalone',
					host: '127.0.0.1',
					port: server.port,
					keyPrefix,
				}),
		);
		const limit = { key: 'conn:smtp:shared', intervalMs: 500, burst: 1 };
		// two workers asking in turn: a, b, a, b, …
		const answers = [];
		for (let k = 0; k < 8; k++) answers.push(await (k % 2 ? b : a).reserveRate([limit], 1, 60_000));
		const slots = answers.map((r) => r.now + r.waitMs);
		for (let k = 1; k < slots.length; k++)
			expect(slots[k] - slots[k - 1]).toBeCloseTo(limit.intervalMs, 0);

		// both at once, each with several calls in flight: whatever order Redis runs them in is the
		// order of the slots
		const racing = await Promise.all(
			Array.from({ length: 20 }, (_, k) => (k % 2 ? b : a).reserveRate([limit], 1, 60_000)),
		);
		const byArrival = racing.slice().sort((x, y) => x.now - y.now);
		const raceSlots = byArrival.map((r) => r.now + r.waitMs);
		expect(raceSlots[0] - slots[slots.length - 1]).toBeCloseTo(limit.intervalMs, 0);
		for (let k = 1; k < raceSlots.length; k++)
			expect(raceSlots[k] - raceSlots[k - 1]).toBeCloseTo(limit.intervalMs, 0);
		await Promise.all([a.close(), b.close()]);
	});
});

describe('RedisStateStore: what is stored', () => {
	it('gives every store on one prefix the same hashing secret, and another prefix its own', async () => {
		const prefix = `secret${++n}:`;
		const [a, b, c] = [prefix, prefix, `other-${prefix}`].map(
			(keyPrefix) =>
				new RedisStateStore({
					mode: 'standalone',
					host: '127.0.0.1',
					port: server.port,
					keyPrefix,
				}),
		);
		const secrets = await Promise.all([a.hashSecret(), b.hashSecret(), c.hashSecret()]);
		expect(secrets[0]).toBe(secrets[1]);
		expect(secrets[2]).not.toBe(secrets[0]);
		await Promise.all([a, b, c].map((s) => s.close()));
	});

	it('keeps no recipient address in any key or value after routing and sending', async () => {
		const keyPrefix = `hashed${++n}:`;
		const store = new RedisStateStore({
			mode: 'standalone',
			host: '127.0.0.1',
			port: server.port,
			keyPrefix,
		});
		const recipients = Array.from({ length: 20 }, (_, i) => `Person.${i}+tag@Mailbox-${i}.example`);
		const plan = parseRoutePlan({
			mode: 'percentage',
			sticky: true,
			timeZone: 'UTC',
			routes: [
				{ name: 'a', percentage: 50 },
				{ name: 'b', percentage: 50 },
			],
		});
		const assigned = await new Partitioner(plan, store, { campaign: 'c', partition: 'p' }).assign(
			recipients.map((r) => ({ key: r.toLowerCase() })),
		);
		expect(assigned.every((a) => a.route)).toBe(true);
		const ok: Transport = { provider: 'smtp', send: async () => ({ ok: true, messageId: 'm' }) };
		const jobs: DeliveryJob[] = recipients.map((r, i) => ({
			index: i,
			message: {
				from: { address: 'n@shop.example' },
				to: [{ address: r }],
				cc: [],
				bcc: [],
				subject: 's',
				text: 't',
				headers: {},
				attachments: [],
				tags: [],
				metadata: {},
			},
			route: assigned[i].route!,
			campaign: 'c',
			idempotencyKey: JSON.stringify([[r.toLowerCase()], '']),
			limits: [],
		}));
		const sent = await deliver(jobs, {
			transport: ok,
			store,
			concurrency: 4,
			retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
			health: {
				failureThreshold: 5,
				baseEjectionMs: 1000,
				maxEjectionMs: 1000,
				backoff: 2,
				jitterRatio: 0,
			},
			duplicates: { ttlMs: 86_400_000, leaseMs: 600_000, resendInDoubt: true, owner: 'test' },
			maxRateWaitMs: 1000,
		});
		expect(sent.every((r) => r.record.status === 'sent')).toBe(true);

		const redis = store.redis as Redis;
		const keys = await redis.keys(`${keyPrefix}*`);
		let dump = keys.join('\n');
		for (const key of keys) {
			const type = await redis.type(key);
			if (type === 'string') dump += `\n${await redis.get(key)}`;
			else if (type === 'hash') dump += `\n${JSON.stringify(await redis.hgetall(key))}`;
			else if (type === 'set') dump += `\n${(await redis.smembers(key)).join(' ')}`;
		}
		expect(keys.some((k) => k.includes(':once:'))).toBe(true);
		expect(keys.some((k) => k.includes(':sticky:'))).toBe(true);
		for (const r of recipients) {
			expect(dump.toLowerCase()).not.toContain(r.toLowerCase());
			expect(dump.toLowerCase()).not.toContain(r.split('@')[0].toLowerCase());
		}
		await store.close();
	});
});
