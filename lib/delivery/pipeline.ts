import { randomUUID } from 'node:crypto';
import PQueue from 'p-queue';
import { acquire, sleep as realSleep, type Sleep } from '../throttle/limits';
import { circuitName, recipientDigest } from '../state/keys';
import type { HealthPolicy, OnceState, RateLimit, StateStore } from '../state/types';
import type { OutgoingMessage, SendFailure, SendOutcome, Transport } from '../transports/types';
import { retryDelay, type RetryPolicy } from './retry';
import { rememberUnsettled, settleUnsettled } from './unsettled';

export interface DeliveryJob {
	/** the item's index, carried through for pairing */
	index: number;
	message: OutgoingMessage;
	route: string;
	campaign: string;
	/** what makes the message unique in its campaign (recipients, plus a message key), hashed before
	 * it is stored; absent = no duplicate protection */
	idempotencyKey?: string;
	limits: RateLimit[];
}

export type DeliveryStatus = 'sent' | 'skipped-duplicate' | 'dry-run' | 'failed' | 'deferred' | 'blocked' | 'circuit-open' | 'rate-deferred';
export type DeliveryOutput = 'sent' | 'failed' | 'fallback';

/** What each item carries out of the send node. Never a credential. */
export interface DeliveryRecord {
	route: string;
	provider: string;
	status: DeliveryStatus;
	messageId?: string;
	responseCode?: number;
	enhancedCode?: string;
	response?: string;
	error?: string;
	/** every mailbox the message is addressed to (To, CC, BCC): exactly the envelope recipients */
	recipients?: string[];
	/** route: the connection's problem; recipient: this address's problem */
	failureScope?: 'route' | 'recipient';
	attempts: number;
	latencyMs: number;
	queuedAt: string;
	sentAt?: string;
	/** when a deferred item may be tried again */
	retryAt?: string;
}

export interface DeliveryResult {
	index: number;
	output: DeliveryOutput;
	record: DeliveryRecord;
}

export interface HealthOptions {
	failureThreshold: number;
	baseEjectionMs: number;
	maxEjectionMs: number;
	backoff: number;
	/** ±ratio of random spread on the cool-down (0.1 = ±10%) */
	jitterRatio: number;
}

export interface DeliveryOptions {
	transport: Transport;
	store: StateStore;
	concurrency: number;
	retry: RetryPolicy;
	health: HealthOptions;
	/** how long idempotency markers live */
	idempotencyTtlMs: number;
	/** the longest a message may wait for its rate limits before it is deferred */
	maxRateWaitMs: number;
	dryRun?: boolean;
	sleep?: Sleep;
	random?: () => number;
	clock?: () => number;
}

/** To, CC and BCC, each mailbox once: what the transport puts in the envelope. */
export function envelopeRecipients(message: OutgoingMessage): string[] {
	return [...new Set([...message.to, ...message.cc, ...message.bcc].map((a) => a.address))];
}

const short = (s: string | undefined) => (s && s.length > 300 ? `${s.slice(0, 297)}...` : s);

/**
 * The send pipeline for one batch on one route: skip what this campaign already sent, respect the
 * rate limits, send with bounded concurrency, retry transient failures with backoff, feed route
 * health, and stop sending (Fallback) once the route's circuit opens. Every job gets one result.
 */
export async function deliver(jobs: DeliveryJob[], options: DeliveryOptions): Promise<DeliveryResult[]> {
	const clock = options.clock ?? Date.now;
	const pause = options.sleep ?? realSleep;
	const random = options.random ?? Math.random;
	const provider = options.transport.provider;
	const results = new Array<DeliveryResult>(jobs.length);
	const queuedAt = new Date(clock()).toISOString();
	const record = (job: DeliveryJob, status: DeliveryStatus, extra: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
		route: job.route,
		provider,
		status,
		recipients: envelopeRecipients(job.message),
		attempts: 0,
		latencyMs: 0,
		queuedAt,
		...extra,
	});

	if (options.dryRun) {
		jobs.forEach((job, k) => (results[k] = { index: job.index, output: 'sent', record: record(job, 'dry-run') }));
		return results;
	}

	// routes are one per send node, but a node may serve items of several partitioner routes, and
	// each route's health is its campaign's (./state/keys circuitName): keyed by circuit from here on
	const circuitOf = new Map<DeliveryJob, string>(jobs.map((j) => [j, circuitName(j.campaign, j.route)]));
	const routes = [...new Set(circuitOf.values())];
	const circuits = await options.store.getCircuits(routes);
	const now = await options.store.now();
	const open = new Map<string, number>();
	const dirty = new Set<string>(); // routes whose failure count may be above zero
	const probing = new Set<string>();
	routes.forEach((r, i) => {
		const c = circuits[i];
		if (!c) return;
		if (c.openUntil > now) open.set(r, c.openUntil);
		else if (c.probing) probing.add(r);
		if ((c.failures ?? 0) > 0 || c.probing) dirty.add(r);
	});

	// Idempotency: each message claims its marker ('pending') right before its first attempt and
	// confirms it ('sent') after delivery, so if the state store or n8n dies mid-batch only the
	// messages in flight at that moment are in doubt — and those are never sent again.
	// A store call that fails leaves the marker unsettled: remember it, settle it next time.
	await settleUnsettled(options.store, options.idempotencyTtlMs);
	// markers store a keyed hash of the recipients, never the addresses
	const secret = jobs.some((j) => j.idempotencyKey !== undefined) ? await options.store.hashSecret() : '';
	const markers = new Map<DeliveryJob, string>();
	for (const j of jobs) if (j.idempotencyKey !== undefined) markers.set(j, recipientDigest(secret, j.idempotencyKey));
	const tokens = new Map<DeliveryJob, string>();
	const guarded = async (job: DeliveryJob, sent: boolean, call: (key: string, token: string) => Promise<unknown>) => {
		const marker = markers.get(job);
		if (marker === undefined) return;
		const token = tokens.get(job)!;
		try {
			await call(marker, token);
		} catch (error) {
			rememberUnsettled(options.store, { campaign: job.campaign, key: marker, token, sent });
			throw error;
		}
	};
	const claim = async (job: DeliveryJob): Promise<OnceState> => {
		if (!markers.has(job)) return 'claimed';
		tokens.set(job, randomUUID());
		let state: OnceState = 'claimed';
		await guarded(job, false, async (key, token) => (state = (await options.store.claimOnce(job.campaign, [key], options.idempotencyTtlMs, token))[0]));
		return state;
	};
	const confirm = (job: DeliveryJob) => guarded(job, true, (key) => options.store.confirmOnce(job.campaign, [key], options.idempotencyTtlMs));
	const release = (job: DeliveryJob) => guarded(job, false, (key, token) => options.store.releaseOnce(job.campaign, [key], token));

	const healthPolicy = (): HealthPolicy => ({
		failureThreshold: options.health.failureThreshold,
		baseEjectionMs: options.health.baseEjectionMs,
		maxEjectionMs: options.health.maxEjectionMs,
		backoff: options.health.backoff,
		jitter: 1 + (random() * 2 - 1) * options.health.jitterRatio,
	});
	const noteOutcome = async (route: string, failure: SendFailure | undefined) => {
		if (failure === undefined) {
			if (!dirty.has(route)) return;
			dirty.delete(route);
			probing.delete(route);
			await options.store.recordHealth(route, true, healthPolicy());
			return;
		}
		if (failure.scope !== 'route') return;
		dirty.add(route);
		const { state, opened } = await options.store.recordHealth(route, false, healthPolicy());
		if (opened || state.openUntil > clock()) open.set(route, state.openUntil);
	};

	const circuitOpen = (job: DeliveryJob): DeliveryResult => ({
		index: job.index,
		output: 'fallback',
		record: record(job, 'circuit-open', { error: `route "${job.route}" is unhealthy (circuit open until ${new Date(open.get(circuitOf.get(job)!)!).toISOString()}); nothing was sent`, retryAt: new Date(open.get(circuitOf.get(job)!)!).toISOString() }),
	});

	const run = async (k: number): Promise<void> => {
		const job = jobs[k];
		const circuit = circuitOf.get(job)!;
		if (open.has(circuit)) {
			results[k] = circuitOpen(job);
			return;
		}
		const marker = await claim(job);
		if (marker !== 'claimed') {
			const error = marker === 'sent' ? 'already sent in this campaign' : 'claimed by an earlier run that did not finish: it may have gone out, so it is not sent again';
			results[k] = { index: job.index, output: 'sent', record: record(job, 'skipped-duplicate', { error }) };
			return;
		}
		const started = clock();
		let attempts = 0;
		let outcome: SendOutcome | undefined;
		for (;;) {
			if (open.has(circuit)) break;
			const slot = await acquire(options.store, job.limits, 1, { maxWaitMs: options.maxRateWaitMs, sleep: pause });
			if (!slot.ok) {
				await release(job);
				results[k] = {
					index: job.index,
					output: 'fallback',
					record: record(job, 'rate-deferred', { attempts, latencyMs: clock() - started, error: 'the rate limits would hold this message too long', retryAt: new Date(slot.retryAt).toISOString() }),
				};
				return;
			}
			attempts++;
			outcome = await options.transport.send(job.message);
			await noteOutcome(circuit, outcome.ok ? undefined : outcome);
			if (outcome.ok || outcome.kind !== 'transient' || attempts >= options.retry.maxAttempts || open.has(circuit)) break;
			await pause(retryDelay(attempts, options.retry, outcome.retryAfterMs, random));
		}
		const latencyMs = clock() - started;
		if (outcome === undefined) {
			await release(job);
			results[k] = circuitOpen(job);
			return;
		}
		if (outcome.ok) {
			await confirm(job);
			results[k] = {
				index: job.index,
				output: 'sent',
				record: record(job, 'sent', { messageId: outcome.messageId, responseCode: outcome.code, enhancedCode: outcome.enhancedCode, response: short(outcome.response), attempts, latencyMs, sentAt: new Date(clock()).toISOString() }),
			};
			return;
		}
		await release(job);
		const common = { responseCode: outcome.code, enhancedCode: outcome.enhancedCode, error: short(outcome.message), failureScope: outcome.scope, attempts, latencyMs };
		if (outcome.kind === 'permanent') results[k] = { index: job.index, output: 'failed', record: record(job, 'failed', common) };
		else results[k] = { index: job.index, output: 'fallback', record: record(job, outcome.kind === 'blocked' ? 'blocked' : 'deferred', common) };
	};

	// a half-open route gets one probe before the rest of the batch
	const order = jobs.map((_, k) => k);
	const queue = new PQueue({ concurrency: Math.max(1, options.concurrency) });
	const probes = order.filter((k) => probing.has(circuitOf.get(jobs[k])!));
	const firstProbe = new Map<string, number>();
	for (const k of probes) if (!firstProbe.has(circuitOf.get(jobs[k])!)) firstProbe.set(circuitOf.get(jobs[k])!, k);
	for (const k of firstProbe.values()) await run(k);
	// if the state store fails, start nothing new: let what is in flight finish, then report the failure
	let failure: unknown;
	for (const k of order.filter((j) => results[j] === undefined)) {
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
