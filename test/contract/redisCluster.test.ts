import { Cluster } from 'ioredis';
import { RedisStateStore, StateUnavailableError } from '../../lib/state/redis';
import {
	VIA_SEQUENCE,
	VIA_SPILL,
	type AllocateRequest,
	type StateStore,
} from '../../lib/state/types';
import { redisCli, startRedisCluster, type RedisCluster } from '../helpers/redisCluster';
import { describeKeyIsolationContract } from './keyIsolation.contract';
import {
	describeHealthContract,
	describeRateAndOnceContract,
	describeStateStoreContract,
} from './stateStore.contract';

/**
 * The RedisStateStore on a real 3-master Redis Cluster: the shared contract, plus proof that
 * campaigns really spread over the masters (hash tags) and that the circuits hash — in its own
 * slot — is read before the allocate script rather than passed into it.
 */

let cluster: RedisCluster;
let n = 0;
beforeAll(async () => {
	cluster = await startRedisCluster();
}, 45_000);
afterAll(async () => {
	await cluster?.stop();
});

const connection = (keyPrefix: string) => ({
	mode: 'cluster' as const,
	host: '127.0.0.1',
	port: cluster.ports[0],
	nodes: cluster.nodes,
	keyPrefix,
});
// a fresh store, as n8n gets it: the store itself opens every master on its first call
const create = async () => new RedisStateStore(connection(`c${++n}:`));
const destroy = async (store: StateStore) => store.close();
describeStateStoreContract('redis cluster', create, destroy);
describeRateAndOnceContract('redis cluster', create, destroy);
describeHealthContract('redis cluster', create, destroy);
describeKeyIsolationContract('redis cluster', create, destroy);

describe('RedisStateStore on Redis Cluster: slots', () => {
	const DAY = 86_400_000;
	let prefix: string;
	const stores: RedisStateStore[] = [];
	const open = (p = prefix) => {
		const s = new RedisStateStore(connection(p));
		stores.push(s);
		return s;
	};
	beforeEach(() => {
		prefix = `slots${++n}-${Date.now()}:`;
	});
	afterEach(async () => {
		await Promise.all(stores.splice(0).map((s) => s.close()));
	});

	/** Two campaigns on two different masters, neither on the master that holds the circuits hash. */
	async function spreadCampaigns(): Promise<{
		circuitsPort: number;
		campaigns: Array<{ scope: string; slot: number; port: number }>;
	}> {
		const circuitsPort = await cluster.portForSlot(await cluster.keySlot(`${prefix}{circuits}`));
		const campaigns: Array<{ scope: string; slot: number; port: number }> = [];
		for (let i = 0; i < 500 && campaigns.length < 2; i++) {
			const scope = `campaign-${i}`;
			const slot = await cluster.keySlot(`${prefix}{${scope}}:ctr`);
			const port = await cluster.portForSlot(slot);
			if (port !== circuitsPort && !campaigns.some((c) => c.port === port))
				campaigns.push({ scope, slot, port });
		}
		if (campaigns.length < 2) throw new Error('found no two campaigns on distinct masters');
		return { circuitsPort, campaigns };
	}

	const request = (
		scope: string,
		routeNames: string[],
		items: AllocateRequest['items'],
	): AllocateRequest => ({
		scope,
		stickyKey: 'p1',
		routes: routeNames.map((name, i) => ({
			name,
			circuit: name,
			caps: [{ key: `d:test:r${i}`, limit: 100, resetAt: Date.now() + DAY }],
		})),
		classes: [
			{
				counterKey: 'p1:c1',
				cycle: [0, 1],
				repeat: 1,
				candidates: [0, 1],
				weights: [1, 1],
				spill: 'weights',
			},
		],
		items,
		ttlMs: DAY,
	});

	it('puts every key of a campaign in its hash-tag slot, different campaigns on different masters', async () => {
		const store = open();
		const { circuitsPort, campaigns } = await spreadCampaigns();
		expect(new Set([circuitsPort, ...campaigns.map((c) => c.port)]).size).toBe(3);
		const routeNames = [`${prefix}r0`, `${prefix}r1`];

		for (const { scope, slot, port } of campaigns) {
			const res = await store.allocate(
				request(scope, routeNames, [
					{ cls: 0, key: 'a@example.com' },
					{ cls: 0, key: 'b@example.com' },
					{ cls: 0 },
				]),
			);
			expect(res.route).toEqual([0, 1, 0]);
			expect(await store.capUsage(scope, ['d:test:r0', 'd:test:r1'])).toEqual([2, 1]);

			// every key the campaign wrote — counters, spills, sticky, index, caps — is in the one slot,
			// on the master that serves it
			const names = ['ctr', 'spill', 'sticky:p1', 'idx', 'cap:d:test:r0', 'cap:d:test:r1'].map(
				(k) => `${prefix}{${scope}}:${k}`,
			);
			for (const key of names) {
				expect(await cluster.keySlot(key)).toBe(slot);
				expect((await redisCli(port, ['EXISTS', key])).trim()).toBe('1');
			}
			// (other tests' campaigns could share the slot by chance: at least ours)
			expect(
				Number(await redisCli(port, ['CLUSTER', 'COUNTKEYSINSLOT', String(slot)])),
			).toBeGreaterThanOrEqual(names.length);
			expect(
				(await redisCli(port, ['HGET', `${prefix}{${scope}}:sticky:p1`, 'a@example.com'])).trim(),
			).toBe(routeNames[0]);
		}

		// sticky assignments and counters continue per campaign, on each master
		for (const { scope } of campaigns) {
			const again = await store.allocate(
				request(scope, routeNames, [{ cls: 0, key: 'b@example.com' }, { cls: 0 }]),
			);
			expect(again.route).toEqual([1, 1]);
		}
		await store.clearScope(campaigns[0].scope);
		for (const k of ['ctr', 'spill', 'sticky:p1', 'idx', 'cap:d:test:r0', 'cap:d:test:r1']) {
			expect(
				(
					await redisCli(campaigns[0].port, ['EXISTS', `${prefix}{${campaigns[0].scope}}:${k}`])
				).trim(),
			).toBe('0');
		}
		expect(await store.capUsage(campaigns[1].scope, ['d:test:r0'])).toEqual([2]);
	});

	it('would be refused with CROSSSLOT if the circuits hash went into the allocate script (control)', async () => {
		const { campaigns } = await spreadCampaigns();
		const client = new Cluster(
			cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })),
			{ lazyConnect: true, enableOfflineQueue: false },
		);
		// a standalone-mode store passes the circuits key to the script, whatever client it is given
		const naive = new RedisStateStore(
			{ mode: 'standalone', host: '127.0.0.1', port: cluster.ports[0], keyPrefix: prefix },
			client,
		);
		stores.push(naive);
		const error = await naive
			.allocate(request(campaigns[0].scope, [`${prefix}r0`, `${prefix}r1`], [{ cls: 0 }]))
			.catch((e: Error) => e);
		expect(error).toBeInstanceOf(StateUnavailableError);
		expect((error as Error).message).toMatch(/CROSSSLOT/);
		// the cluster-mode store reads the circuits first and gets through
		const store = open();
		expect(
			(
				await store.allocate(
					request(campaigns[0].scope, [`${prefix}r0`, `${prefix}r1`], [{ cls: 0 }]),
				)
			).route,
		).toEqual([0]);
	});

	it('sees route health written by recordHealth (another worker) when allocating on every master', async () => {
		const { circuitsPort, campaigns } = await spreadCampaigns();
		const sender = open(); // the send node recording outcomes
		const router = open(); // a partitioner in another worker, same prefix
		const routeNames = [`${prefix}r0`, `${prefix}r1`];
		const policy = {
			failureThreshold: 3,
			baseEjectionMs: 600,
			maxEjectionMs: 5_000,
			backoff: 2,
			jitter: 1,
		};

		let state = (await sender.recordHealth(routeNames[0], false, policy)).state;
		await sender.recordHealth(routeNames[0], false, policy);
		const third = await sender.recordHealth(routeNames[0], false, policy);
		expect(third.opened).toBe(true);
		state = third.state;
		// the circuit lives on its own master, not on either campaign's
		expect(
			(await redisCli(circuitsPort, ['HEXISTS', `${prefix}{circuits}`, routeNames[0]])).trim(),
		).toBe('1');

		for (const { scope } of campaigns) {
			const res = await router.allocate(request(scope, routeNames, [{ cls: 0 }, { cls: 0 }]));
			expect(res.route).toEqual([1, 1]);
			expect(res.via).toEqual([VIA_SPILL, VIA_SEQUENCE]);
			expect(res.openUntil).toEqual([state.openUntil, 0]);
		}

		// both routes open: deferred until the earliest reopening
		for (let i = 0; i < 3; i++) await sender.recordHealth(routeNames[1], false, policy);
		const [c0, c1] = await router.getCircuits(routeNames);
		const none = await router.allocate(request(campaigns[1].scope, routeNames, [{ cls: 0 }]));
		expect(none.route).toEqual([-1]);
		expect(none.retryAt[0]).toBe(Math.min(c0!.openUntil, c1!.openUntil));

		// once the cool-down is over the route takes traffic again, and a successful probe closes it
		const wait = Math.max(c0!.openUntil, c1!.openUntil) - (await router.now()) + 30;
		await new Promise((r) => setTimeout(r, Math.max(0, wait)));
		for (const { scope } of campaigns) {
			const res = await router.allocate(request(scope, routeNames, [{ cls: 0 }]));
			expect(res.route).toEqual([0]);
			expect(res.openUntil).toEqual([0, 0]);
		}
		const closed = await sender.recordHealth(routeNames[0], true, policy);
		expect(closed.state.probing).toBe(false);
	});
});
