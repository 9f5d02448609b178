import PQueue from 'p-queue';
import type { OnceClaim } from '../state/types';
import { sleep as realSleep, type Sleep } from '../throttle/limits';
import type { OutgoingMessage, SendFailure, SendOutcome } from '../transports/types';
import { RouteHealth } from './health';
import { IdempotencyMarkers } from './idempotency';
import { envelopeRecipients, resentAfter, Results } from './records';
import { retryDelay } from './retry';
import { BatchFeedback } from './feedback';
import { BatchReputation, type ListQualityNotice } from './reputation';
import type { ReputationNotice } from '../reputation/recorder';
import { suppressedRecipients, type SuppressedRecipient } from './suppressed';
import type { DeliveryJob, DeliveryOptions, DeliveryRecord, DeliveryResult } from './types';

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
	/** the jobs with a recipient on the suppression list */
	suppressed: Map<DeliveryJob, SuppressedRecipient[]>;
	/** references, the ledger and the outcome counters, when on */
	feedback?: BatchFeedback;
	/** route × group reputation, when on */
	reputation?: BatchReputation;
	/** what a job's refusal made the reputation rules do */
	reputationNotes: Map<DeliveryJob, ReputationNotice[]>;
	/** the first state-store failure: nothing new starts after it */
	stateError?: Error;
}

/** One batch's results, and the state-store failure that stopped it early, if one did. */
export interface BatchOutcome {
	results: DeliveryResult[];
	/** set when the state store failed: the jobs not yet started are 'not-sent' (Failed) */
	stateError?: Error;
	/** the ledger, the outcome counters or the reputation rules could not be written (the messages went as the results say) */
	feedbackError?: Error;
	/** what the reputation rules did in this batch (suspensions, throttles, clears) */
	reputation?: ReputationNotice[];
	/** the list-quality verdicts on the batch's campaigns (and the pauses they made) */
	listQuality?: ListQualityNotice[];
}

/**
 * The send pipeline for one batch on one route: wait for the rate limits, claim the message's
 * duplicate marker (a lease) right before its first try, send with bounded concurrency, retry
 * transient failures with backoff, feed route health, and stop sending (Fallback) once the route's
 * circuit opens. Every job gets exactly one result, also when the state store fails midway.
 */
export async function deliverBatch(
	jobs: DeliveryJob[],
	options: DeliveryOptions,
): Promise<BatchOutcome> {
	const clock = options.clock ?? Date.now;
	const results = new Results(options.transport.provider, new Date(clock()).toISOString());
	if (options.dryRun) return { results: jobs.map((job) => results.dryRun(job)) };
	const random = options.random ?? Math.random;
	let batch: Batch;
	try {
		const health = await RouteHealth.load(jobs, {
			store: options.store,
			policy: options.health,
			random,
			clock,
		});
		const reputation = options.reputation
			? await BatchReputation.load(
					options.store,
					jobs,
					options.reputation.rules,
					clock,
					options.reputation.pauseCampaign,
				)
			: undefined;
		// a throttled route × group's rate limits, before anything reserves a slot in them
		if (reputation) for (const job of jobs) job.limits = reputation.limits(job);
		const suppressed = options.suppression
			? await suppressedRecipients(options.store, jobs, options.suppression.list)
			: new Map<DeliveryJob, SuppressedRecipient[]>();
		const markers = await IdempotencyMarkers.open(options.store, jobs, options.duplicates, {
			maxRateWaitMs: options.maxRateWaitMs,
			clock,
			onStateError: (error) => (batch.stateError ??= error),
		});
		batch = {
			options,
			clock,
			pause: options.sleep ?? realSleep,
			random,
			results,
			health,
			markers,
			suppressed,
			reputation,
			reputationNotes: new Map(),
			feedback: options.feedback
				? new BatchFeedback(options.transport.provider, options.feedback.ledgerTtlMs, clock)
				: undefined,
		};
	} catch (error) {
		return {
			results: jobs.map((j) => results.notSent(j, error as Error)),
			stateError: error as Error,
		};
	}
	const b = batch;
	// sends past the transport's own parallelism would wait inside it, holding their leases
	const concurrency = Math.min(options.concurrency, options.transport.maxParallel ?? Infinity);
	const out = await runBatch(jobs, b.health.leaders(), concurrency, b, (job) => deliverOne(b, job));
	// the last settlements go with no next try: write them before the batch's results count
	await b.markers.drain();
	jobs.forEach((job, k) => {
		const notes = b.reputationNotes.get(job);
		if (notes?.length) out[k].record.reputation = notes.map(noteRecord);
	});
	let feedbackError: Error | undefined;
	if (b.feedback) {
		jobs.forEach((job, k) => b.feedback!.record(job, out[k]));
		feedbackError = await b.feedback.flush(options.store);
	}
	// after the counts: the rate rules read them
	if (b.reputation && !b.stateError)
		try {
			await b.reputation.finish();
		} catch (error) {
			feedbackError ??= error as Error;
		}
	// alerts are the operators', after the fact: a failure to publish one is reported, never fatal
	feedbackError ??= b.health.alertError ?? b.reputation?.alertError;
	return {
		results: out,
		stateError: b.stateError,
		...(feedbackError ? { feedbackError } : {}),
		...(b.reputation?.notices.length ? { reputation: b.reputation.notices } : {}),
		...(b.reputation?.listQuality.length ? { listQuality: b.reputation.listQuality } : {}),
	};
}

/** a reputation change as an item's record says it */
function noteRecord(n: ReputationNotice): NonNullable<DeliveryRecord['reputation']>[number] {
	return {
		what: n.what,
		rule: n.rule,
		group: n.group,
		until: new Date(n.until).toISOString(),
		...(n.factor !== undefined && n.what !== 'suspended' ? { share: n.factor } : {}),
		reason: n.reason,
	};
}

/** deliverBatch for callers that want the state store's failure thrown (the results are then lost). */
export async function deliver(
	jobs: DeliveryJob[],
	options: DeliveryOptions,
): Promise<DeliveryResult[]> {
	const { results, stateError } = await deliverBatch(jobs, options);
	if (stateError) throw stateError;
	return results;
}

/**
 * Runs every job once: first each circuit's leader, alone — a half-open circuit's probe, or the
 * first message of a route, so a route that refuses the login fails once and not once per parallel
 * send — then the rest with bounded concurrency. If the state store fails, start nothing new: what
 * is in flight finishes, every job not started is 'not-sent'.
 */
async function runBatch(
	jobs: DeliveryJob[],
	leaders: number[],
	concurrency: number,
	b: Batch,
	one: (job: DeliveryJob) => Promise<DeliveryResult>,
): Promise<DeliveryResult[]> {
	const results = new Array<DeliveryResult>(jobs.length);
	const run = async (k: number) => {
		if (b.stateError) return;
		try {
			results[k] = await one(jobs[k]);
		} catch (error) {
			b.stateError ??= error as Error;
		}
	};
	for (const k of leaders) await run(k);
	const queue = new PQueue({ concurrency: Math.max(1, concurrency) });
	const led = new Set(leaders);
	for (const k of [...jobs.keys()].filter((j) => results[j] === undefined && !led.has(j)))
		void queue.add(() => run(k));
	await queue.onIdle();
	return jobs.map((job, k) => results[k] ?? b.results.notSent(job, b.stateError!));
}

/**
 * One job, try by try. Each try waits for its rate slot first (a crash while waiting leaves
 * nothing claimed), then claims the marker, sends, and settles it. A transient failure gives the
 * claim back before the retry waits, so a lease only ever covers one transaction, and a crash
 * leaves leases only on the messages on the wire at that moment (and on those sent in the last
 * few ms, whose settlement may wait for another worker's claim: ./steps.ts JOIN_WAIT_MS). The
 * store calls of all the batch's workers go together (./steps.ts): about one per sent message.
 */
async function deliverOne(b: Batch, job: DeliveryJob): Promise<DeliveryResult> {
	const suppressed = b.suppressed.get(job);
	if (suppressed) return b.results.suppressed(job, suppressed);
	// sent before: a skip needs no rate slot (sent is final, so nothing can change it meanwhile)
	if (b.markers.sentBefore(job)) return b.results.claimed(job, { state: 'sent' });
	const paused = b.reputation?.pausedBy(job);
	if (paused) return b.results.campaignPaused(job, paused);
	if (b.reputation?.suspendedUntil(job))
		return b.results.reputationHeld(job, b.reputation.heldBy(job)!);
	const started = b.clock();
	const effort = (attempts: number) => ({ attempts, latencyMs: b.clock() - started });
	let last: SendFailure | undefined;
	for (let attempts = 0; ;) {
		// the circuit may have opened, the route been suspended for the group, or the state store
		// failed, while this job waited
		if (b.health.isOpen(job))
			return last
				? b.results.failure(job, last, effort(attempts))
				: b.results.circuitOpen(job, b.health.openUntil(job));
		if (b.reputation?.suspendedUntil(job))
			return last
				? b.results.failure(job, last, effort(attempts))
				: b.results.reputationHeld(job, b.reputation.heldBy(job)!);
		const slot = await b.markers.reserve(job);
		if (slot.kind === 'deferred')
			return b.results.rateDeferred(job, effort(attempts), slot.retryAt);
		if (slot.kind === 'held') return b.results.claimed(job, slot.claim);
		if (slot.waitMs > 0) await b.pause(slot.waitMs);
		if (b.health.isOpen(job)) {
			b.markers.cancelClaim(job);
			continue;
		}
		if (b.stateError) {
			b.markers.cancelClaim(job);
			throw b.stateError;
		}
		const claimedAt = b.clock();
		const claim = await b.markers.claim(job);
		// on a retry too: another run may have taken (or sent) it while this one waited
		if (claim.state !== 'claimed') return b.results.claimed(job, claim);
		const send = remaining(b, job, claim);
		if (send === undefined) {
			b.markers.settle(job, 'sent');
			return b.results.deliveredEarlier(job);
		}
		attempts++;
		const outcome = await sendOnce(b, job, send.job.message);
		const retry =
			!outcome.ok &&
			outcome.kind === 'transient' &&
			attempts < b.options.retry.maxAttempts &&
			!b.health.isOpen(job) &&
			!b.reputation?.suspendedUntil(job);
		if (!retry) return settle(b, send, claim, outcome, effort(attempts), claimedAt);
		b.markers.settle(job, 'release', undefined, true);
		last = outcome as SendFailure;
		await b.pause(retryDelay(attempts, b.options.retry, last.retryAfterMs, b.random));
	}
}

/** A job as this run sends it: after a partial delivery, to the recipients left only. */
interface Sending {
	/** the batch's job: its marker is keyed by it */
	claimed: DeliveryJob;
	/** what is sent */
	job: DeliveryJob;
	/** digests of every recipient delivered so far (earlier runs') */
	delivered: string[];
	/** the addresses of those, for the record */
	deliveredEarlier: string[];
}

/** The job to send after a claim; undefined when an earlier run delivered to every recipient. */
function remaining(b: Batch, job: DeliveryJob, claim: OnceClaim): Sending | undefined {
	if (!claim.delivered?.length) return { claimed: job, job, delivered: [], deliveredEarlier: [] };
	const done = new Set(claim.delivered);
	const all = envelopeRecipients(job.message);
	const has = new Set(all.filter((a) => done.has(b.markers.recipientDigest(a))));
	const left = all.filter((a) => !has.has(a));
	if (left.length === 0) return undefined;
	return {
		claimed: job,
		job: { ...job, message: { ...job.message, envelopeTo: left } },
		delivered: claim.delivered,
		deliveredEarlier: [...has],
	};
}

/** Settles the claim by how its try ended, and gives the job its result. */
function settle(
	b: Batch,
	{ claimed, job, delivered, deliveredEarlier }: Sending,
	claim: OnceClaim,
	outcome: SendOutcome,
	effort: { attempts: number; latencyMs: number },
	claimedAt: number,
): DeliveryResult {
	const extra: Partial<DeliveryRecord> = {
		...(deliveredEarlier.length ? { deliveredEarlier } : {}),
		...(claim.reclaimed ? { resentAfter: resentAfter(claim.reclaimed) } : {}),
	};
	if (outcome.ok) {
		const refused = new Set((outcome.refused ?? []).map((r) => r.address.toLowerCase()));
		if (refused.size === 0) b.markers.settle(claimed, 'sent');
		else {
			const now = envelopeRecipients(job.message).filter((a) => !refused.has(a.toLowerCase()));
			const all = [...new Set([...delivered, ...now.map((a) => b.markers.recipientDigest(a))])];
			b.markers.settle(claimed, 'partial', all);
		}
		return b.results.sent(job, outcome, effort, b.clock(), extra);
	}
	if (outcome.kind === 'unknown') {
		b.markers.settle(claimed, 'doubt');
		return b.results.unknownOutcome(job, outcome, effort, {
			since: claimedAt,
			by: b.options.duplicates.owner,
			resend: b.options.duplicates.resendInDoubt,
		});
	}
	b.markers.settle(claimed, 'release');
	return b.results.failure(job, outcome, effort, extra);
}

/** One send, its outcome fed to the route's health. */
async function sendOnce(
	b: Batch,
	job: DeliveryJob,
	message: OutgoingMessage,
): Promise<SendOutcome> {
	const outcome = await b.options.transport.send(
		b.feedback ? b.feedback.message(job, message) : message,
	);
	// a refusal a reputation rule matches is the route's standing with that group's provider, not
	// the route's health: it acts on the route × group, and the circuit (every group) is left alone
	let notes: ReputationNotice[] | undefined;
	if (!outcome.ok && b.reputation)
		try {
			notes = await b.reputation.refused(job, outcome);
		} catch (error) {
			b.stateError ??= error as Error;
		}
	if (notes) {
		if (notes.length) b.reputationNotes.set(job, notes);
		return outcome;
	}
	await tolerate(b, () => b.health.record(job, outcome.ok ? undefined : outcome));
	return outcome;
}

/**
 * A state-store call after a message went (or surely did not): its failure must not cost the job
 * its honest result. The failure stops the batch from starting anything new; a settlement that did
 * not land is remembered (./unsettled.ts) and written before the next batch.
 */
async function tolerate(b: Batch, call: () => Promise<void>): Promise<void> {
	try {
		await call();
	} catch (error) {
		b.stateError ??= error as Error;
	}
}
