/**
 * Route reputation on the send side, for one batch: which of its route × group pairs are
 * suspended (their messages are held, on Fallback, nothing sent), which are throttled (their rate
 * limits tightened), and the replies that set a rule off (the pair is suspended or throttled at
 * once, so the batch's next messages to that group are held too, and the reply is not counted
 * against the whole route's circuit: Yahoo deferring Relay A says nothing about Gmail on Relay A).
 * At the end of the batch, the rate rules for the pairs that sent (../reputation/recorder.ts).
 */
import { rateKeys } from '../state/keys';
import { reputationRate, reputationShare } from '../state/reputation';
import type { RateLimit, ReputationState, StateStore } from '../state/types';
import {
	applyChanges,
	rateChanges,
	replyChanges,
	type ReputationNotice,
} from '../reputation/recorder';
import { matchReply, type ReputationRule } from '../reputation/rules';
import type { SendFailure } from '../transports/types';
import type { DeliveryJob } from './types';

const pairKey = (route: string, group: string) => JSON.stringify([route, group]);

export class BatchReputation {
	/** pair → its state as last read or written */
	private readonly states = new Map<string, ReputationState | null>();
	readonly notices: ReputationNotice[] = [];
	/** the first failure to publish the batch's reputation alerts (reported like a feedback failure) */
	alertError?: Error;

	private constructor(
		private readonly store: StateStore,
		private readonly rules: readonly ReputationRule[],
		private readonly clock: () => number,
	) {}

	/** Reads the batch's pairs (jobs with a domain group) in one call. */
	static async load(
		store: StateStore,
		jobs: readonly DeliveryJob[],
		rules: readonly ReputationRule[],
		clock: () => number,
	): Promise<BatchReputation> {
		const r = new BatchReputation(store, rules, clock);
		const pairs = new Map<string, { route: string; group: string }>();
		for (const j of jobs)
			if (j.group) pairs.set(pairKey(j.route, j.group), { route: j.route, group: j.group });
		const list = [...pairs.values()];
		const states = list.length ? await store.getReputation(list) : [];
		list.forEach((p, i) => r.states.set(pairKey(p.route, p.group), states[i]));
		return r;
	}

	private state(job: DeliveryJob): ReputationState | null {
		return job.group ? (this.states.get(pairKey(job.route, job.group)) ?? null) : null;
	}

	/** when the job's route × group suspension ends, or 0 */
	suspendedUntil(job: DeliveryJob): number {
		const s = this.state(job);
		return s && s.suspendedUntil > this.clock() ? s.suspendedUntil : 0;
	}

	/** the state behind a hold, for the record */
	heldBy(job: DeliveryJob): ReputationState | null {
		return this.state(job);
	}

	/**
	 * The job's rate limits under a throttle: its domain-group limit slowed to the throttle's share,
	 * and a ceiling of the rule's messages a minute on the route × group. Unthrottled: as they were.
	 */
	limits(job: DeliveryJob): RateLimit[] {
		const s = this.state(job);
		if (!s || !job.group) return job.limits;
		const now = this.clock();
		const share = reputationShare(s, now);
		const perMinute = reputationRate(s, now);
		if (share >= 1 && perMinute === 0) return job.limits;
		const groupKey = rateKeys.group(job.campaign, job.route, job.group);
		const out = job.limits.map((l) =>
			l.key === groupKey && share > 0 && share < 1 ? { ...l, intervalMs: l.intervalMs / share } : l,
		);
		if (perMinute > 0)
			out.push({
				key: rateKeys.reputation(job.route, job.group),
				intervalMs: 60_000 / perMinute,
				burst: 1,
			});
		return out;
	}

	/**
	 * A refusal: if a reply rule matches it (and the job has a group), the rule acts on the pair now
	 * and the answer is what it did ([] when nothing new; undefined: no rule matched, a route-wide
	 * failure then). A pair already suspended adds nothing: the
	 * replies of messages that were on their way say what the suspension already knows.
	 */
	async refused(job: DeliveryJob, failure: SendFailure): Promise<ReputationNotice[] | undefined> {
		if (!job.group || failure.ok !== false) return undefined;
		const text = [
			failure.enhancedCode,
			failure.message,
			...(failure.refused ?? []).map((r) => r.failure.message),
		]
			.filter(Boolean)
			.join(' ');
		if (!matchReply(text, this.rules)) return undefined;
		if (this.suspendedUntil(job) > 0) return [];
		const { notices, states, alertError } = await applyChanges(
			this.store,
			replyChanges([{ route: job.route, group: job.group, text }], this.rules),
		);
		this.alertError ??= alertError;
		this.learn(states);
		this.notices.push(...notices);
		return notices;
	}

	/** After the batch (and its outcome counts): the rate rules for the pairs that sent. */
	async finish(): Promise<void> {
		const now = this.clock();
		const pairs = [...this.states].map(([k, s]) => {
			const [route, group] = JSON.parse(k) as [string, string];
			return { route, group, evaluatedAt: s?.evaluatedAt ?? 0 };
		});
		const { notices, states, alertError } = await applyChanges(
			this.store,
			await rateChanges(this.store, pairs, this.rules, now),
		);
		this.alertError ??= alertError;
		this.learn(states);
		this.notices.push(...notices);
	}

	private learn(states: Map<string, Record<string, ReputationState>>): void {
		for (const [group, byRoute] of states)
			for (const [route, s] of Object.entries(byRoute)) this.states.set(pairKey(route, group), s);
	}
}
