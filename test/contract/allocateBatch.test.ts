import { join } from 'node:path';
import { MemoryStateStore } from '../../lib/state/memory';
import { RedisStateStore } from '../../lib/state/redis';
import { SqliteStateStore } from '../../lib/state/sqlite';
import type {
	AllocClass,
	AllocItem,
	AllocRoute,
	AllocateRequest,
	AllocateResult,
	StateStore,
} from '../../lib/state/types';
import { seededRandom } from '../helpers/recipients';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { hasSqlite, tempFolders } from '../helpers/sqlite';

/**
 * Batches the differential's small calls never make, on every store: more sticky keys than the
 * Lua script reads in one HMGET (1000), repeats of a key across that boundary, items of several
 * classes and preferred routes interleaved (many runs in allocate.lua's item encoding), and more
 * routes than one reply character can name (23+: two characters per item).
 */
const DAY = 86_400_000;

let server: RedisServer;
beforeAll(async () => {
	server = await startRedisServer();
});
afterAll(async () => {
	await server.stop();
	folders.cleanup();
});
const folders = tempFolders('postal-batch-');

/** how an item's key is spelled: keys of one width travel joined in one argument (ASCII only) */
const spell: Record<string, (seed: number, i: number) => string> = {
	varied: (seed, i) => `key-${seed}-${i}`,
	'one width': (seed, i) => `k${seed}-${String(i).padStart(6, '0')}`,
	'one length, not one width in bytes': (seed, i) =>
		`${i % 2 ? 'é' : 'e'}${seed}-${String(i).padStart(6, '0')}`,
};

function request(
	seed: number,
	nRoutes: number,
	nItems: number,
	keys = spell.varied,
): AllocateRequest {
	const rnd = seededRandom(seed);
	const int = (n: number) => Math.floor(rnd() * n);
	const resetAt = Date.now() + DAY;
	const routes: AllocRoute[] = Array.from({ length: nRoutes }, (_, r) => ({
		name: `route ${r}`,
		circuit: `c:route ${r}`,
		// a few routes fill up within the batch: their items spill, or wait when all are full
		caps: r % 3 === 0 ? [{ key: `d:1:route ${r}`, limit: 5 + int(nItems / nRoutes), resetAt }] : [],
	}));
	const classes: AllocClass[] = [0, 1, 2, 3].map((c) => {
		// class 3 has only capped routes: once they are full its items wait
		const candidates = [...Array(nRoutes).keys()].filter((r) =>
			c === 3 ? r % 3 === 0 : (r + c) % 4 !== 0 || r === c,
		);
		return {
			counterKey: `p:${c}`,
			cycle: Array.from({ length: 7 }, () => candidates[int(candidates.length)]),
			repeat: 1 + (c % 2),
			candidates,
			weights: candidates.map(() => 1 + int(3)),
			spill: c === 2 ? 'priority' : 'weights',
		};
	});
	const items: AllocItem[] = Array.from({ length: nItems }, (_, i) => {
		const cls = i < nItems / 2 ? 0 : int(4);
		const item: AllocItem = { cls };
		const k = rnd();
		// mostly new keys, some repeated from far back in the batch, some items without a key
		if (k < 0.8) item.key = keys(seed, i);
		else if (k < 0.9) item.key = keys(seed, int(i + 1));
		if (rnd() < 0.05) item.prefer = classes[cls].candidates[int(classes[cls].candidates.length)];
		return item;
	});
	return { scope: `batch-${seed}`, stickyKey: 'p1', routes, classes, items, ttlMs: DAY };
}

/** What must agree: everything but the store's clock reading. */
const comparable = ({ now: _now, ...rest }: AllocateResult) => rest;

async function answers(store: StateStore, reqs: AllocateRequest[]) {
	const out = [];
	for (const req of reqs) out.push(comparable(await store.allocate(req)));
	await store.close();
	return out;
}

describe('allocate: large batches answer alike on every store', () => {
	const cases: Array<[string, number, number, string]> = [
		['2,500 items over 4 routes', 4, 2500, 'varied'],
		['2,500 items over 4 routes, keys of one width', 4, 2500, 'one width'],
		[
			'1,500 items over 4 routes, keys of one length',
			4,
			1500,
			'one length, not one width in bytes',
		],
		['1,200 items over 30 routes (two reply characters per item)', 30, 1200, 'varied'],
	];
	it.each(cases)(
		'%s, twice (the second call meets the first one’s sticky keys)',
		async (_, r, n, keys) => {
			const first = request(r * 7 + n, r, n, spell[keys]);
			// the same keys again, with the caps as the first call left them, then a dry run
			const reqs = [first, { ...first }, { ...first, dryRun: true }];
			const memory = await answers(new MemoryStateStore(), reqs);
			const redis = await answers(
				new RedisStateStore({
					mode: 'standalone',
					host: '127.0.0.1',
					port: server.port,
					keyPrefix: `batch${r}-${n}-${keys}:`,
				}),
				reqs,
			);
			expect(redis).toEqual(memory);
			if (hasSqlite)
				expect(
					await answers(new SqliteStateStore({ file: join(folders.make(), 'state.sqlite') }), reqs),
				).toEqual(memory);
			// the case is what it says: sticky hits, spills and deferrals all happen
			const vias = new Set(memory.flatMap((m) => m.via));
			expect([...vias].sort()).toEqual([0, 1, 2, 3]);
		},
	);
});
