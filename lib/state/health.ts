import type { CircuitState, HealthPolicy } from './types';

/** One outcome applied to a route's circuit (mirrored by lua/record_health.lua). */
export function applyHealth(prior: CircuitState | null, ok: boolean, policy: HealthPolicy, now: number): { state: CircuitState; opened: boolean } {
	const state: CircuitState = { openUntil: 0, ejections: 0, failures: 0, probing: false, lastEjectedAt: 0, ...prior };
	if (ok) {
		if (state.probing && state.openUntil <= now) state.probing = false;
		state.failures = 0;
		if (state.ejections > 0 && !state.probing && now - (state.lastEjectedAt ?? 0) > policy.maxEjectionMs) state.ejections = 0;
		return { state, opened: false };
	}
	// another worker already opened it: that ejection stands
	if (state.openUntil > now) return { state, opened: false };
	state.failures = (state.failures ?? 0) + 1;
	if (!state.probing && state.failures < policy.failureThreshold) return { state, opened: false };
	state.ejections += 1;
	const cool = Math.min(policy.baseEjectionMs * Math.pow(policy.backoff, state.ejections - 1), policy.maxEjectionMs) * policy.jitter;
	state.openUntil = Math.round(now + cool);
	state.failures = 0;
	state.probing = true;
	state.lastEjectedAt = now;
	return { state, opened: true };
}
