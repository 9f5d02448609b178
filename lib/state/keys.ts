import { createHmac } from 'node:crypto';

/**
 * How user text becomes part of a state key. Every store builds its keys from these, so two
 * different inputs can never share a key: campaign `a:b` with route `c` is not campaign `a` with
 * route `b:c`, and `promo{1}` is not `promo_1_`.
 */

/**
 * Escapes the characters that structure a key: ":" (joins parts), "{" and "}" (a Redis Cluster
 * hash tag) and "%" (the escape itself). Injective: every "%" in the output starts an escape.
 */
export function keyPart(text: string): string {
	return text.replace(/[%:{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Joins escaped parts: the injective encoding of a tuple of texts. */
export function keyOf(...parts: string[]): string {
	return parts.map(keyPart).join(':');
}

/**
 * A campaign as a Redis Cluster hash tag: every key of the campaign in one slot. `{}` is not a hash
 * tag to Redis, so the empty campaign gets `{%}`, which no escaped text can be.
 */
export function hashTag(scope: string): string {
	return `{${keyPart(scope) || '%'}}`;
}

/** Rate-limit keys: the connection's own, its credential's, a campaign's share, a domain group's. */
export const rateKeys = {
	/** a send node's Connection Rate Limit */
	connection: (provider: string, node: string) => `conn:${keyOf(provider, node)}`,
	/** an SMTP credential's own rate limit; `id` is a hash of host, port and user */
	smtpCredential: (id: string) => `smtp:${keyPart(id)}`,
	/** the route's share of a campaign rate, set by the partitioner */
	campaignShare: (campaign: string, route: string) => `campaign:${keyOf(campaign, route)}`,
	/** a send node's per-domain-group limit on a route, within a campaign */
	group: (campaign: string, route: string, group: string) => `group:${keyOf(campaign, route, group)}`,
};

/** Cap windows of a route: its daily (warm-up or cap) and hourly counters. */
export const capKeys = {
	daily: (date: string, route: string) => `d:${keyOf(date, route)}`,
	hourly: (hour: number, route: string) => `h:${keyOf(String(hour), route)}`,
};

/**
 * A route's circuit (health) name: the campaign and the route, so two unrelated workflows that
 * both call a route "Primary" never eject each other. The partitioner reads what the send node writes.
 */
export function circuitName(campaign: string, route: string): string {
	return keyOf(campaign, route);
}

/**
 * A keyed hash of a recipient (or a message's recipient set): what sticky assignments and duplicate
 * markers store instead of addresses. 132 bits of HMAC-SHA256 under the store's own secret.
 */
export function recipientDigest(secret: string, text: string): string {
	return createHmac('sha256', secret).update(text, 'utf8').digest('base64url').slice(0, 22);
}
