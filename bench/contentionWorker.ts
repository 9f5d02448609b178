/**
 * One process of the throttle benchmark's contention part: `lanes` senders that each ask for a slot
 * in one Redis rate limit shared with the other processes, wait for it, and ask again, `messages`
 * times. Before (polling, as acquire() paced until reservations) or after (one reservation per
 * message). Reports when each message asked and when it was let go, on the host clock.
 *
 * Forked by bench/throttle.ts with the job as JSON in POSTAL_BENCH_JOB; talks over IPC.
 */
import { RedisStateStore } from '../lib/state/redis';
import type { RateLimit } from '../lib/state/types';
import { acquire } from '../lib/throttle/limits';
import { pollingAcquire } from './polling';

export interface ContentionJob {
	port: number;
	keyPrefix: string;
	limit: RateLimit;
	lanes: number;
	messages: number;
	mode: 'poll' | 'reserve';
}

/** [asked at, let go at] per message, epoch ms with fractions */
export type Waits = Array<[number, number]>;

const clock = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
	const job = JSON.parse(process.env.POSTAL_BENCH_JOB ?? '') as ContentionJob;
	const store = new RedisStateStore({
		mode: 'standalone',
		host: '127.0.0.1',
		port: job.port,
		keyPrefix: job.keyPrefix,
	});
	await store.now(); // connected before the start line
	const startAt = await new Promise<number>((resolve) => {
		process.once('message', (m: { startAt: number }) => resolve(m.startAt));
		process.send?.({ ready: true });
	});
	await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
	const pace = job.mode === 'poll' ? pollingAcquire : acquire;
	const waits: Waits = [];
	const lane = async () => {
		for (let k = 0; k < job.messages; k++) {
			const asked = clock();
			const slot = await pace(store, [job.limit], 1, { maxWaitMs: 3_600_000 });
			if (!slot.ok) throw new Error('refused a slot within an hour');
			waits.push([asked, clock()]);
		}
	};
	await Promise.all(Array.from({ length: job.lanes }, lane));
	await store.close();
	process.send?.({ waits }, () => process.exit(0));
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
