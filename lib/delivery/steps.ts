import type {
	DeliveryStepAnswer,
	DeliveryStepRequest,
	OnceClaim,
	OnceSettlement,
	RateLimit,
	StateStore,
} from '../state/types';

/** What every step of one batch asks with (DeliveryStepRequest without its lists). */
export type StepPolicy = Omit<DeliveryStepRequest, 'settle' | 'claim' | 'reserve'>;

/** A rate slot to reserve: the limits, and the marker that must be free first. */
export interface SlotRequest {
	limits: RateLimit[];
	marker?: { scope: string; key: string };
}

export type SlotAnswer = DeliveryStepAnswer['reservations'][number];

/** One settlement the store did not take, for ./unsettled.ts. */
export interface SettlementEntry {
	scope: string;
	settlement: OnceSettlement;
}

/**
 * How long a settlement may wait for the next step to go with. A crash in that time leaves the
 * message's lease behind (in doubt, as for a message on the wire), so it is short: at 100
 * messages a second and more the next claim comes sooner; below that a settlement goes alone.
 */
export const SETTLE_WAIT_MS = 10;

interface Pending<T> {
	resolve: (value: T) => void;
	reject: (error: Error) => void;
}

/**
 * The batch's state-store steps, coalesced so that a sent message costs one store call.
 *
 * A try has three store moments: the reservation of its rate slot (before its wait), the claim of
 * its marker (when the slot has come, so a crash while waiting leaves no lease), and its
 * settlement (after the send). Claims and reservations asked for in the same turn of the event loop
 * go as one deliveryStep call; each claim also reserves the slot of the next job in the batch's
 * order (`upcoming`), so by the time a worker takes that job its slot is known; a settlement goes
 * with the next step, or alone after SETTLE_WAIT_MS. One call is in flight at a time: what is asked
 * meanwhile goes in the next. A job does not wait for its settlement: `drain` waits for all of
 * them, and one the store did not take goes to `onSettleFailure`.
 */
export class DeliverySteps<J> {
	private claims: Array<{ scope: string; key: string; token: string } & Pending<OnceClaim>> = [];
	private slots: Array<{ request: SlotRequest } & Pending<SlotAnswer>> = [];
	private settlements: SettlementEntry[] = [];
	/** slots reserved ahead, per job; a job takes its own when it starts */
	private readonly ahead = new Map<J, Promise<SlotAnswer>>();
	/** jobs whose slot was reserved or asked for */
	private readonly asked = new Set<J>();
	private cursor = 0;
	private immediate = false;
	private timer?: NodeJS.Timeout;
	private running?: Promise<void>;

	/**
	 * @param order the jobs in the order the workers take them
	 * @param slotOf a job's slot request; undefined when it needs none (no limits, or skipped)
	 */
	constructor(
		private readonly store: StateStore,
		private readonly policy: StepPolicy,
		private readonly order: readonly J[],
		private readonly slotOf: (job: J) => SlotRequest | undefined,
		private readonly onSettleFailure: (entries: SettlementEntry[], error: Error) => void,
	) {}

	/**
	 * The job's rate slot: the one reserved ahead for it, or a new reservation. A slot reserved
	 * ahead and refused (too far away) is asked for again: asked earlier, it looked further away.
	 */
	async reserve(job: J, request: SlotRequest): Promise<SlotAnswer> {
		this.asked.add(job);
		const early = this.ahead.get(job);
		if (early) {
			this.ahead.delete(job);
			const answer = await early;
			if (!('rate' in answer) || answer.rate.granted) return answer;
		}
		return this.enqueue((p) => this.slots.push({ request, ...p }));
	}

	/** Claims a marker (its lease starts now). */
	claim(scope: string, key: string, token: string): Promise<OnceClaim> {
		return this.enqueue((p) => this.claims.push({ scope, key, token, ...p }));
	}

	/**
	 * Settles a try: written with the next step (see SETTLE_WAIT_MS), or `promptly` when its
	 * worker will wait now (a claim given back before a retry's pause is free for others at once).
	 */
	settle(scope: string, settlement: OnceSettlement, promptly = false): void {
		this.settlements.push({ scope, settlement });
		this.schedule(promptly);
	}

	/** Resolves once everything asked for so far is written, or has failed. */
	async drain(): Promise<void> {
		while (this.running || this.hasPending()) {
			if (this.running) await this.running;
			else {
				this.schedule(true);
				await new Promise((resolve) => setImmediate(resolve));
			}
		}
	}

	private enqueue<T>(push: (p: Pending<T>) => void): Promise<T> {
		return new Promise<T>((resolve, reject) => {
			push({ resolve, reject });
			this.schedule(true);
		});
	}

	private hasPending(): boolean {
		return this.claims.length + this.slots.length + this.settlements.length > 0;
	}

	/** now: after this turn's microtasks (a job that settled has handed its worker the next job) */
	private schedule(now: boolean): void {
		if (this.running) return;
		if (now) {
			if (this.immediate) return;
			clearTimeout(this.timer);
			this.timer = undefined;
			this.immediate = true;
			setImmediate(() => this.start());
		} else if (!this.immediate && !this.timer)
			this.timer = setTimeout(() => this.start(), SETTLE_WAIT_MS);
	}

	private start(): void {
		this.immediate = false;
		this.timer = undefined;
		if (this.running || !this.hasPending()) return;
		this.running = this.flush().finally(() => {
			this.running = undefined;
			if (this.claims.length + this.slots.length > 0) this.schedule(true);
			else if (this.settlements.length > 0) this.schedule(false);
		});
	}

	/** The next jobs in order that need a slot and have none: reserved ahead, one per claim. */
	private upcoming(n: number): Array<{ job: J; request: SlotRequest }> {
		const out: Array<{ job: J; request: SlotRequest }> = [];
		while (out.length < n && this.cursor < this.order.length) {
			const job = this.order[this.cursor++];
			if (this.asked.has(job)) continue;
			const request = this.slotOf(job);
			if (!request) continue;
			this.asked.add(job);
			out.push({ job, request });
		}
		return out;
	}

	private async flush(): Promise<void> {
		const { claims, slots, settlements } = this;
		this.claims = [];
		this.slots = [];
		this.settlements = [];
		const early = claims.length > 0 ? this.upcoming(claims.length) : [];
		const answers = this.store.deliveryStep({
			...this.policy,
			settle: settlements,
			claim: claims.map(({ scope, key, token }) => ({ scope, key, token })),
			reserve: [...slots.map((s) => s.request), ...early.map((e) => e.request)],
		});
		early.forEach(({ job }, k) => {
			const slot = answers.then((a) => a.reservations[slots.length + k]);
			// its job sees the failure when it takes the slot; a batch that stops may never take it
			slot.catch(() => undefined);
			this.ahead.set(job, slot);
		});
		try {
			const { claims: found, reservations } = await answers;
			claims.forEach((c, k) => c.resolve(found[k]));
			slots.forEach((s, k) => s.resolve(reservations[k]));
		} catch (error) {
			if (settlements.length > 0) this.onSettleFailure(settlements, error as Error);
			for (const p of [...claims, ...slots]) p.reject(error as Error);
		}
	}
}
