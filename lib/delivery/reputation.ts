/**
 * Route reputation on the send side, for one batch: which of its route × group pairs are
 * suspended (their messages are held, on Fallback, nothing sent), which are throttled (their rate
 * limits tightened), and the replies that set a rule off (the pair is suspended or throttled at
 * once, so the batch's next messages to that group are held too, and the reply is not counted
 * against the whole route's circuit: Yahoo deferring Relay A says nothing about Gmail on Relay A).
 * At the end of the batch, the rate rules for the pairs that sent (../reputation/recorder.ts).
 */
import { listQualityAlert, publishAlerts } from '../alerts/emit';
import { rateKeys } from '../state/keys';
import { reputationRate, reputationShare } from '../state/reputation';
import type { RateLimit, ReputationState, StateStore } from '../state/types';
import {
	applyChanges,
	rateChanges,
	replyChanges,
	type ReputationNotice,
} from '../reputation/recorder';
import {
	LIST_RULES,
	listVerdict,
	matchReply,
	RATE_EVALUATION_MS,
	type ReputationRule,
} from '../reputation/rules';
import { bucketStart, CAMPAIGN_TOTALS_ROUTE, sumCounts } from '../state/outcomes';
import type { CampaignPause } from '../state/types';
import type { SendFailure } from '../transports/types';
import type { DeliveryJob } from './types';

const pairKey = (route: string, group: string) => JSON.stringify([route, group]);

/** A list-quality verdict on a campaign (its hard bounces or complaints), and the pause it made. */
export interface ListQualityNotice {
	campaign: string;
	rule: string;
	severity: 'warning' | 'critical';
	reason: string;
	/** ISO time the campaign is paused until, when the verdict paused it */
	pausedUntil?: string;
}

/** what pausing a campaign for its list quality takes: off unless the send node asks */
export interface CampaignPausePolicy {
	pauseMs: number;
}

/**
 * When each campaign's list quality was last evaluated in this process, per policy (warn or
 * pause): at most every RATE_EVALUATION_MS, since it reads a day of hour buckets (a funnel sending
 * one message per execution would otherwise read them for every message).
 */
const listEvaluatedAt = new Map<string, number>();

export class BatchReputation {
	/** pair → its state as last read or written */
	private readonly states = new Map<string, ReputationState | null>();
	/** campaign → its pause in force */
	private readonly pauses = new Map<string, CampaignPause>();
	private readonly campaigns = new Set<string>();
	readonly notices: ReputationNotice[] = [];
	readonly listQuality: ListQualityNotice[] = [];
	/** the first failure to publish the batch's reputation alerts (reported like a feedback failure) */
	alertError?: Error;

	private constructor(
		private readonly store: StateStore,
		private readonly rules: readonly ReputationRule[],
		private readonly clock: () => number,
		private readonly pausePolicy?: CampaignPausePolicy,
	) {}

	/** Reads the batch's pairs (jobs with a domain group) in one call. */
	static async load(
		store: StateStore,
		jobs: readonly DeliveryJob[],
		rules: readonly ReputationRule[],
		clock: () => number,
		pausePolicy?: CampaignPausePolicy,
	): Promise<BatchReputation> {
		const r = new BatchReputation(store, rules, clock, pausePolicy);
		const pairs = new Map<string, { route: string; group: string }>();
		for (const j of jobs) {
			r.campaigns.add(j.campaign);
			if (j.group) pairs.set(pairKey(j.route, j.group), { route: j.route, group: j.group });
		}
		const list = [...pairs.values()];
		const campaigns = [...r.campaigns];
		const [states, pauses] = await Promise.all([
			list.length ? store.getReputation(list) : Promise.resolve([]),
			store.getCampaignPauses(campaigns),
		]);
		list.forEach((p, i) => r.states.set(pairKey(p.route, p.group), states[i]));
		campaigns.forEach((c, i) => {
			const p = pauses[i];
			if (p) r.pauses.set(c, p);
		});
		return r;
	}

	/** the pause the job's campaign is under now, if any */
	pausedBy(job: DeliveryJob): CampaignPause | undefined {
		const p = this.pauses.get(job.campaign);
		return p && p.until > this.clock() ? p : undefined;
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
		await this.listQualityOf(now);
	}

	/**
	 * The batch's campaigns' list quality (hard bounces, complaints over their own totals): a
	 * warning or critical verdict becomes a notice and a `threshold.warning` alert (its severity,
	 * the pause in its reason); critical pauses the campaign when the send node asks. Not a route's
	 * fault, so nothing here moves traffic between routes.
	 */
	private async listQualityOf(now: number): Promise<void> {
		const from = this.listQuality.length;
		for (const campaign of this.campaigns) {
			// per policy: a node that pauses does not wait for one that only warns
			const memo = `${this.pausePolicy ? 'pause' : 'warn'}|${campaign}`;
			if (now - (listEvaluatedAt.get(memo) ?? 0) < RATE_EVALUATION_MS) continue;
			listEvaluatedAt.set(memo, now);
			const longest = Math.max(...LIST_RULES.map((r) => r.windowMs));
			const buckets = await this.store.readOutcomes(
				CAMPAIGN_TOTALS_ROUTE,
				campaign,
				'hour',
				now - longest,
				now + 1,
			);
			for (const rule of LIST_RULES) {
				// the window in whole hours: from the hour it begins in
				const from = bucketStart(now - rule.windowMs, 'hour');
				const v = listVerdict(rule, sumCounts(buckets.filter((b) => b.start >= from)));
				if (!v) continue;
				const notice: ListQualityNotice = { campaign, ...v };
				if (v.severity === 'critical' && this.pausePolicy && !this.pauses.has(campaign)) {
					const pause = {
						until: now + this.pausePolicy.pauseMs,
						rule: v.rule,
						reason: v.reason,
						since: now,
					};
					await this.store.setCampaignPause(campaign, pause);
					this.pauses.set(campaign, pause);
					notice.pausedUntil = new Date(pause.until).toISOString();
				}
				this.listQuality.push(notice);
			}
		}
		const alertError = await publishAlerts(
			this.store,
			this.listQuality.slice(from).map((n) => {
				const inForce = this.pauses.get(n.campaign);
				return listQualityAlert(
					n,
					now,
					inForce && inForce.until > now ? new Date(inForce.until).toISOString() : undefined,
				);
			}),
		);
		this.alertError ??= alertError;
	}

	private learn(states: Map<string, Record<string, ReputationState>>): void {
		for (const [group, byRoute] of states)
			for (const [route, s] of Object.entries(byRoute)) this.states.set(pairKey(route, group), s);
	}
}
