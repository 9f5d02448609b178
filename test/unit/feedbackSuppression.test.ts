/**
 * From feedback to the suppression list, end to end in lib: the DSN and ARF fixtures read, their
 * events recorded on the memory store, and the send pipeline then skipping exactly those.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deliver, type DeliveryJob } from '../../lib/delivery/pipeline';
import { readReport } from '../../lib/feedback/reports';
import {
	DEFAULT_SUPPRESSION_POLICY,
	recordSuppressions,
	suppressionReason,
} from '../../lib/feedback/suppression';
import { suppressionDigest } from '../../lib/state/keys';
import { MemoryStateStore } from '../../lib/state/memory';
import type { SendOutcome } from '../../lib/transports/types';
import { plainMessage } from '../helpers/messages';
import { ScriptedTransport } from '../helpers/scriptedTransport';

const fixture = (name: string) =>
	readFileSync(join(__dirname, '..', 'fixtures', 'reports', `${name}.eml`));

describe('which events suppress', () => {
	const e = (type: string, bounce?: 'hard' | 'soft', confidence = 1) =>
		suppressionReason({ type: type as never, bounce, confidence });
	it('hard bounces, complaints and unsubscribes for good; soft bounces for a while; blocks never', () => {
		expect(e('bounced', 'hard')).toEqual({ reason: 'hard-bounce', lasting: true });
		expect(e('complained')).toEqual({ reason: 'complaint', lasting: true });
		expect(e('unsubscribed')).toEqual({ reason: 'unsubscribe', lasting: true });
		expect(e('bounced', 'soft')).toEqual({ reason: 'soft-bounce', lasting: false });
		for (const t of ['blocked', 'deferred', 'delivered', 'suppressed', 'other'])
			expect(e(t)).toBeUndefined();
		expect(e('bounced', 'hard', 0.3)).toBeUndefined();
		expect(
			suppressionReason(
				{ type: 'bounced', bounce: 'soft', confidence: 1 },
				{ ...DEFAULT_SUPPRESSION_POLICY, softBounceDays: 0 },
			),
		).toBeUndefined();
	});
});

describe('reports recorded, then a send', () => {
	it('suppresses the bounced and the complaining, not the deferred or the blocked, and the send skips them', async () => {
		const store = new MemoryStateStore();
		const events = [
			...readReport(fixture('postfix-yahoo-deferred-and-blocked')).events,
			...readReport(fixture('gmail-address-not-found')).events,
			...readReport(fixture('rfc5965-abuse')).events,
		];
		const outcome = await recordSuppressions(store, '', events);
		expect(outcome.perEvent).toEqual([
			{ skipped: 'a deferred event suppresses nothing' },
			{ skipped: 'a blocked event suppresses nothing' },
			{ suppressed: 'soft-bounce' },
			{ suppressed: 'hard-bounce' },
			{ suppressed: 'complaint' },
		]);
		// addresses are not at rest: only digests and masked hints
		expect(JSON.stringify(outcome.entries)).not.toMatch(/full\.box|no\.such\.user|user@example/);
		const now = await store.now();
		const [soft] = await store.getSuppressions('', [
			suppressionDigest(await store.hashSecret(), 'full.box@yahoo.com'),
		]);
		expect(soft).toMatchObject({ reason: 'soft-bounce', hint: 'f***@yahoo.com', source: 'dsn' });
		expect(soft!.until! - now).toBeGreaterThan(3 * 86_400_000 - 1000);

		const ok: SendOutcome = { ok: true, messageId: '<m@x>', code: 250, response: '250 OK' };
		const transport = new ScriptedTransport(() => ok);
		const recipients = [
			'reader.one@yahoo.com',
			'reader.two@aol.com',
			'full.box@yahoo.com',
			'no.such.user@gmail.com',
			'user@example.com',
			'new.reader@example.com',
		];
		const jobs: DeliveryJob[] = recipients.map((a, i) => ({
			index: i,
			message: plainMessage(a),
			route: 'Relay A',
			campaign: 'spring-sale',
			idempotencyKey: a,
			limits: [],
		}));
		const out = await deliver(jobs, {
			transport,
			store,
			concurrency: 2,
			retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
			health: {
				failureThreshold: 5,
				baseEjectionMs: 1000,
				maxEjectionMs: 1000,
				backoff: 2,
				jitterRatio: 0,
			},
			duplicates: { ttlMs: 86_400_000, leaseMs: 600_000, resendInDoubt: true, owner: 't' },
			maxRateWaitMs: 1000,
			suppression: { list: '' },
		});
		expect(out.map((r) => r.record.status)).toEqual([
			'sent',
			'sent',
			'suppressed',
			'suppressed',
			'suppressed',
			'sent',
		]);
		expect(transport.sent.sort()).toEqual(
			['new.reader@example.com', 'reader.one@yahoo.com', 'reader.two@aol.com'].sort(),
		);
	});
});
