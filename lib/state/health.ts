import type { CircuitState, HealthPolicy } from './types';

/** One outcome applied to a route's circuit (mirrored by lua/record_health.lua). */
export function applyHealth(
	prior: CircuitState | null,
	ok: boolean,
	policy: HealthPolicy,
	now: number,
): { state: CircuitState; opened: boolean } {
	// each field with its default, as the Lua script reads them: a field set to undefined is absent
	const state: CircuitState = {
		...prior,
		openUntil: prior?.openUntil ?? 0,
		ejections: prior?.ejections ?? 0,
		failures: prior?.failures ?? 0,
		probing: prior?.probing ?? false,
		lastEjectedAt: prior?.lastEjectedAt ?? 0,
	};
	// a probe's passes count only in a row and only while open: a failure ends the count, and so
	// does a success once the circuit is closed
	if (!ok || state.openUntil <= now) delete state.probePasses;
	if (ok) {
		if (state.probing && state.openUntil <= now) state.probing = false;
		state.failures = 0;
		if (
			state.ejections > 0 &&
			!state.probing &&
			now - (state.lastEjectedAt ?? 0) > policy.maxEjectionMs
		)
			state.ejections = 0;
		return { state, opened: false };
	}
	// another worker already opened it: that ejection stands
	if (state.openUntil > now) return { state, opened: false };
	state.failures = (state.failures ?? 0) + 1;
	if (!state.probing && state.failures < policy.failureThreshold) return { state, opened: false };
	state.ejections += 1;
	const cool =
		Math.min(
			policy.baseEjectionMs * Math.pow(policy.backoff, state.ejections - 1),
			policy.maxEjectionMs,
		) * policy.jitter;
	state.openUntil = Math.round(now + cool);
	state.failures = 0;
	state.probing = true;
	state.lastEjectedAt = now;
	return { state, opened: true };
}
