/**
 * The send pipeline's store step (DeliveryStepRequest in ./types.ts): the one definition of its
 * order. The memory and SQLite stores run `runDeliveryStep` inside their one atomic call,
 * lua/delivery_step.lua mirrors it on Redis, and a store that cannot do it in one call (Redis
 * Cluster: markers and rate limits live in different slots) runs `composeDeliveryStep`.
 */
import { checkRateArgs, rateStateEnd, reserve, type RateState } from './gcra';
import { claimMarker, settleMarker } from './once';
import type {
	DeliveryStepAnswer,
	DeliveryStepRequest,
	OnceClaim,
	RateLimit,
	RateReservation,
	StateStore,
} from './types';

/** What the step reads and writes in a store, inside one atomic call. */
export interface StepAccess {
	marker(scope: string, key: string): string | undefined;
	/** `null` deletes the marker */
	putMarker(scope: string, key: string, value: string | null, expiresAt: number): void;
	rate(limit: RateLimit): RateState | undefined;
	putRate(limit: RateLimit, state: RateState, expiresAt: number): void;
}

export function checkStepArgs(req: DeliveryStepRequest): void {
	for (const r of req.reserve) checkRateArgs(r.limits, 1, req.maxWaitMs);
}

const claimRequest = (req: DeliveryStepRequest, token: string) => ({
	token,
	owner: req.owner,
	leaseMs: req.leaseMs,
	takeExpired: req.takeExpired,
});

/** Settlements first, then claims, then reservations (see DeliveryStepRequest). */
export function runDeliveryStep(
	req: DeliveryStepRequest,
	access: StepAccess,
	now: number,
): DeliveryStepAnswer {
	for (const { scope, settlement } of req.settle) {
		const next = settleMarker(access.marker(scope, settlement.key), settlement, now);
		if (next !== undefined) access.putMarker(scope, settlement.key, next, now + req.ttlMs);
	}
	const claims = req.claim.map(({ scope, key, token }) => {
		const { claim, store } = claimMarker(access.marker(scope, key), claimRequest(req, token), now);
		if (store !== undefined) access.putMarker(scope, key, store, now + req.ttlMs);
		return claim;
	});
	const reservations = req.reserve.map(
		({ limits, marker }): DeliveryStepAnswer['reservations'][number] => {
			// a slot for a message that will not be sent would hold back every later one
			if (marker) {
				const stored = access.marker(marker.scope, marker.key);
				const { claim } = claimMarker(stored, claimRequest(req, ''), now);
				if (claim.state !== 'claimed') return { held: claim };
			}
			const r = reserve(
				limits,
				limits.map((l) => access.rate(l)),
				1,
				now,
				req.maxWaitMs,
			);
			if (r.granted)
				limits.forEach((l, i) =>
					access.putRate(l, r.states[i], rateStateEnd(l, r.states[i]) + 1000),
				);
			return { rate: { granted: r.granted, waitMs: r.waitMs, now } };
		},
	);
	return { claims, reservations };
}

/**
 * The same step from a store's separate calls, for a store that cannot run it as one (Redis
 * Cluster): settlements and marker looks one call per campaign, claims one call each (each has its
 * own token), and `reserveAll` the free markers' slots together, on one clock (the rate limits
 * share one Cluster slot). The order is kept; between the calls another worker may take a marker,
 * which the claim then reports.
 */
export async function composeDeliveryStep(
	store: Pick<StateStore, 'claimOnce' | 'settleOnce'>,
	req: DeliveryStepRequest,
	reserveAll: (limits: RateLimit[][]) => Promise<RateReservation[]>,
): Promise<DeliveryStepAnswer> {
	for (const [scope, settlements] of byScope(req.settle, (s) => s.settlement))
		await store.settleOnce(scope, settlements, req.ttlMs);
	const claimOnce = (scope: string, keys: string[], token: string, peek: boolean) =>
		store.claimOnce(scope, {
			...claimRequest(req, token),
			keys,
			ttlMs: req.ttlMs,
			...(peek ? { peek } : {}),
		});
	const claims: OnceClaim[] = [];
	for (const c of req.claim) claims.push((await claimOnce(c.scope, [c.key], c.token, false))[0]);
	// a look writes nothing: one call per campaign
	const held = new Map<DeliveryStepRequest['reserve'][number], OnceClaim>();
	const marked = req.reserve.filter((r) => r.marker);
	for (const [scope, group] of byScope(
		marked.map((r) => ({ scope: r.marker!.scope, r })),
		(e) => e.r,
	)) {
		const seen = await claimOnce(
			scope,
			group.map((r) => r.marker!.key),
			'',
			true,
		);
		group.forEach((r, k) => seen[k].state !== 'claimed' && held.set(r, seen[k]));
	}
	const free = req.reserve.filter((r) => !held.has(r));
	const rates = free.length > 0 ? await reserveAll(free.map((r) => r.limits)) : [];
	let next = 0;
	return {
		claims,
		reservations: req.reserve.map((r) => {
			const h = held.get(r);
			return h ? { held: h } : { rate: rates[next++] };
		}),
	};
}

/** Entries grouped by campaign, in their order within each. */
function byScope<E extends { scope: string }, T>(
	entries: E[],
	value: (e: E) => T,
): Map<string, T[]> {
	const groups = new Map<string, T[]>();
	for (const e of entries) {
		const group = groups.get(e.scope);
		if (group) group.push(value(e));
		else groups.set(e.scope, [value(e)]);
	}
	return groups;
}
