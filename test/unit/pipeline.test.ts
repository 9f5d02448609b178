import { deliver, type DeliveryJob, type DeliveryOptions } from '../../lib/delivery/pipeline';
import { retryDelay } from '../../lib/delivery/retry';
import { buildMessage } from '../../lib/delivery/message';
import { circuitName } from '../../lib/state/keys';
import { MemoryStateStore } from '../../lib/state/memory';
import { gcraLimit } from '../../lib/throttle/limits';
import type { SendOutcome, Transport } from '../../lib/transports/types';
import { plainMessage } from '../helpers/messages';
import { ScriptedTransport } from '../helpers/scriptedTransport';

/** the route's circuit: its health is its campaign's */
const RELAY = circuitName('c1', 'relay');

const message = plainMessage;

const ok: SendOutcome = {
	ok: true,
	messageId: '<id@x>',
	code: 250,
	enhancedCode: '2.0.0',
	response: '250 2.0.0 OK',
};
const deferral: SendOutcome = {
	ok: false,
	kind: 'transient',
	scope: 'route',
	code: 451,
	enhancedCode: '4.7.1',
	message: '451 4.7.1 try later',
};
const unknownUser: SendOutcome = {
	ok: false,
	kind: 'permanent',
	scope: 'recipient',
	code: 550,
	enhancedCode: '5.1.1',
	message: '550 5.1.1 user unknown',
};
const blocked: SendOutcome = {
	ok: false,
	kind: 'blocked',
	scope: 'route',
	code: 554,
	enhancedCode: '5.7.1',
	message: '554 5.7.1 blocked',
};

function setup(transport: Transport, overrides: Partial<DeliveryOptions> = {}) {
	const store = new MemoryStateStore();
	const waits: number[] = [];
	const options: DeliveryOptions = {
		transport,
		store,
		concurrency: 4,
		retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
		health: {
			failureThreshold: 5,
			baseEjectionMs: 30_000,
			maxEjectionMs: 600_000,
			backoff: 2,
			jitterRatio: 0,
		},
		duplicates: { ttlMs: 86_400_000, leaseMs: 600_000, resendInDoubt: true, owner: 'test' },
		maxRateWaitMs: 60_000,
		sleep: async (ms) => void waits.push(ms),
		random: () => 0.5,
		...overrides,
	};
	return { store, waits, options };
}
const jobs = (n: number, extra: Partial<DeliveryJob> = {}): DeliveryJob[] =>
	Array.from({ length: n }, (_, i) => ({
		index: i,
		message: message(`u${i}@x.example`),
		route: 'relay',
		campaign: 'c1',
		idempotencyKey: `u${i}@x.example`,
		limits: [],
		...extra,
	}));

describe('deliver', () => {
	it('sends, retries transient failures with backoff, and sorts outcomes onto Sent / Failed / Fallback', async () => {
		const t = new ScriptedTransport((to, attempt) =>
			to === 'u1@x.example'
				? attempt < 3
					? deferral
					: ok
				: to === 'u2@x.example'
					? unknownUser
					: to === 'u3@x.example'
						? blocked
						: ok,
		);
		const { options, waits } = setup(t);
		const out = await deliver(jobs(4), options);
		expect(out.map((r) => [r.output, r.record.status, r.record.attempts])).toEqual([
			['sent', 'sent', 1],
			['sent', 'sent', 3],
			['failed', 'failed', 1],
			['fallback', 'blocked', 1],
		]);
		expect(waits).toEqual([75, 150]); // equal jitter with random 0.5: 0.75 × 100, 0.75 × 200
		expect(out[2].record).toMatchObject({
			responseCode: 550,
			enhancedCode: '5.1.1',
			failureScope: 'recipient',
		});
		expect(out[0].record).toMatchObject({
			messageId: '<id@x>',
			responseCode: 250,
			route: 'relay',
			provider: 'scripted',
		});
	});

	it('gives up after the last attempt and leaves on Fallback', async () => {
		const t = new ScriptedTransport(() => deferral);
		const out = await deliver(jobs(1), setup(t).options);
		expect(out[0]).toMatchObject({
			output: 'fallback',
			record: { status: 'deferred', attempts: 3, responseCode: 451 },
		});
	});

	it('honours Retry-After when it is longer than the backoff', async () => {
		const t = new ScriptedTransport((_, attempt) =>
			attempt === 1
				? {
						ok: false,
						kind: 'transient',
						scope: 'route',
						code: 429,
						message: 'slow down',
						retryAfterMs: 7000,
					}
				: ok,
		);
		const { options, waits } = setup(t);
		await deliver(jobs(1), options);
		expect(waits).toEqual([7000]);
	});

	it('never sends a message twice in a campaign, and frees the marker of a failed one', async () => {
		const t = new ScriptedTransport((to) => (to === 'u1@x.example' ? unknownUser : ok));
		const { options } = setup(t);
		await deliver(jobs(3), options);
		const again = await deliver(jobs(3), options);
		expect(again.map((r) => r.record.status)).toEqual([
			'skipped-duplicate',
			'failed',
			'skipped-duplicate',
		]);
		expect(t.sent.filter((s) => s === 'u0@x.example')).toHaveLength(1);
		expect(t.sent.filter((s) => s === 'u1@x.example')).toHaveLength(2);
	});

	it('opens the circuit after consecutive route failures and sends nothing more on that route', async () => {
		const t = new ScriptedTransport(() => deferral);
		const { options, store } = setup(t, {
			concurrency: 1,
			retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
		});
		const out = await deliver(jobs(10), options);
		expect(t.sent).toHaveLength(5); // the threshold
		expect(
			out.slice(5).every((r) => r.output === 'fallback' && r.record.status === 'circuit-open'),
		).toBe(true);
		const [circuit] = await store.getCircuits([RELAY]);
		expect(circuit!.openUntil).toBeGreaterThan(Date.now() + 29_000);
		// a later batch of the campaign is not even tried
		const later = await deliver(
			jobs(3).map((j) => ({ ...j, index: j.index + 100, idempotencyKey: `later-${j.index}` })),
			options,
		);
		expect(later.every((r) => r.record.status === 'circuit-open')).toBe(true);
		expect(t.sent).toHaveLength(5);
		// and their markers were not kept: once healthy, they can go
		await store.setCircuit(RELAY, null);
		const t2 = new ScriptedTransport(() => ok);
		expect(
			(
				await deliver(
					jobs(3).map((j) => ({ ...j, idempotencyKey: `later-${j.index}` })),
					{ ...options, transport: t2 },
				)
			).every((r) => r.record.status === 'sent'),
		).toBe(true);
	});

	it('does not count per-recipient rejections against the route', async () => {
		const t = new ScriptedTransport(() => unknownUser);
		const { options, store } = setup(t, { concurrency: 1 });
		await deliver(jobs(20), options);
		expect(t.sent).toHaveLength(20);
		expect(await store.getCircuits([RELAY])).toEqual([null]);
	});

	it('probes a half-open route with one message first', async () => {
		let calls = 0;
		const t = new ScriptedTransport(() => (++calls === 1 ? deferral : ok));
		const { options, store } = setup(t, {
			retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
		});
		await store.setCircuit(RELAY, {
			openUntil: Date.now() - 1,
			ejections: 1,
			probing: true,
			failures: 0,
		});
		const out = await deliver(jobs(5), options);
		expect(t.sent).toHaveLength(1); // the probe failed: the circuit re-opened before the others
		expect(out.filter((r) => r.record.status === 'circuit-open')).toHaveLength(4);
		expect((await store.getCircuits([RELAY]))[0]!.ejections).toBe(2);
	});

	it('never has more sends in flight than the transport can put on the wire (an SMTP pool)', async () => {
		const t = Object.assign(new ScriptedTransport(() => ok, 5), { maxParallel: 2 });
		await deliver(jobs(20), setup(t, { concurrency: 10 }).options);
		expect(t.maxInFlight).toBe(2);
	});

	it('keeps to the concurrency limit', async () => {
		const t = new ScriptedTransport(() => ok, 5);
		await deliver(jobs(20), setup(t, { concurrency: 3 }).options);
		expect(t.maxInFlight).toBe(3);
	});

	it('defers to Fallback with retryAt when the rate limit would hold a message too long', async () => {
		const t = new ScriptedTransport(() => ok);
		const limit = gcraLimit('conn:relay', { limit: 1, per: 'hour', burst: 2 });
		const out = await deliver(jobs(3, { limits: [limit] }), setup(t, { concurrency: 1 }).options);
		expect(out.map((r) => r.record.status)).toEqual(['sent', 'sent', 'rate-deferred']);
		expect(Date.parse(out[2].record.retryAt!)).toBeGreaterThan(Date.now() + 3_000_000);
	});

	describe('store calls: one step per sent message, with and without a rate limit', () => {
		/** the setup's memory store, counting its deliveryStep calls (every state call of a send) */
		function counted(overrides: Partial<DeliveryOptions>) {
			const t = new ScriptedTransport(() => ok);
			const { options, store } = setup(t, { sleep: undefined, ...overrides });
			let steps = 0;
			const step = store.deliveryStep.bind(store);
			store.deliveryStep = async (req) => {
				steps++;
				return step(req);
			};
			return { options, store, t, steps: () => steps };
		}

		it('without a limit: a worker settles and claims its next message in one call', async () => {
			const c = counted({ concurrency: 5 });
			const out = await deliver(jobs(200), c.options);
			expect(out.every((r) => r.output === 'sent')).toBe(true);
			expect(c.steps()).toBeLessThanOrEqual(200 * 1.1);
			// every settlement landed before deliver returned: a re-run skips all 200
			const again = await deliver(jobs(200), c.options);
			expect(again.every((r) => r.record.status === 'skipped-duplicate')).toBe(true);
		});

		it('under a rate limit with parallel sends: settlements and reservations go with claims', async () => {
			const limit = gcraLimit('conn:relay', { limit: 2000, per: 'second', burst: 1 });
			const c = counted({ concurrency: 5 });
			const out = await deliver(jobs(200, { limits: [limit] }), c.options);
			expect(out.every((r) => r.output === 'sent')).toBe(true);
			// before: three calls per message (reserve, claim, settle)
			expect(c.steps()).toBeLessThanOrEqual(200 * 1.1);
		});

		it('one send at a time under a rate limit: two calls per message (nothing else to go with)', async () => {
			const limit = gcraLimit('conn:relay', { limit: 2000, per: 'second', burst: 1 });
			const c = counted({ concurrency: 1 });
			await deliver(jobs(50, { limits: [limit] }), c.options);
			expect(c.steps()).toBeLessThanOrEqual(2 * 50 + 2);
			expect(c.t.sent).toHaveLength(50);
		});
	});

	it('sends nothing on a dry run', async () => {
		const t = new ScriptedTransport(() => ok);
		const out = await deliver(jobs(2), setup(t, { dryRun: true }).options);
		expect(out.map((r) => [r.output, r.record.status])).toEqual([
			['sent', 'dry-run'],
			['sent', 'dry-run'],
		]);
		expect(t.sent).toHaveLength(0);
	});
});

describe('retryDelay', () => {
	it('grows exponentially, is capped, and stays within the jitter band', () => {
		const policy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 5000 };
		expect([1, 2, 3, 4].map((a) => retryDelay(a, policy, 0, () => 0))).toEqual([
			500, 1000, 2000, 2500,
		]);
		expect([1, 2, 3, 4].map((a) => retryDelay(a, policy, 0, () => 1))).toEqual([
			1000, 2000, 4000, 5000,
		]);
	});
});

describe('buildMessage', () => {
	const base = {
		from: 'Shop <news@shop.example>',
		to: 'Ann <ann@gmail.com>',
		subject: 'Hello',
		text: 'Hi',
	};
	it('reads one To, a CC list, and keeps display names', () => {
		const r = buildMessage({
			...base,
			cc: ['c@x.example', '"Smith, Bob" <bob@outlook.com>; d@y.example'],
			replyTo: 'help@shop.example',
			headers: { 'X-Virtual-MTA': 'pool-a' },
			tags: 'a, b',
		});
		expect(r).toMatchObject({
			ok: true,
			message: {
				from: { address: 'news@shop.example', name: 'Shop' },
				to: [{ address: 'ann@gmail.com', name: 'Ann' }],
				cc: [
					{ address: 'c@x.example' },
					{ address: 'bob@outlook.com', name: 'Smith, Bob' },
					{ address: 'd@y.example' },
				],
				replyTo: { address: 'help@shop.example' },
				headers: { 'X-Virtual-MTA': 'pool-a' },
				tags: ['a', 'b'],
			},
		});
	});
	it.each([
		[
			{ subject: 'Hi\r\nBcc: victim@x.example' },
			'Subject',
			'contains a line break (CR or LF), which could inject headers',
		],
		[
			{ headers: { 'X-Pool': 'a\nb' } },
			'Headers › X-Pool',
			'contains a line break (CR or LF), which could inject headers',
		],
		[{ headers: { 'Bad Name': 'x' } }, 'Headers › Bad Name', 'is not a valid header name'],
		[{ headers: { Subject: 'x' } }, 'Headers › Subject', 'is set by its own field'],
		[
			{ to: 'not-an-address' },
			'To',
			'"not-an-address" is not one valid email address — there is no "@"',
		],
		[
			{ to: 'Ann <ann@gmail.com>, bob@outlook.com' },
			'To',
			'"Ann <ann@gmail.com>, bob@outlook.com" is not one valid email address — it holds more than one address (a "," outside quotes): put one address per item',
		],
		[
			{ to: ['a@x.example', 'b@x.example'] },
			'To',
			'takes one address, got a list of 2: put the others in CC or BCC',
		],
		[{ cc: 'a@x.example, b@' }, 'CC', '"b@" — the domain after "@" is empty'],
		[{ to: '' }, 'To', 'is empty: a message needs at least one recipient'],
		[{ from: '' }, 'From', 'is empty'],
		[{ text: '', html: '' }, 'Text', 'and HTML are both empty: the message has no body'],
		[
			{ replyTo: 'a@x.example, b@x.example' },
			'Reply-To',
			'"a@x.example, b@x.example" is not one valid email address — it holds more than one address (a "," outside quotes): put one address per item',
		],
		[
			{ bcc: Array.from({ length: 51 }, (_, i) => `u${i}@x.example`).join(', ') },
			'BCC',
			`"${Array.from({ length: 51 }, (_, i) => `u${i}@x.example`)
				.join(', ')
				.slice(0, 79)}…" — more than 50 addresses (the limit is set in the options)`,
		],
	])('rejects %j naming the field', (patch, field, reason) => {
		expect(buildMessage({ ...base, ...patch })).toEqual({ ok: false, field, reason });
	});
});
