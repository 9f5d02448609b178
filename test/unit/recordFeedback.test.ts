/**
 * recordFeedback, the one sequence the feedback nodes record events through: linked through the
 * ledger, suppressed, marked seen (after the list), counted (the new ones only); a failing step
 * that later ones rely on stops the sequence, a failing count does not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordFeedback } from '../../lib/feedback/record';
import { encodeReference } from '../../lib/feedback/reference';
import { readReport } from '../../lib/feedback/reports';
import type { FeedbackEvent } from '../../lib/feedback/types';
import { ledgerKeys, suppressionDigest } from '../../lib/state/keys';
import { MemoryStateStore } from '../../lib/state/memory';
import { RedisStateStore } from '../../lib/state/redis';
import { freePort } from '../helpers/redisServer';

const NOW = Date.parse('2026-11-05T13:00:00Z');
const REF = { campaign: 'spring', route: 'Relay A', group: 'gmail' };

/** a SendGrid-style hard bounce that carries only its message id (the ledger has its reference) */
const bounce = (recipient: string, eventId: string): FeedbackEvent => ({
	source: 'sendgrid',
	type: 'bounced',
	bounce: 'hard',
	permanent: true,
	fault: 'recipient',
	recipient,
	messageId: 'sg-1',
	eventId,
	timestamp: '2026-11-05T12:10:00Z',
	linkedBy: 'none',
	confidence: 1,
});

async function listed(store: MemoryStateStore, address: string, list = '') {
	const [entry] = await store.getSuppressions(list, [
		suppressionDigest(await store.hashSecret(), address),
	]);
	return entry?.reason ?? null;
}

const hour = (store: MemoryStateStore) =>
	store.readOutcomes('Relay A', 'gmail', 'hour', NOW - 86_400_000, NOW + 1);

describe('recordFeedback', () => {
	it('links through the ledger, suppresses, marks seen after the list, counts only the new events', async () => {
		const store = new MemoryStateStore({ clock: () => NOW });
		await store.recordLedger(
			[{ key: ledgerKeys.message('sendgrid', 'sg-1'), value: encodeReference(REF).token }],
			86_400_000,
		);
		const seen = new Set(['ev-2']);
		const order: string[] = [];
		const result = await recordFeedback(
			store,
			[bounce('a@gmail.com', 'ev-1'), bounce('b@gmail.com', 'ev-2')],
			{
				suppression: { list: 'news' },
				markSeen: async (events) => {
					// the list is already written when the marks are made
					order.push(`seen with a ${await listed(store, 'a@gmail.com', 'news')}`);
					return events.map((e) => !seen.has(e.eventId!));
				},
			},
		);
		expect(result.errors).toEqual([]);
		expect(order).toEqual(['seen with a hard-bounce']);
		expect(result.events.map((e) => [e.reference, e.linkedBy])).toEqual([
			[REF, 'ledger'],
			[REF, 'ledger'],
		]);
		expect(result.suppression?.perEvent).toEqual([
			{ suppressed: 'hard-bounce' },
			{ suppressed: 'hard-bounce' },
		]);
		expect(result.fresh).toEqual([true, false]);
		// the redelivery is on the list (idempotent) but not counted again
		expect(result.counted).toBe(1);
		expect((await hour(store)).map((b) => b.counts)).toEqual([{ bounceHard: 1 }]);
		expect(await listed(store, 'b@gmail.com', 'news')).toBe('hard-bounce');
	});

	it('leaves the list alone without a suppression option, and reads the policy given', async () => {
		const store = new MemoryStateStore({ clock: () => NOW });
		// a deferral, a block, a soft bounce (full.box@yahoo.com)
		const report = readReport(
			readFileSync(
				join(__dirname, '..', 'fixtures', 'reports', 'postfix-yahoo-deferred-and-blocked.eml'),
			),
		).events;
		const none = await recordFeedback(store, report);
		expect(none.suppression).toBeUndefined();
		expect(await listed(store, 'full.box@yahoo.com')).toBeNull();
		const never = await recordFeedback(store, report, {
			suppression: { list: '', policy: { softBounceDays: 0 } },
		});
		expect(never.suppression?.entries).toEqual([]);
		const days = await recordFeedback(store, report, { suppression: { list: '' } });
		expect(days.suppression?.entries.map((e) => [e.reason, e.until])).toEqual([
			['soft-bounce', NOW + 3 * 86_400_000],
		]);
		expect(await listed(store, 'full.box@yahoo.com')).toBe('soft-bounce');
	});

	it('stops at a failing seen mark (the list stays written, nothing counted), and makes no call for no events', async () => {
		const store = new MemoryStateStore({ clock: () => NOW });
		const event = {
			...bounce('c@gmail.com', 'ev-3'),
			reference: REF,
			linkedBy: 'reference' as const,
		};
		const result = await recordFeedback(store, [event], {
			suppression: { list: '' },
			markSeen: async () => {
				throw new Error('seen-set down');
			},
		});
		expect(result.errors.map((e) => [e.stage, e.error.message, e.stopped])).toEqual([
			['seen', 'seen-set down', true],
		]);
		expect(await listed(store, 'c@gmail.com')).toBe('hard-bounce');
		expect(result.counted).toBe(0);
		expect(await hour(store)).toEqual([]);

		let marked = false;
		const empty = await recordFeedback(store, [], {
			markSeen: async () => ((marked = true), []),
		});
		expect([empty.errors, empty.counted, marked]).toEqual([[], 0, false]);
	});

	it('returns a failing count as statistics lost, not as a stop; a failing list stops before the marks', async () => {
		const port = await freePort(); // nothing listens there
		const down = new RedisStateStore({
			mode: 'standalone',
			host: '127.0.0.1',
			port,
			connectTimeoutMs: 300,
		});
		try {
			// tied to its route already: no ledger read; no list: the counters are the one store call
			const event = {
				...bounce('d@gmail.com', 'ev-4'),
				messageId: undefined,
				reference: REF,
				linkedBy: 'reference' as const,
			};
			const counted = await recordFeedback(down, [event]);
			expect(counted.errors.map((e) => [e.stage, e.stopped])).toEqual([['count', false]]);
			expect(counted.events).toEqual([event]);

			let marked = false;
			const listed = await recordFeedback(down, [event], {
				suppression: { list: '' },
				markSeen: async () => ((marked = true), [true]),
			});
			expect(listed.errors.map((e) => [e.stage, e.stopped])).toEqual([['suppress', true]]);
			expect(marked).toBe(false);
		} finally {
			await down.close();
		}
	});
});
