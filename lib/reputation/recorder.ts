/**
 * Signals into route reputation: a reply (a live refusal, or the diagnostic of a bounce or an
 * ESP's event) that a reply rule matches acts on its route × group at once; the rate rules read
 * the route × group's outcome counters, at most every RATE_EVALUATION_MS, and act, clear, or say
 * nothing. One store write per domain group per call (applyReputationChanges does the rest there).
 * Used by the send node (its own replies) and the feedback nodes (what comes back).
 */
import { publishAlerts, reputationAlert } from '../alerts/emit';
import type { OutcomeCounts } from '../state/outcomes';
import { sumCounts } from '../state/outcomes';
import type {
	AlertInput,
	ReputationChange,
	ReputationEvent,
	ReputationState,
	StateStore,
} from '../state/types';
import {
	matchReply,
	RATE_EVALUATION_MS,
	rateVerdict,
	replyAction,
	type RateRule,
	type ReputationRule,
} from './rules';

export interface ReplySignal {
	route: string;
	group: string;
	/** the reply text, enhanced code included */
	text: string;
}

/** A reputation change that happened, with its route × group, for items and logs. */
export interface ReputationNotice extends ReputationEvent {
	group: string;
}

/** The changes reply signals make: one per signal a rule matches (threshold rules count matches). */
export function replyChanges(
	signals: readonly ReplySignal[],
	rules: readonly ReputationRule[],
): Map<string, ReputationChange[]> {
	const byGroup = new Map<string, ReputationChange[]>();
	for (const s of signals) {
		const rule = matchReply(s.text, rules);
		if (!rule) continue;
		let list = byGroup.get(s.group);
		if (!list) byGroup.set(s.group, (list = []));
		list.push({ kind: 'act', route: s.route, ...replyAction(rule, s.text) });
	}
	return byGroup;
}

/**
 * Writes changes, one store call per group; what happened, per group. Each change that happened is
 * published as an alert (../alerts/emit.ts: one place for every reputation change, the operators'
 * own included); a failure to publish is returned as `alertError`, never thrown.
 */
export async function applyChanges(
	store: StateStore,
	byGroup: ReadonlyMap<string, ReputationChange[]>,
): Promise<{
	notices: ReputationNotice[];
	states: Map<string, Record<string, ReputationState>>;
	/** the store's clock at the last write (0: nothing written) */
	now: number;
	alertError?: Error;
}> {
	const notices: ReputationNotice[] = [];
	const states = new Map<string, Record<string, ReputationState>>();
	const alerts: AlertInput[] = [];
	let now = 0;
	for (const [group, changes] of byGroup) {
		if (changes.length === 0) continue;
		const r = await store.updateReputation(group, changes);
		states.set(group, r.states);
		now = r.now;
		for (const e of r.events) {
			notices.push({ ...e, group });
			alerts.push(reputationAlert({ ...e, group }, r.now));
		}
	}
	const alertError = await publishAlerts(store, alerts);
	return { notices, states, now, ...(alertError ? { alertError } : {}) };
}

/** The buckets from `from` on, summed. */
const sum = (buckets: ReadonlyArray<{ start: number; counts: OutcomeCounts }>, from: number) =>
	sumCounts(buckets.filter((b) => b.start >= from));

/**
 * The rate rules' changes for route × group pairs whose last evaluation is older than
 * RATE_EVALUATION_MS (`evaluatedAt` as their state says; 0: never), plus a "seen" mark for each:
 * one read of the minute counters per pair, over the longest window.
 */
export async function rateChanges(
	store: StateStore,
	pairs: ReadonlyArray<{ route: string; group: string; evaluatedAt: number }>,
	rules: readonly ReputationRule[],
	now: number,
): Promise<Map<string, ReputationChange[]>> {
	const rateRules = rules.filter((r): r is RateRule => r.kind === 'rate');
	const longest = Math.max(0, ...rateRules.map((r) => r.windowMs));
	const byGroup = new Map<string, ReputationChange[]>();
	for (const p of pairs) {
		if (now - p.evaluatedAt < RATE_EVALUATION_MS) continue;
		let list = byGroup.get(p.group);
		if (!list) byGroup.set(p.group, (list = []));
		if (longest > 0) {
			const buckets = await store.readOutcomes(p.route, p.group, 'minute', now - longest, now + 1);
			for (const rule of rateRules) {
				const v = rateVerdict(rule, sum(buckets, now - rule.windowMs));
				if (v.verdict === 'act') list.push({ kind: 'act', route: p.route, ...v.action });
				else if (v.verdict === 'clear') list.push({ kind: 'clear', route: p.route, rule: rule.id });
			}
		}
		list.push({ kind: 'seen', route: p.route, evaluated: true });
	}
	return byGroup;
}

/** Merges per-group change lists (replies first, then rates, in order). */
export function mergeChanges(
	...maps: ReadonlyArray<ReadonlyMap<string, ReputationChange[]>>
): Map<string, ReputationChange[]> {
	const out = new Map<string, ReputationChange[]>();
	for (const m of maps) for (const [g, list] of m) out.set(g, [...(out.get(g) ?? []), ...list]);
	return out;
}
