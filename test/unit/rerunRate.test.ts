/**
 * A re-run of a campaign that was already sent, under a rate limit. The pipeline waits for the rate
 * limits before it claims a message's marker (so a crash while waiting claims nothing); the claim is
 * also where it learns that the message went already. So a re-run waits for (and spends) a rate
 * token per message it is about to skip.
 */
import { deliver, type DeliveryJob, type DeliveryOptions } from '../../lib/delivery/pipeline';
import { MemoryStateStore } from '../../lib/state/memory';
import { gcraLimit } from '../../lib/throttle/limits';
import type { SendOutcome } from '../../lib/transports/types';
import { plainMessage } from '../helpers/messages';
import { ScriptedTransport } from '../helpers/scriptedTransport';

const ok: SendOutcome = { ok: true, messageId: '<id@x>', code: 250, response: '250 OK' };

function options(store: MemoryStateStore, transport: ScriptedTransport): DeliveryOptions {
	return {
		transport,
		store,
		concurrency: 1,
		retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
		health: {
			failureThreshold: 5,
			baseEjectionMs: 30_000,
			maxEjectionMs: 600_000,
			backoff: 2,
			jitterRatio: 0,
		},
		duplicates: { ttlMs: 86_400_000, leaseMs: 600_000, resendInDoubt: true, owner: 'run' },
		maxRateWaitMs: 60_000,
	};
}

// 2 an hour with a burst of 2: the first run takes the whole burst
const limit = gcraLimit('conn:relay', { limit: 2, per: 'hour', burst: 2 });
const jobs: DeliveryJob[] = ['a@x.example', 'b@x.example'].map((to, index) => ({
	index,
	message: plainMessage(to),
	route: 'relay',
	campaign: 'c1',
	idempotencyKey: to,
	limits: [limit],
}));

describe('re-running a campaign that was sent, under a rate limit', () => {
	it('the first run sends both, and takes the burst', async () => {
		const store = new MemoryStateStore();
		const t = new ScriptedTransport(() => ok);
		const first = await deliver(jobs, options(store, t));
		expect(first.map((r) => r.record.status)).toEqual(['sent', 'sent']);
		expect((await store.consumeRate([limit], 1)).allowed).toBe(false);
	});

	// KNOWN BUG (fails today, hence it.failing: make it `it` once fixed). The re-run puts both
	// already-sent messages on Fallback as `rate-deferred` ("the rate limits would hold this message
	// too long") instead of on Skipped as `skipped-duplicate`: each waits for a rate token before the
	// claim that would find it sent. With room in the limit it would instead spend one token per skip
	// — a re-run of a mostly sent campaign crawls at the route's rate and starves the route's other
	// senders while it sends nothing (killResend.test.ts measures ~5 s per 1,000 skips at 200/s).
	it.failing('skips them as already sent, without waiting for the rate limit', async () => {
		const store = new MemoryStateStore();
		const t = new ScriptedTransport(() => ok);
		await deliver(jobs, options(store, t));
		const again = await deliver(jobs, options(store, t));
		expect(again.map((r) => [r.output, r.record.status])).toEqual([
			['skipped', 'skipped-duplicate'],
			['skipped', 'skipped-duplicate'],
		]);
		expect(t.sent).toHaveLength(2);
	});
});
