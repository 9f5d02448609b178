import { FallbackStateStore, withLocalFallback } from '../../lib/state/fallback';
import { MemoryStateStore } from '../../lib/state/memory';
import { RedisStateStore } from '../../lib/state/redis';
import { StateUnavailableError, type StateStore } from '../../lib/state/types';
import { freePort } from '../helpers/redisServer';

type Method = {
	[K in keyof StateStore]: StateStore[K] extends (...args: never[]) => unknown ? K : never;
}[keyof StateStore];

/** One call per StateStore method: typed by the contract, so a new method must be added here. */
const CALLS: { [K in Method]: Parameters<StateStore[K]> } = {
	now: [],
	hashSecret: [],
	allocate: [
		{
			scope: 's',
			stickyKey: 'p',
			routes: [{ name: 'a', circuit: 'c', caps: [] }],
			classes: [
				{ counterKey: 'k', cycle: [0], repeat: 1, candidates: [0], weights: [1], spill: 'weights' },
			],
			items: [{ cls: 0 }],
			ttlMs: 1000,
		},
	],
	capUsage: ['s', ['d:x']],
	reserveRate: [[{ key: 'l', intervalMs: 1000, burst: 1 }], 1, 0],
	claimOnce: [
		's',
		{ keys: ['k'], token: 't', owner: 'o', leaseMs: 1000, ttlMs: 1000, takeExpired: false },
	],
	settleOnce: ['s', [{ key: 'k', token: 't', outcome: 'release' }], 1000],
	listOnce: ['s', { count: 10 }],
	releaseOnce: ['s', ['k']],
	listSuppressions: ['', { count: 10 }],
	clearOutcomes: [[{ route: 'r', group: 'g' }]],
	stickyRoutes: ['s', 'k'],
	deliveryStep: [
		{
			ttlMs: 1000,
			owner: 'o',
			leaseMs: 1000,
			takeExpired: false,
			maxWaitMs: 0,
			settle: [{ scope: 's', settlement: { key: 'k', token: 't', outcome: 'release' } }],
			claim: [{ scope: 's', key: 'k2', token: 't2' }],
			reserve: [
				{ limits: [{ key: 'l', intervalMs: 1000, burst: 1 }], marker: { scope: 's', key: 'k3' } },
			],
		},
	],
	recordHealth: [
		'r',
		false,
		{ failureThreshold: 1, baseEjectionMs: 1000, maxEjectionMs: 1000, backoff: 2, jitter: 1 },
	],
	getCircuits: [['r']],
	setCircuit: ['r', { openUntil: 1, ejections: 1 }],
	setRouteLimits: [
		's',
		[{ route: 'r', limit: { limit: 1, per: 'second', kind: 'connection' } }],
		1000,
	],
	getRouteLimits: ['s', ['r']],
	setWarmup: [
		's',
		[
			{
				route: 'r',
				warmup: { day: 3, date: '2026-12-01', cap: 200, sharePercent: 100, endsAt: 1, at: 0 },
			},
		],
		1000,
	],
	getWarmup: ['s', ['r']],
	getMx: [['example.com']],
	setMx: [[{ domain: 'example.com', value: { hosts: ['mx.example.com'] } }], 1000],
	clearScope: ['s'],
	suppress: ['', [{ key: 'k', reason: 'hard-bounce', source: 'dsn', hint: 'a***@b.c', at: 1 }]],
	getSuppressions: ['', ['k']],
	unsuppress: ['', ['k']],
	recordLedger: [[{ key: 'mid:x', value: 'v' }], 1000],
	readLedger: [['mid:x']],
	markSeen: [['ev:x'], 1000],
	countOutcomes: [[{ route: 'r', group: 'g', counts: { sent: 1 }, at: 1 }]],
	readOutcomes: ['r', 'g', 'minute', 0, 60_000],
	listOutcomePairs: [],
	getReputation: [[{ route: 'r', group: 'g' }]],
	setCampaignPause: ['c', { until: 1, rule: 'r', reason: 'x', since: 0 }],
	getCampaignPauses: [['c']],
	updateReputation: ['g', [{ kind: 'seen', route: 'r' }]],
	publishAlerts: [
		[
			{
				type: 'route.ejected',
				severity: 'critical',
				route: 'r',
				reason: 'x',
				at: '2026-12-01T00:00:00.000Z',
			},
		],
		60_000,
	],
	readAlerts: ['g', 'c', { count: 10 }],
	ackAlerts: ['g', ['0-1']],
	recentAlerts: [20],
	close: [],
};
const METHODS = Object.keys(CALLS) as Method[];
/**
 * no local stand-in: a suppression entry, or an alert, written locally would be lost to every
 * other worker; a trigger's group lives on Redis, so its reads and acks wait for it
 */
const PRIMARY_ONLY: Method[] = [
	'suppress',
	'unsuppress',
	'publishAlerts',
	'readAlerts',
	'ackAlerts',
	'recentAlerts',
];
const FALLING_BACK = METHODS.filter((m) => !PRIMARY_ONLY.includes(m));

/** A store that records its calls and answers `<label>:<method>`, or fails with `failure`. */
function fake(label: string, kind: StateStore['kind']) {
	const calls: Array<[string, unknown[]]> = [];
	let failure: Error | undefined;
	const store = new Proxy({} as StateStore, {
		get: (_, name) =>
			name === 'kind'
				? kind
				: async (...args: unknown[]) => {
						calls.push([String(name), args]);
						if (failure) throw failure;
						return `${label}:${String(name)}`;
					},
	});
	return { store, calls, failWith: (e: Error | undefined) => (failure = e) };
}

const invoke = (store: StateStore, method: Method) =>
	(store[method] as (...a: unknown[]) => Promise<unknown>)(...CALLS[method]);

describe('FallbackStateStore ("Continue on local state")', () => {
	it('has exactly the StateStore methods (and usedFallback)', () => {
		const own = Object.getOwnPropertyNames(FallbackStateStore.prototype).filter(
			(n) => n !== 'constructor' && n !== 'run' && n !== 'usedFallback',
		);
		expect(own.sort()).toEqual([...METHODS].sort());
	});

	it.each(METHODS)(
		'%s goes to the primary, with its arguments, while the primary answers',
		async (method) => {
			const primary = fake('primary', 'redis');
			const local = fake('local', 'memory');
			const store = withLocalFallback(primary.store, local.store);
			expect(await invoke(store, method)).toBe(`primary:${method}`);
			expect(primary.calls).toEqual([[method, CALLS[method]]]);
			expect(local.calls).toEqual([]);
			expect(store.usedFallback).toBe(false);
		},
	);

	it.each(PRIMARY_ONLY)(
		'%s never goes to the local store: the primary’s failure is the caller’s',
		async (method) => {
			const primary = fake('primary', 'redis');
			const local = fake('local', 'memory');
			primary.failWith(new StateUnavailableError('Redis is down'));
			const store = withLocalFallback(primary.store, local.store);
			await expect(invoke(store, method)).rejects.toThrow(StateUnavailableError);
			expect(local.calls).toEqual([]);
			expect(store.usedFallback).toBe(false);
		},
	);

	it.each(FALLING_BACK)(
		'%s goes to the local store when the primary is unavailable',
		async (method) => {
			const primary = fake('primary', 'redis');
			const local = fake('local', 'memory');
			primary.failWith(new StateUnavailableError('Redis is down'));
			const store = withLocalFallback(primary.store, local.store);
			expect(await invoke(store, method)).toBe(`local:${method}`);
			expect(primary.calls).toEqual([[method, CALLS[method]]]);
			expect(local.calls).toEqual([[method, CALLS[method]]]);
			expect(store.usedFallback).toBe(true);
		},
	);

	it.each(METHODS)('%s passes any other error on, without falling back', async (method) => {
		const primary = fake('primary', 'redis');
		const local = fake('local', 'memory');
		primary.failWith(new RangeError('bad argument'));
		const store = withLocalFallback(primary.store, local.store);
		await expect(invoke(store, method)).rejects.toThrow(RangeError);
		expect(local.calls).toEqual([]);
		expect(store.usedFallback).toBe(false);
	});

	it("keeps the primary's kind, and tries the primary again on the next call", async () => {
		const primary = fake('primary', 'redis');
		const local = fake('local', 'memory');
		const store = new FallbackStateStore(primary.store, local.store);
		expect(store.kind).toBe('redis');
		primary.failWith(new StateUnavailableError('down'));
		expect(await store.now()).toBe('local:now');
		primary.failWith(undefined);
		expect(await store.now()).toBe('primary:now');
		// once fallen back, the items of this execution still say so
		expect(store.usedFallback).toBe(true);
		expect(store.kind).toBe('redis');
	});

	it('routes on the memory store when Redis cannot be reached', async () => {
		const port = await freePort(); // nothing listens there
		const redis = new RedisStateStore({
			mode: 'standalone',
			host: '127.0.0.1',
			port,
			connectTimeoutMs: 500,
		});
		const store = withLocalFallback(redis, new MemoryStateStore());
		try {
			const result = await store.allocate(CALLS.allocate[0]);
			expect(result.route).toEqual([0]);
			expect(store.usedFallback).toBe(true);
			await expect(redis.allocate(CALLS.allocate[0])).rejects.toThrow(StateUnavailableError);
		} finally {
			await store.close();
		}
	});
});
