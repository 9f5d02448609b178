/**
 * The send side of the feedback loop (lib/delivery/feedback.ts): every message carries its
 * reference (header, metadata, SMTP envelope id), the ledger gets each sent message's id, and the
 * batch's outcomes are counted per route × group — in two store calls at the end of the batch.
 */
import { deliverBatch, type DeliveryJob, type DeliveryOptions } from '../../lib/delivery/pipeline';
import {
	decodeReference,
	isHashedReference,
	parseReferenceText,
} from '../../lib/feedback/reference';
import { ledgerKeys } from '../../lib/state/keys';
import { MemoryStateStore } from '../../lib/state/memory';
import { ACCEPT_LATENCY_BUCKETS, latencyField } from '../../lib/state/outcomes';
import { parseSmtpCredential, SmtpTransport } from '../../lib/transports/smtp';
import type { OutgoingMessage, SendOutcome } from '../../lib/transports/types';
import { plainMessage } from '../helpers/messages';
import { ScriptedTransport } from '../helpers/scriptedTransport';
import { startSmtpSink } from '../helpers/smtpSink';

const options = (
	store: MemoryStateStore,
	transport: DeliveryOptions['transport'],
): DeliveryOptions => ({
	transport,
	store,
	concurrency: 2,
	retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
	health: {
		failureThreshold: 50,
		baseEjectionMs: 1000,
		maxEjectionMs: 1000,
		backoff: 2,
		jitterRatio: 0,
	},
	duplicates: { ttlMs: 86_400_000, leaseMs: 600_000, resendInDoubt: true, owner: 't' },
	maxRateWaitMs: 1000,
	feedback: { ledgerTtlMs: 14 * 86_400_000 },
});

const job = (
	i: number,
	address: string,
	group: string,
	extra: Partial<DeliveryJob> = {},
): DeliveryJob => ({
	index: i,
	message: plainMessage(address),
	route: 'Relay A',
	campaign: 'spring-sale',
	idempotencyKey: address,
	limits: [],
	group,
	...extra,
});

describe('the send side of the feedback loop', () => {
	it('puts the reference on every message, the sent ids in the ledger, and counts per route × group', async () => {
		const store = new MemoryStateStore();
		const seen: OutgoingMessage[] = [];
		const transport = new ScriptedTransport((to, _attempt, m): SendOutcome => {
			seen.push(m);
			if (to.startsWith('gone'))
				return {
					ok: false,
					kind: 'permanent',
					scope: 'recipient',
					code: 550,
					enhancedCode: '5.1.1',
					message: '550 5.1.1 unknown',
				};
			if (to.startsWith('blocked'))
				return {
					ok: false,
					kind: 'blocked',
					scope: 'route',
					code: 554,
					enhancedCode: '5.7.1',
					message: '554 5.7.1 blocked',
				};
			return { ok: true, messageId: `<${to}-id@relay>`, code: 250, response: '250 OK' };
		});
		const jobs = [
			job(0, 'a@yahoo.com', 'yahoo'),
			job(1, 'gone@yahoo.com', 'yahoo'),
			job(2, 'blocked@yahoo.com', 'yahoo'),
			job(3, 'b@gmail.com', 'google'),
		];
		const before = await store.now();
		const { results, feedbackError } = await deliverBatch(jobs, options(store, transport));
		expect(feedbackError).toBeUndefined();
		expect(results.map((r) => r.record.status)).toEqual(['sent', 'failed', 'blocked', 'sent']);

		for (const m of seen) {
			const token = m.headers['X-Postal-Ref'];
			expect(m.metadata.pr).toBe(token);
			expect(m.reference).toBe(token);
			const group = m.to[0].address.endsWith('gmail.com') ? 'google' : 'yahoo';
			expect(decodeReference(token)).toEqual({ route: 'Relay A', group, campaign: 'spring-sale' });
		}
		// the user's message is left as it was
		expect(jobs[0].message.headers['X-Postal-Ref']).toBeUndefined();

		const ids = ['<a@yahoo.com-id@relay>', 'b@gmail.com-id@relay', '<gone@yahoo.com-id@relay>'];
		expect(await store.readLedger(ids.map((id) => ledgerKeys.message('scripted', id)))).toEqual([
			seen[0].headers['X-Postal-Ref'],
			seen.find((m) => m.to[0].address === 'b@gmail.com')!.headers['X-Postal-Ref'],
			null,
		]);

		const window = [before - 60_000, before + 120_000] as const;
		const yahoo = await store.readOutcomes('Relay A', 'yahoo', 'minute', ...window);
		const google = await store.readOutcomes('Relay A', 'google', 'minute', ...window);
		const sum = (bs: typeof yahoo) =>
			bs.reduce<Record<string, number>>((acc, b) => {
				for (const [k, v] of Object.entries(b.counts)) acc[k] = (acc[k] ?? 0) + (v ?? 0);
				return acc;
			}, {});
		expect(sum(yahoo)).toMatchObject({ sent: 1, bounceHard: 1, blocked: 1, acceptN: 1 });
		expect(sum(google)).toMatchObject({ sent: 1, acceptN: 1 });
		// each sent message in exactly one latency bucket, the one its accept latency falls in
		for (const counted of [sum(yahoo), sum(google)]) {
			const inHistogram = ACCEPT_LATENCY_BUCKETS.filter((b) => counted[b.field]);
			expect(inHistogram.map((b) => counted[b.field])).toEqual([1]);
			// a latency that rounds to 0 ms is stored as no field at all
			expect(inHistogram[0].field).toBe(latencyField(counted.acceptMsSum ?? 0));
		}
	});

	it('carries a digest when the names are too long, and keeps the names in the ledger', async () => {
		const store = new MemoryStateStore();
		const seen: OutgoingMessage[] = [];
		const transport = new ScriptedTransport((_to, _a, m) => {
			seen.push(m);
			return { ok: true, messageId: '<x@relay>', code: 250 };
		});
		const long = 'Relay '.repeat(20).trim();
		await deliverBatch(
			[job(0, 'a@yahoo.com', 'yahoo', { route: long })],
			options(store, transport),
		);
		const token = seen[0].headers['X-Postal-Ref'];
		expect(isHashedReference(token)).toBe(true);
		const [text] = await store.readLedger([ledgerKeys.reference(token)]);
		expect(parseReferenceText(text)).toEqual({
			route: long,
			group: 'yahoo',
			campaign: 'spring-sale',
		});
	});

	it('asks an SMTP server that offers DSN for failure and delay reports, with the reference as the envelope id', async () => {
		const sink = await startSmtpSink({ dsn: true });
		const transport = new SmtpTransport(
			parseSmtpCredential({ host: '127.0.0.1', port: sink.port, security: 'none' }),
		);
		try {
			const store = new MemoryStateStore();
			const { results } = await deliverBatch(
				[job(0, 'a@yahoo.com', 'yahoo')],
				options(store, transport),
			);
			expect(results[0].record.status).toBe('sent');
			const [m] = sink.messages;
			const token = m.parsed.headers.get('x-postal-ref') as string;
			expect(decodeReference(token)).toEqual({
				route: 'Relay A',
				group: 'yahoo',
				campaign: 'spring-sale',
			});
			expect(m.dsn).toEqual({ ret: 'HDRS', envid: token, notify: [['FAILURE', 'DELAY']] });
			expect(
				await store.readLedger([ledgerKeys.message('smtp', results[0].record.messageId!)]),
			).toEqual([token]);
		} finally {
			transport.close();
			await sink.stop();
		}
	});

	it('a store that fails on the ledger loses no result: the batch says so beside its results', async () => {
		const store = new MemoryStateStore();
		store.recordLedger = async () => {
			throw new Error('ledger down');
		};
		const transport = new ScriptedTransport(() => ({ ok: true, messageId: '<m@x>', code: 250 }));
		const { results, feedbackError } = await deliverBatch(
			[job(0, 'a@yahoo.com', 'yahoo')],
			options(store, transport),
		);
		expect(results[0].record.status).toBe('sent');
		expect(feedbackError?.message).toBe('ledger down');
	});
});

describe('feedback tied back through the ledger', () => {
	it('gives a bounce that quotes only the Message-ID, or only a digest, the names it was sent with', async () => {
		const { linkThroughLedger } = await import('../../lib/feedback/link');
		const store = new MemoryStateStore();
		const transport = new ScriptedTransport((to) => ({
			ok: true,
			messageId: `<${to}@relay>`,
			code: 250,
		}));
		const long = 'Relay '.repeat(20).trim();
		await deliverBatch(
			[job(0, 'a@yahoo.com', 'yahoo'), job(1, 'b@yahoo.com', 'yahoo', { route: long, index: 1 })],
			// as an SMTP route records it: the ids a mailbox's bounces quote
			options(store, { provider: 'smtp', send: (m: OutgoingMessage) => transport.send(m) }),
		);
		const base = {
			type: 'bounced',
			permanent: true,
			fault: 'recipient',
			timestamp: 'x',
			confidence: 1,
		} as const;
		const [a, b, stranger] = await linkThroughLedger(store, [
			{ ...base, source: 'dsn', messageId: 'a@yahoo.com@relay', linkedBy: 'none' },
			{ ...base, source: 'dsn', messageId: '<b@yahoo.com@relay>', linkedBy: 'none' },
			{ ...base, source: 'dsn', messageId: 'unknown@relay', linkedBy: 'none' },
		]);
		expect(a).toMatchObject({
			linkedBy: 'ledger',
			reference: { route: 'Relay A', group: 'yahoo', campaign: 'spring-sale' },
		});
		expect(b).toMatchObject({ linkedBy: 'ledger', reference: { route: long, group: 'yahoo' } });
		expect(stranger.linkedBy).toBe('none');
		expect(stranger.reference).toBeUndefined();
	});
});
