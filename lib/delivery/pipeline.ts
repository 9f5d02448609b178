import PQueue from 'p-queue';
import { acquire, sleep as realSleep, type Sleep } from '../throttle/limits';
import type { SendOutcome } from '../transports/types';
import { RouteHealth } from './health';
import { IdempotencyMarkers } from './idempotency';
import { Results } from './records';
import { retryDelay } from './retry';
import type { DeliveryJob, DeliveryOptions, DeliveryResult } from './types';

export type {
	DeliveryJob,
	DeliveryOutput,
	DeliveryOptions,
	DeliveryRecord,
	DeliveryResult,
	DeliveryStatus,
	HealthOptions,
} from './types';
export { envelopeRecipients } from './records';

/** What the steps of one batch share. */
interface Batch {
	options: DeliveryOptions;
	clock: () => number;
	pause: Sleep;
	random: () => number;
	results: Results;
	health: RouteHealth;
	markers: IdempotencyMarkers;
}

/** What a job's tries came to. */
interface Tried {
	attempts: number;
	/** the last send's outcome; none when the circuit opened before the first */
	outcome?: SendOutcome;
	/** set when the rate limits would have held the message too long: when to come back */
	rateRetryAt?: number;
}

/**
 * The send pipeline for one batch on one route: skip what this campaign already sent, respect the
 * rate limits, send with bounded concurrency, retry transient failures with backoff, feed route
 * health, and stop sending (Fallback) once the route's circuit opens. Every job gets one result.
 */
export async function deliver(
	jobs: DeliveryJob[],
	options: DeliveryOptions,
): Promise<DeliveryResult[]> {
	const clock = options.clock ?? Date.now;
	const results = new Results(options.transport.provider, new Date(clock()).toISOString());
	if (options.dryRun) return jobs.map((job) => results.dryRun(job));
	const random = options.random ?? Math.random;
	const health = await RouteHealth.load(jobs, {
		store: options.store,
		policy: options.health,
		random,
		clock,
	});
	const markers = await IdempotencyMarkers.open(options.store, jobs, options.duplicates);
	const batch: Batch = {
		options,
		clock,
		pause: options.sleep ?? realSleep,
		random,
		results,
		health,
		markers,
	};
	return runBatch(jobs, health.probes(), options.concurrency, (job) => deliverOne(batch, job));
}

/**
 * Runs every job once: first each half-open circuit's probe, alone, then the rest with bounded
 * concurrency. If the state store fails, start nothing new: let what is in flight finish, then
 * report the failure.
 */
async function runBatch(
	jobs: DeliveryJob[],
	probes: number[],
	concurrency: number,
	one: (job: DeliveryJob) => Promise<DeliveryResult>,
): Promise<DeliveryResult[]> {
	const results = new Array<DeliveryResult>(jobs.length);
	const run = async (k: number) => {
		results[k] = await one(jobs[k]);
	};
	for (const k of probes) await run(k);
	const queue = new PQueue({ concurrency: Math.max(1, concurrency) });
	let failure: unknown;
	for (const k of [...jobs.keys()].filter((j) => results[j] === undefined)) {
		void queue.add(async () => {
			if (failure !== undefined) return;
			try {
				await run(k);
			} catch (error) {
				failure ??= error;
				queue.clear();
			}
		});
	}
	await queue.onIdle();
	if (failure !== undefined) throw failure;
	return results;
}

/**
 * One job, step by step. Its marker is claimed right before its first try and settled after the
 * last, so if the state store or n8n dies mid-batch only the messages in flight at that moment are
 * in doubt — and those are never sent again.
 */
async function deliverOne(b: Batch, job: DeliveryJob): Promise<DeliveryResult> {
	if (b.health.isOpen(job)) return b.results.circuitOpen(job, b.health.openUntil(job));
	const claim = await b.markers.claim(job);
	if (claim.state !== 'claimed')
		return b.results.duplicate(job, claim.state === 'sent' ? 'sent' : 'pending');
	const started = b.clock();
	const tried = await attempt(b, job);
	if (tried.rateRetryAt !== undefined) {
		await b.markers.settle(job, 'release');
		return b.results.rateDeferred(job, tried.attempts, b.clock() - started, tried.rateRetryAt);
	}
	const latencyMs = b.clock() - started;
	await settle(b, job, tried.outcome?.ok === true);
	return classify(b, job, tried, latencyMs);
}

/** Tries the job until it goes, fails for good, runs out of attempts, meets an open circuit or a long rate wait. */
async function attempt(b: Batch, job: DeliveryJob): Promise<Tried> {
	let attempts = 0;
	let outcome: SendOutcome | undefined;
	for (;;) {
		if (b.health.isOpen(job)) return { attempts, outcome };
		const slot = await pace(b, job);
		if (!slot.ok) return { attempts, outcome, rateRetryAt: slot.retryAt };
		attempts++;
		outcome = await send(b, job);
		if (
			outcome.ok ||
			outcome.kind !== 'transient' ||
			attempts >= b.options.retry.maxAttempts ||
			b.health.isOpen(job)
		)
			return { attempts, outcome };
		await b.pause(retryDelay(attempts, b.options.retry, outcome.retryAfterMs, b.random));
	}
}

/** Waits for one message's room in all the job's rate limits, or says when to come back. */
function pace(b: Batch, job: DeliveryJob) {
	return acquire(b.options.store, job.limits, 1, {
		maxWaitMs: b.options.maxRateWaitMs,
		sleep: b.pause,
	});
}

/** One send, its outcome fed to the route's health. */
async function send(b: Batch, job: DeliveryJob): Promise<SendOutcome> {
	const outcome = await b.options.transport.send(job.message);
	await b.health.record(job, outcome.ok ? undefined : outcome);
	return outcome;
}

/** Confirms the marker of a message that went, releases one that did not. */
function settle(b: Batch, job: DeliveryJob, sent: boolean): Promise<void> {
	return b.markers.settle(job, sent ? 'sent' : 'release');
}

/** Sent; no try at all (the circuit opened first: Fallback); or failed, by kind. */
function classify(
	b: Batch,
	job: DeliveryJob,
	{ attempts, outcome }: Tried,
	latencyMs: number,
): DeliveryResult {
	if (outcome === undefined) return b.results.circuitOpen(job, b.health.openUntil(job));
	if (outcome.ok) return b.results.sent(job, outcome, attempts, latencyMs, b.clock());
	return b.results.failure(job, outcome, attempts, latencyMs);
}
