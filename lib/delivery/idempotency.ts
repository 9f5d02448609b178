import { randomUUID } from 'node:crypto';
import { recipientDigest } from '../state/keys';
import type { OnceState, StateStore } from '../state/types';
import type { DeliveryJob } from './types';
import { rememberUnsettled, settleUnsettled } from './unsettled';

/**
 * Duplicate protection for one batch: a marker per job that has an idempotency key, claimed
 * ('pending', under a token of this run), then confirmed ('sent') or released. A marker held as
 * pending by a run that never finished is never sent again. A store call that fails leaves its
 * marker unsettled: it is remembered (./unsettled.ts) and settled before the next batch.
 */
export class IdempotencyMarkers {
	/** markers store a keyed hash of the recipients, never the addresses */
	private readonly keys = new Map<DeliveryJob, string>();
	private readonly tokens = new Map<DeliveryJob, string>();

	private constructor(
		jobs: DeliveryJob[],
		secret: string,
		private readonly store: StateStore,
		private readonly ttlMs: number,
	) {
		for (const j of jobs)
			if (j.idempotencyKey !== undefined)
				this.keys.set(j, recipientDigest(secret, j.idempotencyKey));
	}

	/** Settles what earlier batches left unsettled on the store, then keys this batch's markers. */
	static async open(
		store: StateStore,
		jobs: DeliveryJob[],
		ttlMs: number,
	): Promise<IdempotencyMarkers> {
		await settleUnsettled(store, ttlMs);
		// the secret costs a store call: only fetch it when some job is marked
		const secret = jobs.some((j) => j.idempotencyKey !== undefined) ? await store.hashSecret() : '';
		return new IdempotencyMarkers(jobs, secret, store, ttlMs);
	}

	/** 'claimed' when this run may send (always, for an unmarked job), else what an earlier run left. */
	async claim(job: DeliveryJob): Promise<OnceState> {
		if (!this.keys.has(job)) return 'claimed';
		this.tokens.set(job, randomUUID());
		let state: OnceState = 'claimed';
		await this.guarded(
			job,
			false,
			async (key, token) =>
				(state = (await this.store.claimOnce(job.campaign, [key], this.ttlMs, token))[0]),
		);
		return state;
	}

	/** the message went: the marker stays, as sent */
	confirm(job: DeliveryJob): Promise<void> {
		return this.guarded(job, true, (key) =>
			this.store.confirmOnce(job.campaign, [key], this.ttlMs),
		);
	}

	/** the message did not go: free the marker so a later run may send it */
	release(job: DeliveryJob): Promise<void> {
		return this.guarded(job, false, (key, token) =>
			this.store.releaseOnce(job.campaign, [key], token),
		);
	}

	/** `sent` says how a failed call is settled later: confirmed, or released */
	private async guarded(
		job: DeliveryJob,
		sent: boolean,
		call: (key: string, token: string) => Promise<unknown>,
	): Promise<void> {
		const key = this.keys.get(job);
		if (key === undefined) return;
		const token = this.tokens.get(job)!;
		try {
			await call(key, token);
		} catch (error) {
			rememberUnsettled(this.store, { campaign: job.campaign, key, token, sent });
			throw error;
		}
	}
}
