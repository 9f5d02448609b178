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
	OnceClaimRequest,
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
 * Cluster). The order is kept; between the calls another worker may take a marker, which the
 * claim then reports. `reserveAll` reserves the free markers' slots together, on one clock (the
 * rate limits share one Cluster slot); by default one reserveRate call each.
 */
export async function composeDeliveryStep(
	store: Pick<StateStore, 'claimOnce' | 'settleOnce' | 'reserveRate'>,
	req: DeliveryStepRequest,
	reserveAll: (limits: RateLimit[][]) => Promise<RateReservation[]> = async (all) => {
		const out: RateReservation[] = [];
		for (const limits of all) out.push(await store.reserveRate(limits, 1, req.maxWaitMs));
		return out;
	},
): Promise<DeliveryStepAnswer> {
	for (const { scope, settlement } of req.settle)
		await store.settleOnce(scope, [settlement], req.ttlMs);
	const claimOne = async (scope: string, key: string, token: string, peek: boolean) => {
		const request: OnceClaimRequest = {
			...claimRequest(req, token),
			keys: [key],
			ttlMs: req.ttlMs,
			...(peek ? { peek } : {}),
		};
		const [claim] = await store.claimOnce(scope, request);
		return claim;
	};
	const claims: OnceClaim[] = [];
	for (const c of req.claim) claims.push(await claimOne(c.scope, c.key, c.token, false));
	const held: Array<OnceClaim | undefined> = [];
	for (const { marker } of req.reserve) {
		const seen = marker && (await claimOne(marker.scope, marker.key, '', true));
		held.push(seen && seen.state !== 'claimed' ? seen : undefined);
	}
	const free = req.reserve.filter((_, k) => !held[k]).map((r) => r.limits);
	const rates = free.length > 0 ? await reserveAll(free) : [];
	let next = 0;
	return {
		claims,
		reservations: held.map((h) => (h ? { held: h } : { rate: rates[next++] })),
	};
}
