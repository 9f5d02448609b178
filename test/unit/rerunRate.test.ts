/**
 * A re-run of a campaign that was already sent, under a rate limit. The pipeline waits for the rate
 * limits before it claims a message's marker (so a crash while waiting claims nothing), and the
 * claim is where it learns that the message went already: without the look at the batch's markers
 * before the wait, a re-run put sent messages on Fallback as `rate-deferred` (or spent a rate slot
 * on each skip, starving the route's other messages). Found by ../integration/killResend.test.ts.
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

// 2 an hour with a burst of 3: after the first run's 2 messages, one slot is left this hour
const limit = gcraLimit('conn:relay', { limit: 2, per: 'hour', burst: 3 });
const jobs = (...to: string[]): DeliveryJob[] =>
	to.map((address, index) => ({
		index,
		message: plainMessage(address),
		route: 'relay',
		campaign: 'c1',
		idempotencyKey: address,
		limits: [limit],
	}));

describe('re-running a campaign that was sent, under a rate limit', () => {
	it('skips the sent messages without a rate slot: the one slot left goes to the new message', async () => {
		const store = new MemoryStateStore();
		const t = new ScriptedTransport(() => ok);
		const first = await deliver(jobs('a@x.example', 'b@x.example'), options(store, t));
		expect(first.map((r) => r.record.status)).toEqual(['sent', 'sent']);
		const again = await deliver(
			jobs('a@x.example', 'b@x.example', 'c@x.example'),
			options(store, t),
		);
		expect(again.map((r) => [r.output, r.record.status])).toEqual([
			['skipped', 'skipped-duplicate'],
			['skipped', 'skipped-duplicate'],
			['sent', 'sent'],
		]);
		expect(t.sent).toEqual(['a@x.example', 'b@x.example', 'c@x.example']);
		// and that was the last slot of the hour
		expect((await store.reserveRate([limit], 1, 60_000)).granted).toBe(false);
	});
});
