import { randomUUID } from 'node:crypto';
import { recipientDigest } from '../state/keys';
import type { OnceClaim, OnceSettlement, StateStore } from '../state/types';
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

/**
 * Duplicate protection for one batch: a marker per job that has an idempotency key, claimed as a
 * lease right before the job's first try and settled after its last: sent, partial, released, or
 * in doubt (../state/once.ts has the rules). A store call that fails leaves its settlement
 * unwritten: it is remembered (./unsettled.ts) and written before the next batch.
 */
export class IdempotencyMarkers {
	/** markers store a keyed hash of the recipients, never the addresses */
	private readonly keys = new Map<DeliveryJob, string>();
	private readonly tokens = new Map<DeliveryJob, string>();

	private constructor(
		jobs: DeliveryJob[],
		private readonly secret: string,
		private readonly store: StateStore,
		private readonly policy: MarkerPolicy,
	) {
		for (const j of jobs)
			if (j.idempotencyKey !== undefined)
				this.keys.set(j, recipientDigest(secret, j.idempotencyKey));
	}

	/** Settles what earlier batches left unsettled on the store, then keys this batch's markers. */
	static async open(
		store: StateStore,
		jobs: DeliveryJob[],
		policy: MarkerPolicy,
	): Promise<IdempotencyMarkers> {
		await settleUnsettled(store, policy.ttlMs);
		// the secret costs a store call: only fetch it when some job is marked
		const secret = jobs.some((j) => j.idempotencyKey !== undefined) ? await store.hashSecret() : '';
		return new IdempotencyMarkers(jobs, secret, store, policy);
	}

	/** true when the job has duplicate protection */
	marked(job: DeliveryJob): boolean {
		return this.keys.has(job);
	}

	/** A recipient's digest as partial deliveries record it (never the address). */
	recipientDigest(address: string): string {
		return recipientDigest(this.secret, `rcpt\0${address}`);
	}

	/** 'claimed' when this run may send (always, for an unmarked job), else what an earlier run left. */
	async claim(job: DeliveryJob): Promise<OnceClaim> {
		const key = this.keys.get(job);
		if (key === undefined) return { state: 'claimed' };
		const token = randomUUID();
		this.tokens.set(job, token);
		const { ttlMs, leaseMs, owner, resendInDoubt } = this.policy;
		try {
			const [claim] = await this.store.claimOnce(job.campaign, {
				keys: [key],
				token,
				owner,
				leaseMs,
				ttlMs,
				takeExpired: resendInDoubt,
			});
			return claim;
		} catch (error) {
			// the claim may have landed: give it back before the next batch
			rememberUnsettled(this.store, {
				campaign: job.campaign,
				settlement: { key, token, outcome: 'release' },
			});
			throw error;
		}
	}

	/** How the job's claim ended; `delivered` (digests, earlier runs' included) for a partial delivery. */
	async settle(
		job: DeliveryJob,
		outcome: OnceSettlement['outcome'],
		delivered?: string[],
	): Promise<void> {
		const key = this.keys.get(job);
		if (key === undefined) return;
		const settlement: OnceSettlement = { key, token: this.tokens.get(job)!, outcome, delivered };
		try {
			await this.store.settleOnce(job.campaign, [settlement], this.policy.ttlMs);
		} catch (error) {
			rememberUnsettled(this.store, { campaign: job.campaign, settlement });
			throw error;
		}
	}
}
