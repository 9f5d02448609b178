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
	/** jobs whose message the batch's first look found sent */
	private readonly sent = new Set<DeliveryJob>();

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

	/**
	 * Settles what earlier batches left unsettled on the store, keys this batch's markers, and looks
	 * (one call per campaign, writing nothing) at the markers of the jobs that will wait for a rate
	 * limit: a message sent before is skipped at once, not after a wait and a slot it does not need.
	 */
	static async open(
		store: StateStore,
		jobs: DeliveryJob[],
		policy: MarkerPolicy,
	): Promise<IdempotencyMarkers> {
		await settleUnsettled(store, policy.ttlMs);
		// the secret costs a store call: only fetch it when some job is marked
		const secret = jobs.some((j) => j.idempotencyKey !== undefined) ? await store.hashSecret() : '';
		const markers = new IdempotencyMarkers(jobs, secret, store, policy);
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
