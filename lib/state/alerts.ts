import { z } from 'zod';

/**
 * Operator alerts as the stores keep them: a bounded log (a Redis stream; in memory and SQLite the
 * same semantics, kept by the functions below) read by consumer groups, each alert delivered once
 * per group and read again by its consumer until acknowledged. ../alerts/ makes them from what
 * happened; the Postal Alert Trigger node reads them.
 */

export const ALERT_TYPES = [
	'route.suspended',
	'route.throttled',
	'route.restored',
	'route.ejected',
	'route.recovered',
	'probe.down',
	'probe.up',
	'provider.enforcement',
	'threshold.warning',
	'warmup.cap-reached',
	'ab.verdict',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** the schema of an alert as published and as read back (a stored one that fails it is skipped) */
export const alertInputSchema = z
	.object({
		type: z.enum(ALERT_TYPES),
		severity: z.enum(ALERT_SEVERITIES),
		/** absent when the alert is about a whole campaign (threshold.warning on its list quality) */
		route: z.string().optional(),
		group: z.string().optional(),
		campaign: z.string().optional(),
		rule: z.string().optional(),
		reason: z.string(),
		/** when it happened (ISO 8601) */
		at: z.string(),
		/** when the state it reports ends, if it does (ISO 8601) */
		until: z.string().optional(),
	})
	.strict();

export type AlertInput = z.infer<typeof alertInputSchema>;

/** An alert as read: with the id the store gave it (a stream id, `0-<n>`, in publish order). */
export interface Alert extends AlertInput {
	id: string;
}

/** the same alert (its scope, `alertScope`) is not published again within this (ms) */
export const DEFAULT_ALERT_COOLDOWN_MS = 15 * 60_000;

/**
 * What makes two alerts "the same" for a cooldown — the store's when it publishes, a trigger's when
 * it emits: the type, route, domain group, campaign, rule and severity (absent parts as empty
 * texts). The one definition both use, so a rule and its scope are the unit everywhere; with the
 * severity, a warning that becomes critical within the cooldown is still heard.
 */
export function alertScope(
	a: Pick<AlertInput, 'type' | 'route' | 'group' | 'campaign' | 'rule' | 'severity'>,
): [type: string, route: string, group: string, campaign: string, rule: string, severity: string] {
	return [a.type, a.route ?? '', a.group ?? '', a.campaign ?? '', a.rule ?? '', a.severity];
}
/** how many alerts the log keeps (Redis: XADD MAXLEN ~, so a few more) */
export const ALERT_LOG_MAX = 10_000;

/** Throws on an alert the schema refuses, naming its position. */
export function checkAlerts(alerts: readonly AlertInput[]): void {
	alerts.forEach((a, i) => {
		const r = alertInputSchema.safeParse(a);
		if (!r.success)
			throw new Error(
				`alert ${i + 1} is not valid: ${r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
			);
	});
}

export function checkCooldown(cooldownMs: number): void {
	if (!Number.isFinite(cooldownMs) || cooldownMs < 0)
		throw new Error('an alert cooldown is a number of milliseconds, 0 or more');
}

export function checkRecentCount(count: number): void {
	if (!Number.isInteger(count) || count < 1)
		throw new Error('reading recent alerts needs a count of 1 or more');
}

export function checkReadArgs(group: string, consumer: string, count: number): void {
	if (!group) throw new Error('reading alerts needs a consumer group name');
	if (!consumer) throw new Error('reading alerts needs a consumer name');
	if (!Number.isInteger(count) || count < 1)
		throw new Error('reading alerts needs a count of 1 or more');
}

/** The stored text of an alert (the stream entry's one field), in a fixed field order. */
export function encodeAlert(a: AlertInput): string {
	return JSON.stringify(alertInputSchema.parse(a));
}

/** An entry back as an alert; null when its text is not one (written by something else). */
export function decodeAlert(id: string, text: string | undefined | null): Alert | null {
	if (typeof text !== 'string') return null;
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		return null;
	}
	const r = alertInputSchema.safeParse(value);
	return r.success ? { id, ...r.data } : null;
}

/** the id of the n-th alert published (1-based): a stream id, so Redis and the embedded stores agree */
export const alertId = (seq: number): string => `0-${seq}`;

/** the sequence number in an id; NaN for an id no store gave */
export function alertSeq(id: string): number {
	const m = /^0-(\d+)$/.exec(id);
	return m ? Number(m[1]) : NaN;
}

/** A consumer group of the embedded stores: the last id it was given and each consumer's pending ids. */
export interface AlertGroupState {
	last: number;
	pending: Record<string, number[]>;
}

/** What an embedded store's log offers the read rule. */
export interface AlertLogView {
	/** the last sequence number published (0: none) */
	lastSeq: number;
	/** the entry's text, or undefined once trimmed */
	get(seq: number): string | undefined;
	/** up to `count` entries after `seq`, in order */
	after(seq: number, count: number): Array<[number, string]>;
}

/**
 * XREADGROUP as the embedded stores run it: a group made on first use starts at the log's end
 * ($); a consumer's pending entries come first (id 0: delivered, not acknowledged; one trimmed
 * from the log is dropped from pending), and only when it has none, new entries (>), which become
 * its pending ones.
 */
export function readAlertGroup(
	stored: AlertGroupState | undefined,
	log: AlertLogView,
	consumer: string,
	count: number,
): { state: AlertGroupState; entries: Array<[number, string]> } {
	const state: AlertGroupState = stored
		? { last: stored.last, pending: { ...stored.pending } }
		: { last: log.lastSeq, pending: {} };
	const own = state.pending[consumer] ?? [];
	const live = own.filter((s) => log.get(s) !== undefined);
	if (live.length !== own.length) {
		if (live.length) state.pending[consumer] = live;
		else delete state.pending[consumer];
	}
	if (live.length)
		return {
			state,
			entries: live.slice(0, count).map((s) => [s, log.get(s)!] as [number, string]),
		};
	const fresh = log.after(state.last, count);
	if (fresh.length) {
		state.last = fresh[fresh.length - 1][0];
		state.pending[consumer] = fresh.map(([s]) => s);
	}
	return { state, entries: fresh };
}

/** XACK: drops ids from the group's pending entries; how many were pending. */
export function ackAlertGroup(
	stored: AlertGroupState | undefined,
	ids: readonly string[],
): { state: AlertGroupState | undefined; acked: number } {
	if (!stored) return { state: undefined, acked: 0 };
	const drop = new Set(ids.map(alertSeq).filter((s) => Number.isFinite(s)));
	let acked = 0;
	const pending: Record<string, number[]> = {};
	for (const [consumer, seqs] of Object.entries(stored.pending)) {
		const keep = seqs.filter((s) => !drop.has(s));
		acked += seqs.length - keep.length;
		if (keep.length) pending[consumer] = keep;
	}
	return { state: { last: stored.last, pending }, acked };
}
