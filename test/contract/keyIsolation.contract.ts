import { deliver, type DeliveryJob } from '../../lib/delivery/pipeline';
import { Partitioner } from '../../lib/routing/partitioner';
import { parseRoutePlan } from '../../lib/routing/plan';
import { rateKeys } from '../../lib/state/keys';
import type { AllocateRequest, StateStore } from '../../lib/state/types';
import type { SendOutcome, Transport } from '../../lib/transports/types';
import { plainMessage } from '../helpers/messages';

/** Campaign IDs that shared keys before keys were escaped: braces became "_", an empty tag "_". */
export const COLLIDING_CAMPAIGNS: Array<[string, string]> = [
	['promo{1}', 'promo_1_'],
	['{}', '__'],
	['spring{sale}', 'spring}sale{'],
	['a:b', 'a%3Ab'],
	['', '_'],
];

const DAY = 86_400_000;

const message = plainMessage;

const failing: Transport = {
	provider: 'smtp',
	send: async (): Promise<SendOutcome> => ({
		ok: false,
		kind: 'transient',
		scope: 'route',
		code: 421,
		message: '421 try later',
	}),
};

/**
 * No user text can make two things share a key: campaigns that differ only in braces or colons,
 * rate-limit parts that join to the same text, and routes of one name in unrelated workflows.
 */
export function describeKeyIsolationContract(
	name: string,
	createStore: () => Promise<StateStore>,
	destroy?: (s: StateStore) => Promise<void>,
): void {
	describe(`StateStore keys cannot collide: ${name}`, () => {
		let store: StateStore;
		let run = 0;
		beforeEach(async () => {
			store = await createStore();
			run++;
		});
		afterEach(async () => {
			if (destroy) await destroy(store);
		});

		it.each(COLLIDING_CAMPAIGNS)(
			'campaigns %j and %j keep their own duplicate markers',
			async (a, b) => {
				const key = `k-${run}-${Date.now()}`;
				const claim = (token: string) => ({
					keys: [key],
					token,
					owner: token,
					leaseMs: DAY,
					ttlMs: DAY,
					takeExpired: false,
				});
				expect(await store.claimOnce(a, claim('token-a'))).toEqual([{ state: 'claimed' }]);
				await store.settleOnce(a, [{ key, token: 'token-a', outcome: 'sent' }], DAY);
				// before the fix the second campaign found the first one's marker: its recipient was skipped as a duplicate
				expect(await store.claimOnce(b, claim('token-b'))).toEqual([{ state: 'claimed' }]);
			},
		);

		it.each(COLLIDING_CAMPAIGNS)(
			'campaigns %j and %j keep their own split counters and sticky routes',
			async (a, b) => {
				const request = (scope: string): AllocateRequest => ({
					scope,
					stickyKey: `p-${run}`,
					routes: [0, 1].map((i) => ({ name: `r${i}`, circuit: `iso-${run}-r${i}`, caps: [] })),
					classes: [
						{
							counterKey: `c-${run}`,
							cycle: [0, 1],
							repeat: 1,
							candidates: [0, 1],
							weights: [1, 1],
							spill: 'weights',
						},
					],
					items: [{ cls: 0, key: 'same-recipient' }],
					ttlMs: DAY,
				});
				expect((await store.allocate(request(a))).route).toEqual([0]);
				// its own counter starts at position 0 as well, and finds no sticky assignment of the other
				const other = await store.allocate({
					...request(b),
					items: [{ cls: 0 }, { cls: 0, key: 'same-recipient' }],
				});
				expect(other.route).toEqual([0, 1]);
				expect(other.via).toEqual([0, 0]);
			},
		);

		it('rate limits whose parts join to the same text stay apart', async () => {
			const pairs: Array<[string, string]> = [
				[rateKeys.campaignShare('a:b', 'c'), rateKeys.campaignShare('a', 'b:c')],
				[rateKeys.group('a', 'b:c', 'yahoo'), rateKeys.group('a:b', 'c', 'yahoo')],
				[rateKeys.connection('smtp', 'n:1'), rateKeys.connection('smtp:n', '1')],
			];
			for (const [x, y] of pairs) {
				expect(x).not.toBe(y);
				const limit = (key: string) => ({
					key: `${key}-${run}-${Date.now()}`,
					intervalMs: 60_000,
					burst: 1,
				});
				const suffix = `-${run}-${Date.now()}`;
				expect((await store.reserveRate([{ ...limit(x), key: x + suffix }], 1, 0)).granted).toBe(
					true,
				);
				expect((await store.reserveRate([{ ...limit(y), key: y + suffix }], 1, 0)).granted).toBe(
					true,
				);
			}
		});

		it('a route called "Primary" in one workflow does not eject the "Primary" of another', async () => {
			const wfA = `workflow-A-${run}-${Date.now()}`;
			const wfB = `workflow-B-${run}-${Date.now()}`;
			const jobs: DeliveryJob[] = Array.from({ length: 5 }, (_, i) => ({
				index: i,
				message: message(`u${i}@x.example`),
				route: 'Primary',
				campaign: wfA,
				limits: [],
			}));
			const health = {
				failureThreshold: 3,
				baseEjectionMs: 60_000,
				maxEjectionMs: 600_000,
				backoff: 2,
				jitterRatio: 0,
			};
			const out = await deliver(jobs, {
				transport: failing,
				store,
				concurrency: 1,
				retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
				health,
				duplicates: { ttlMs: DAY, leaseMs: 600_000, resendInDoubt: true, owner: 'test' },
				maxRateWaitMs: 1000,
			});
			expect(out.filter((r) => r.record.status === 'circuit-open')).toHaveLength(2); // A's circuit opened after 3

			const plan = parseRoutePlan({
				mode: 'failover',
				timeZone: 'UTC',
				routes: [{ name: 'Primary' }, { name: 'Backup' }],
			});
			const inA = await new Partitioner(plan, store, { campaign: wfA, partition: 'p' }).assign([
				{ key: 'x@y.example' },
			]);
			const inB = await new Partitioner(plan, store, { campaign: wfB, partition: 'p' }).assign([
				{ key: 'x@y.example' },
			]);
			expect(inA[0].route).toBe('Backup');
			expect(inB[0].route).toBe('Primary');
		});

		it('keeps one hashing secret per store', async () => {
			const first = await store.hashSecret();
			expect(first.length).toBeGreaterThanOrEqual(32);
			expect(await store.hashSecret()).toBe(first);
		});
	});
}
