/**
 * Reading alerts for one consumer group (the Postal Alert Trigger's): which alerts a trigger wants
 * (its filter, a zod schema at the node's boundary), and one poll: read, keep what matches and is
 * not in the trigger's cooldown, hand it on, then acknowledge everything read — what the filter or
 * the cooldown dropped too, or it would be read again.
 */
import { z } from 'zod';
import {
	ALERT_SEVERITIES,
	ALERT_TYPES,
	alertScope,
	type Alert,
	type AlertSeverity,
} from '../state/alerts';
import { seenKeys } from '../state/keys';
import type { StateStore } from '../state/types';

/** a comma- or newline-separated list of names; empty: any */
const names = z
	.union([z.string(), z.array(z.string())])
	.default('')
	.transform((v) => (Array.isArray(v) ? v : v.split(/[,\n]/)).map((s) => s.trim()).filter(Boolean));

export const alertFilterSchema = z.object({
	/** empty: every type */
	types: z.array(z.enum(ALERT_TYPES)).default([]),
	routes: names,
	groups: names,
	minimumSeverity: z.enum(ALERT_SEVERITIES).default('info'),
	/**
	 * the trigger's own cooldown (minutes; 0: every alert): the same alert — type, route, group,
	 * campaign, rule and severity (../state/alerts.ts alertScope) — is emitted at most once per cooldown
	 */
	cooldownMinutes: z.coerce
		.number()
		.min(0)
		.max(7 * 24 * 60)
		.default(0),
});
export type AlertFilter = z.infer<typeof alertFilterSchema>;

const RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

/** Whether a trigger with this filter emits the alert (an alert without a group matches no group filter). */
export function alertMatches(filter: AlertFilter, alert: Alert): boolean {
	if (filter.types.length && !filter.types.includes(alert.type)) return false;
	if (filter.routes.length && (alert.route === undefined || !filter.routes.includes(alert.route)))
		return false;
	if (filter.groups.length && (alert.group === undefined || !filter.groups.includes(alert.group)))
		return false;
	return RANK[alert.severity] >= RANK[filter.minimumSeverity];
}

export interface PollOptions {
	group: string;
	consumer: string;
	/** alerts per read; a poll reads until a read gives fewer */
	count?: number;
	/** at most this many reads per poll (a burst is taken over several polls) */
	maxReads?: number;
	/** asked before each emit: true stops the poll there, what was read left unacknowledged */
	stopped?: () => boolean;
	/**
	 * the ids of alerts this consumer took a cooldown mark for but did not get acknowledged (the
	 * emit failed): read again, they are emitted without a second look at their mark, which is now
	 * their own. Kept by the caller across polls (AlertPoller does).
	 */
	claimed?: Set<string>;
}

/**
 * The alerts outside the trigger's cooldown: each takes its scope's mark in the store (markSeen:
 * SET NX PX on Redis, so two mains running the same trigger agree) for the cooldown; one whose
 * scope is marked already is dropped. Alerts of one scope in the same read: the first goes.
 */
export async function outsideCooldown(
	store: StateStore,
	group: string,
	cooldownMs: number,
	alerts: readonly Alert[],
	claimed?: Set<string>,
): Promise<Alert[]> {
	if (cooldownMs <= 0 || alerts.length === 0) return [...alerts];
	const ask = alerts.filter((a) => !claimed?.has(a.id));
	const fresh = ask.length
		? await store.markSeen(
				ask.map((a) => seenKeys.alert(group, alertScope(a))),
				cooldownMs,
			)
		: [];
	const took = new Set(ask.filter((_, i) => fresh[i]).map((a) => a.id));
	for (const id of took) claimed?.add(id);
	return alerts.filter((a) => claimed?.has(a.id) || took.has(a.id));
}

/**
 * One poll: reads the group's alerts (the consumer's pending ones first), emits the matching ones
 * outside the filter's cooldown (`emit` is not called when none are left), then acknowledges
 * every alert read. If `emit` throws, nothing is acknowledged: the next poll reads the same
 * alerts again (with `claimed`, those it marked go out then). Resolves to how many were read and
 * emitted.
 */
export async function pollAlerts(
	store: StateStore,
	options: PollOptions,
	filter: AlertFilter,
	emit: (alerts: Alert[]) => void | Promise<void>,
): Promise<{ read: number; emitted: number }> {
	const count = options.count ?? 100;
	const maxReads = options.maxReads ?? 10;
	let read = 0;
	let emitted = 0;
	for (let k = 0; k < maxReads; k++) {
		const alerts = await store.readAlerts(options.group, options.consumer, { count });
		if (alerts.length === 0) break;
		read += alerts.length;
		if (options.stopped?.()) break;
		const wanted = await outsideCooldown(
			store,
			options.group,
			Math.round((filter.cooldownMinutes ?? 0) * 60_000),
			alerts.filter((a) => alertMatches(filter, a)),
			options.claimed,
		);
		if (options.stopped?.()) break;
		if (wanted.length) await emit(wanted);
		emitted += wanted.length;
		await store.ackAlerts(
			options.group,
			alerts.map((a) => a.id),
		);
		for (const a of wanted) options.claimed?.delete(a.id);
		if (alerts.length < count) break;
	}
	return { read, emitted };
}

/**
 * Polls one after another (never two reads at once), every `intervalMs` after the last poll ended.
 * A failed poll (Redis away) is reported and the next one tries again: pending alerts wait in the
 * store. `stop` waits for a poll under way, so nothing is emitted after the workflow is closed.
 */
export class AlertPoller {
	private timer?: ReturnType<typeof setTimeout>;
	private running?: Promise<void>;
	private stopped = false;
	/** alerts whose cooldown mark this poller took, emitted but not yet acknowledged */
	private readonly claimed = new Set<string>();

	constructor(
		private readonly store: StateStore,
		private readonly consumer: { group: string; consumer: string },
		private readonly filter: AlertFilter,
		private readonly emit: (alerts: Alert[]) => void,
		private readonly report: (error: Error) => void,
	) {}

	/** the first poll at once: it makes the group, so alerts from now on are the workflow's */
	async start(intervalMs: number): Promise<void> {
		const loop = async () => {
			this.running = this.poll();
			await this.running;
			this.running = undefined;
			if (!this.stopped) this.timer = setTimeout(() => void loop(), intervalMs);
		};
		await loop();
	}

	private async poll(): Promise<void> {
		try {
			// closed while reading: what was read stays pending and is read again on activation
			await pollAlerts(
				this.store,
				{ ...this.consumer, stopped: () => this.stopped, claimed: this.claimed },
				this.filter,
				this.emit,
			);
		} catch (error) {
			if (!this.stopped) this.report(error as Error);
		}
	}

	async stop(): Promise<void> {
		this.stopped = true;
		if (this.timer) clearTimeout(this.timer);
		await this.running;
	}
}
