import { enforcementAlert, probeDownAlert, probeUpAlert, publishAlerts } from '../alerts/emit';
import { circuitName } from '../state/keys';
import { sumCounts } from '../state/outcomes';
import type { AlertInput, CircuitState, HealthPolicy, StateStore } from '../state/types';
import type { Probeable, ProbeOptions, ProbeResult } from '../transports/probe';

export interface ProbeSettings {
	campaign: string;
	route: string;
	timeoutMs: number;
	/** failed probes in a row (route-level send failures count too) that open the circuit */
	fall: number;
	/** passing probes in a row that close an open circuit (1: the first pass) */
	rise: number;
	/** how often the workflow probes: a failed probe keeps the route out for twice that */
	probeEveryMs: number;
	/** false: report only, the circuit is left as it is (and no alert is published) */
	updateCircuit: boolean;
	/**
	 * > 0: no probe while the circuit is closed and the route's outcome counters have messages
	 * sent within this long (ms; whole minute buckets); 0: always probe
	 */
	skipIfSentWithinMs: number;
	/** the transport's probe options (SMTP: the envelope probe to a seed address) */
	probe?: ProbeOptions;
}

/** the longest Skip If Sent Within: the minute buckets are kept 3 h (../state/outcomes) */
export const MAX_SKIP_WINDOW_MS = 3 * 3_600_000;

export interface ProbeCircuit {
	open: boolean;
	openUntil?: number;
	/** passing probes in a row so far while open, when Rise is above 1 */
	passes?: number;
}

export interface RouteProbe extends ProbeResult {
	skipped: false;
	circuit: ProbeCircuit;
	/** the alerts this run published (the store's cooldown may have skipped some) */
	alerts: AlertInput[];
	/** publishing them failed: reported, never thrown (the probe's outcome stands) */
	alertError?: Error;
}

/** No probe ran: real traffic on the route succeeded within the window, and its circuit is closed. */
export interface SkippedProbe {
	skipped: true;
	reason: string;
	/** messages sent through the route within the window (every domain group, every campaign) */
	sent: number;
	circuit: ProbeCircuit;
}

/**
 * The policy a probe's failure is recorded with: `fall` failures in a row eject the route, for
 * twice the probe interval, every time (no growing backoff, no jitter): the next probe decides,
 * and the ejection outlasts the time until it, so the route is never back before a probe passed.
 */
export function probePolicy(s: Pick<ProbeSettings, 'fall' | 'probeEveryMs'>): HealthPolicy {
	const ejection = s.probeEveryMs * 2;
	return {
		failureThreshold: s.fall,
		baseEjectionMs: ejection,
		maxEjectionMs: ejection,
		backoff: 1,
		jitter: 1,
	};
}

/**
 * Probes one route and feeds the outcome into its circuit, the one the partitioner skips while
 * open (../state/keys circuitName(campaign, route)), so a route that fails its probes is taken out
 * before a message fails on it.
 *
 * - A failure goes through recordHealth (../state/health applyHealth: the circuit's own failure
 *   count, so `fall` counts send and probe failures alike; it also ends a pass count). The failure
 *   that opens the circuit publishes `probe.down`.
 * - A pass on an open circuit counts toward `rise` in the circuit (`probePasses`). Below it, the
 *   circuit stays open, its end moved to twice the interval from now, so the partitioner keeps
 *   skipping the route until the next probe; at it, the circuit closes half-open (`probing`), as a
 *   circuit whose time ran out is: the next send goes alone and re-opens it at once if it fails;
 *   `probe.up` is published. recordHealth keeps an open circuit open until its time is up, so both
 *   are written with setCircuit, a read then a write, not one atomic call; the circuit is open
 *   meanwhile, so no send of this campaign records on it.
 * - A pass on a closed circuit clears the failures counted toward `fall` (no write when none).
 * - An enforcement status in the probe's details (SES) other than the last one kept in the circuit
 *   is written there and publishes `provider.enforcement` (none kept: HEALTHY is no news).
 * - With `skipIfSentWithinMs`, a closed circuit whose route sent within the window is not probed.
 */
export async function probeRoute(
	transport: Probeable,
	store: StateStore,
	s: ProbeSettings,
): Promise<RouteProbe | SkippedProbe> {
	const circuit = circuitName(s.campaign, s.route);
	const [prior] = await store.getCircuits([circuit]);
	const before = await store.now();
	if (s.skipIfSentWithinMs > 0 && !(prior && prior.openUntil > before)) {
		const sent = await sentWithin(store, s.route, before - s.skipIfSentWithinMs, before);
		if (sent > 0)
			return {
				skipped: true,
				sent,
				reason: `${sent} message${sent === 1 ? ' was' : 's were'} sent through the route in the last ${minutes(s.skipIfSentWithinMs)} (Skip If Sent Within (Minutes)) and its circuit is closed: no probe needed`,
				circuit: { open: false },
			};
	}

	const result = await transport.probe(s.timeoutMs, s.probe);
	if (!s.updateCircuit) {
		const [state] = await store.getCircuits([circuit]);
		return { ...result, skipped: false, circuit: circuitOf(state, await store.now()), alerts: [] };
	}
	const alerts: AlertInput[] = [];
	const policy = probePolicy(s);
	let state: CircuitState | null;
	let report: ProbeCircuit;
	/** the state to write with setCircuit, when this run changes it beyond recordHealth */
	let write: CircuitState | undefined;
	let now: number;
	if (!result.ok) {
		const recorded = await store.recordHealth(circuit, false, policy);
		state = recorded.state;
		now = await store.now();
		report = circuitOf(state, now);
		if (recorded.opened)
			alerts.push(
				probeDownAlert(s.campaign, s.route, state.openUntil, now, result.error ?? 'probe failed'),
			);
	} else {
		[state] = await store.getCircuits([circuit]);
		now = await store.now();
		if (state && state.openUntil > now) {
			const passes = (state.probePasses ?? 0) + 1;
			if (passes >= s.rise) {
				const { probePasses: _done, ...rest } = state;
				write = { ...rest, openUntil: now, failures: 0, probing: true };
				report = { open: false };
				alerts.push(probeUpAlert(s.campaign, s.route, s.rise, now));
			} else {
				const openUntil = Math.max(state.openUntil, now + policy.baseEjectionMs);
				write = { ...state, openUntil, probePasses: passes };
				report = { open: true, openUntil, passes };
			}
		} else {
			// a closed circuit: the pass clears the failures counted toward `fall`
			if (state && ((state.failures ?? 0) > 0 || state.probing))
				state = (await store.recordHealth(circuit, true, policy)).state;
			report = { open: false };
		}
	}

	const status = result.details?.enforcementStatus;
	if (typeof status === 'string' && status !== '') {
		const previous = state?.enforcement;
		if (previous === undefined ? status !== 'HEALTHY' : previous !== status) {
			write = { ...(write ?? state ?? { openUntil: 0, ejections: 0 }), enforcement: status };
			alerts.push(enforcementAlert(s.campaign, s.route, status, previous, now));
		}
	}
	if (write) await store.setCircuit(circuit, write);
	const alertError = await publishAlerts(store, alerts);
	return {
		...result,
		skipped: false,
		circuit: report,
		alerts,
		...(alertError ? { alertError } : {}),
	};
}

/**
 * Messages the route sent in [from, to]: its outcome counters' minute buckets (every domain group
 * the pair index knows for it, so every campaign), `sent` summed.
 */
export async function sentWithin(
	store: StateStore,
	route: string,
	from: number,
	to: number,
): Promise<number> {
	const pairs = (await store.listOutcomePairs()).filter(
		(p) => p.route === route && p.lastAt >= from,
	);
	let sent = 0;
	for (const p of pairs)
		sent += sumCounts(await store.readOutcomes(route, p.group, 'minute', from, to + 1)).sent;
	return sent;
}

const minutes = (ms: number) => {
	const m = Math.round(ms / 60_000);
	return m === 1 ? 'minute' : `${m} minutes`;
};

function circuitOf(state: CircuitState | null, now: number): ProbeCircuit {
	return state && state.openUntil > now
		? {
				open: true,
				openUntil: state.openUntil,
				...(state.probePasses ? { passes: state.probePasses } : {}),
			}
		: { open: false };
}
