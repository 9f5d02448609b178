import { randomUUID } from 'node:crypto';
import { recipientDigest } from '../state/keys';
import type { OnceClaim, OnceSettlement, StateStore } from '../state/types';
import { DeliverySteps, type SlotRequest } from './steps';
import type { DeliveryJob } from './types';
import { rememberUnsettled, settleUnsettled } from './unsettled';

export interface MarkerPolicy {
	/** how long the duplicate window lasts */
	ttlMs: number;
	/** how long a claim protects a message that is being sent */
	leaseMs: number;
	/** an expired lease or an unknown outcome: true = send it again (at least once), false = leave it (at most once) */
	resendInDoubt: boolean;
	/** who claims (this run), for the record a later run shows */
	owner: string;
}

/** How the batch's tries wait for rate slots, and where a settlement's failure goes. */
export interface StepPacing {
	/** a slot further away than this is not reserved: the try is deferred */
	maxRateWaitMs: number;
	/** the batch's clock, ms */
	clock: () => number;
	/** a settlement could not be written (it is remembered, ./unsettled.ts) */
	onStateError: (error: Error) => void;
}

/**
 * Duplicate protection for one batch: a marker per job that has an idempotency key, claimed as a
 * lease with each try's rate slot and settled after the try: sent, partial, released, or in doubt
 * (../state/once.ts has the rules). A store call that fails leaves its settlement
 * unwritten: it is remembered (./unsettled.ts) and written before the next batch.
 */
export class IdempotencyMarkers {
	/** markers store a keyed hash of the recipients, never the addresses */
	private readonly keys = new Map<DeliveryJob, string>();
	private readonly tokens = new Map<DeliveryJob, string>();
	/** jobs whose message the batch's first look found sent */
	private readonly sent = new Set<DeliveryJob>();
	private readonly steps: DeliverySteps;

	private constructor(
		jobs: DeliveryJob[],
		private readonly secret: string,
		private readonly store: StateStore,
		private readonly policy: MarkerPolicy,
		pacing: StepPacing,
	) {
		for (const j of jobs)
			if (j.idempotencyKey !== undefined)
				this.keys.set(j, recipientDigest(secret, j.idempotencyKey));
		this.steps = new DeliverySteps(
			store,
			{
				ttlMs: policy.ttlMs,
				owner: policy.owner,
				leaseMs: policy.leaseMs,
				takeExpired: policy.resendInDoubt,
				maxWaitMs: pacing.maxRateWaitMs,
			},
			(entries, error) => {
				for (const e of entries)
					rememberUnsettled(store, { campaign: e.scope, settlement: e.settlement });
				pacing.onStateError(error);
			},
			pacing.clock,
		);
	}

	/**
	 * Settles what earlier batches left unsettled on the store, keys this batch's markers, and looks
	 * (one call per campaign, writing nothing) at the markers of the jobs that will wait for a rate
	 * limit: a message sent before is skipped at once, not after a wait and a slot it does not need.
	 */
	static async open(
		store: StateStore,
		jobs: DeliveryJob[],
		policy: MarkerPolicy,
		pacing: StepPacing,
	): Promise<IdempotencyMarkers> {
		await settleUnsettled(store, policy.ttlMs);
		// the secret costs a store call: only fetch it when some job is marked
		const secret = jobs.some((j) => j.idempotencyKey !== undefined) ? await store.hashSecret() : '';
		const markers = new IdempotencyMarkers(jobs, secret, store, policy, pacing);
		await markers.peekSent(jobs.filter((j) => j.limits.length > 0));
		return markers;
	}

	/** true when the look at the batch's start found the job's message sent */
	sentBefore(job: DeliveryJob): boolean {
		return this.sent.has(job);
	}

	private async peekSent(jobs: DeliveryJob[]): Promise<void> {
		const byCampaign = new Map<string, DeliveryJob[]>();
		for (const j of jobs) {
			if (!this.keys.has(j)) continue;
			const group = byCampaign.get(j.campaign);
			if (group) group.push(j);
			else byCampaign.set(j.campaign, [j]);
		}
		const { ttlMs, leaseMs, owner, resendInDoubt } = this.policy;
		for (const [campaign, group] of byCampaign) {
			const found = await this.store.claimOnce(campaign, {
				keys: group.map((j) => this.keys.get(j)!),
				token: 'peek',
				owner,
				leaseMs,
				ttlMs,
				takeExpired: resendInDoubt,
				peek: true,
			});
			group.forEach((j, k) => found[k].state === 'sent' && this.sent.add(j));
		}
	}

	/** true when the job has duplicate protection */
	marked(job: DeliveryJob): boolean {
		return this.keys.has(job);
	}

	/** A recipient's digest as partial deliveries record it (never the address). */
	recipientDigest(address: string): string {
		return recipientDigest(this.secret, `rcpt\0${address}`);
	}

	/**
	 * The job's slot in its rate limits (a store step shared with the batch's other workers,
	 * ./steps.ts): `go` after `waitMs`; `deferred` when the slot is too far away; `held` when the
	 * job's marker is not free (an earlier run sent it or holds it), which costs no slot.
	 */
	async reserve(job: DeliveryJob): Promise<SlotStart> {
		const request = this.slotOf(job);
		if (!request) return { kind: 'go', waitMs: 0 };
		const answer = await this.steps.reserve(request);
		if ('held' in answer) return { kind: 'held', claim: answer.held };
		const { rate } = answer;
		if (!rate.granted) return { kind: 'deferred', retryAt: rate.now + rate.waitMs };
		this.steps.expectClaim(job, rate.waitMs);
		return { kind: 'go', waitMs: rate.waitMs };
	}

	/** 'claimed' when this run may send (always, for an unmarked job), else what an earlier run left. */
	async claim(job: DeliveryJob): Promise<OnceClaim> {
		const key = this.keys.get(job);
		if (key === undefined) {
			this.steps.cancelClaim(job);
			return { state: 'claimed' };
		}
		const token = randomUUID();
		this.tokens.set(job, token);
		try {
			return await this.steps.claim(job, job.campaign, key, token);
		} catch (error) {
			// the claim may have landed: give it back before the next batch
			rememberUnsettled(this.store, {
				campaign: job.campaign,
				settlement: { key, token, outcome: 'release' },
			});
			throw error;
		}
	}

	/** The job waited for its slot and will not claim (its circuit opened meanwhile). */
	cancelClaim(job: DeliveryJob): void {
		this.steps.cancelClaim(job);
	}

	/** a job's rate slot request: none without limits, or for a message the first look found sent */
	private slotOf(job: DeliveryJob): SlotRequest | undefined {
		if (job.limits.length === 0 || this.sent.has(job)) return undefined;
		const key = this.keys.get(job);
		return {
			limits: job.limits,
			...(key !== undefined ? { marker: { scope: job.campaign, key } } : {}),
		};
	}

	/**
	 * How the job's try ended; `delivered` (digests, earlier runs' included) for a partial delivery.
	 * Written with the batch's next step; `drain` waits for it.
	 */
	settle(
		job: DeliveryJob,
		outcome: OnceSettlement['outcome'],
		delivered?: string[],
		promptly = false,
	): void {
		const key = this.keys.get(job);
		if (key === undefined) return;
		const token = this.tokens.get(job)!;
		this.steps.settle(job.campaign, { key, token, outcome, delivered }, promptly);
	}

	/** Waits until every settlement asked for is written, or remembered as unsettled. */
	drain(): Promise<void> {
		return this.steps.drain();
	}
}

/** How a try's rate slot came out (IdempotencyMarkers.reserve). */
export type SlotStart =
	| { kind: 'go'; waitMs: number }
	| { kind: 'deferred'; retryAt: number }
	| { kind: 'held'; claim: OnceClaim };
