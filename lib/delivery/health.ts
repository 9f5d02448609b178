import { ejectionAlert, publishAlerts, recoveryAlert } from '../alerts/emit';
import { circuitName } from '../state/keys';
import type { AlertInput, CircuitState, HealthPolicy, StateStore } from '../state/types';
import type { SendFailure } from '../transports/types';
import type { DeliveryJob, HealthOptions } from './types';

export interface RouteHealthOptions {
	store: StateStore;
	policy: HealthOptions;
	random: () => number;
	clock: () => number;
}

/**
 * The health of one batch's routes, Envoy-style (../state/types HealthPolicy): which circuits are
 * open, which are half-open and owe a probe, and which may have failures to clear. A node may serve
 * items of several partitioner routes, and each route's health is its campaign's, so all of it is
 * kept per circuit (../state/keys circuitName), never per route name.
 */
export class RouteHealth {
	private readonly circuitOf: Map<DeliveryJob, string>;
	private readonly open = new Map<string, number>();
	/** circuits whose failure count may be above zero */
	private readonly dirty = new Set<string>();
	private readonly probing = new Set<string>();
	/** the first failure to publish an ejection or recovery alert (reported like a feedback failure) */
	alertError?: Error;

	private constructor(
		private readonly jobs: DeliveryJob[],
		private readonly options: RouteHealthOptions,
	) {
		this.circuitOf = new Map(jobs.map((j) => [j, circuitName(j.campaign, j.route)]));
	}

	/** Reads the batch's circuits as the store has them now. */
	static async load(jobs: DeliveryJob[], options: RouteHealthOptions): Promise<RouteHealth> {
		const health = new RouteHealth(jobs, options);
		const circuits = [...new Set(health.circuitOf.values())];
		const states = await options.store.getCircuits(circuits);
		const now = await options.store.now();
		circuits.forEach((circuit, i) => health.learn(circuit, states[i], now));
		return health;
	}

	isOpen(job: DeliveryJob): boolean {
		return this.open.has(this.circuitOf.get(job)!);
	}

	/** when the job's circuit closes; only for an open one */
	openUntil(job: DeliveryJob): number {
		return this.open.get(this.circuitOf.get(job)!)!;
	}

	/**
	 * Positions (in the batch) of each circuit's first job: sent alone before the rest. For a
	 * half-open circuit it is the probe that closes or re-opens it; for any other, the try that finds
	 * out whether the route works at all (a refused login then opens the circuit after one try).
	 */
	leaders(): number[] {
		const first = new Map<string, number>();
		this.jobs.forEach((job, k) => {
			const circuit = this.circuitOf.get(job)!;
			if (!first.has(circuit) && !this.open.has(circuit)) first.set(circuit, k);
		});
		return [...first.values()];
	}

	/**
	 * A success closes a circuit that may have failures; a route-level failure counts toward opening
	 * it, and one that retrying cannot fix (a refused login, a rejected certificate) opens it at once.
	 */
	async record(job: DeliveryJob, failure: SendFailure | undefined): Promise<void> {
		const circuit = this.circuitOf.get(job)!;
		if (failure === undefined) {
			// a clean circuit has nothing to reset: no store call
			if (!this.dirty.has(circuit)) return;
			this.dirty.delete(circuit);
			const recovered = this.probing.delete(circuit);
			await this.options.store.recordHealth(circuit, true, this.policy());
			if (recovered) await this.alert(recoveryAlert(job.campaign, job.route, this.options.clock()));
			return;
		}
		if (failure.scope !== 'route') return;
		this.dirty.add(circuit);
		const policy = this.policy();
		if (failure.opensCircuit) policy.failureThreshold = 1;
		const { state, opened } = await this.options.store.recordHealth(circuit, false, policy);
		if (opened || state.openUntil > this.options.clock()) this.open.set(circuit, state.openUntil);
		if (opened)
			await this.alert(
				ejectionAlert(job.campaign, job.route, state, this.options.clock(), failure.message),
			);
	}

	/** publishes; a failure is kept, never thrown: the send's outcome stands */
	private async alert(alert: AlertInput): Promise<void> {
		const error = await publishAlerts(this.options.store, [alert]);
		this.alertError ??= error;
	}

	private learn(circuit: string, state: CircuitState | null, now: number): void {
		if (!state) return;
		if (state.openUntil > now) this.open.set(circuit, state.openUntil);
		else if (state.probing) this.probing.add(circuit);
		if ((state.failures ?? 0) > 0 || state.probing) this.dirty.add(circuit);
	}

	/** the jitter is drawn per call, so workers do not all return at once */
	private policy(): HealthPolicy {
		const p = this.options.policy;
		return {
			failureThreshold: p.failureThreshold,
			baseEjectionMs: p.baseEjectionMs,
			maxEjectionMs: p.maxEjectionMs,
			backoff: p.backoff,
			jitter: 1 + (this.options.random() * 2 - 1) * p.jitterRatio,
		};
	}
}
