import { rateKeys } from '../state/keys';
import type { RateLimit, RouteLimit } from '../state/types';
import { gcraLimit } from './limits';
import { isRateUnit, RATE_UNITS, type RateUnit } from './units';

const positive = (v: unknown): v is number => typeof v === 'number' && v > 0 && Number.isFinite(v);

/** Messages per unit. */
export interface Rate {
	limit: number;
	per: RateUnit;
}

/** A send node's limit for one domain group on its route. */
export interface GroupLimit extends Rate {
	/** lower case, as the classifier writes domainGroup */
	group: string;
}

/** Everything that decides which rate limits a message is under: plain data, no n8n. */
export interface LimitsInput {
	provider: string;
	/** the send node (its id, else its name): a connection limit is the node's own */
	node: string;
	campaign: string;
	route: string;
	/** the node's Connection Rate Limit; limit 0 = none, burst 0 or absent = one second's worth */
	connection?: Rate & { burst?: number };
	/** the SMTP credential's own limit, shared by every node using the credential; `id` names the credential */
	credential?: Rate & { id: string };
	/**
	 * the route's share of the campaign rate, from the partitioner (read from the item by shareOf);
	 * `campaignLimit` is the whole campaign's rate in the same unit: a ceiling for every route together
	 */
	share?: Share;
	/**
	 * how many seconds of unused share a route may catch up, faster than its share but never faster
	 * than the campaign rate: so branches n8n runs one after another still reach their summed rate
	 */
	campaignBurstSeconds: number;
	/** the item's domain group */
	group?: string;
	groupLimits: readonly GroupLimit[];
}

/**
 * A route's own limit, as its send node reports it to the Route Partitioner: the tighter of the
 * connection's and the SMTP credential's (their sustained rates; bursts do not count). None: null.
 */
export function routeLimitOf(
	input: Pick<LimitsInput, 'connection' | 'credential'>,
): RouteLimit | null {
	const candidates: RouteLimit[] = [];
	if (input.connection && positive(input.connection.limit))
		candidates.push({
			limit: input.connection.limit,
			per: input.connection.per,
			kind: 'connection',
		});
	if (input.credential && positive(input.credential.limit))
		candidates.push({
			limit: input.credential.limit,
			per: input.credential.per,
			kind: 'credential',
		});
	const perMs = (l: RouteLimit) => l.limit / RATE_UNITS[l.per as RateUnit];
	return candidates.reduce<RouteLimit | null>((a, l) => (a && perMs(a) <= perMs(l) ? a : l), null);
}

/** A route's share of its campaign's rate, and the campaign's whole rate (same unit). */
export interface Share extends Rate {
	campaignLimit?: number;
}

/** The partitioner's `postalRoute.rate` of an item, if it is a usable rate: item data can hold anything. */
export function shareOf(rate: unknown): Share | undefined {
	if (rate === null || typeof rate !== 'object') return undefined;
	const { limit, per, campaignLimit } = rate as {
		limit?: unknown;
		per?: unknown;
		campaignLimit?: unknown;
	};
	if (!positive(limit) || !isRateUnit(per)) return undefined;
	// an item routed before the campaign ceiling existed has none: its share alone applies
	return positive(campaignLimit) ? { limit, per, campaignLimit } : { limit, per };
}

/**
 * Limits on one key become one limit that keeps each of them: the longest interval with the
 * smallest tolerance. Two limits on a key would share one stored time, and the one written last
 * would decide (30/minute then 1/second let 60 a minute through).
 */
function onePerKey(limits: RateLimit[]): RateLimit[] {
	const byKey = new Map<string, RateLimit>();
	for (const l of limits) {
		const seen = byKey.get(l.key);
		if (!seen) {
			byKey.set(l.key, l);
			continue;
		}
		const intervalMs = Math.max(seen.intervalMs, l.intervalMs);
		const tolerance = Math.min((seen.burst - 1) * seen.intervalMs, (l.burst - 1) * l.intervalMs);
		// the epsilon keeps a tolerance that is a whole number of intervals from rounding down
		byKey.set(l.key, {
			key: l.key,
			intervalMs,
			burst: Math.max(1, Math.floor(tolerance / intervalMs + 1e-9) + 1),
		});
	}
	return [...byKey.values()];
}

/**
 * The rate limits a message is sent under, all taken at once: the SMTP credential's, the send
 * node's connection limit, the campaign's rate and the route's share of it, and the route's limit
 * for the message's domain group.
 *
 * The campaign's rate is one limit for every route of the campaign with a burst of 1: messages at
 * least one interval apart, so no window of the rate's period ever holds more than the rate, from
 * the campaign's first message on. The route's share keeps its catch-up burst (a branch n8n runs
 * after another may send faster than its share): what it catches up is campaign rate that no other
 * route is using at that moment, never more.
 */
export function limitsFor(input: LimitsInput): RateLimit[] {
	const { credential, connection, share, group } = input;
	const limits: RateLimit[] = [];
	if (credential && credential.limit > 0)
		limits.push(
			gcraLimit(rateKeys.smtpCredential(credential.id), {
				limit: credential.limit,
				per: credential.per,
			}),
		);
	if (connection && connection.limit > 0) {
		const burst =
			connection.burst !== undefined && connection.burst > 0 ? connection.burst : undefined;
		limits.push(
			gcraLimit(rateKeys.connection(input.provider, input.node), {
				limit: connection.limit,
				per: connection.per,
				burst,
			}),
		);
	}
	if (share && share.campaignLimit !== undefined && share.campaignLimit > 0)
		limits.push(
			gcraLimit(rateKeys.campaignRate(input.campaign), {
				limit: share.campaignLimit,
				per: share.per,
				burst: 1,
			}),
		);
	if (share && share.limit > 0) {
		const perSecond = (share.limit * 1000) / RATE_UNITS[share.per];
		limits.push(
			gcraLimit(rateKeys.campaignShare(input.campaign, input.route), {
				limit: share.limit,
				per: share.per,
				burst: Math.max(1, Math.floor(perSecond * input.campaignBurstSeconds)),
			}),
		);
	}
	if (group)
		for (const g of input.groupLimits)
			if (g.group === group)
				limits.push(
					gcraLimit(rateKeys.group(input.campaign, input.route, group), {
						limit: g.limit,
						per: g.per,
					}),
				);
	return onePerKey(limits);
}
