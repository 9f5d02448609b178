/**
 * The operator's listings (lib/operations): in-doubt messages and the suppression list a page at
 * a time across the store's own pages — a listing that stops inside a store page goes on from
 * its cursor without losing or repeating one — on the memory store and a real Redis; and the
 * CSV export's quoting.
 */
import {
	listSuppressed,
	suppressionCsv,
	type ListedSuppression,
} from '../../lib/operations/control';
import { listInDoubt } from '../../lib/operations/messages';
import { MemoryStateStore } from '../../lib/state/memory';
import { RedisStateStore } from '../../lib/state/redis';
import type { OnceSettlement, StateStore } from '../../lib/state/types';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';

let server: RedisServer;
let n = 0;
beforeAll(async () => {
	server = await startRedisServer();
});
afterAll(async () => {
	await server.stop();
});

const stores: Array<[string, () => StateStore]> = [
	['memory', () => new MemoryStateStore()],
	[
		'redis',
		() =>
			new RedisStateStore({
				mode: 'standalone',
				host: '127.0.0.1',
				port: server.port,
				keyPrefix: `opsunit${++n}:`,
			}),
	],
];

describe.each(stores)('operator listings on %s', (_, make) => {
	let store: StateStore;
	beforeEach(() => {
		store = make();
	});
	afterEach(() => store.close());

	it('lists 1,500 in-doubt markers among 2,500 in pages of 700 and 333: each exactly once', async () => {
		const keys = Array.from({ length: 2500 }, (_, i) => `m${String(i).padStart(5, '0')}`);
		const owner = 'execution 1 · Send';
		await store.claimOnce('c', {
			keys,
			token: 't',
			owner,
			leaseMs: 3_600_000,
			ttlMs: 3_600_000,
			takeExpired: false,
		});
		// every fifth is sent, every fifth is still sending, the rest ended without an answer
		await store.settleOnce(
			'c',
			keys.flatMap((key, i): OnceSettlement[] =>
				i % 5 === 0
					? [{ key, token: 't', outcome: 'sent' as const }]
					: i % 5 === 1
						? []
						: [{ key, token: 't', outcome: 'doubt' as const }],
			),
			3_600_000,
		);
		const doubt = keys.filter((_, i) => i % 5 > 1);
		for (const limit of [700, 333]) {
			const got: string[] = [];
			let cursor: string | null = null;
			let calls = 0;
			do {
				const page = await listInDoubt(store, 'c', { limit, cursor });
				expect(page.messages.length).toBeLessThanOrEqual(limit);
				got.push(...page.messages.map((m) => m.digest));
				cursor = page.cursor;
				if (++calls > 20) throw new Error('the listing does not end');
			} while (cursor !== null);
			expect(got.length).toBe(doubt.length);
			expect(new Set(got)).toEqual(new Set(doubt));
			expect(calls).toBeGreaterThanOrEqual(Math.ceil(doubt.length / limit));
		}
		// released between pages, the last one given among them: the listing goes on without a loss
		const first = await listInDoubt(store, 'c', { limit: 650 });
		const given = first.messages.map((m) => m.digest);
		expect(await store.releaseOnce('c', given.slice(-3))).toEqual([true, true, true]);
		const rest = new Set<string>();
		let cursor = first.cursor;
		while (cursor !== null) {
			const page = await listInDoubt(store, 'c', { limit: 400, cursor });
			page.messages.forEach((m) => rest.add(m.digest));
			cursor = page.cursor;
		}
		expect(new Set([...given, ...rest])).toEqual(new Set(doubt));
		expect([...rest].filter((d) => given.slice(-3).includes(d))).toEqual([]);
		await store.settleOnce(
			'c',
			given.slice(-3).map((key) => ({ key, token: 'x', outcome: 'sent' as const })),
			3_600_000,
		);
		const all = await listInDoubt(store, 'c', { limit: Infinity });
		expect(all.cursor).toBeNull();
		expect(all.messages).toHaveLength(1497);
		expect(all.messages[0]).toMatchObject({ campaign: 'c', why: 'unknown-outcome', by: owner });
	});

	it('lists a suppression list of 1,200 in pages of 500: each exactly once', async () => {
		const now = await store.now();
		const keys = Array.from({ length: 1200 }, (_, i) => `s${String(i).padStart(5, '0')}`);
		await store.suppress(
			'l',
			keys.map((key) => ({ key, reason: 'complaint', source: 'arf', hint: 'x***@y.z', at: now })),
		);
		const got: string[] = [];
		let cursor: string | null = null;
		do {
			const page = await listSuppressed(store, 'l', { limit: 500, cursor });
			expect(page.entries.length).toBeLessThanOrEqual(500);
			got.push(...page.entries.map((e) => e.digest));
			cursor = page.cursor;
		} while (cursor !== null);
		expect(got.length).toBe(1200);
		expect(new Set(got)).toEqual(new Set(keys));
	});
});

describe('suppression CSV', () => {
	const row = (over: Partial<ListedSuppression>): ListedSuppression => ({
		digest: '-abcdefghijklmnopqrstu',
		masked: 'j***@gmail.com',
		reason: 'manual',
		source: 'manual',
		since: '2026-12-01T00:00:00.000Z',
		...over,
	});

	it('quotes what needs quotes, defuses formulas in text, leaves digests as they are', () => {
		const csv = suppressionCsv([
			row({}),
			row({ masked: '=***@x.com', source: 'a "b", c', until: '2026-12-02T00:00:00.000Z' }),
		]);
		expect(csv.split('\r\n')).toEqual([
			'digest,masked,reason,source,since,until',
			'-abcdefghijklmnopqrstu,j***@gmail.com,manual,manual,2026-12-01T00:00:00.000Z,',
			`-abcdefghijklmnopqrstu,'=***@x.com,manual,"a ""b"", c",2026-12-01T00:00:00.000Z,2026-12-02T00:00:00.000Z`,
			'',
		]);
	});
});
