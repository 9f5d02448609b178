/**
 * Load-Balanced Send's look at the suppression list (lib/delivery/suppressed.ts): one store call
 * per batch, a message to a suppressed recipient leaves on Skipped as `suppressed`, unsent.
 */
import { deliver, type DeliveryJob, type DeliveryOptions } from '../../lib/delivery/pipeline';
import { suppressionDigest } from '../../lib/state/keys';
import { MemoryStateStore } from '../../lib/state/memory';
import { maskAddress, type SuppressionEntry } from '../../lib/state/suppression';
import type { SendOutcome } from '../../lib/transports/types';
import { plainMessage } from '../helpers/messages';
import { ScriptedTransport } from '../helpers/scriptedTransport';

const ok: SendOutcome = { ok: true, messageId: '<id@x>', code: 250, response: '250 OK' };

function setup(overrides: Partial<DeliveryOptions> = {}) {
	const store = new MemoryStateStore();
	const transport = new ScriptedTransport(() => ok);
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
		suppression: { list: '' },
		...overrides,
	};
	return { store, transport, options };
}

const jobs = (addresses: string[]): DeliveryJob[] =>
	addresses.map((a, i) => ({
		index: i,
		message: plainMessage(a),
		route: 'relay',
		campaign: 'c1',
		idempotencyKey: a,
		limits: [],
	}));

async function suppress(
	store: MemoryStateStore,
	address: string,
	reason: SuppressionEntry['reason'],
	extra: Partial<SuppressionEntry> = {},
	list = '',
) {
	const secret = await store.hashSecret();
	await store.suppress(list, [
		{
			key: suppressionDigest(secret, address),
			reason,
			source: 'dsn',
			hint: maskAddress(address),
			at: Date.parse('2026-11-04T18:00:00Z'),
			...extra,
		},
	]);
}

describe('the suppression list in the send pipeline', () => {
	it('skips a suppressed recipient (whatever the case of the address), sends the rest, says why', async () => {
		const { store, transport, options } = setup();
		await suppress(store, 'gone@x.example', 'hard-bounce');
		const out = await deliver(jobs(['a@x.example', 'Gone@X.example', 'b@x.example']), options);
		expect(out.map((r) => [r.output, r.record.status])).toEqual([
			['sent', 'sent'],
			['skipped', 'suppressed'],
			['sent', 'sent'],
		]);
		expect(transport.sent).toEqual(['a@x.example', 'b@x.example']);
		expect(out[1].record.skip).toEqual({
			reason: 'suppressed',
			detail: expect.stringContaining('on the suppression list (hard-bounce)'),
			suppressed: [
				{
					recipient: 'Gone@X.example',
					reason: 'hard-bounce',
					source: 'dsn',
					since: '2026-11-04T18:00:00.000Z',
				},
			],
		});
		// nothing claimed for it: once removed from the list, the next run sends it
		await store.unsuppress('', [suppressionDigest(await store.hashSecret(), 'gone@x.example')]);
		const again = await deliver(jobs(['a@x.example', 'Gone@X.example']), options);
		expect(again.map((r) => r.record.status)).toEqual(['skipped-duplicate', 'sent']);
	});

	it('looks once per batch, and not at all when the check is off', async () => {
		const { store, options } = setup();
		const calls: number[] = [];
		const original = store.getSuppressions.bind(store);
		store.getSuppressions = async (list, keys) => {
			calls.push(keys.length);
			return original(list, keys);
		};
		await deliver(jobs(['a@x.example', 'b@x.example', 'c@x.example']), options);
		expect(calls).toEqual([3]);
		await deliver(jobs(['d@x.example']), { ...options, suppression: undefined });
		expect(calls).toEqual([3]);
	});

	it('holds a soft bounce only until its end, and only on its own list', async () => {
		const { store, transport, options } = setup();
		const now = Date.now();
		await suppress(store, 'full@x.example', 'soft-bounce', { until: now - 1 });
		await suppress(store, 'other@x.example', 'complaint', {}, 'newsletter');
		const out = await deliver(jobs(['full@x.example', 'other@x.example']), options);
		expect(out.map((r) => r.record.status)).toEqual(['sent', 'sent']);
		const news = await deliver(jobs(['other@x.example']), {
			...options,
			suppression: { list: 'newsletter' },
			duplicates: { ...options.duplicates, ttlMs: 1 },
		});
		expect(news[0].record.status).toBe('suppressed');
		expect(transport.sent).toEqual(['full@x.example', 'other@x.example']);
	});

	it('a store that fails on the look sends nothing and says not-sent', async () => {
		const { store, transport, options } = setup();
		store.getSuppressions = async () => {
			throw new Error('store down');
		};
		const out = await deliver(jobs(['a@x.example']), options).catch((e: Error) => e);
		expect(out).toBeInstanceOf(Error);
		expect(transport.sent).toEqual([]);
	});
});
