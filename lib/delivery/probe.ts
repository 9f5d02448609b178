import { circuitName } from '../state/keys';
import type { CircuitState, HealthPolicy, StateStore } from '../state/types';
import type { Probeable, ProbeResult } from '../transports/probe';

export interface ProbeSettings {
	campaign: string;
	route: string;
	timeoutMs: number;
	/** failed probes in a row (route-level send failures count too) that open the circuit */
	fall: number;
	/** how often the workflow probes: a failed probe keeps the route out for twice that */
	probeEveryMs: number;
	/** false: report only, the circuit is left as it is */
	updateCircuit: boolean;
}

export interface RouteProbe extends ProbeResult {
	circuit: { open: boolean; openUntil?: number };
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
 * before a message fails on it. A failure goes through recordHealth (../state/health applyHealth:
 * the circuit's own failure count, so `fall` counts send and probe failures alike). A pass closes
 * an open circuit at once (rise = 1): recordHealth keeps an open circuit open until its time is up,
 * so the probe writes the closed state with setCircuit, half-open (`probing`), as a circuit whose
 * time ran out is: the next send goes alone and re-opens it at once if it fails. That write is a
 * read then a write, not one atomic call; the circuit is open meanwhile, so no send of this
 * campaign records on it.
 */
export async function probeRoute(
	transport: Probeable,
	store: StateStore,
	s: ProbeSettings,
): Promise<RouteProbe> {
	const result = await transport.probe(s.timeoutMs);
	const circuit = circuitName(s.campaign, s.route);
	if (!s.updateCircuit) {
		const [state] = await store.getCircuits([circuit]);
		return { ...result, circuit: circuitOf(state, await store.now()) };
	}
	if (!result.ok) {
		const { state } = await store.recordHealth(circuit, false, probePolicy(s));
		return { ...result, circuit: circuitOf(state, await store.now()) };
	}
	const [state] = await store.getCircuits([circuit]);
	const now = await store.now();
	if (state && state.openUntil > now) {
		const closed: CircuitState = { ...state, openUntil: now, failures: 0, probing: true };
		await store.setCircuit(circuit, closed);
		return { ...result, circuit: { open: false } };
	}
	// a closed circuit: the pass clears the failures counted toward `fall` (no write when none)
	if (state && ((state.failures ?? 0) > 0 || state.probing))
		await store.recordHealth(circuit, true, probePolicy(s));
	return { ...result, circuit: { open: false } };
}

function circuitOf(state: CircuitState | null, now: number): RouteProbe['circuit'] {
	return state && state.openUntil > now
		? { open: true, openUntil: state.openUntil }
		: { open: false };
}
