import { ledgerKeys, seenKeys } from '../../lib/state/keys';
import { MAX_OUTCOME_PAIRS } from '../../lib/state/outcomes';
import {
	VIA_DEFERRED,
	VIA_SEQUENCE,
	VIA_SPILL,
	VIA_STICKY,
	type AllocateRequest,
	type AllocClass,
	type AllocRoute,
	type OnceClaim,
	type OnceClaimRequest,
	type OnceSettlement,
	type AlertInput,
	type ReputationChange,
	type StateStore,
	type SuppressionEntry,
} from '../../lib/state/types';

/**
 * The one contract every StateStore passes (memory and Redis alike), in the manner of keyv's
 * shared test suite: a factory per implementation, the same expectations for all.
 */
export function describeStateStoreContract(
	name: string,
	createStore: () => Promise<StateStore>,
	destroy?: (s: StateStore) => Promise<void>,
): void {
	describe(`StateStore contract: ${name}`, () => {
		let store: StateStore;
		let scope: string;
		let counter = 0;
		const DAY = 86_400_000;

		beforeEach(async () => {
			store = await createStore();
			scope = `campaign-${Date.now()}-${++counter}`;
		});
		afterEach(async () => {
			if (destroy) await destroy(store);
		});

		// route names are unique per test: circuits are global, not per campaign
		const routes = (n: number, caps: Array<number | undefined> = []): AllocRoute[] =>
			Array.from({ length: n }, (_, i) => ({
				name: `${scope}-r${i}`,
				circuit: `${scope}-r${i}`,
				caps:
					caps[i] === undefined
						? []
						: [{ key: `d:test:r${i}`, limit: caps[i]!, resetAt: Date.now() + DAY }],
			}));
		const cls = (
			cycle: number[],
			candidates: number[],
			extra: Partial<AllocClass> = {},
		): AllocClass => ({
			counterKey: 'p1:c1',
			cycle,
			repeat: 1,
			candidates,
			weights: candidates.map(() => 1),
			spill: 'weights',
			...extra,
		});
		const request = (
			r: AllocRoute[],
			classes: AllocClass[],
			items: AllocateRequest['items'],
			extra: Partial<AllocateRequest> = {},
		): AllocateRequest => ({
			scope,
			stickyKey: 'p1',
			routes: r,
			classes,
			items,
			ttlMs: DAY,
			...extra,
		});
		const plain = (n: number) => Array.from({ length: n }, () => ({ cls: 0 }));

		it('follows the class cycle and continues it across calls', async () => {
			const c = [cls([0, 0, 1], [0, 1])];
			const a = await store.allocate(request(routes(2), c, plain(4)));
			const b = await store.allocate(request(routes(2), c, plain(5)));
			expect([...a.route, ...b.route]).toEqual([0, 0, 1, 0, 0, 1, 0, 0, 1]);
			expect(new Set([...a.via, ...b.via])).toEqual(new Set([VIA_SEQUENCE]));
		});

		it('tells each item the sequence position it took: spills too; sticky, preferred and deferred items none', async () => {
			const c = [cls([0, 1], [0, 1])];
			const first = await store.allocate(
				request(routes(2, [1]), c, [{ cls: 0, key: 'a' }, { cls: 0 }, { cls: 0 }]),
			);
			// position 2 names route 0, which is full: the item spills to 1 and still took position 2
			expect(first.pos).toEqual([0, 1, 2]);
			expect(first.via).toEqual([VIA_SEQUENCE, VIA_SEQUENCE, VIA_SPILL]);
			const full = routes(2, [1, 0]);
			const second = await store.allocate(
				request(full, c, [{ cls: 0, key: 'a' }, { cls: 0, prefer: 1 }, { cls: 0 }]),
			);
			expect(second.via).toEqual([VIA_STICKY, VIA_DEFERRED, VIA_DEFERRED]);
			expect(second.pos).toEqual([-1, -1, -1]);
			const third = await store.allocate(
				request(routes(2), c, [{ cls: 0, prefer: 0 }, { cls: 0 }]),
			);
			expect(third.pos).toEqual([-1, 3]);
		});

		it('repeats each cycle entry `repeat` times (round robin per batch of N)', async () => {
			const c = [cls([0, 1, 2], [0, 1, 2], { repeat: 2 })];
			const a = await store.allocate(request(routes(3), c, plain(5)));
			const b = await store.allocate(request(routes(3), c, plain(3)));
			expect([...a.route, ...b.route]).toEqual([0, 0, 1, 1, 2, 2, 0, 0]);
		});

		it('takes the preferred route of an item instead of the sequence, spilling when it is full', async () => {
			const c = [cls([0, 1], [0, 1, 2])];
			const r = await store.allocate(
				request(routes(3, [undefined, 1]), c, [
					{ cls: 0, prefer: 2 },
					{ cls: 0, prefer: 1 },
					{ cls: 0, prefer: 1, key: 'k' },
					{ cls: 0 },
				]),
			);
			expect(r.route.slice(0, 2)).toEqual([2, 1]);
			expect(r.via.slice(0, 2)).toEqual([VIA_SEQUENCE, VIA_SEQUENCE]);
			expect(r.via[2]).toBe(VIA_SPILL); // route 1 is full after one
			expect(r.route[2]).not.toBe(1);
			expect(r.route[3]).toBe(0); // preferred items left the sequence at position 0
		});

		it('keeps counters per class key and per scope', async () => {
			const two = [cls([0, 1], [0, 1]), cls([1, 0], [0, 1], { counterKey: 'p1:c2' })];
			const a = await store.allocate(
				request(routes(2), two, [{ cls: 0 }, { cls: 1 }, { cls: 0 }, { cls: 1 }]),
			);
			expect(a.route).toEqual([0, 1, 1, 0]);
			const other = await store.allocate({
				...request(routes(2), two, [{ cls: 0 }]),
				scope: `${scope}-other`,
			});
			expect(other.route).toEqual([0]);
		});

		it('gives a sticky key its earlier route without moving the sequence', async () => {
			const c = [cls([0, 1], [0, 1])];
			const first = await store.allocate(
				request(routes(2), c, [
					{ cls: 0, key: 'a' },
					{ cls: 0, key: 'b' },
					{ cls: 0, key: 'a' },
				]),
			);
			expect(first.route).toEqual([0, 1, 0]);
			expect(first.via).toEqual([VIA_SEQUENCE, VIA_SEQUENCE, VIA_STICKY]);
			const second = await store.allocate(
				request(routes(2), c, [
					{ cls: 0, key: 'b' },
					{ cls: 0, key: 'c' },
					{ cls: 0, key: 'a' },
				]),
			);
			expect(second.route).toEqual([1, 0, 0]);
			expect(second.via).toEqual([VIA_STICKY, VIA_SEQUENCE, VIA_STICKY]);
		});

		it('keeps sticky assignments per partition and reassigns when the route is no longer a candidate', async () => {
			const c = [cls([1], [0, 1])];
			await store.allocate(request(routes(2), c, [{ cls: 0, key: 'x' }]));
			const otherPartition = await store.allocate({
				...request(routes(2), [cls([0], [0, 1], { counterKey: 'p2:c1' })], [{ cls: 0, key: 'x' }]),
				stickyKey: 'p2',
			});
			expect(otherPartition.route).toEqual([0]);
			const narrowed = await store.allocate(
				request(routes(2), [cls([0], [0], { counterKey: 'p1:c9' })], [{ cls: 0, key: 'x' }]),
			);
			expect(narrowed.route).toEqual([0]);
			expect(narrowed.via).toEqual([VIA_SEQUENCE]);
		});

		it('spills past a full cap by weight, and defers without consuming the sequence', async () => {
			const c = [cls([0, 1, 0, 1, 1], [0, 1])];
			const full = await store.allocate(request(routes(2, [1, 1]), c, plain(4)));
			expect(full.route).toEqual([0, 1, -1, -1]);
			expect(full.via).toEqual([VIA_SEQUENCE, VIA_SEQUENCE, VIA_DEFERRED, VIA_DEFERRED]);
			expect(full.retryAt[2]).toBeGreaterThan(Date.now());
			// more room: the sequence resumes at position 2 (route 0), not 4
			const roomy = await store.allocate(request(routes(2, [10, 10]), c, plain(3)));
			expect(roomy.route).toEqual([0, 1, 1]);
			expect(await store.capUsage(scope, ['d:test:r0', 'd:test:r1', 'd:test:none'])).toEqual([
				2, 3, 0,
			]);
		});

		it('spills to the candidate furthest behind its weight, or by priority', async () => {
			const weighted = [cls([0], [0, 1, 2], { weights: [1, 3, 2] })];
			const w = await store.allocate(request(routes(3, [0]), weighted, plain(10)));
			expect(w.via.every((v) => v === VIA_SPILL)).toBe(true);
			expect(w.route.filter((r) => r === 1)).toHaveLength(6);
			expect(w.route.filter((r) => r === 2)).toHaveLength(4);
			const priority = [cls([0], [0, 2, 1], { counterKey: 'p1:prio', spill: 'priority' })];
			const p = await store.allocate(request(routes(3, [0, undefined, 2]), priority, plain(3)));
			expect(p.route).toEqual([2, 2, 1]);
		});

		it('skips routes whose circuit is open and defers until the earliest reopening', async () => {
			const now = await store.now();
			const c = [cls([0, 1], [0, 1])];
			const [r0, r1] = routes(2).map((r) => r.name);
			await store.setCircuit(r0, { openUntil: now + 60_000, ejections: 1 });
			const one = await store.allocate(request(routes(2), c, plain(2)));
			expect(one.route).toEqual([1, 1]);
			expect(one.via).toEqual([VIA_SPILL, VIA_SEQUENCE]);
			expect(one.openUntil).toEqual([now + 60_000, 0]);
			await store.setCircuit(r1, { openUntil: now + 30_000, ejections: 1 });
			const none = await store.allocate(request(routes(2), c, plain(1)));
			expect(none.route).toEqual([-1]);
			expect(none.retryAt[0]).toBe(now + 30_000);
			await store.setCircuit(r0, { openUntil: now - 1, ejections: 1 });
			await store.setCircuit(r1, null);
			const expired = await store.allocate(request(routes(2), c, plain(1)));
			expect(expired.route).toEqual([0]);
		});

		it('writes nothing on a dry run', async () => {
			const c = [cls([0, 1], [0, 1])];
			const dry = await store.allocate(
				request(routes(2, [5, 5]), c, [{ cls: 0, key: 'a' }, { cls: 0 }], { dryRun: true }),
			);
			expect(dry.route).toEqual([0, 1]);
			expect(await store.capUsage(scope, ['d:test:r0', 'd:test:r1'])).toEqual([0, 0]);
			const real = await store.allocate(
				request(routes(2, [5, 5]), c, [
					{ cls: 0, key: 'z' },
					{ cls: 0, key: 'a' },
				]),
			);
			expect(real.route).toEqual([0, 1]);
			expect(real.via).toEqual([VIA_SEQUENCE, VIA_SEQUENCE]);
		});

		it('stays exact under many concurrent calls', async () => {
			const c = [cls([0, 0, 0, 1, 1, 1, 1, 1, 1, 1], [0, 1])];
			const calls = Array.from({ length: 40 }, (_, k) =>
				store.allocate(
					request(
						routes(2),
						c,
						Array.from({ length: 25 }, (_, j) => ({ cls: 0, key: `u${k}-${j}` })),
					),
				),
			);
			const results = await Promise.all(calls);
			const all = results.flatMap((r) => r.route);
			expect(all.filter((r) => r === 0)).toHaveLength(300);
			expect(all.filter((r) => r === 1)).toHaveLength(700);
			// every call got a contiguous, non-overlapping run of the sequence
			const again = await store.allocate(
				request(
					routes(2),
					c,
					Array.from({ length: 1000 }, (_, i) => ({
						cls: 0,
						key: `u${Math.floor(i / 25)}-${i % 25}`,
					})),
				),
			);
			expect(again.via.every((v) => v === VIA_STICKY)).toBe(true);
		});

		it('stores circuits per route', async () => {
			await store.setCircuit('r-health', { openUntil: 123, ejections: 2 });
			expect(await store.getCircuits(['r-health', 'r-unknown'])).toEqual([
				{ openUntil: 123, ejections: 2 },
				null,
			]);
			await store.setCircuit('r-health', null);
			expect(await store.getCircuits(['r-health'])).toEqual([null]);
		});

		it('caches MX answers for their TTL', async () => {
			const d = `mx-${scope}.example`;
			await store.setMx(
				[
					{ domain: d, value: { hosts: ['a.mx.example', 'b.mx.example'] } },
					{ domain: `none-${d}`, value: { hosts: [] } },
				],
				150,
			);
			expect(await store.getMx([d, `none-${d}`, `unknown-${d}`])).toEqual([
				{ hosts: ['a.mx.example', 'b.mx.example'] },
				{ hosts: [] },
				null,
			]);
			await new Promise((r) => setTimeout(r, 300));
			expect(await store.getMx([d])).toEqual([null]);
		});

		it('forgets a whole campaign on clearScope', async () => {
			const c = [cls([0, 1], [0, 1])];
			await store.allocate(request(routes(2, [3]), c, [{ cls: 0, key: 'a' }]));
			await store.clearScope(scope);
			const after = await store.allocate(request(routes(2, [3]), c, [{ cls: 0, key: 'b' }]));
			expect(after.route).toEqual([0]);
			expect(await store.capUsage(scope, ['d:test:r0'])).toEqual([1]);
		});

		it('says where a sticky key is assigned, per partitioner, until clearScope forgets it', async () => {
			const c = [cls([1], [0, 1])];
			const r = routes(2);
			await store.allocate(
				request(r, c, [
					{ cls: 0, key: 'x' },
					{ cls: 0, key: 'y' },
				]),
			);
			await store.allocate({
				...request(r, [cls([0], [0, 1], { counterKey: 'p:2:c1' })], [{ cls: 0, key: 'x' }]),
				// escaped in a key name, `p:2` sorts before `p1`; the answer is in the names' order
				stickyKey: 'p:{2}',
			});
			// unsticky items and dry runs record nothing
			await store.allocate(request(r, c, [{ cls: 0 }]));
			await store.allocate({ ...request(r, c, [{ cls: 0, key: 'z' }]), dryRun: true });
			expect(await store.stickyRoutes(scope, 'x')).toEqual([
				{ partition: 'p1', route: r[1].name },
				{ partition: 'p:{2}', route: r[0].name },
			]);
			expect(await store.stickyRoutes(scope, 'y')).toEqual([{ partition: 'p1', route: r[1].name }]);
			expect(await store.stickyRoutes(scope, 'z')).toEqual([]);
			expect(await store.stickyRoutes(`${scope}-other`, 'x')).toEqual([]);
			await store.clearScope(scope);
			expect(await store.stickyRoutes(scope, 'x')).toEqual([]);
		});

		it("reports the store's clock", async () => {
			const t = await store.now();
			expect(Math.abs(t - Date.now())).toBeLessThan(5_000);
		});
	});
}

/** Rate limits and idempotency markers: part of the same contract, kept apart for readability. */
export function describeRateAndOnceContract(
	name: string,
	createStore: () => Promise<StateStore>,
	destroy?: (s: StateStore) => Promise<void>,
): void {
	describe(`StateStore contract (rates, idempotency): ${name}`, () => {
		let store: StateStore;
		let id = 0;
		beforeEach(async () => {
			store = await createStore();
			id++;
		});
		afterEach(async () => {
			if (destroy) await destroy(store);
		});

		/** a reservation's slot, as an offset from `t0` (the store's clock) */
		const slotOf = (r: { now: number; waitMs: number }, t0: number) => r.now + r.waitMs - t0;

		it('allows a burst, then spaces messages by the interval; a longest wait of 0 takes only what is free now', async () => {
			const limit = { key: `r${id}-${Date.now()}`, intervalMs: 200, burst: 3 };
			const first = await Promise.all([1, 2, 3].map(() => store.reserveRate([limit], 1, 0)));
			expect(first.map((d) => [d.granted, d.waitMs])).toEqual([
				[true, 0],
				[true, 0],
				[true, 0],
			]);
			const denied = await store.reserveRate([limit], 1, 0);
			expect(denied.granted).toBe(false);
			expect(denied.waitMs).toBeGreaterThan(100);
			expect(denied.waitMs).toBeLessThanOrEqual(200);
			await new Promise((r) => setTimeout(r, denied.waitMs + 20));
			expect((await store.reserveRate([limit], 1, 0)).granted).toBe(true);
		});

		it('reserves the next free slot: each caller is queued one interval behind the one before', async () => {
			const limit = { key: `q${id}-${Date.now()}`, intervalMs: 1000, burst: 2 };
			const answers = [];
			for (let k = 0; k < 6; k++) answers.push(await store.reserveRate([limit], 1, 60_000));
			const t0 = answers[0].now;
			expect(answers.every((a) => a.granted)).toBe(true);
			// two at once (the burst), then one a second: the slots are fixed, whenever each caller asked
			const slots = answers.map((a) => slotOf(a, t0));
			[0, 0, 1000, 2000, 3000, 4000].forEach((want, k) => {
				expect(slots[k]).toBeGreaterThanOrEqual(want - 5);
				expect(slots[k]).toBeLessThanOrEqual(want + 50);
			});
		});

		it('refuses a slot beyond the longest wait, reserving nothing, and says when it would have been', async () => {
			const limit = { key: `w${id}-${Date.now()}`, intervalMs: 60_000, burst: 1 };
			expect((await store.reserveRate([limit], 1, 0)).granted).toBe(true);
			const refused = await store.reserveRate([limit], 1, 30_000);
			expect(refused.granted).toBe(false);
			expect(refused.waitMs).toBeGreaterThan(59_000);
			// nothing was reserved: the next caller willing to wait gets that same slot
			const next = await store.reserveRate([limit], 1, 120_000);
			expect(next.granted).toBe(true);
			expect(Math.abs(slotOf(next, 0) - slotOf(refused, 0))).toBeLessThan(100);
		});

		it('reserves in all limits or none', async () => {
			const wide = { key: `wide${id}-${Date.now()}`, intervalMs: 1000, burst: 5 };
			const narrow = { key: `narrow${id}-${Date.now()}`, intervalMs: 60_000, burst: 1 };
			expect((await store.reserveRate([wide, narrow], 1, 0)).granted).toBe(true);
			const blocked = await store.reserveRate([wide, narrow], 1, 0);
			expect(blocked.granted).toBe(false);
			expect(blocked.waitMs).toBeGreaterThan(50_000);
			// the wide limit lost nothing to the refused call: 4 left of its burst of 5
			for (let i = 0; i < 4; i++)
				expect((await store.reserveRate([wide], 1, 0)).granted).toBe(true);
			expect((await store.reserveRate([wide], 1, 0)).granted).toBe(false);
		});

		it('holds a slot a slower limit set without closing the wider limit before it', async () => {
			// wide: one a second; narrow: one per 5 s. The second message's slot (5 s) is the narrow
			// limit's; the wide limit keeps its seconds 1–4 for others and fits nobody at 5 s
			const wide = { key: `hw${id}-${Date.now()}`, intervalMs: 1000, burst: 1 };
			const narrow = { key: `hn${id}-${Date.now()}`, intervalMs: 5000, burst: 1 };
			const calls: Array<(typeof wide)[]> = [
				[wide, narrow],
				[wide, narrow],
				[wide],
				[wide],
				[wide],
				[wide],
				[wide],
			];
			const answers = [];
			for (const limits of calls) answers.push(await store.reserveRate(limits, 1, 60_000));
			const t0 = answers[0].now;
			expect(answers.every((a) => a.granted)).toBe(true);
			const slots = answers.map((a) => slotOf(a, t0));
			[0, 5000, 1000, 2000, 3000, 4000, 6000].forEach((want, k) => {
				expect(slots[k]).toBeGreaterThanOrEqual(want - 5);
				expect(slots[k]).toBeLessThanOrEqual(want + 50);
			});
		});

		it('takes a batch cost at once and refuses impossible batches', async () => {
			const limit = { key: `batch${id}-${Date.now()}`, intervalMs: 1000, burst: 10 };
			expect((await store.reserveRate([limit], 8, 0)).granted).toBe(true);
			expect((await store.reserveRate([limit], 3, 0)).granted).toBe(false);
			expect((await store.reserveRate([limit], 2, 0)).granted).toBe(true);
			await expect(store.reserveRate([limit], 11, 0)).rejects.toThrow(
				'can never pass a burst of 10',
			);
		});

		describe("routes' own limits", () => {
			let scope: string;
			beforeEach(() => {
				scope = `limits-${id}-${Date.now()}-${Math.random()}`;
			});
			const relay = { limit: 60, per: 'minute', kind: 'connection' as const };

			it('records, replaces and forgets a route’s limit; other campaigns and routes see nothing', async () => {
				expect(await store.getRouteLimits(scope, ['A', 'B'])).toEqual([null, null]);
				await store.setRouteLimits(scope, [{ route: 'B', limit: relay }], 60_000);
				expect(await store.getRouteLimits(scope, ['A', 'B'])).toEqual([null, relay]);
				expect(await store.getRouteLimits(`${scope}-other`, ['B'])).toEqual([null]);
				const tighter = { limit: 2, per: 'second', kind: 'credential' as const };
				await store.setRouteLimits(
					scope,
					[
						{ route: 'B', limit: tighter },
						{ route: 'A', limit: relay },
					],
					60_000,
				);
				expect(await store.getRouteLimits(scope, ['A', 'B'])).toEqual([relay, tighter]);
				await store.setRouteLimits(scope, [{ route: 'B', limit: null }], 60_000);
				expect(await store.getRouteLimits(scope, ['A', 'B'])).toEqual([relay, null]);
			});

			it('keeps them through a campaign reset, and for the TTL after the last report', async () => {
				await store.setRouteLimits(scope, [{ route: 'B', limit: relay }], 400);
				await store.clearScope(scope);
				expect(await store.getRouteLimits(scope, ['B'])).toEqual([relay]);
				await new Promise((r) => setTimeout(r, 700));
				expect(await store.getRouteLimits(scope, ['B'])).toEqual([null]);
			});
		});

		describe("routes' warm-up records", () => {
			let scope: string;
			beforeEach(() => {
				scope = `warmup-${id}-${Date.now()}-${Math.random()}`;
			});
			const day3 = {
				day: 3,
				date: '2026-12-01',
				cap: 200,
				sharePercent: 100,
				endsAt: Date.UTC(2026, 11, 2),
				at: Date.UTC(2026, 11, 1, 9),
			};

			it('records, replaces and forgets a route’s warm-up; other campaigns and routes see nothing', async () => {
				expect(await store.getWarmup(scope, ['A', 'B'])).toEqual([null, null]);
				await store.setWarmup(scope, [{ route: 'B', warmup: day3 }], 60_000);
				expect(await store.getWarmup(scope, ['A', 'B'])).toEqual([null, day3]);
				expect(await store.getWarmup(`${scope}-other`, ['B'])).toEqual([null]);
				// a share schedule has no cap; day 0 is before the start
				const share = { ...day3, day: 0, cap: null, sharePercent: 0 };
				await store.setWarmup(
					scope,
					[
						{ route: 'B', warmup: { ...day3, day: 4, cap: 400 } },
						{ route: 'A', warmup: share },
					],
					60_000,
				);
				expect(await store.getWarmup(scope, ['A', 'B'])).toEqual([
					share,
					{ ...day3, day: 4, cap: 400 },
				]);
				await store.setWarmup(scope, [{ route: 'B', warmup: null }], 60_000);
				expect(await store.getWarmup(scope, ['A', 'B'])).toEqual([share, null]);
				await expect(
					store.setWarmup(scope, [{ route: 'A', warmup: { ...day3, cap: -1 } }], 60_000),
				).rejects.toThrow();
				expect(await store.getWarmup(scope, [])).toEqual([]);
			});

			it('keeps them through a campaign reset, and for the TTL after the last record', async () => {
				await store.setWarmup(scope, [{ route: 'B', warmup: day3 }], 400);
				await store.clearScope(scope);
				expect(await store.getWarmup(scope, ['B'])).toEqual([day3]);
				await new Promise((r) => setTimeout(r, 700));
				expect(await store.getWarmup(scope, ['B'])).toEqual([null]);
			});
		});

		describe('duplicate markers (leases)', () => {
			const HOUR = 3_600_000;
			let scope: string;
			beforeEach(() => {
				scope = `once-${id}-${Date.now()}-${Math.random()}`;
			});
			const claim = (
				keys: string[],
				token: string,
				extra: Partial<OnceClaimRequest> = {},
			): Promise<OnceClaim[]> =>
				store.claimOnce(scope, {
					keys,
					token,
					owner: `run ${token}`,
					leaseMs: HOUR,
					ttlMs: HOUR,
					takeExpired: false,
					...extra,
				});
			const settle = (
				key: string,
				token: string,
				outcome: OnceSettlement['outcome'],
				delivered?: string[],
			) => store.settleOnce(scope, [{ key, token, outcome, delivered }], HOUR);
			const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

			it('claims once: a live lease is left alone and says whose it is and until when', async () => {
				const before = await store.now();
				expect((await claim(['a', 'b'], 't1')).map((c) => c.state)).toEqual(['claimed', 'claimed']);
				const [a, c] = await claim(['a', 'c'], 't2');
				expect(a).toMatchObject({ state: 'leased', owner: 'run t1' });
				expect(a.since).toBeGreaterThanOrEqual(before - 5);
				expect(a.leaseUntil! - a.since!).toBe(HOUR);
				expect(c).toEqual({ state: 'claimed' });
				// another campaign has its own markers
				expect(
					await store.claimOnce(`${scope}-other`, {
						keys: ['a'],
						token: 't3',
						owner: 'o',
						leaseMs: HOUR,
						ttlMs: HOUR,
						takeExpired: false,
					}),
				).toEqual([{ state: 'claimed' }]);
			});

			it('sent stays sent; only the claim itself releases its lease', async () => {
				await claim(['a', 'b'], 't1');
				await settle('b', 't1', 'sent');
				expect(await claim(['b'], 't2', { takeExpired: true })).toEqual([{ state: 'sent' }]);
				// a release under another token, or of a sent marker, changes nothing
				await settle('a', 't2', 'release');
				await settle('b', 't1', 'release');
				expect((await claim(['a', 'b'], 't3')).map((c) => c.state)).toEqual(['leased', 'sent']);
				await settle('a', 't1', 'release');
				expect(await claim(['a'], 't4')).toEqual([{ state: 'claimed' }]);
				// a campaign reset keeps the markers
				await store.clearScope(scope);
				expect(await claim(['b'], 't5')).toEqual([{ state: 'sent' }]);
			});

			it('an expired lease is in doubt: left under "don\'t resend", taken under "resend"', async () => {
				await claim(['a'], 't1', { leaseMs: 50 });
				await wait(120);
				const [doubt] = await claim(['a'], 't2');
				expect(doubt).toMatchObject({ state: 'in-doubt', owner: 'run t1' });
				expect(doubt.leaseUntil).toBeUndefined();
				const [taken] = await claim(['a'], 't3', { takeExpired: true });
				expect(taken).toMatchObject({ state: 'claimed', reclaimed: { owner: 'run t1' } });
				expect(taken.reclaimed!.since).toBe(doubt.since);
				// the taker holds a fresh lease; the first run's late release cannot free it
				await settle('a', 't1', 'release');
				expect((await claim(['a'], 't4', { takeExpired: true }))[0].state).toBe('leased');
				// but its late 'sent' is the truth: the message went
				await settle('a', 't1', 'sent');
				expect(await claim(['a'], 't5', { takeExpired: true })).toEqual([{ state: 'sent' }]);
			});

			it('an unknown outcome is in doubt at once, whatever the lease had left', async () => {
				await claim(['a'], 't1');
				await settle('a', 't1', 'doubt');
				expect(await claim(['a'], 't2')).toEqual([
					expect.objectContaining({ state: 'in-doubt', owner: 'run t1' }),
				]);
				expect((await claim(['a'], 't3', { takeExpired: true }))[0]).toMatchObject({
					state: 'claimed',
					reclaimed: { owner: 'run t1' },
				});
			});

			it('a partial delivery is remembered: the next claim learns who has it, a release keeps it', async () => {
				await claim(['a'], 't1');
				await settle('a', 't1', 'partial', ['d1']);
				const [next] = await claim(['a'], 't2');
				expect(next).toMatchObject({ state: 'claimed', delivered: ['d1'] });
				// nothing more went: the partial delivery stays for the run after
				await settle('a', 't2', 'release');
				expect((await claim(['a'], 't3'))[0]).toMatchObject({
					state: 'claimed',
					delivered: ['d1'],
				});
				await settle('a', 't3', 'partial', ['d1', 'd2']);
				expect((await claim(['a'], 't4'))[0]).toMatchObject({ delivered: ['d1', 'd2'] });
				// an unknown outcome after a partial delivery keeps what is known
				await settle('a', 't4', 'doubt');
				expect((await claim(['a'], 't5', { takeExpired: true }))[0]).toMatchObject({
					state: 'claimed',
					delivered: ['d1', 'd2'],
				});
				await settle('a', 't5', 'sent');
				expect(await claim(['a'], 't6')).toEqual([{ state: 'sent' }]);
			});

			it('a peek answers as a claim would and writes nothing', async () => {
				expect(await claim(['a'], 't1', { peek: true })).toEqual([{ state: 'claimed' }]);
				// nothing was taken: a real claim finds it free
				expect(await claim(['a'], 't2')).toEqual([{ state: 'claimed' }]);
				await settle('a', 't2', 'sent');
				await claim(['b'], 't3', { leaseMs: 50 });
				await wait(120);
				expect(
					(await claim(['a', 'b'], 'p', { peek: true, takeExpired: true })).map((c) => c.state),
				).toEqual(['sent', 'claimed']);
				// the expired lease was not taken by the peek: still in doubt
				expect((await claim(['b'], 't4'))[0]).toMatchObject({ state: 'in-doubt', owner: 'run t3' });
			});

			describe('the send step (deliveryStep): settle, then claim, then reserve, in one call', () => {
				const policy = {
					ttlMs: HOUR,
					owner: 'run step',
					leaseMs: HOUR,
					takeExpired: false,
					maxWaitMs: 0,
				};
				const limit = () => ({ key: `step-${scope}`, intervalMs: 60_000, burst: 1 });
				const step = (extra: Partial<Parameters<StateStore['deliveryStep']>[0]>) =>
					store.deliveryStep({ ...policy, settle: [], claim: [], reserve: [], ...extra });

				it('claims as leases, as claimOnce does', async () => {
					const { claims, reservations } = await step({
						claim: [
							{ scope, key: 'a', token: 't1' },
							{ scope, key: 'a', token: 't2' },
						],
					});
					expect(reservations).toEqual([]);
					expect(claims[0]).toEqual({ state: 'claimed' });
					expect(claims[1]).toMatchObject({ state: 'leased', owner: 'run step' });
					expect(claims[1].leaseUntil! - claims[1].since!).toBe(HOUR);
				});

				it('settles before it claims: a claim given back is free to the same step', async () => {
					await step({ claim: [{ scope, key: 'a', token: 't1' }] });
					const { claims } = await step({
						settle: [{ scope, settlement: { key: 'a', token: 't1', outcome: 'release' } }],
						claim: [{ scope, key: 'a', token: 't2' }],
					});
					expect(claims).toEqual([{ state: 'claimed' }]);
					// a settlement under another token leaves the lease alone
					await step({
						settle: [{ scope, settlement: { key: 'a', token: 't1', outcome: 'release' } }],
					});
					expect((await claim(['a'], 't3'))[0].state).toBe('leased');
				});

				it('reserves a slot only for a marker that is free, and nothing when the slot is too far', async () => {
					await claim(['sent'], 't0');
					await settle('sent', 't0', 'sent');
					const l = limit();
					const first = await step({
						reserve: [
							{ limits: [l], marker: { scope, key: 'sent' } },
							{ limits: [l], marker: { scope, key: 'fresh' } },
							{ limits: [l] },
						],
					});
					expect(first.reservations[0]).toEqual({ held: { state: 'sent' } });
					expect(first.reservations[1]).toMatchObject({ rate: { granted: true, waitMs: 0 } });
					// the burst of 1 went to 'fresh': the third is refused (longest wait 0), and reserved nothing
					expect(first.reservations[2]).toMatchObject({ rate: { granted: false } });
					const refused = (first.reservations[2] as { rate: { waitMs: number } }).rate;
					expect(refused.waitMs).toBeGreaterThan(59_000);
					// a reservation claims nothing: the marker is still free
					expect(await claim(['fresh'], 't1')).toEqual([{ state: 'claimed' }]);
					// the refusal wrote nothing: with room to wait, the next slot is one interval on
					const next = await step({ maxWaitMs: HOUR, reserve: [{ limits: [l] }] });
					const rate = (next.reservations[0] as { rate: { waitMs: number } }).rate;
					expect(rate.waitMs).toBeGreaterThan(59_000);
					expect(rate.waitMs).toBeLessThanOrEqual(60_000);
				});

				it('a marker leased by another run costs no slot', async () => {
					await claim(['busy'], 'other');
					const l = limit();
					const { reservations } = await step({
						reserve: [{ limits: [l], marker: { scope, key: 'busy' } }, { limits: [l] }],
					});
					expect(reservations[0]).toMatchObject({ held: { state: 'leased', owner: 'run other' } });
					expect(reservations[1]).toMatchObject({ rate: { granted: true, waitMs: 0 } });
				});
			});

			/** every page of a listing of the scope's markers, and how many pages it took */
			const listAll = async (count: number, where = scope, inDoubt = false) => {
				const seen = new Map<string, unknown>();
				let cursor: string | null = null;
				let pages = 0;
				do {
					const page = await store.listOnce(where, { cursor, count, inDoubt });
					expect(page.items.length).toBeLessThanOrEqual(count);
					for (const item of page.items) seen.set(item.key, item.marker);
					cursor = page.cursor;
					if (++pages > 100) throw new Error('the listing does not end');
				} while (cursor !== null);
				return { markers: Object.fromEntries(seen), pages };
			};

			it('lists a campaign’s markers in every state, a page at a time', async () => {
				const keys = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`);
				await claim(keys, 't1');
				await settle('k00', 't1', 'sent');
				await settle('k01', 't1', 'doubt');
				await settle('k02', 't1', 'partial', ['d1']);
				await settle('k03', 't1', 'release');
				await store.claimOnce(`${scope}-other`, {
					keys: ['elsewhere'],
					token: 't',
					owner: 'o',
					leaseMs: HOUR,
					ttlMs: HOUR,
					takeExpired: false,
				});
				const { markers, pages } = await listAll(5);
				expect(Object.keys(markers).sort()).toEqual(keys.filter((k) => k !== 'k03'));
				expect(pages).toBeGreaterThanOrEqual(3);
				expect(markers.k00).toEqual({ s: 'sent' });
				expect(markers.k01).toMatchObject({ s: 'doubt', o: 'run t1' });
				expect(markers.k02).toMatchObject({ s: 'partial', d: ['d1'] });
				expect(markers.k04).toMatchObject({ s: 'lease', t: 't1', o: 'run t1' });
				expect((await listAll(1000, `${scope}-none`)).markers).toEqual({});
				// in doubt only: the unknown outcome and, once it runs out, a lease
				await claim(['short'], 't2', { leaseMs: 50 });
				await wait(120);
				const doubt = await listAll(1, scope, true);
				expect(Object.keys(doubt.markers).sort()).toEqual(['k01', 'short']);
				expect(doubt.pages).toBeGreaterThanOrEqual(2);
				// a marker released between pages moves no other
				const first = await store.listOnce(scope, { count: 3 });
				const gone = ['k04', 'k05', 'k06'];
				for (const k of gone) await settle(k, 't1', 'release');
				const after = new Set(first.items.map((i) => i.key));
				let cursor = first.cursor;
				while (cursor !== null) {
					const page = await store.listOnce(scope, { cursor, count: 3 });
					page.items.forEach((i) => after.add(i.key));
					cursor = page.cursor;
				}
				const kept = [...keys.filter((k) => k !== 'k03' && !gone.includes(k)), 'short'];
				expect([...after].sort()).toEqual(
					[...new Set([...kept, ...first.items.map((i) => i.key)])].sort(),
				);
				await expect(store.listOnce(scope, { count: 0 })).rejects.toThrow(/page/);
			});

			it('releases only markers in doubt: back to a partial delivery, or gone', async () => {
				await claim(['sent', 'doubt', 'partly', 'live'], 't1');
				await claim(['expired'], 't1', { leaseMs: 50 });
				await settle('sent', 't1', 'sent');
				await settle('doubt', 't1', 'doubt');
				await settle('partly', 't1', 'partial', ['d1']);
				// a reclaim over the partial delivery that ends without an answer
				await claim(['partly'], 't2');
				await settle('partly', 't2', 'doubt');
				await wait(120);
				expect(
					await store.releaseOnce(scope, ['sent', 'doubt', 'partly', 'live', 'expired', 'none']),
				).toEqual([false, true, true, false, true, false]);
				const states = await claim(['sent', 'doubt', 'partly', 'live', 'expired'], 't3');
				expect(states.map((c) => c.state)).toEqual([
					'sent',
					'claimed',
					'claimed',
					'leased',
					'claimed',
				]);
				expect(states[1]).toEqual({ state: 'claimed' });
				expect(states[2]).toMatchObject({ delivered: ['d1'] });
				expect(await store.releaseOnce(scope, [])).toEqual([]);
			});

			it('a marker lives for the duplicate window, then the message may go again', async () => {
				await claim(['a'], 't1', { ttlMs: 100 });
				await store.settleOnce(scope, [{ key: 'a', token: 't1', outcome: 'sent' }], 100);
				expect(await claim(['a'], 't2')).toEqual([{ state: 'sent' }]);
				await wait(250);
				expect(await claim(['a'], 't3')).toEqual([{ state: 'claimed' }]);
			});
		});
	});
}

/** Route health (circuit breaking): part of the same contract. */
export function describeHealthContract(
	name: string,
	createStore: () => Promise<StateStore>,
	destroy?: (s: StateStore) => Promise<void>,
): void {
	describe(`StateStore contract (route health): ${name}`, () => {
		let store: StateStore;
		let route: string;
		let id = 0;
		const policy = {
			failureThreshold: 3,
			baseEjectionMs: 200,
			maxEjectionMs: 1000,
			backoff: 2,
			jitter: 1,
		};
		beforeEach(async () => {
			store = await createStore();
			route = `health-${Date.now()}-${++id}`;
		});
		afterEach(async () => {
			if (destroy) await destroy(store);
		});

		it('opens after consecutive failures, for a cool-down that grows with each ejection', async () => {
			const t0 = await store.now();
			expect((await store.recordHealth(route, false, policy)).opened).toBe(false);
			expect((await store.recordHealth(route, false, policy)).opened).toBe(false);
			const third = await store.recordHealth(route, false, policy);
			expect(third.opened).toBe(true);
			expect(third.state.ejections).toBe(1);
			expect(third.state.openUntil - t0).toBeGreaterThanOrEqual(195);
			expect(third.state.openUntil - t0).toBeLessThan(450);
			// failures while open (other workers) change nothing
			expect((await store.recordHealth(route, false, policy)).state.openUntil).toBe(
				third.state.openUntil,
			);
			expect((await store.getCircuits([route]))[0]?.openUntil).toBe(third.state.openUntil);

			// after the cool-down a failed probe re-ejects at once, for twice as long
			const wait = third.state.openUntil - (await store.now()) + 20;
			await new Promise((r) => setTimeout(r, wait));
			const t1 = await store.now();
			const probe = await store.recordHealth(route, false, policy);
			expect(probe.opened).toBe(true);
			expect(probe.state.ejections).toBe(2);
			expect(probe.state.openUntil - t1).toBeGreaterThanOrEqual(395);
			expect(probe.state.openUntil - t1).toBeLessThan(650);
		});

		it('a success resets the failure count and a successful probe closes the circuit', async () => {
			await store.recordHealth(route, false, policy);
			await store.recordHealth(route, false, policy);
			await store.recordHealth(route, true, policy);
			expect((await store.recordHealth(route, false, policy)).opened).toBe(false);
			await store.recordHealth(route, false, policy);
			const open = await store.recordHealth(route, false, policy);
			expect(open.opened).toBe(true);
			await new Promise((r) => setTimeout(r, 260));
			const closed = await store.recordHealth(route, true, policy);
			expect(closed.state.probing).toBe(false);
			expect(closed.state.failures).toBe(0);
			// closed again: one failure does not re-open it
			expect((await store.recordHealth(route, false, policy)).opened).toBe(false);
		});

		it('keeps a probe’s pass count and the enforcement status; a failure ends the count, the status stays', async () => {
			const now = await store.now();
			await store.setCircuit(route, {
				openUntil: now + 60_000,
				ejections: 1,
				failures: 0,
				probing: true,
				lastEjectedAt: now,
				probePasses: 2,
				enforcement: 'PROBATION',
			});
			expect((await store.getCircuits([route]))[0]).toEqual({
				openUntil: now + 60_000,
				ejections: 1,
				failures: 0,
				probing: true,
				lastEjectedAt: now,
				probePasses: 2,
				enforcement: 'PROBATION',
			});
			// a success while open (a send that was in flight) keeps the count
			const kept = await store.recordHealth(route, true, policy);
			expect(kept.state).toMatchObject({ probePasses: 2, enforcement: 'PROBATION' });
			// a failure while open changes nothing else, but the count is over
			const failed = await store.recordHealth(route, false, policy);
			expect(failed.opened).toBe(false);
			expect(failed.state.openUntil).toBe(now + 60_000);
			expect(failed.state.probePasses).toBeUndefined();
			expect(failed.state.enforcement).toBe('PROBATION');
			const [stored] = await store.getCircuits([route]);
			expect(stored).not.toHaveProperty('probePasses');
			expect(stored).toMatchObject({ enforcement: 'PROBATION', ejections: 1, probing: true });

			// a success on a closed circuit ends a count left over; the status survives every write
			await store.setCircuit(route, {
				openUntil: 0,
				ejections: 0,
				probePasses: 1,
				enforcement: 'HEALTHY',
			});
			const closed = await store.recordHealth(route, true, policy);
			expect(closed.state).not.toHaveProperty('probePasses');
			expect((await store.getCircuits([route]))[0]).toMatchObject({
				openUntil: 0,
				enforcement: 'HEALTHY',
			});
			expect((await store.getCircuits([route]))[0]).not.toHaveProperty('probePasses');
			// a state without them has neither
			await store.setCircuit(route, { openUntil: 5, ejections: 1 });
			const [plain] = await store.getCircuits([route]);
			expect(plain).not.toHaveProperty('probePasses');
			expect(plain).not.toHaveProperty('enforcement');
		});
	});

	describe(`StateStore contract (suppression list): ${name}`, () => {
		let store: StateStore;
		let list: string;
		let id = 0;
		beforeEach(async () => {
			store = await createStore();
			list = `list-${Date.now()}-${++id}`;
		});
		afterEach(async () => {
			if (destroy) await destroy(store);
		});
		const entry = (
			key: string,
			reason: SuppressionEntry['reason'],
			at: number,
			until?: number,
		): SuppressionEntry => ({
			key,
			reason,
			source: 'dsn',
			hint: 'a***@example.com',
			at,
			...(until === undefined ? {} : { until }),
		});

		it('answers per key, only for its own list', async () => {
			const now = await store.now();
			await store.suppress(list, [entry('k1', 'hard-bounce', now), entry('k2', 'complaint', now)]);
			expect(await store.getSuppressions(list, ['k1', 'k3', 'k2'])).toEqual([
				entry('k1', 'hard-bounce', now),
				null,
				entry('k2', 'complaint', now),
			]);
			expect(await store.getSuppressions(`${list}-other`, ['k1'])).toEqual([null]);
			expect(await store.getSuppressions(list, [])).toEqual([]);
		});

		it('lets a passing entry lapse, and never shortens a lasting one', async () => {
			const now = await store.now();
			await store.suppress(list, [
				entry('soft', 'soft-bounce', now, now + 150),
				entry('hard', 'hard-bounce', now),
			]);
			// a soft bounce after the hard one changes nothing; a longer soft one extends the first
			await store.suppress(list, [
				entry('hard', 'soft-bounce', now + 1, now + 100_000),
				entry('soft', 'soft-bounce', now + 2, now + 400),
			]);
			expect(await store.getSuppressions(list, ['soft', 'hard'])).toEqual([
				entry('soft', 'soft-bounce', now + 2, now + 400),
				entry('hard', 'hard-bounce', now),
			]);
			// a shorter one does not cut it back
			await store.suppress(list, [entry('soft', 'soft-bounce', now + 3, now + 200)]);
			expect((await store.getSuppressions(list, ['soft']))[0]?.until).toBe(now + 400);
			// a lasting one replaces a passing one
			await store.suppress(list, [entry('soft', 'unsubscribe', now + 4)]);
			expect(await store.getSuppressions(list, ['soft'])).toEqual([
				entry('soft', 'unsubscribe', now + 4),
			]);
		});

		it('forgets an entry once its time has passed, and takes a new one for the key', async () => {
			const now = await store.now();
			await store.suppress(list, [entry('k', 'soft-bounce', now, now + 120)]);
			expect((await store.getSuppressions(list, ['k']))[0]?.reason).toBe('soft-bounce');
			await new Promise((r) => setTimeout(r, 160));
			expect(await store.getSuppressions(list, ['k'])).toEqual([null]);
			// even a shorter one: the old one no longer applies
			const later = await store.now();
			await store.suppress(list, [entry('k', 'soft-bounce', later, later + 60_000)]);
			expect((await store.getSuppressions(list, ['k']))[0]?.until).toBe(later + 60_000);
		});

		it('removes keys and says how many it held', async () => {
			const now = await store.now();
			await store.suppress(list, [entry('a', 'manual', now), entry('b', 'manual', now)]);
			expect(await store.unsuppress(list, ['a', 'x'])).toBe(1);
			expect(await store.getSuppressions(list, ['a', 'b'])).toEqual([
				null,
				entry('b', 'manual', now),
			]);
			expect(await store.unsuppress(`${list}-none`, ['b'])).toBe(0);
			expect(await store.unsuppress(list, [])).toBe(0);
		});

		it('lists the entries that apply, a page at a time', async () => {
			const now = await store.now();
			const keys = Array.from({ length: 11 }, (_, i) => `k${String(i).padStart(2, '0')}`);
			await store.suppress(list, [
				...keys.map((k) => entry(k, 'hard-bounce', now)),
				entry('soft', 'soft-bounce', now, now + 100),
				entry('later', 'soft-bounce', now, now + 3_600_000),
			]);
			await store.suppress(`${list}-other`, [entry('elsewhere', 'manual', now)]);
			await new Promise((r) => setTimeout(r, 150));
			const listed = new Map<string, SuppressionEntry>();
			let cursor: string | null = null;
			let pages = 0;
			do {
				const page = await store.listSuppressions(list, { cursor, count: 4 });
				expect(page.items.length).toBeLessThanOrEqual(4);
				for (const e of page.items) listed.set(e.key, e);
				cursor = page.cursor;
				if (++pages > 100) throw new Error('the listing does not end');
			} while (cursor !== null);
			// the lapsed soft bounce is not listed
			expect([...listed.keys()].sort()).toEqual([...keys, 'later'].sort());
			expect(listed.get('k03')).toEqual(entry('k03', 'hard-bounce', now));
			expect(listed.get('later')).toEqual(entry('later', 'soft-bounce', now, now + 3_600_000));
			expect(pages).toBeGreaterThanOrEqual(3);
			// entries removed between pages (the last given among them) move none of the others
			const first = await store.listSuppressions(list, { count: 4 });
			const given = first.items.map((e) => e.key);
			await store.unsuppress(list, given);
			const after = new Set<string>(given);
			cursor = first.cursor;
			while (cursor !== null) {
				const page = await store.listSuppressions(list, { cursor, count: 4 });
				for (const e of page.items) after.add(e.key);
				cursor = page.cursor;
			}
			expect([...after].sort()).toEqual([...keys, 'later'].sort());
			expect(await store.listSuppressions(`${list}-none`, { count: 10 })).toEqual({
				items: [],
				cursor: null,
			});
		});

		it('refuses an entry it cannot keep', async () => {
			await expect(
				store.suppress(list, [{ ...entry('k', 'manual', 1), reason: 'bounced' as never }]),
			).rejects.toThrow(/unknown suppression reason/);
			await expect(store.suppress(list, [entry('', 'manual', 1)])).rejects.toThrow(/key/);
		});
	});

	describe(`StateStore contract (message ledger): ${name}`, () => {
		let store: StateStore;
		let id = 0;
		let tag: string;
		beforeEach(async () => {
			store = await createStore();
			tag = `${Date.now()}-${++id}`;
		});
		afterEach(async () => {
			if (destroy) await destroy(store);
		});

		it('keeps each entry its time, replaces one written again, and answers per key', async () => {
			const a = ledgerKeys.message('smtp', `<a-${tag}@shop.example>`);
			const b = ledgerKeys.message('sendgrid', `b-${tag}`);
			const r = ledgerKeys.reference(`h.${tag}`);
			await store.recordLedger(
				[
					{ key: a, value: 'MXxSZWxheSBB' },
					{ key: r, value: '1|Relay A|yahoo|spring' },
				],
				60_000,
			);
			await store.recordLedger([{ key: b, value: 'short' }], 120);
			expect(await store.readLedger([a, b, r, ledgerKeys.message('smtp', 'none')])).toEqual([
				'MXxSZWxheSBB',
				'short',
				'1|Relay A|yahoo|spring',
				null,
			]);
			await store.recordLedger([{ key: a, value: 'again' }], 60_000);
			await new Promise((res) => setTimeout(res, 170));
			expect(await store.readLedger([a, b])).toEqual(['again', null]);
			expect(await store.readLedger([])).toEqual([]);
		});

		it('keys a message id by provider, whatever its text', () => {
			const k = ledgerKeys.message('smtp', '<x:{y}@z>');
			expect(k).toMatch(/^mid:[A-Za-z0-9_-]{22}$/);
			expect(k).not.toBe(ledgerKeys.message('mailgun', '<x:{y}@z>'));
		});
	});

	describe(`StateStore contract (route reputation): ${name}`, () => {
		let store: StateStore;
		let id = 0;
		let group: string;
		let scope: string;
		beforeEach(async () => {
			store = await createStore();
			group = `g-${Date.now()}-${++id}`;
			scope = `rep-campaign-${Date.now()}-${id}`;
		});
		afterEach(async () => {
			if (destroy) await destroy(store);
		});
		const HOUR = 3_600_000;
		const suspend = (route: string, extra: Partial<ReputationChange> = {}): ReputationChange =>
			({
				kind: 'act',
				route,
				action: 'suspend',
				rule: 'yahoo-tss04',
				reason: 'Yahoo TSS04 deferral',
				durationMs: 2 * HOUR,
				...extra,
			}) as ReputationChange;
		const twoRoutes = (): AllocRoute[] =>
			['A', 'B'].map((n) => ({ name: `${group}-${n}`, circuit: `${scope}:${n}`, caps: [] }));
		const alternate = (items: AllocateRequest['items']): AllocateRequest => ({
			scope,
			stickyKey: 'p1',
			routes: twoRoutes(),
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
			groups: [group, `${group}-other`],
			ttlMs: 86_400_000,
		});

		it('suspends a route for one group, read back per route × group', async () => {
			const a = `${group}-A`;
			const { states, events, now } = await store.updateReputation(group, [suspend(a)]);
			expect(events).toEqual([
				{
					route: a,
					what: 'suspended',
					rule: 'yahoo-tss04',
					reason: 'Yahoo TSS04 deferral',
					until: now + 2 * HOUR,
				},
			]);
			expect(states[a].suspendedUntil).toBe(now + 2 * HOUR);
			expect(states[a].rampUntil).toBe(now + 4 * HOUR);
			const [mine, other, none] = await store.getReputation([
				{ route: a, group },
				{ route: a, group: `${group}-other` },
				{ route: `${group}-B`, group },
			]);
			expect(mine).toMatchObject({
				suspendedUntil: now + 2 * HOUR,
				strikes: 1,
				rule: 'yahoo-tss04',
			});
			expect(other).toBeNull();
			expect(none).toBeNull();
		});

		it('a repeat within a day lasts twice as long; replies meanwhile add nothing', async () => {
			const a = `${group}-A`;
			await store.updateReputation(group, [
				suspend(a, { durationMs: 1, maxDurationMs: 10 * HOUR }),
			]);
			await new Promise((r) => setTimeout(r, 20));
			const second = await store.updateReputation(group, [
				suspend(a, { durationMs: HOUR, maxDurationMs: 10 * HOUR }),
				suspend(a, { durationMs: HOUR, maxDurationMs: 10 * HOUR }),
			]);
			expect(second.events).toHaveLength(1);
			expect(second.states[a]).toMatchObject({ strikes: 2, suspendedUntil: second.now + 2 * HOUR });
		});

		it("a guarded (rate) rule suspends at most half of the group's routes, then throttles", async () => {
			const [a, b] = [`${group}-A`, `${group}-B`];
			await store.updateReputation(group, [
				{ kind: 'seen', route: a },
				{ kind: 'seen', route: b },
			]);
			const first = await store.updateReputation(group, [
				suspend(a, { rule: 'block-rate', guarded: true }),
			]);
			expect(first.events[0].what).toBe('suspended');
			const second = await store.updateReputation(group, [
				suspend(b, { rule: 'block-rate', guarded: true }),
			]);
			expect(second.events[0]).toMatchObject({ what: 'downgraded', factor: 0.5 });
			expect(second.states[b]).toMatchObject({ suspendedUntil: 0, factor: 0.5 });
		});

		it('a threshold rule acts on its count-th match within the period', async () => {
			const a = `${group}-A`;
			const rule = suspend(a, {
				rule: 'gmail-rate',
				threshold: { count: 3, periodMs: HOUR },
				matches: 2,
			});
			expect((await store.updateReputation(group, [rule])).events).toEqual([]);
			const [held] = await store.getReputation([{ route: a, group }]);
			expect(held!.hits['gmail-rate'].n).toBe(2);
			const again = suspend(a, {
				rule: 'gmail-rate',
				threshold: { count: 3, periodMs: HOUR },
				matches: 1,
			});
			expect((await store.updateReputation(group, [again])).events[0].what).toBe('suspended');
		});

		it("the partitioner skips a route suspended for the item's group only", async () => {
			await store.updateReputation(group, [suspend(`${group}-A`)]);
			// four of the group, then four of another group, on one class sequence (A, B, A, B, …)
			const items = Array.from({ length: 8 }, (_, i) => ({ cls: 0, group: i < 4 ? 0 : 1 }));
			const r = await store.allocate(alternate(items));
			// the group suspended on A: all on B, A's turns spilled; the other group as its sequence says
			expect(r.route.slice(0, 4)).toEqual([1, 1, 1, 1]);
			expect(r.via.slice(0, 4)).toEqual([VIA_SPILL, VIA_SEQUENCE, VIA_SPILL, VIA_SEQUENCE]);
			expect(r.route.slice(4)).toEqual([0, 1, 0, 1]);
			expect(r.reputation![0][0]).toMatchObject({ rule: 'yahoo-tss04' });
			expect(r.reputation![1][0]).toBeNull();
		});

		it('defers until the suspension ends when no route is left for the group', async () => {
			const { now } = await store.updateReputation(group, [
				suspend(`${group}-A`, { durationMs: HOUR }),
				suspend(`${group}-B`, { durationMs: 2 * HOUR }),
			]);
			const r = await store.allocate(
				alternate([
					{ cls: 0, group: 0 },
					{ cls: 0, group: 1 },
				]),
			);
			expect(r.route).toEqual([-1, 0]);
			expect(r.via[0]).toBe(VIA_DEFERRED);
			expect(Math.abs(r.retryAt[0] - (now + HOUR))).toBeLessThan(5);
		});

		it('a throttled route keeps its share of the items its sequence names; the rest spill', async () => {
			await store.updateReputation(group, [
				{
					kind: 'act',
					route: `${group}-A`,
					action: 'throttle',
					rule: 'deferral-rate',
					reason: 'r',
					durationMs: HOUR,
					factor: 0.5,
				},
			]);
			const items = Array.from({ length: 400 }, () => ({ cls: 0, group: 0 }));
			const r = await store.allocate(alternate(items));
			const onA = r.route.filter((x) => x === 0).length;
			// A's sequence names 200 of them and keeps half: 100 within a few (a Weyl sequence)
			expect(Math.abs(onA - 100)).toBeLessThanOrEqual(2);
			expect(r.route.filter((x) => x === 1).length).toBe(400 - onA);
		});

		it('after a suspension the route starts slowly (a quarter of its share, growing)', async () => {
			await store.updateReputation(group, [suspend(`${group}-A`, { durationMs: 200 })]);
			await new Promise((r) => setTimeout(r, 300));
			const items = Array.from({ length: 400 }, () => ({ cls: 0, group: 0 }));
			const r = await store.allocate(alternate(items));
			const onA = r.route.filter((x) => x === 0).length;
			expect(onA).toBeGreaterThanOrEqual(48);
			expect(onA).toBeLessThanOrEqual(52);
		});

		it('a campaign pause holds until it ends, or until lifted', async () => {
			const now = await store.now();
			const pause = { until: now + HOUR, rule: 'hard-bounce-rate', reason: 'why', since: now };
			await store.setCampaignPause(scope, pause);
			await store.setCampaignPause(`${scope}-past`, { ...pause, until: now - 1 });
			expect(await store.getCampaignPauses([scope, `${scope}-past`, `${scope}-none`])).toEqual([
				pause,
				null,
				null,
			]);
			await store.setCampaignPause(scope, null);
			expect(await store.getCampaignPauses([scope])).toEqual([null]);
			expect(await store.getCampaignPauses([])).toEqual([]);
		});

		it('a release lifts everything', async () => {
			const a = `${group}-A`;
			await store.updateReputation(group, [suspend(a)]);
			const { events } = await store.updateReputation(group, [{ kind: 'release', route: a }]);
			expect(events[0].what).toBe('released');
			const r = await store.allocate(
				alternate([
					{ cls: 0, group: 0 },
					{ cls: 0, group: 0 },
				]),
			);
			expect(r.route).toEqual([0, 1]);
		});
	});

	describe(`StateStore contract (outcome counters): ${name}`, () => {
		let store: StateStore;
		let id = 0;
		let route: string;
		beforeEach(async () => {
			store = await createStore();
			route = `rep-${Date.now()}-${++id}`;
		});
		afterEach(async () => {
			if (destroy) await destroy(store);
		});

		it('clears the buckets of the pairs named, and their pair index entries, only', async () => {
			const now = await store.now();
			const hour = Math.floor(now / 3_600_000) * 3_600_000;
			await store.countOutcomes([
				{ route, group: 'yahoo', counts: { sent: 2 }, at: now },
				{ route, group: 'yahoo', counts: { sent: 1 }, at: now - 5 * 3_600_000 },
				{ route, group: 'google', counts: { sent: 5 }, at: now },
				{ route: '', group: route, counts: { bounceHard: 1 }, at: now },
			]);
			await store.clearOutcomes([
				{ route, group: 'yahoo' },
				{ route: '', group: route },
			]);
			const span = [hour - 7 * 3_600_000, hour + 3_600_000] as const;
			expect(await store.readOutcomes(route, 'yahoo', 'hour', ...span)).toEqual([]);
			expect(
				await store.readOutcomes(route, 'yahoo', 'minute', now - 60_000, now + 60_000),
			).toEqual([]);
			expect(await store.readOutcomes('', route, 'hour', ...span)).toEqual([]);
			expect(await store.readOutcomes(route, 'google', 'hour', ...span)).toEqual([
				{ start: hour, counts: { sent: 5 } },
			]);
			const pairs = (await store.listOutcomePairs()).filter((p) => p.route === route);
			expect(pairs.map((p) => p.group)).toEqual(['google']);
			// counted again, it starts from nothing
			await store.countOutcomes([{ route, group: 'yahoo', counts: { sent: 1 }, at: now }]);
			expect(await store.readOutcomes(route, 'yahoo', 'hour', ...span)).toEqual([
				{ start: hour, counts: { sent: 1 } },
			]);
			await store.clearOutcomes([]);
		});

		it('adds counts per route × group into minute and hour buckets, read back per window', async () => {
			const now = await store.now();
			const minute = Math.floor(now / 60_000) * 60_000;
			await store.countOutcomes([
				{
					route,
					group: 'yahoo',
					counts: { sent: 3, acceptMsSum: 120, acceptN: 3, acceptLe100: 2, acceptLe250: 1 },
					at: now,
				},
				{ route, group: 'yahoo', counts: { acceptOver10000: 1, acceptLe100: 1 }, at: now },
				{ route, group: 'yahoo', counts: { sent: 1, blocked: 2 }, at: now },
				{ route, group: 'google', counts: { sent: 5 }, at: now },
				// an earlier minute of the same hour, or the hour before
				{ route, group: 'yahoo', counts: { deferred: 4 }, at: minute - 60_000 },
			]);
			await store.countOutcomes([{ route, group: 'yahoo', counts: { bounceHard: 1 }, at: now }]);
			const minutes = await store.readOutcomes(
				route,
				'yahoo',
				'minute',
				minute - 60_000,
				minute + 60_000,
			);
			expect(minutes).toEqual([
				{ start: minute - 60_000, counts: { deferred: 4 } },
				{
					start: minute,
					counts: {
						sent: 4,
						blocked: 2,
						bounceHard: 1,
						acceptMsSum: 120,
						acceptN: 3,
						acceptLe100: 3,
						acceptLe250: 1,
						acceptOver10000: 1,
					},
				},
			]);
			const hour = Math.floor(now / 3_600_000) * 3_600_000;
			const hours = await store.readOutcomes(
				route,
				'yahoo',
				'hour',
				hour - 3_600_000,
				hour + 3_600_000,
			);
			const total = hours.reduce(
				(sum, b) => sum + (b.counts.deferred ?? 0) + (b.counts.sent ?? 0),
				0,
			);
			expect(total).toBe(8);
			expect(await store.readOutcomes(route, 'google', 'minute', minute, minute + 60_000)).toEqual([
				{ start: minute, counts: { sent: 5 } },
			]);
			expect(await store.readOutcomes(route, 'other', 'minute', minute, minute + 60_000)).toEqual(
				[],
			);
		});

		it('drops an event reported after its bucket is gone, and refuses counts it cannot keep', async () => {
			const now = await store.now();
			await store.countOutcomes([
				{ route, group: 'g', counts: { delivered: 1 }, at: now - 4 * 3_600_000 },
			]);
			// gone from the minutes (kept 3 h), still in the hours (kept 8 d)
			expect(
				await store.readOutcomes(route, 'g', 'minute', now - 4 * 3_600_000, now - 3 * 3_600_000),
			).toEqual([]);
			const hours = await store.readOutcomes(route, 'g', 'hour', now - 5 * 3_600_000, now);
			expect(hours.map((b) => b.counts)).toEqual([{ delivered: 1 }]);
			await expect(
				store.countOutcomes([{ route, group: 'g', counts: { sent: -1 }, at: now }]),
			).rejects.toThrow(/whole number/);
			await expect(
				store.countOutcomes([{ route, group: 'g', counts: { opened: 1 } as never, at: now }]),
			).rejects.toThrow(/unknown outcome counter/);
			await expect(store.readOutcomes(route, 'g', 'minute', 0, now)).rejects.toThrow(
				/more than 1440/,
			);
		});
		it('lists the route × group pairs it counted into, latest first, as long as their hour buckets', async () => {
			const now = await store.now();
			const HOUR = 3_600_000;
			const DAY = 86_400_000;
			expect(await store.listOutcomePairs()).toEqual([]);
			await store.countOutcomes([
				{ route, group: 'yahoo', counts: { sent: 1 }, at: now - 2 * HOUR },
				{ route, group: 'google', counts: { blocked: 1 }, at: now - HOUR },
				// counts only zeros: no bucket, no pair
				{ route, group: 'zero', counts: { sent: 0 }, at: now },
				// 9 days ago: its hour bucket is gone (kept 8 days after the hour), so is the pair
				{ route, group: 'old', counts: { sent: 1 }, at: now - 9 * DAY },
			]);
			// an earlier time for yahoo does not move its lastAt back; a later one moves it on
			await store.countOutcomes([
				{ route, group: 'yahoo', counts: { delivered: 1 }, at: now - 3 * HOUR },
				{ route: `${route}:b`, group: 'google', counts: { sent: 2 }, at: now },
			]);
			expect(await store.listOutcomePairs()).toEqual([
				{ route: `${route}:b`, group: 'google', lastAt: now },
				{ route, group: 'google', lastAt: now - HOUR },
				{ route, group: 'yahoo', lastAt: now - 2 * HOUR },
			]);
			await store.countOutcomes([{ route, group: 'yahoo', counts: { sent: 1 }, at: now }]);
			// same lastAt: the higher member first, in byte order: '["<route>:b","google"]' is after
			// '["<route>","yahoo"]', since after the route comes ':' (0x3A) against '"' (0x22)
			expect(await store.listOutcomePairs()).toEqual([
				{ route: `${route}:b`, group: 'google', lastAt: now },
				{ route, group: 'yahoo', lastAt: now },
				{ route, group: 'google', lastAt: now - HOUR },
			]);
		});

		it(`keeps at most ${MAX_OUTCOME_PAIRS} pairs, dropping the least recently counted`, async () => {
			const now = await store.now();
			const name = (i: number) => `${route}-${String(i).padStart(4, '0')}`;
			// MAX + 1 pairs counted an hour ago, then one now: MAX + 2, so two go, the lowest members
			// of the tied ones (r-0000 and r-0001)
			await store.countOutcomes(
				Array.from({ length: MAX_OUTCOME_PAIRS + 1 }, (_, i) => ({
					route: name(i),
					group: 'g',
					counts: { sent: 1 },
					at: now - 3_600_000,
				})),
			);
			await store.countOutcomes([{ route, group: 'g', counts: { sent: 1 }, at: now }]);
			const pairs = await store.listOutcomePairs();
			expect(pairs.length).toBe(MAX_OUTCOME_PAIRS);
			expect(pairs[0]).toEqual({ route, group: 'g', lastAt: now });
			// the tied ones by member, highest first: the last one listed is r-0002
			expect(pairs[1].route).toBe(name(MAX_OUTCOME_PAIRS));
			expect(pairs[MAX_OUTCOME_PAIRS - 1].route).toBe(name(2));
		}, 60_000);
	});
	describe(`StateStore contract (seen marks): ${name}`, () => {
		let store: StateStore;
		let id = 0;
		let tag: string;
		beforeEach(async () => {
			store = await createStore();
			tag = `${Date.now()}-${++id}`;
		});
		afterEach(async () => {
			if (destroy) await destroy(store);
		});

		it('says new once per key (a key twice in one call too), until the mark expires', async () => {
			const a = seenKeys.event('hook-1', 'sendgrid', `a-${tag}`);
			const b = seenKeys.event('hook-1', 'sendgrid', `b-${tag}`);
			const t = seenKeys.token('hook-1', 'mailgun', `t-${tag}`);
			expect(await store.markSeen([a, t, a], 60_000)).toEqual([true, true, false]);
			expect(await store.markSeen([b], 120)).toEqual([true]);
			expect(await store.markSeen([a, b, t], 120)).toEqual([false, false, false]);
			await new Promise((res) => setTimeout(res, 170));
			// b's mark (120 ms) is gone; a and t keep their minute: marking again does not shorten it
			expect(await store.markSeen([a, b, t], 60_000)).toEqual([false, true, false]);
			expect(await store.markSeen([], 1000)).toEqual([]);
		});

		it('are atomic: of calls racing on one key, exactly one is told it is new', async () => {
			const k = seenKeys.event('hook-1', 'ses', `race-${tag}`);
			const answers = await Promise.all(
				Array.from({ length: 8 }, () => store.markSeen([k], 60_000)),
			);
			expect(answers.flat().filter(Boolean)).toHaveLength(1);
		});

		it('key an id by endpoint, provider and kind, whatever its text', () => {
			const k = seenKeys.event('hook-1', 'sendgrid', 'x:{y}');
			expect(k).toMatch(/^ev:[A-Za-z0-9_-]{22}$/);
			expect(seenKeys.token('hook-1', 'mailgun', 'x')).toMatch(/^tok:[A-Za-z0-9_-]{22}$/);
			expect(k).not.toBe(seenKeys.event('hook-2', 'sendgrid', 'x:{y}'));
			expect(k).not.toBe(seenKeys.event('hook-1', 'mailgun', 'x:{y}'));
		});
	});
	describe(`StateStore contract (alerts): ${name}`, () => {
		let store: StateStore;
		let id = 0;
		let tag: string;
		beforeEach(async () => {
			store = await createStore();
			tag = `${Date.now()}-${++id}`;
		});
		afterEach(async () => {
			if (destroy) await destroy(store);
		});
		const at = '2026-12-01T10:00:00.000Z';
		const alert = (route: string, extra: Partial<AlertInput> = {}): AlertInput => ({
			type: 'route.ejected',
			severity: 'critical',
			route: `${route}-${tag}`,
			reason: 'three failures in a row',
			at,
			...extra,
		});
		const seq = (alertIdText: string) => Number(alertIdText.split('-')[1]);

		it('gives a group made on first read every alert published after it, once, oldest first', async () => {
			const group = `g-${tag}`;
			await store.publishAlerts([alert('before')], 0);
			// the group starts at the log's end ($): what came before is not its
			expect(await store.readAlerts(group, 'c1', { count: 10 })).toEqual([]);
			const full = alert('a', {
				type: 'route.suspended',
				severity: 'warning',
				group: 'yahoo',
				campaign: 'c:{1}',
				rule: 'yahoo-tss04',
				until: '2026-12-01T14:00:00.000Z',
			});
			const ids = await store.publishAlerts([full, alert('b')], 0);
			expect(ids).toHaveLength(2);
			expect(ids[0]).toMatch(/^0-\d+$/);
			expect(seq(ids[1])).toBe(seq(ids[0]) + 1);
			const read = await store.readAlerts(group, 'c1', { count: 10 });
			expect(read).toEqual([
				{ id: ids[0], ...full },
				{ id: ids[1], ...alert('b') },
			]);
			expect(await store.ackAlerts(group, ids)).toBe(2);
			expect(await store.readAlerts(group, 'c1', { count: 10 })).toEqual([]);
			// acknowledged already, or never given: nothing to acknowledge
			expect(await store.ackAlerts(group, [...ids, '0-999999999'])).toBe(0);
		});

		it('reads at most count, and each alert goes to one consumer of a group and to every group', async () => {
			const [g1, g2] = [`g1-${tag}`, `g2-${tag}`];
			await store.readAlerts(g1, 'a', { count: 1 });
			await store.readAlerts(g2, 'a', { count: 1 });
			const ids = await store.publishAlerts(
				['x', 'y', 'z'].map((r) => alert(r)),
				0,
			);
			const first = await store.readAlerts(g1, 'a', { count: 2 });
			expect(first.map((a) => a.id)).toEqual(ids.slice(0, 2));
			// another consumer of the group gets only what a has not been given
			const second = await store.readAlerts(g1, 'b', { count: 10 });
			expect(second.map((a) => a.id)).toEqual(ids.slice(2));
			expect(await store.readAlerts(g1, 'b', { count: 10 })).toHaveLength(1); // b's, pending
			const other = await store.readAlerts(g2, 'a', { count: 10 });
			expect(other.map((a) => a.id)).toEqual(ids);
		});

		it('shows the latest alerts newest first without consuming them', async () => {
			const group = `g-${tag}`;
			await store.readAlerts(group, 'c1', { count: 10 });
			const ids = await store.publishAlerts(
				['r1', 'r2', 'r3'].map((r) => alert(r)),
				0,
			);
			expect(await store.recentAlerts(2)).toEqual([
				{ id: ids[2], ...alert('r3') },
				{ id: ids[1], ...alert('r2') },
			]);
			expect((await store.recentAlerts(50)).slice(0, 3).map((a) => a.id)).toEqual(
				[...ids].reverse(),
			);
			// the group still gets all three, and a group made now none of them
			expect((await store.readAlerts(group, 'c1', { count: 10 })).map((a) => a.id)).toEqual(ids);
			expect(await store.readAlerts(`new-${tag}`, 'c1', { count: 10 })).toEqual([]);
			await expect(store.recentAlerts(0)).rejects.toThrow(/count of 1 or more/);
		});

		it("reads a consumer's pending alerts again first, until acknowledged (a restart loses none)", async () => {
			const group = `g-${tag}`;
			await store.readAlerts(group, 'trigger', { count: 10 });
			const ids = await store.publishAlerts([alert('p'), alert('q')], 0);
			expect((await store.readAlerts(group, 'trigger', { count: 10 })).map((a) => a.id)).toEqual(
				ids,
			);
			// the process died before acknowledging: the same consumer reads them again, then new ones
			const later = await store.publishAlerts([alert('r')], 0);
			expect((await store.readAlerts(group, 'trigger', { count: 1 })).map((a) => a.id)).toEqual([
				ids[0],
			]);
			expect(await store.ackAlerts(group, [ids[0]])).toBe(1);
			expect((await store.readAlerts(group, 'trigger', { count: 10 })).map((a) => a.id)).toEqual([
				ids[1],
			]);
			expect(await store.ackAlerts(group, [ids[1]])).toBe(1);
			expect((await store.readAlerts(group, 'trigger', { count: 10 })).map((a) => a.id)).toEqual(
				later,
			);
		});

		it('publishes the same type, route, group, campaign, rule and severity once per cooldown, the mark set with the alert', async () => {
			const group = `g-${tag}`;
			await store.readAlerts(group, 'c', { count: 1 });
			const a = alert('flap', { group: 'gmail' });
			const first = await store.publishAlerts([a, a, alert('flap', { group: 'yahoo' })], 150);
			expect(first).toHaveLength(2);
			expect(await store.publishAlerts([a], 150)).toEqual([]);
			// another type of the same route and group is its own alert
			expect(
				await store.publishAlerts([{ ...a, type: 'route.recovered', severity: 'info' }], 150),
			).toHaveLength(1);
			// another rule, campaign or severity of the same type, route and group is its own alert;
			// one without a route (a campaign's list quality) is scoped by its campaign
			const list = (campaign: string): AlertInput => ({
				type: 'threshold.warning',
				severity: 'warning',
				campaign: `${campaign}-${tag}`,
				rule: 'hard-bounce-rate',
				reason: 'hard bounces',
				at,
			});
			expect(
				await store.publishAlerts(
					[
						{ ...a, rule: 'r2' },
						{ ...a, campaign: 'promo' },
						{ ...a, severity: 'warning' },
						list('winter'),
						list('winter'),
						list('spring'),
						{ ...list('winter'), rule: 'complaint-rate' },
					],
					150,
				),
			).toHaveLength(6);
			await new Promise((res) => setTimeout(res, 250));
			expect(await store.publishAlerts([a], 150)).toHaveLength(1);
			// no cooldown: every one goes
			expect(await store.publishAlerts([a, a], 0)).toHaveLength(2);
			expect(await store.readAlerts(group, 'c', { count: 100 })).toHaveLength(12);
			expect(await store.publishAlerts([], 150)).toEqual([]);
		});

		it('refuses what is not an alert, and reads without a group or a count', async () => {
			await expect(
				store.publishAlerts([{ ...alert('bad'), severity: 'loud' as 'info' }]),
			).rejects.toThrow(/alert 1 is not valid: severity/);
			await expect(store.publishAlerts([alert('x')], -1)).rejects.toThrow(/cooldown/);
			await expect(store.readAlerts('', 'c', { count: 1 })).rejects.toThrow(/group/);
			await expect(store.readAlerts('g', 'c', { count: 0 })).rejects.toThrow(/count/);
		});
	});
}
