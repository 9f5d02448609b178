import { StateUnavailableError } from './errors';
import type {
	Alert,
	AlertInput,
	AllocateRequest,
	AllocateResult,
	CampaignPause,
	CircuitState,
	DeliveryStepRequest,
	DeliveryStepAnswer,
	HealthPolicy,
	MxCacheEntry,
	OnceClaim,
	OnceClaimRequest,
	OnceEntry,
	OncePageRequest,
	OnceSettlement,
	Page,
	PageRequest,
	RateLimit,
	RateReservation,
	ReputationChange,
	ReputationEvent,
	ReputationState,
	RouteLimit,
	WarmupRecord,
	OutcomeBucket,
	OutcomeEntry,
	OutcomePair,
	OutcomeResolution,
	StateStore,
	SuppressionEntry,
} from './types';

/**
 * "Continue on local state": calls go to the primary (Redis); when it is unreachable, that call
 * goes to the local store instead and `usedFallback` is set, so the node can say so on its items.
 * Each call tries the primary first again. A class implementing StateStore, so a method added to
 * the contract cannot be left out here.
 */
export class FallbackStateStore implements StateStore {
	readonly kind: StateStore['kind'];
	private fellBack = false;

	constructor(
		private readonly primary: StateStore,
		private readonly local: StateStore,
	) {
		this.kind = primary.kind;
	}

	/** true once a call went to the local store */
	get usedFallback(): boolean {
		return this.fellBack;
	}

	now(): Promise<number> {
		return this.run((s) => s.now());
	}

	hashSecret(): Promise<string> {
		return this.run((s) => s.hashSecret());
	}

	allocate(request: AllocateRequest): Promise<AllocateResult> {
		return this.run((s) => s.allocate(request));
	}

	capUsage(scope: string, keys: string[]): Promise<number[]> {
		return this.run((s) => s.capUsage(scope, keys));
	}

	reserveRate(limits: RateLimit[], cost: number, maxWaitMs: number): Promise<RateReservation> {
		return this.run((s) => s.reserveRate(limits, cost, maxWaitMs));
	}

	claimOnce(scope: string, request: OnceClaimRequest): Promise<OnceClaim[]> {
		return this.run((s) => s.claimOnce(scope, request));
	}

	settleOnce(scope: string, settlements: OnceSettlement[], ttlMs: number): Promise<void> {
		return this.run((s) => s.settleOnce(scope, settlements, ttlMs));
	}

	listOnce(scope: string, page: OncePageRequest): Promise<Page<OnceEntry>> {
		return this.run((s) => s.listOnce(scope, page));
	}

	/** as the claims: a marker released locally holds for this process only */
	releaseOnce(scope: string, keys: string[]): Promise<boolean[]> {
		return this.run((s) => s.releaseOnce(scope, keys));
	}

	listSuppressions(list: string, page: PageRequest): Promise<Page<SuppressionEntry>> {
		return this.run((s) => s.listSuppressions(list, page));
	}

	clearOutcomes(pairs: Array<{ route: string; group: string }>): Promise<void> {
		return this.run((s) => s.clearOutcomes(pairs));
	}

	stickyRoutes(scope: string, key: string): Promise<Array<{ partition: string; route: string }>> {
		return this.run((s) => s.stickyRoutes(scope, key));
	}

	deliveryStep(request: DeliveryStepRequest): Promise<DeliveryStepAnswer> {
		return this.run((s) => s.deliveryStep(request));
	}

	recordHealth(
		route: string,
		ok: boolean,
		policy: HealthPolicy,
	): Promise<{ state: CircuitState; opened: boolean }> {
		return this.run((s) => s.recordHealth(route, ok, policy));
	}

	getCircuits(routes: string[]): Promise<(CircuitState | null)[]> {
		return this.run((s) => s.getCircuits(routes));
	}

	setCircuit(route: string, state: CircuitState | null): Promise<void> {
		return this.run((s) => s.setCircuit(route, state));
	}

	setRouteLimits(
		scope: string,
		entries: Array<{ route: string; limit: RouteLimit | null }>,
		ttlMs: number,
	): Promise<void> {
		return this.run((s) => s.setRouteLimits(scope, entries, ttlMs));
	}

	getRouteLimits(scope: string, routes: string[]): Promise<(RouteLimit | null)[]> {
		return this.run((s) => s.getRouteLimits(scope, routes));
	}

	setWarmup(
		scope: string,
		entries: Array<{ route: string; warmup: WarmupRecord | null }>,
		ttlMs: number,
	): Promise<void> {
		return this.run((s) => s.setWarmup(scope, entries, ttlMs));
	}

	getWarmup(scope: string, routes: string[]): Promise<(WarmupRecord | null)[]> {
		return this.run((s) => s.getWarmup(scope, routes));
	}

	getMx(domains: string[]): Promise<(MxCacheEntry | null)[]> {
		return this.run((s) => s.getMx(domains));
	}

	setMx(entries: Array<{ domain: string; value: MxCacheEntry }>, ttlMs: number): Promise<void> {
		return this.run((s) => s.setMx(entries, ttlMs));
	}

	clearScope(scope: string): Promise<void> {
		return this.run((s) => s.clearScope(scope));
	}

	/*
	 * Writes to the suppression list have no local stand-in: an entry written locally would be lost
	 * to every other worker, and a bounce the Bounce Parser could not record is better read again
	 * once Redis is back. They go to the primary only. A read falls back like any other call (the
	 * user chose to keep sending on local state; the local list holds only what this process knows,
	 * and every item says the run used local state).
	 */
	suppress(list: string, entries: SuppressionEntry[]): Promise<void> {
		return this.primary.suppress(list, entries);
	}

	getSuppressions(list: string, keys: string[]): Promise<(SuppressionEntry | null)[]> {
		return this.run((s) => s.getSuppressions(list, keys));
	}

	unsuppress(list: string, keys: string[]): Promise<number> {
		return this.primary.unsuppress(list, keys);
	}

	countOutcomes(entries: OutcomeEntry[]): Promise<void> {
		return this.run((s) => s.countOutcomes(entries));
	}

	listOutcomePairs(): Promise<OutcomePair[]> {
		return this.run((s) => s.listOutcomePairs());
	}

	readOutcomes(
		route: string,
		group: string,
		resolution: OutcomeResolution,
		from: number,
		to: number,
	): Promise<OutcomeBucket[]> {
		return this.run((s) => s.readOutcomes(route, group, resolution, from, to));
	}

	recordLedger(entries: Array<{ key: string; value: string }>, ttlMs: number): Promise<void> {
		return this.run((s) => s.recordLedger(entries, ttlMs));
	}

	readLedger(keys: string[]): Promise<(string | null)[]> {
		return this.run((s) => s.readLedger(keys));
	}

	/** local marks hold within this process only: a redelivery to another worker may emit again */
	markSeen(keys: string[], ttlMs: number): Promise<boolean[]> {
		return this.run((s) => s.markSeen(keys, ttlMs));
	}

	setCampaignPause(campaign: string, pause: CampaignPause | null): Promise<void> {
		return this.run((s) => s.setCampaignPause(campaign, pause));
	}

	getCampaignPauses(campaigns: string[]): Promise<(CampaignPause | null)[]> {
		return this.run((s) => s.getCampaignPauses(campaigns));
	}

	getReputation(
		pairs: Array<{ route: string; group: string }>,
	): Promise<(ReputationState | null)[]> {
		return this.run((s) => s.getReputation(pairs));
	}

	/** a suspension written locally still keeps this worker off the route; the others learn it from Redis once it is back */
	updateReputation(
		group: string,
		changes: ReputationChange[],
	): Promise<{ states: Record<string, ReputationState>; events: ReputationEvent[]; now: number }> {
		return this.run((s) => s.updateReputation(group, changes));
	}

	/*
	 * Alerts have no local stand-in either: one published locally while Redis is down would reach
	 * only a trigger in this process, never the others' (and a trigger reading its group locally
	 * would then miss what Redis holds for it). Publishing goes to the primary only, and its failure
	 * is reported by the caller like a failed feedback step (it never fails a send); the trigger's
	 * reads and acks go to Redis only, so its group's pending alerts stay there until it is back.
	 */
	publishAlerts(alerts: AlertInput[], cooldownMs?: number): Promise<string[]> {
		return this.primary.publishAlerts(alerts, cooldownMs);
	}

	readAlerts(group: string, consumer: string, options: { count: number }): Promise<Alert[]> {
		return this.primary.readAlerts(group, consumer, options);
	}

	/** a look at Redis's log: the local one holds none of the other workers' alerts */
	recentAlerts(count: number): Promise<Alert[]> {
		return this.primary.recentAlerts(count);
	}

	ackAlerts(group: string, ids: string[]): Promise<number> {
		return this.primary.ackAlerts(group, ids);
	}

	close(): Promise<void> {
		return this.run((s) => s.close());
	}

	/** Only an unreachable primary falls back; any other error (a bad argument) is the caller's. */
	private async run<T>(call: (store: StateStore) => Promise<T>): Promise<T> {
		try {
			return await call(this.primary);
		} catch (error) {
			if (!(error instanceof StateUnavailableError)) throw error;
			this.fellBack = true;
			return call(this.local);
		}
	}
}

/** The primary with the local store behind it (see FallbackStateStore). */
export function withLocalFallback(primary: StateStore, local: StateStore): FallbackStateStore {
	return new FallbackStateStore(primary, local);
}
