/**
 * What operators are alerted to, made from what happened, and published without ever failing the
 * work that made it happen (a send, a feedback batch, an operator's control). The store keeps the
 * alert log and the cooldown (../state/alerts.ts); the Postal Alert Trigger node reads it.
 * The emission points, one each: route reputation changes (../reputation/recorder.ts applyChanges,
 * ../operations/control.ts, an applied A/B verdict included), a circuit that opens or closes after
 * a probe (../delivery/health.ts), Probe Connection's runs (../delivery/probe.ts: a route its probes
 * take out or bring back, a provider account's enforcement status that changed), a campaign's
 * list-quality verdict (../delivery/reputation.ts), a route whose warm-up cap made the partitioner
 * spill (../routing/partitioner.ts), and a Compare Routes verdict (../operations/control.ts
 * applyCompareVerdict). No alert carries an address.
 */
import type { AlertInput, CircuitState, ReputationEvent, StateStore } from '../state/types';

const iso = (ms: number) => new Date(ms).toISOString();

/** A reputation change as its alert: suspensions are critical, throttles warnings, the end of either info. */
export function reputationAlert(
	event: ReputationEvent & { group: string },
	now: number,
	campaign?: string,
): AlertInput {
	const common = {
		route: event.route,
		group: event.group,
		...(campaign ? { campaign } : {}),
		...(event.rule ? { rule: event.rule } : {}),
		at: iso(now),
	};
	switch (event.what) {
		case 'suspended':
			return {
				type: 'route.suspended',
				severity: 'critical',
				...common,
				reason: event.reason || 'suspended',
				...(event.until > 0 ? { until: iso(event.until) } : {}),
			};
		case 'throttled':
		case 'downgraded':
			return {
				type: 'route.throttled',
				severity: 'warning',
				...common,
				reason:
					event.what === 'downgraded'
						? `${event.reason || 'suspension'} (throttled instead: half of the group's routes are suspended already)`
						: event.reason || 'throttled',
				...(event.until > 0 ? { until: iso(event.until) } : {}),
			};
		default:
			return {
				type: 'route.restored',
				severity: 'info',
				...common,
				reason:
					event.what === 'released' ? 'released: full traffic again' : event.reason || 'cleared',
			};
	}
}

/** A circuit that opened: the route is ejected from its campaign until `openUntil`. */
export function ejectionAlert(
	campaign: string,
	route: string,
	state: CircuitState,
	now: number,
	reason: string,
): AlertInput {
	return {
		type: 'route.ejected',
		severity: 'critical',
		route,
		...(campaign ? { campaign } : {}),
		reason,
		at: iso(now),
		until: iso(state.openUntil),
	};
}

/** A circuit that closed after its probe succeeded: the route takes traffic again. */
export function recoveryAlert(campaign: string, route: string, now: number): AlertInput {
	return {
		type: 'route.recovered',
		severity: 'info',
		route,
		...(campaign ? { campaign } : {}),
		reason: 'a probe after the ejection succeeded: the route takes traffic again',
		at: iso(now),
	};
}

/** Probes took the route out: its circuit opened on a failed probe (Fall failures in a row). */
export function probeDownAlert(
	campaign: string,
	route: string,
	openUntil: number,
	now: number,
	error: string,
): AlertInput {
	return {
		type: 'probe.down',
		severity: 'critical',
		route,
		...(campaign ? { campaign } : {}),
		rule: 'probe',
		reason: `the route failed its probes and is taken out: ${error}`,
		at: iso(now),
		until: iso(openUntil),
	};
}

/** Probes brought the route back: `rise` passing probes in a row closed its circuit. */
export function probeUpAlert(
	campaign: string,
	route: string,
	rise: number,
	now: number,
): AlertInput {
	return {
		type: 'probe.up',
		severity: 'info',
		route,
		...(campaign ? { campaign } : {}),
		rule: 'probe',
		reason:
			rise === 1
				? 'a probe passed: the route takes traffic again'
				: `${rise} probes in a row passed: the route takes traffic again`,
		at: iso(now),
	};
}

/**
 * A provider account's enforcement status (SES: HEALTHY, PROBATION, SHUTDOWN) other than the one
 * the probe saw last: SHUTDOWN critical, PROBATION (or a status we do not know) a warning, back
 * to HEALTHY info.
 */
export function enforcementAlert(
	campaign: string,
	route: string,
	status: string,
	previous: string | undefined,
	now: number,
): AlertInput {
	const severity = status === 'SHUTDOWN' ? 'critical' : status === 'HEALTHY' ? 'info' : 'warning';
	const what =
		status === 'SHUTDOWN'
			? 'the provider has stopped the account’s sending'
			: status === 'PROBATION'
				? 'the provider put the account on probation: it may stop its sending if the bounce or complaint rate stays high'
				: status === 'HEALTHY'
					? 'the account is in good standing again'
					: 'the account’s standing changed';
	return {
		type: 'provider.enforcement',
		severity,
		route,
		...(campaign ? { campaign } : {}),
		rule: 'probe',
		reason: `enforcement status ${status}${previous ? ` (was ${previous})` : ''}: ${what}`,
		at: iso(now),
	};
}

/**
 * A campaign's list quality over a bar (../reputation/rules.ts LIST_RULES: hard bounces or
 * complaints over the campaign's own totals): `threshold.warning`, warning or critical as the
 * verdict; a campaign-wide alert (no route, no group).
 */
export function listQualityAlert(
	notice: {
		campaign: string;
		rule: string;
		severity: 'warning' | 'critical';
		reason: string;
		pausedUntil?: string;
	},
	now: number,
	/** a pause of the campaign already in force (ISO end), when this verdict did not make one */
	pausedAlready?: string,
): AlertInput {
	const paused = notice.pausedUntil
		? `; the campaign is paused until ${notice.pausedUntil} (its messages go to Fallback unsent)`
		: pausedAlready
			? `; the campaign is paused already, until ${pausedAlready}`
			: '';
	return {
		type: 'threshold.warning',
		severity: notice.severity,
		...(notice.campaign ? { campaign: notice.campaign } : {}),
		rule: notice.rule,
		reason: `list quality of campaign "${notice.campaign}": ${notice.reason}${paused}`,
		at: iso(now),
		...(notice.pausedUntil ? { until: notice.pausedUntil } : {}),
	};
}

/**
 * A route whose warm-up cap for the day is reached, so the partitioner spills its items to the
 * other routes until the sending day ends (`resetAt`). `reason` is the spill reason
 * ("Relay B: warm-up cap 90 for day 3 reached").
 */
export function warmupCapAlert(
	campaign: string,
	route: string,
	reason: string,
	now: number,
	resetAt: number,
): AlertInput {
	return {
		type: 'warmup.cap-reached',
		severity: 'warning',
		route,
		...(campaign ? { campaign } : {}),
		rule: 'warm-up',
		reason: `${reason}: its items go to the other routes until the sending day ends`,
		at: iso(now),
		until: iso(resetAt),
	};
}

/**
 * A Compare Routes verdict (../operations/compare.ts): a winner, or no difference once the sample
 * is reached; info. The route is the winner (no difference: the best route); the rule names the
 * metric, so verdicts on two metrics are two alerts.
 */
export function verdictAlert(
	verdict: {
		group: string;
		metric: string;
		/** latency: the bound of the share compared */
		slowerThanMs?: number;
		verdict: string;
		best?: string;
		worst?: string;
		winner?: string;
		pValue?: number;
		summary: string;
	},
	now: number,
	/** the verdict applied: the loser keeps `share` of its traffic for the group for `hours` */
	applied?: { route: string; share: number; hours: number },
): AlertInput {
	const p = verdict.pValue === undefined ? '' : `, p-value ${verdict.pValue.toPrecision(2)}`;
	const metricText =
		verdict.metric === 'latency'
			? `the share of accepts slower than ${verdict.slowerThanMs} ms`
			: `${verdict.metric} rate`;
	const head =
		verdict.verdict === 'winner'
			? `A/B verdict on ${metricText} for ${verdict.group}: ${verdict.winner} wins over ${verdict.worst}${p}`
			: `A/B verdict on ${metricText} for ${verdict.group}: no difference between ${verdict.best} and ${verdict.worst}${p}`;
	return {
		type: 'ab.verdict',
		severity: 'info',
		route: verdict.winner ?? verdict.best ?? '',
		group: verdict.group,
		rule: `ab-verdict:${verdict.metric}`,
		reason: `${head} (${verdict.summary})${
			applied
				? `; applied: ${applied.route} keeps ${Math.round(applied.share * 100)}% of its share for ${verdict.group} for ${applied.hours} hours`
				: ''
		}`,
		at: iso(now),
	};
}

/**
 * Publishes alerts (the store's cooldown skips repeats); never throws: a failure is returned for
 * the caller to report as it reports its other after-the-fact store failures.
 */
export async function publishAlerts(
	store: StateStore,
	alerts: readonly AlertInput[],
): Promise<Error | undefined> {
	if (alerts.length === 0) return undefined;
	try {
		await store.publishAlerts([...alerts]);
		return undefined;
	} catch (error) {
		return error instanceof Error ? error : new Error(String(error));
	}
}
