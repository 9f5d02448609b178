import {
	deliver,
	deliverBatch,
	type DeliveryJob,
	type DeliveryOptions,
} from '../../lib/delivery/pipeline';
import { IdempotencyMarkers } from '../../lib/delivery/idempotency';
import { circuitName } from '../../lib/state/keys';
import { MemoryStateStore } from '../../lib/state/memory';
import { StateUnavailableError, type StateStore } from '../../lib/state/types';
import { gcraLimit } from '../../lib/throttle/limits';
import type { OutgoingMessage, SendFailure, SendOutcome } from '../../lib/transports/types';
import { plainMessage } from '../helpers/messages';
import { ScriptedTransport } from '../helpers/scriptedTransport';

/**
 * Nothing lost, nothing doubled: what each way a send can end leaves on the node's outputs and in
 * the duplicate markers. Each case here failed on the pipeline before leases (claim before the
 * rate wait, a pending marker kept for 90 days, partial refusals as plain "sent", a refused login
 * retried by every parallel send).
 */

const ok: SendOutcome = { ok: true, messageId: '<id@x>', code: 250, response: '250 OK' };
const unknownEnd: SendFailure = {
	ok: false,
	kind: 'unknown',
	scope: 'route',
	message: 'the connection closed after the final dot, before the reply',
};
const authRefused: SendFailure = {
	ok: false,
	kind: 'blocked',
	scope: 'route',
	code: 535,
	enhancedCode: '5.7.8',
	message: '535 5.7.8 authentication failed',
	opensCircuit: true,
};
const HOUR = 3_600_000;

function options(
	transport: DeliveryOptions['transport'],
	store: StateStore,
	extra: Partial<DeliveryOptions> = {},
	duplicates: Partial<DeliveryOptions['duplicates']> = {},
): DeliveryOptions {
	return {
		transport,
		store,
		concurrency: 4,
		retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
		health: {
			failureThreshold: 5,
			baseEjectionMs: 30_000,
			maxEjectionMs: 600_000,
			backoff: 2,
			jitterRatio: 0,
		},
		duplicates: { ttlMs: HOUR, leaseMs: HOUR, resendInDoubt: true, owner: 'run 1', ...duplicates },
		maxRateWaitMs: 60_000,
		sleep: async () => undefined,
		random: () => 0.5,
		...extra,
	};
}

const job = (
	i: number,
	message: OutgoingMessage = plainMessage(`u${i}@x.example`),
): DeliveryJob => ({
	index: i,
	message,
	route: 'relay',
	campaign: 'c1',
	idempotencyKey: message.to[0].address,
	limits: [],
});
const jobs = (n: number) => Array.from({ length: n }, (_, i) => job(i));
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('claims after the rate wait, as leases', () => {
	it('a run that dies while messages wait for the rate limit leaves none of them claimed', async () => {
		const store = new MemoryStateStore();
		const limit = gcraLimit('conn:relay', { limit: 1, per: 'minute', burst: 1 });
		const waiting = jobs(5).map((j) => ({ ...j, limits: [limit] }));
		// the process "dies" at the first rate wait: one message went, four were waiting
		const dead = new ScriptedTransport(() => ok);
		const first = await deliverBatch(
			waiting,
			options(dead, store, {
				concurrency: 1,
				sleep: async () => {
					throw new Error('killed');
				},
			}),
		);
		expect(dead.sent).toEqual(['u0@x.example']);
		expect(first.results.filter((r) => r.record.status === 'sent')).toHaveLength(1);
		// the next run, with no rate limit left and the strict policy, sends the four (before: 4 pending, skipped)
		const next = new ScriptedTransport(() => ok);
		const again = await deliver(jobs(5), options(next, store, {}, { resendInDoubt: false }));
		expect(again.map((r) => r.record.status)).toEqual([
			'skipped-duplicate',
			'sent',
			'sent',
			'sent',
			'sent',
		]);
		expect(next.sent).toHaveLength(4);
	});

	it('a live lease is left to its run; an expired one is in doubt, resent or not by the policy', async () => {
		const store = new MemoryStateStore();
		// run 1 claims and hangs on the wire (n8n killed mid-send: the promise never ends)
		const hung = {
			provider: 'scripted',
			send: () => new Promise<SendOutcome>(() => undefined),
		};
		void deliverBatch(
			[job(0)],
			options(hung, store, {}, { leaseMs: 150, owner: 'execution 41 · Send' }),
		);
		await wait(20);

		const t = new ScriptedTransport(() => ok);
		const [live] = await deliver([job(0)], options(t, store, {}, { owner: 'execution 42 · Send' }));
		expect(live.output).toBe('skipped');
		expect(live.record).toMatchObject({
			status: 'skipped-in-flight',
			skip: { reason: 'in-flight', by: 'execution 41 · Send' },
		});
		expect(live.record.error).toBeUndefined();
		expect(Date.parse(live.record.skip!.leaseUntil!)).toBeGreaterThan(Date.now());

		await wait(200);
		const [strict] = await deliver([job(0)], options(t, store, {}, { resendInDoubt: false }));
		expect(strict.output).toBe('skipped');
		expect(strict.record).toMatchObject({
			status: 'in-doubt',
			skip: { reason: 'in-doubt', by: 'execution 41 · Send' },
		});
		expect(Date.parse(strict.record.skip!.since!)).toBeLessThan(Date.now() - 150);
		expect(t.sent).toHaveLength(0);

		const [resent] = await deliver([job(0)], options(t, store, {}, { resendInDoubt: true }));
		expect(resent.output).toBe('sent');
		expect(resent.record.resentAfter).toMatchObject({ by: 'execution 41 · Send' });
		expect(t.sent).toEqual(['u0@x.example']);
		// and it is sent now: a fourth run skips it as a plain duplicate
		const [dup] = await deliver([job(0)], options(t, store));
		expect(dup).toMatchObject({ output: 'skipped', record: { status: 'skipped-duplicate' } });
		expect(dup.record.error).toBeUndefined();
	});

	it('a lease covers one try: a retry gives it back while it waits, and claims again after', async () => {
		const store = new MemoryStateStore();
		const t = new ScriptedTransport((_, attempt) =>
			attempt === 1
				? { ok: false, kind: 'transient', scope: 'route', code: 451, message: '451 later' }
				: ok,
		);
		let duringWait: string | undefined;
		const other = { ttlMs: HOUR, leaseMs: HOUR, resendInDoubt: false, owner: 'run 2' };
		const out = await deliver(
			[job(0)],
			options(t, store, {
				// while run 1 waits to retry, run 2 finds the message free and takes it
				sleep: async () => {
					const theirs = job(0);
					const markers = await IdempotencyMarkers.open(store, [theirs], other, {
						maxRateWaitMs: 0,
						clock: Date.now,
						onStateError: (error) => {
							throw error;
						},
					});
					duringWait = (await markers.claim(theirs)).state;
				},
			}),
		);
		expect(duringWait).toBe('claimed');
		// run 1's retry meets run 2's live lease: it leaves the message to run 2
		expect(out[0]).toMatchObject({
			output: 'skipped',
			record: { status: 'skipped-in-flight', skip: { by: 'run 2' } },
		});
		expect(t.sent).toHaveLength(1);
	});
});

describe('an ambiguous end of transmission', () => {
	it('is tried once, leaves on Skipped as in doubt, and the policy decides the next run', async () => {
		const store = new MemoryStateStore();
		const t = new ScriptedTransport(() => unknownEnd);
		const [first] = await deliver([job(0)], options(t, store));
		expect(t.sent).toHaveLength(1); // before: 3 tries on the route
		expect(first.output).toBe('skipped');
		expect(first.record).toMatchObject({
			status: 'in-doubt',
			attempts: 1,
			skip: { reason: 'in-doubt', by: 'run 1' },
		});
		expect(first.record.skip!.detail).toMatch(/next run sends it again/);

		const strictStore = new MemoryStateStore();
		const s = new ScriptedTransport((_, attempt) => (attempt === 1 ? unknownEnd : ok));
		await deliver([job(0)], options(s, strictStore, {}, { resendInDoubt: false }));
		const [second] = await deliver([job(0)], options(s, strictStore, {}, { resendInDoubt: false }));
		expect(second.record.status).toBe('in-doubt');
		expect(s.sent).toHaveLength(1); // at most once

		const r = new ScriptedTransport((_, attempt) => (attempt === 1 ? unknownEnd : ok));
		const resendStore = new MemoryStateStore();
		await deliver([job(0)], options(r, resendStore));
		const [resent] = await deliver([job(0)], options(r, resendStore));
		expect(resent.output).toBe('sent');
		expect(resent.record.resentAfter?.by).toBe('run 1');
		expect(r.sent).toHaveLength(2); // at least once
	});
});

describe('a partial refusal', () => {
	const three = (): OutgoingMessage => ({
		...plainMessage('ok@x.example'),
		cc: [{ address: 'busy@x.example' }, { address: 'gone@x.example' }],
	});
	const refusal = (address: string, code: number, kind: SendFailure['kind']) => ({
		address,
		failure: {
			ok: false as const,
			kind,
			scope: 'recipient' as const,
			code,
			message: `${code} refused`,
		},
	});

	it('is reported per recipient, leaves for another try, and the next send goes to the refused only', async () => {
		const store = new MemoryStateStore();
		const first = new ScriptedTransport(() => ({
			...ok,
			refused: [
				refusal('busy@x.example', 452, 'transient'),
				refusal('gone@x.example', 550, 'permanent'),
			],
		}));
		const [r1] = await deliver([job(0, three())], options(first, store));
		expect(r1.output).toBe('fallback');
		expect(r1.record).toMatchObject({
			status: 'partially-sent',
			accepted: ['ok@x.example'],
			refused: [
				{ recipient: 'busy@x.example', kind: 'transient', responseCode: 452 },
				{ recipient: 'gone@x.example', kind: 'permanent', responseCode: 550 },
			],
		});

		// the backup (or a re-run) sends to the two refused only; now both take it
		const backup = new ScriptedTransport(() => ok);
		const [r2] = await deliver([job(0, three())], options(backup, store));
		expect(backup.envelopes).toEqual([['busy@x.example', 'gone@x.example']]);
		expect(r2.output).toBe('sent');
		expect(r2.record).toMatchObject({
			recipients: ['busy@x.example', 'gone@x.example'],
			deliveredEarlier: ['ok@x.example'],
		});
		// everyone has it: the marker is 'sent'
		const [r3] = await deliver([job(0, three())], options(backup, store));
		expect(r3.record.status).toBe('skipped-duplicate');
		expect(backup.sent).toHaveLength(1);
	});

	it('with permanent refusals only, leaves on Failed, never plain Sent', async () => {
		const t = new ScriptedTransport(() => ({
			...ok,
			refused: [refusal('gone@x.example', 550, 'permanent')],
		}));
		const [r] = await deliver([job(0, three())], options(t, new MemoryStateStore()));
		expect(r.output).toBe('failed');
		expect(r.record.status).toBe('partially-sent');
		expect(r.record.accepted).toEqual(['ok@x.example', 'busy@x.example']);
	});
});

describe('a route that cannot send', () => {
	it('a refused login is tried once: its circuit opens and every other item goes to Fallback', async () => {
		const store = new MemoryStateStore();
		const t = new ScriptedTransport(() => authRefused, 2);
		const out = await deliver(jobs(30), options(t, store, { concurrency: 10 }));
		expect(t.sent).toHaveLength(1); // before: 24 failed logins, 24 items on Failed
		expect(out.filter((r) => r.output === 'failed')).toHaveLength(0);
		expect(out.filter((r) => r.output === 'fallback')).toHaveLength(30);
		expect(out[0].record).toMatchObject({ status: 'blocked', failureScope: 'route' });
		expect(out.slice(1).every((r) => r.record.status === 'circuit-open')).toBe(true);
		const [circuit] = await store.getCircuits([circuitName('c1', 'relay')]);
		expect(circuit!.openUntil).toBeGreaterThan(Date.now());
		// nothing was claimed for good: once the route is fixed, all 30 go
		await store.setCircuit(circuitName('c1', 'relay'), null);
		const fixed = new ScriptedTransport(() => ok);
		expect((await deliver(jobs(30), options(fixed, store))).every((r) => r.output === 'sent')).toBe(
			true,
		);
	});

	it('a permanent refusal that is about the route (sender refused) goes to Fallback, not Failed', async () => {
		const t = new ScriptedTransport(() => ({
			ok: false,
			kind: 'permanent',
			scope: 'route',
			code: 550,
			enhancedCode: '5.7.1',
			message: '550 5.7.1 sender not allowed',
		}));
		const [r] = await deliver([job(0)], options(t, new MemoryStateStore()));
		expect(r.output).toBe('fallback');
	});
});

describe('a state store that fails mid-batch', () => {
	/** a memory store whose claims fail after the first `n` */
	function failingAfter(n: number): StateStore {
		const store = new MemoryStateStore();
		let claims = 0;
		const step = store.deliveryStep.bind(store);
		store.deliveryStep = async (req) => {
			claims += req.claim.length;
			if (claims > n) throw new StateUnavailableError('Redis at 127.0.0.1:1 is unreachable');
			return step(req);
		};
		return store;
	}

	it('gives every job one honest result: what went is sent, the rest not sent (Failed)', async () => {
		const t = new ScriptedTransport(() => ok);
		const { results, stateError } = await deliverBatch(
			jobs(10),
			options(t, failingAfter(4), { concurrency: 1 }),
		);
		expect(stateError).toBeInstanceOf(StateUnavailableError);
		expect(results.map((r) => r.output)).toEqual([
			...Array(4).fill('sent'),
			...Array(6).fill('failed'),
		]);
		expect(results.slice(4).every((r) => r.record.status === 'not-sent')).toBe(true);
		expect(results[4].record.error).toMatch(/not sent: Redis at 127\.0\.0\.1:1 is unreachable/);
		expect(t.sent).toHaveLength(4);
	});
});
