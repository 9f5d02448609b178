/**
 * The reputation rules: which replies and which rates suspend or throttle a route for one domain
 * group, with the defaults a careful sender would choose (sources in
 * ../../../shared/research/feedback-and-reputation.md §2.3, §7.3: KumoMTA's shaping rules,
 * GreenArrow's throttle programs, Envoy's ejection guard). One place for every default; users
 * change them with the nodes' *Reputation Rules* option (rulesWith).
 *
 * Route signals act (blocks, reputation deferrals, rate-limit replies); list signals (hard bounces,
 * complaints) are the list's fault, not the route's: no rule here moves traffic for them.
 */
import { z } from 'zod';
import type { OutcomeCounts } from '../state/outcomes';
import { rateOf, wilsonLower } from '../state/outcomeRates';
import type { ReputationAction } from '../state/reputation';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** A rule on the text of a reply (a live SMTP or API refusal, or a bounce's diagnostic). */
export interface ReplyRule {
	id: string;
	kind: 'reply';
	description: string;
	/** matched anywhere in the reply text, enhanced code included */
	pattern: RegExp;
	/** acts on every match, or on the count-th within periodMs */
	threshold?: { count: number; periodMs: number };
	action: 'suspend' | 'throttle';
	durationMs: number;
	/** suspend: repeats within a day double up to this */
	maxDurationMs?: number;
	factor?: number;
	ratePerMinute?: number;
}

/** A rule on a rate of the route × group's outcome counters. */
export interface RateRule {
	id: string;
	kind: 'rate';
	description: string;
	metric: 'blockRate' | 'deferralRate';
	windowMs: number;
	/** below this many attempts in the window the rule says nothing */
	minSample: number;
	/** the lower end of the rate's one-sided 90% Wilson interval at or above this throttles … */
	throttleAt: number;
	/** … and at or above this suspends (absent: never suspends) */
	suspendAt?: number;
	/** a throttle it set ends when the rate's plain value falls below throttleAt × this (hysteresis) */
	clearRatio: number;
	durationMs: number;
	maxDurationMs?: number;
	factor: number;
}

export type ReputationRule = ReplyRule | RateRule;

export const DEFAULT_RULES: readonly ReputationRule[] = [
	{
		id: 'yahoo-tss04',
		kind: 'reply',
		description: 'Yahoo / AOL deferred the route for unexpected volume or complaints (TSS04)',
		pattern: /\[TSS?04\]/i,
		action: 'suspend',
		durationMs: 2 * HOUR,
		maxDurationMs: 24 * HOUR,
	},
	{
		id: 'provider-block',
		kind: 'reply',
		description:
			"the provider lists the route's IP on its block list (Yahoo BL, Outlook S3140/S3150)",
		pattern: /\[BL\d\d\]|\bS3(?:140|150)\b|\b(?:OU|SC)-00\d\b/,
		action: 'suspend',
		durationMs: HOUR,
		maxDurationMs: 24 * HOUR,
	},
	{
		id: 'gmail-rate-limit',
		kind: 'reply',
		description:
			'Gmail rate-limits the route for an unusual rate of unsolicited mail (4.7.28), 5 times in an hour',
		pattern: /(?:^|[^.\d])4\.7\.28\b|(?:^|[^.\d])5\.7\.28\b/,
		threshold: { count: 5, periodMs: HOUR },
		action: 'suspend',
		durationMs: HOUR,
		maxDurationMs: 24 * HOUR,
	},
	{
		id: 'comcast-rl',
		kind: 'reply',
		description: 'Comcast rate-limits the route (RL0000), twice in an hour',
		pattern: /\bRL0000\b/,
		threshold: { count: 2, periodMs: HOUR },
		action: 'throttle',
		durationMs: 2 * HOUR,
		factor: 0.5,
	},
	{
		id: 'reputation-defer',
		kind: 'reply',
		description:
			"a deferral for the route's reputation (rate limited due to IP reputation, temporarily deferred)",
		pattern: /rate limited due to (?:IP )?reputation|temporarily deferred/i,
		action: 'throttle',
		durationMs: 90 * MIN,
		factor: 0.5,
		ratePerMinute: 1,
	},
	{
		id: 'block-rate',
		kind: 'rate',
		description: 'blocks in the last hour',
		metric: 'blockRate',
		windowMs: HOUR,
		minSample: 100,
		throttleAt: 0.05,
		suspendAt: 0.2,
		clearRatio: 0.8,
		durationMs: HOUR,
		maxDurationMs: 24 * HOUR,
		factor: 0.5,
	},
	{
		id: 'deferral-rate',
		kind: 'rate',
		description: 'deferrals in the last 15 minutes',
		metric: 'deferralRate',
		windowMs: 15 * MIN,
		minSample: 50,
		throttleAt: 0.3,
		clearRatio: 0.8,
		durationMs: HOUR,
		factor: 0.5,
	},
];

/** Rate rules run at most this often per route × group (their counters move slowly). */
export const RATE_EVALUATION_MS = 30_000;

export { wilsonLower } from '../state/outcomeRates';

/** A rate rule's count and sample (attempts): the block or deferral rate of ../state/outcomeRates.ts. */
export function metricOf(metric: RateRule['metric'], c: OutcomeCounts): { k: number; n: number } {
	return rateOf(metric === 'blockRate' ? 'block' : 'deferral', c);
}

/** The first reply rule the text matches, or undefined. */
export function matchReply(text: string, rules: readonly ReputationRule[]): ReplyRule | undefined {
	for (const r of rules) if (r.kind === 'reply' && r.pattern.test(text)) return r;
	return undefined;
}

/** A reply rule's action, as a store change carries it. */
export function replyAction(rule: ReplyRule, text: string): ReputationAction {
	return {
		action: rule.action,
		rule: rule.id,
		reason: `${rule.description}: "${text.slice(0, 160)}"`,
		durationMs: rule.durationMs,
		...(rule.maxDurationMs ? { maxDurationMs: rule.maxDurationMs } : {}),
		...(rule.factor !== undefined ? { factor: rule.factor } : {}),
		...(rule.ratePerMinute ? { ratePerMinute: rule.ratePerMinute } : {}),
		...(rule.threshold ? { threshold: rule.threshold } : {}),
	};
}

/**
 * What a rate rule says about a window's counters: act (throttle, or a guarded suspension), clear
 * the throttle it set, or nothing (too small a sample, or in between).
 */
export function rateVerdict(
	rule: RateRule,
	counts: OutcomeCounts,
): { verdict: 'act'; action: ReputationAction } | { verdict: 'clear' } | { verdict: 'none' } {
	const { k, n } = metricOf(rule.metric, counts);
	if (n < rule.minSample) return { verdict: 'none' };
	const lower = wilsonLower(k, n);
	const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
	const reason = `${rule.description}: ${k} of ${n} (${pct(k / n)}, at least ${pct(lower)} at 90% confidence)`;
	if (rule.suspendAt !== undefined && lower >= rule.suspendAt)
		return {
			verdict: 'act',
			action: {
				action: 'suspend',
				rule: rule.id,
				reason: `${reason} ≥ ${pct(rule.suspendAt)}`,
				durationMs: rule.durationMs,
				...(rule.maxDurationMs ? { maxDurationMs: rule.maxDurationMs } : {}),
				factor: rule.factor,
				guarded: true,
			},
		};
	if (lower >= rule.throttleAt)
		return {
			verdict: 'act',
			action: {
				action: 'throttle',
				rule: rule.id,
				reason: `${reason} ≥ ${pct(rule.throttleAt)}`,
				durationMs: rule.durationMs,
				factor: rule.factor,
			},
		};
	if (k / n < rule.throttleAt * rule.clearRatio) return { verdict: 'clear' };
	return { verdict: 'none' };
}

// ------------------------------------------------------------------ users' changes to the rules

const duration = z
	.number()
	.positive()
	.max(30 * 24 * 60, 'at most 30 days (43,200 minutes)');
const override = z
	.object({
		rule: z.string().min(1, 'every entry names its rule ("rule": "yahoo-tss04", or a new name)'),
		enabled: z.boolean().optional(),
		/** a reply rule: a regular expression (case-insensitive) */
		match: z.string().min(1).optional(),
		action: z.enum(['suspend', 'throttle']).optional(),
		durationMinutes: duration.optional(),
		maxDurationMinutes: duration.optional(),
		factor: z.number().gt(0).max(1).optional(),
		ratePerMinute: z.number().positive().optional(),
		threshold: z
			.object({ count: z.number().int().min(1), periodMinutes: duration })
			.strict()
			.optional(),
		/** a rate rule */
		minSample: z.number().int().min(1).optional(),
		throttleAt: z.number().gt(0).max(1).optional(),
		suspendAt: z.number().gt(0).max(1).optional(),
	})
	.strict();

export type RuleOverride = z.infer<typeof override>;

/**
 * The rules in force: the defaults, changed by the user's list (JSON: an array of objects, each
 * naming its `rule`). An entry naming a default changes only the fields it names (`"enabled":
 * false` turns the rule off); a new name adds a reply rule and needs match, action and
 * durationMinutes.
 * Throws a message that names the entry and the field (the node puts the option's name before it).
 */
export function rulesWith(json: string | undefined): ReputationRule[] {
	const text = (json ?? '').trim();
	if (text === '' || text === '[]') return [...DEFAULT_RULES];
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch (error) {
		throw new Error(`not valid JSON: ${(error as Error).message}`);
	}
	const parsed = z.array(override).safeParse(raw);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		throw new Error(
			`entry ${issue.path.length ? `${Number(issue.path[0]) + 1}` : ''}${issue.path.length > 1 ? ` field "${issue.path.slice(1).join('.')}"` : ''}: ${issue.message}`,
		);
	}
	const rules = new Map<string, ReputationRule>(DEFAULT_RULES.map((r) => [r.id, r]));
	const off = new Set<string>();
	parsed.data.forEach((o, i) => {
		const id = o.rule;
		const where = `entry ${i + 1} ("${id}")`;
		const base = rules.get(id);
		if (o.enabled === false) {
			off.add(id);
			return;
		}
		off.delete(id);
		let pattern: RegExp | undefined;
		if (o.match !== undefined) {
			try {
				pattern = new RegExp(o.match, 'i');
			} catch (error) {
				throw new Error(`${where}: match is not a regular expression: ${(error as Error).message}`);
			}
		}
		if (!base) {
			if (!pattern || !o.action || o.durationMinutes === undefined)
				throw new Error(
					`${where}: a new rule needs "match" (a regular expression), "action" ("suspend" or "throttle") and "durationMinutes"`,
				);
			rules.set(id, {
				id,
				kind: 'reply',
				description: `rule ${id}`,
				pattern,
				action: o.action,
				durationMs: o.durationMinutes * MIN,
				...(o.maxDurationMinutes ? { maxDurationMs: o.maxDurationMinutes * MIN } : {}),
				...(o.factor !== undefined ? { factor: o.factor } : { factor: 0.5 }),
				...(o.ratePerMinute ? { ratePerMinute: o.ratePerMinute } : {}),
				...(o.threshold
					? { threshold: { count: o.threshold.count, periodMs: o.threshold.periodMinutes * MIN } }
					: {}),
			});
			return;
		}
		const rateOnly = ['minSample', 'throttleAt', 'suspendAt'] as const;
		const replyOnly = ['match', 'action', 'threshold', 'ratePerMinute'] as const;
		for (const f of base.kind === 'reply' ? rateOnly : replyOnly)
			if (o[f] !== undefined)
				throw new Error(`${where}: "${f}" does not apply to a ${base.kind} rule`);
		const changed = { ...base } as ReputationRule & Record<string, unknown>;
		if (o.durationMinutes !== undefined) changed.durationMs = o.durationMinutes * MIN;
		if (o.maxDurationMinutes !== undefined) changed.maxDurationMs = o.maxDurationMinutes * MIN;
		if (o.factor !== undefined) changed.factor = o.factor;
		if (changed.kind === 'reply') {
			if (pattern) changed.pattern = pattern;
			if (o.action) changed.action = o.action;
			if (o.ratePerMinute !== undefined) changed.ratePerMinute = o.ratePerMinute;
			if (o.threshold)
				changed.threshold = { count: o.threshold.count, periodMs: o.threshold.periodMinutes * MIN };
		} else {
			if (o.minSample !== undefined) changed.minSample = o.minSample;
			if (o.throttleAt !== undefined) changed.throttleAt = o.throttleAt;
			if (o.suspendAt !== undefined) changed.suspendAt = o.suspendAt;
		}
		rules.set(id, changed);
	});
	return [...rules.values()].filter((r) => !off.has(r.id));
}

// ------------------------------------------------------------------ list quality (per campaign)

/**
 * A list-quality rule: a rate of the campaign's own totals (every route together), the list's
 * fault, not a route's. It warns, or at its critical level can pause the campaign (the send
 * node's option); it never moves traffic between routes. Sources: SES reviews an account at a 5%
 * bounce rate and 0.1% complaints, Gmail and Yahoo hold bulk senders under 0.3% (research §2.1);
 * the 2% early warning is a proposed bar below SES's.
 */
export interface ListRule {
	id: string;
	description: string;
	metric: 'hardBounce' | 'complaint';
	windowMs: number;
	minSample: number;
	/** the lower end of the 90% Wilson interval at or above: a warning … */
	warnAt: number;
	/** … and critical (the campaign may be paused) */
	criticalAt: number;
}

export const LIST_RULES: readonly ListRule[] = [
	{
		id: 'hard-bounce-rate',
		description: 'hard bounces of the campaign in the last 24 hours',
		metric: 'hardBounce',
		windowMs: 24 * HOUR,
		minSample: 500,
		warnAt: 0.02,
		criticalAt: 0.05,
	},
	{
		id: 'complaint-rate',
		description: 'complaints about the campaign in the last 24 hours',
		metric: 'complaint',
		windowMs: 24 * HOUR,
		minSample: 1000,
		warnAt: 0.001,
		criticalAt: 0.003,
	},
];

export interface ListVerdict {
	rule: string;
	severity: 'warning' | 'critical';
	reason: string;
}

/** What a list rule says about a campaign's totals: a warning, critical, or nothing. */
export function listVerdict(rule: ListRule, counts: OutcomeCounts): ListVerdict | undefined {
	const { k, n } = rateOf(rule.metric, counts);
	if (n < rule.minSample) return undefined;
	const lower = wilsonLower(k, n);
	const severity =
		lower >= rule.criticalAt ? 'critical' : lower >= rule.warnAt ? 'warning' : undefined;
	if (!severity) return undefined;
	const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
	const bar = severity === 'critical' ? rule.criticalAt : rule.warnAt;
	return {
		rule: rule.id,
		severity,
		reason: `${rule.description}: ${k} of ${n} (${pct(k / n)}, at least ${pct(lower)} at 90% confidence) ≥ ${pct(bar)}`,
	};
}
