/**
 * What operators are alerted to, made from what happened, and published without ever failing the
 * work that made it happen (a send, a feedback batch, an operator's control). The store keeps the
 * alert log and the cooldown (../state/alerts.ts); the Postal Alert Trigger node reads it.
 * The emission points, one each: route reputation changes (../reputation/recorder.ts applyChanges,
 * ../operations/control.ts), a circuit that opens or closes after a probe (../delivery/health.ts).
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
