import { MemoryStateStore } from '../../lib/state/memory';
import type { RateLimit, StateStore } from '../../lib/state/types';
import { limitsFor, type LimitsInput } from '../../lib/throttle/applicable';
import { acquire, gcraLimit } from '../../lib/throttle/limits';
import { RATE_UNITS } from '../../lib/throttle/units';
import { VirtualTime } from '../helpers/virtualTime';

/**
 * Pacing by reservation, on virtual time: many senders at once, minutes of sending, no real
 * waiting. Every sender goes through acquire(): one reservation, then the wait for its slot — the
 * reservation the send pipeline makes inside its store steps (lib/delivery/steps.ts), and the
 * same GCRA (lib/state/gcra.ts).
 */

/** A memory store on the virtual clock that counts its reservation calls. */
function storeOn(vt: VirtualTime): { store: StateStore; calls: () => number } {
	const store = new MemoryStateStore({ clock: vt.clock });
	let calls = 0;
	const reserveRate = store.reserveRate.bind(store);
	store.reserveRate = (...args) => {
		calls++;
		return reserveRate(...args);
	};
	return { store, calls: () => calls };
}

/** `messages` sends through `lanes` parallel senders (the node's Parallel Sends); resolves with when each went. */
async function branch(
	vt: VirtualTime,
	store: StateStore,
	limits: RateLimit[],
	messages: number,
	lanes = 20,
): Promise<number[]> {
	const sentAt: number[] = [];
	let next = 0;
	const lane = async () => {
		while (next < messages) {
			next++;
			const slot = await acquire(store, limits, 1, { maxWaitMs: 3_600_000, sleep: vt.sleep });
			if (!slot.ok) throw new Error('refused');
			sentAt.push(vt.now);
		}
	};
	await Promise.all(Array.from({ length: lanes }, lane));
	return sentAt;
}

/** The most sends in any window [t, t + period) — every window, not only those starting at a send. */
function busiestWindow(times: number[], period: number): number {
	const t = times.slice().sort((a, b) => a - b);
	let most = 0;
	for (let i = 0, j = 0; j < t.length; j++) {
		while (t[j] - t[i] >= period) i++;
		most = Math.max(most, j - i + 1);
	}
	return most;
}

/** Runs the senders on virtual time to their end. */
async function simulate<T>(vt: VirtualTime, work: () => Promise<T>): Promise<T> {
	let result: { value: T } | undefined;
	let failure: unknown;
	work().then(
		(value) => (result = { value }),
		(error) => (failure = error),
	);
	await vt.run(() => result !== undefined || failure !== undefined);
	if (failure) throw failure;
	if (!result) throw new Error('the senders never finished');
	return result.value;
}

describe('acquire: one reservation per message, then the wait for its slot', () => {
	it('makes one store call per message, however long it waits, and sends each at its own slot', async () => {
		const vt = new VirtualTime();
		const { store, calls } = storeOn(vt);
		const limit = gcraLimit('conn:smtp:n1', { limit: 10, per: 'second', burst: 1 });
		const t0 = vt.now;
		const sentAt = await simulate(vt, () => branch(vt, store, [limit], 50));
		expect(calls()).toBe(50);
		// one every interval from the first, none early, none bunched
		expect(sentAt.map((t) => t - t0)).toEqual(
			Array.from({ length: 50 }, (_, k) => k * limit.intervalMs),
		);
	});

	it('keeps the rate when every timer wakes late: a late sender pushes no later slot back', async () => {
		// a burst of 1, as the campaign rate has: no slack to make up for a late wake-up
		const limit = gcraLimit('campaign:winter', { limit: 10, per: 'second', burst: 1 });
		const windowMs = 60_000;
		const sendsIn = async (lateBy: (ms: number) => number) => {
			const vt = new VirtualTime(1_000_000, lateBy);
			const { store } = storeOn(vt);
			const t0 = vt.now;
			// more messages than the window holds, so the senders are busy all through it
			const sentAt = await simulate(vt, () => branch(vt, store, [limit], 700, 4));
			return sentAt.filter((t) => t >= t0 && t < t0 + windowMs).length;
		};
		const onTime = await sendsIn(() => 0);
		// every sleep 30% longer than asked, plus 7 ms: a CPU-starved event loop
		const late = await sendsIn((ms) => ms * 0.3 + 7);
		const nominal = limit.burst + windowMs / limit.intervalMs - 1;
		expect(onTime).toBe(nominal);
		// the slots are fixed in the store: lateness shifts sends by a few ms, never drops any
		expect(Math.abs(late - onTime)).toBeLessThanOrEqual(2);
	});

	it('gives up at once, reserving nothing, when the slot is further away than the longest wait', async () => {
		const vt = new VirtualTime();
		const { store, calls } = storeOn(vt);
		const limit = gcraLimit('conn:smtp:n1', { limit: 1, per: 'minute' });
		expect(await acquire(store, [limit], 1, { maxWaitMs: 0, sleep: vt.sleep })).toEqual({
			ok: true,
			waitedMs: 0,
		});
		const refused = await acquire(store, [limit], 1, { maxWaitMs: 30_000, sleep: vt.sleep });
		expect(refused).toEqual({ ok: false, retryAt: vt.now + 60_000 });
		// the refused call left the slot free for the next caller willing to wait
		const next = await store.reserveRate([limit], 1, 60_000);
		expect([next.granted, next.waitMs]).toEqual([true, 60_000]);
		expect(calls()).toBe(3);
	});
});

describe('the campaign rate is a ceiling over every window of its period, from the first message', () => {
	// 600/minute, split 70/30 by the partitioner; the send node's default catch-up of 60 s
	const campaign = 600;
	const per = 'minute' as const;
	const period = RATE_UNITS[per];
	const base: LimitsInput = {
		provider: 'smtp',
		node: 'send',
		campaign: 'winter',
		route: '',
		campaignBurstSeconds: 60,
		groupLimits: [],
	};
	const limitsOf = (route: string, share: number) =>
		limitsFor({ ...base, route, share: { limit: share, per, campaignLimit: campaign } });
	const a = limitsOf('Relay A', 0.7 * campaign);
	const b = limitsOf('Relay B', 0.3 * campaign);

	it('branches n8n runs one after another: at most 600 in any minute, and together at the campaign rate', async () => {
		const vt = new VirtualTime();
		const { store } = storeOn(vt);
		const t0 = vt.now;
		const sentAt = await simulate(vt, async () => {
			const first = await branch(vt, store, a, 700);
			const second = await branch(vt, store, b, 300);
			return { first, second };
		});
		const all = [...sentAt.first, ...sentAt.second];
		expect(all.filter((t) => t < t0 + period).length).toBeLessThanOrEqual(campaign);
		expect(busiestWindow(all, period)).toBeLessThanOrEqual(campaign);
		// catch-up with allowance nobody used: Relay A, alone, sends at the campaign rate, not its
		// 70% share; Relay B, which waited meanwhile, spends its unused share (its burst) at the
		// campaign rate too, then goes on at its share
		const [campaignLimit, shareA] = a;
		const shareB = b[1];
		const gaps = (times: number[]) =>
			times
				.slice()
				.sort((x, y) => x - y)
				.slice(1)
				.map((t, k, rest) => t - (k === 0 ? Math.min(...times) : rest[k - 1]));
		expect(new Set(gaps(sentAt.first))).toEqual(new Set([campaignLimit.intervalMs]));
		expect(new Set(gaps(sentAt.second).slice(0, shareB.burst - 1))).toEqual(
			new Set([campaignLimit.intervalMs]),
		);
		expect(Math.max(...sentAt.second) - Math.min(...sentAt.second)).toBeLessThan(
			300 * shareB.intervalMs,
		);
		expect(shareA.intervalMs).toBeLessThan(shareB.intervalMs);
	});

	it('branches running at once (queue mode): at most 600 in any minute', async () => {
		const vt = new VirtualTime();
		const { store } = storeOn(vt);
		const sentAt = await simulate(vt, async () =>
			(await Promise.all([branch(vt, store, a, 700), branch(vt, store, b, 300)])).flat(),
		);
		expect(busiestWindow(sentAt, period)).toBeLessThanOrEqual(campaign);
	});

	it('a slow domain-group limit on one route holds back no other message of the campaign', async () => {
		// Relay A has a Yahoo limit of 6/minute; its other mail and Relay B keep the campaign rate
		const vt = new VirtualTime();
		const { store } = storeOn(vt);
		const yahoo = limitsFor({
			...base,
			route: 'Relay A',
			share: { limit: 0.7 * campaign, per, campaignLimit: campaign },
			group: 'yahoo',
			groupLimits: [{ group: 'yahoo', limit: 6, per: 'minute' }],
		});
		const t0 = vt.now;
		const sentAt = await simulate(vt, async () => {
			const [slow, rest] = await Promise.all([
				branch(vt, store, yahoo, 5, 5),
				branch(vt, store, a, 300),
			]);
			return { slow, rest };
		});
		// the five Yahoo messages go 10 s apart; the 300 others meanwhile at the campaign rate
		expect(sentAt.slow.map((t) => t - t0).sort((x, y) => x - y)).toEqual([
			0, 10_000, 20_000, 30_000, 40_000,
		]);
		expect(Math.max(...sentAt.rest) - t0).toBeLessThanOrEqual((300 + 5) * (period / campaign));
		expect(busiestWindow([...sentAt.slow, ...sentAt.rest], period)).toBeLessThanOrEqual(campaign);
	});
});
