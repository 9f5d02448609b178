import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';

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

/** The text an escaped part stands for (keyPart undone), e.g. a partitioner's id from its sticky key. */
export function unKeyPart(part: string): string {
	return part.replace(/%([0-9A-F]{2})/g, (_, hex: string) =>
		String.fromCharCode(parseInt(hex, 16)),
	);
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

/** Rate-limit keys: the connection's own, its credential's, a campaign's rate and a route's share of it, a domain group's. */
export const rateKeys = {
	/** a send node's Connection Rate Limit */
	connection: (provider: string, node: string) => `conn:${keyOf(provider, node)}`,
	/** an SMTP credential's own rate limit; `id` is a hash of host, port and user */
	smtpCredential: (id: string) => `smtp:${keyPart(id)}`,
	/** a campaign's whole rate, every route together (the partitioner's Campaign Rate) */
	campaignRate: (campaign: string) => `campaign:${keyPart(campaign)}`,
	/** the route's share of a campaign rate, set by the partitioner */
	campaignShare: (campaign: string, route: string) => `campaign:${keyOf(campaign, route)}`,
	/** a send node's per-domain-group limit on a route, within a campaign */
	group: (campaign: string, route: string, group: string) =>
		`group:${keyOf(campaign, route, group)}`,
	/** a reputation rule's ceiling on a route × domain group (every campaign: the provider sees the route) */
	reputation: (route: string, group: string) => `rep:${keyOf(route, group)}`,
};

/**
 * The identity of an SMTP connection for its credential's own rate limit: every node using the
 * same server and user shares it. A hash of the escaped tuple (`a:1` port 2 is not `a` port 1 user
 * `2:…`), so it holds no secret and no address.
 */
export function smtpCredentialId(host: string, port: number, user: string): string {
	return createHash('sha256')
		.update(keyOf(host.toLowerCase(), String(port), user))
		.digest('hex')
		.slice(0, 16);
}

/** Cap windows of a route: its daily (warm-up or cap) and hourly counters. */
export const capKeys = {
	daily: (date: string, route: string) => `d:${keyOf(date, route)}`,
	hourly: (hour: number | string, route: string) => `h:${keyOf(String(hour), route)}`,
};

/**
 * A route's circuit (health) name: the campaign and the route, so two unrelated workflows that
 * both call a route "Primary" never eject each other. The partitioner reads what the send node writes.
 */
export function circuitName(campaign: string, route: string): string {
	return keyOf(campaign, route);
}

/** Node's one-shot hash (20.12+, every n8n 2.x Node): a fifth of createHmac's cost per call. */
const oneShot = (
	crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }
).hash;

/**
 * A keyed hash of a recipient (or a message's recipient set): what sticky assignments and duplicate
 * markers store instead of addresses. SHA-256 over the store's own secret and the text, cut to 132
 * of its 256 bits: without the secret no guess can be checked, and the cut hides 124 bits of the
 * hash state, so the secret-prefix form allows no length extension. HMAC (createHmac) would cost ~2 µs a call, which
 * was 70% of the partitioner's time per batch.
 */
export function recipientDigest(secret: string, text: string): string {
	const data = `${secret}\u0000${text}`;
	const digest = oneShot
		? oneShot('sha256', data, 'base64url')
		: createHash('sha256').update(data, 'utf8').digest('base64url');
	return digest.slice(0, 22);
}

/** Message ledger keys: a provider's message id, and a digest reference (../feedback/reference.ts). */
export const ledgerKeys = {
	/**
	 * the message id as the provider (or SMTP server) gave it, hashed: any text, one fixed length;
	 * with or without its angle brackets (a Message-ID header has them, most events drop them)
	 */
	message: (provider: string, messageId: string) =>
		`mid:${createHash('sha256')
			.update(keyOf(provider, messageId.trim().replace(/^<(.*)>$/, '$1')))
			.digest('base64url')
			.slice(0, 22)}`,
	/** a digest reference `h.…`: its names */
	reference: (token: string) => `ref:${keyPart(token)}`,
};

/**
 * Seen-set keys (webhook dedupe): per receiving endpoint (`scope`: the trigger node's webhook id)
 * and provider, a hash of the id, so any text has one fixed length and no address shows; and an
 * alert trigger's cooldown marks.
 */
export const seenKeys = {
	/** a provider's event id (a redelivery carries the same one) */
	event: (scope: string, provider: string, eventId: string) =>
		`ev:${createHash('sha256')
			.update(keyOf(scope, provider, eventId))
			.digest('base64url')
			.slice(0, 22)}`,
	/**
	 * a Postal Alert Trigger's cooldown: its consumer group and an alert's scope (./alerts.ts
	 * alertScope), hashed — while the mark lives, that trigger drops the same alert
	 */
	alert: (consumerGroup: string, scope: readonly string[]) =>
		`al:${createHash('sha256')
			.update(keyOf(consumerGroup, ...scope))
			.digest('base64url')
			.slice(0, 22)}`,
	/** a signature token that must be used once (Mailgun) */
	token: (scope: string, provider: string, token: string) =>
		`tok:${createHash('sha256')
			.update(keyOf(scope, provider, token))
			.digest('base64url')
			.slice(0, 22)}`,
};

/**
 * The suppression list's key for an address (as parseAddress gives it: IDN domains in punycode),
 * case-insensitive as mailboxKey is: its own keyed hash, so a list entry matches no sticky or
 * marker digest. The one place both the feedback side (adding) and the send side (looking) key it.
 */
export function suppressionDigest(secret: string, address: string): string {
	return recipientDigest(secret, `sup\0${address.toLowerCase()}`);
}

/**
 * Every key a store writes, in one class (as BullMQ's key class): the Redis store calls nothing
 * else to name a key, and the README's key table is checked against it (test/unit/keys.test.ts).
 *
 * Campaign keys are `prefix{campaign}:<kind>…` (one Cluster slot per campaign); the stores' own
 * keys use the tags `{circuits}`, `{rates}`, `{mx}`, `{suppress}`, `{ledger}`, `{rep}`, `{seen}` and `{alerts}`. A campaign
 * of that name shares the tag but never a key: its kinds (ctr, spill, idx, limits, warmup, sticky:,
 * cap:, once:) are neither a rate key (conn:, smtp:, campaign:, group:), nor a domain (which has a dot
 * and no colon), nor a list (list:), nor a ledger key (mid:, ref:), nor a bucket (m:, h:), nor a seen mark (ev:, tok:, al:).
 */
export class StoreKeys {
	constructor(readonly prefix: string) {}

	private campaign(scope: string, kind: string): string {
		return `${this.prefix}${hashTag(scope)}:${kind}`;
	}

	/** sequence positions per class (a hash) */
	counters = (scope: string) => this.campaign(scope, 'ctr');
	/** spill counts per class (a hash) */
	spills = (scope: string) => this.campaign(scope, 'spill');
	/** recipient digest → route, per partitioner node (a hash) */
	sticky = (scope: string, partition: string) =>
		this.campaign(scope, `sticky:${keyPart(partition)}`);
	/** the campaign's sticky and cap keys, for clearScope (a set) */
	index = (scope: string) => this.campaign(scope, 'idx');
	/** a cap window's counter; `window` from capKeys */
	cap = (scope: string, window: string) => this.campaign(scope, `cap:${window}`);
	/** the routes' own limits, as their send nodes report them (a hash: route → JSON) */
	routeLimits = (scope: string) => this.campaign(scope, 'limits');
	/** the routes' warm-up today, as their partitioner knows it (a hash: route → JSON, ./warmupRecord.ts) */
	warmup = (scope: string) => this.campaign(scope, 'warmup');
	/** a duplicate marker; `digest` from recipientDigest */
	once = (scope: string, digest: string) => this.campaign(scope, `once:${digest}`);
	/** route health, one field per circuitName (a hash) */
	circuits = () => `${this.prefix}{circuits}`;
	/**
	 * a domain group's route reputation (a hash: route → state JSON, ./reputation.ts); beside the
	 * circuits, in their slot, so the partitioner's script reads both on one server
	 */
	reputation = (group: string) => `${this.prefix}{circuits}:rep:${keyPart(group)}`;
	/** a campaign's pause (a string: JSON; expires when the pause ends) */
	campaignPause = (campaign: string) => `${this.prefix}{circuits}:pause:${keyPart(campaign)}`;
	/** how many times a group's reputation was written (a string): its compare-and-set version */
	reputationVersion = (group: string) => `${this.prefix}{circuits}:repv:${keyPart(group)}`;
	/** a GCRA limit's state (./gcra.ts); `limit` from rateKeys */
	rate = (limit: string) => `${this.prefix}{rates}:${limit}`;
	/** the MX cache entry of a (valid, lower-case ASCII) domain */
	mx = (domain: string) => `${this.prefix}{mx}:${domain}`;
	/** a route × group's outcome counters in one bucket (a hash: field → count); ./outcomes.ts */
	outcomes = (route: string, group: string, resolution: 'minute' | 'hour', start: number) =>
		`${this.outcomeBuckets(route, group, resolution)}${start}`;
	/** what every bucket key of a route × group at a resolution starts with (clearOutcomes) */
	outcomeBuckets = (route: string, group: string, resolution: 'minute' | 'hour') =>
		`${this.prefix}{rep}:${resolution === 'minute' ? 'm' : 'h'}:${keyOf(route, group)}:`;
	/** the pair index: which route × group pairs have outcome counters (a sorted set: pair JSON → lastAt); ./outcomes.ts */
	outcomePairs = () => `${this.prefix}{rep}:pairs`;
	/** a message ledger entry; `key` from ledgerKeys */
	ledger = (key: string) => `${this.prefix}{ledger}:${key}`;
	/** a seen mark (webhook dedupe); `key` from seenKeys */
	seen = (key: string) => `${this.prefix}{seen}:${key}`;
	/** a suppression list: suppressionDigest → entry JSON (a hash that never expires) */
	suppression = (list: string) => `${this.prefix}{suppress}:list:${keyPart(list)}`;
	/** the alert log (a stream; embedded: a hash seq → alert JSON), ../state/alerts.ts */
	alerts = () => `${this.prefix}{alerts}:log`;
	/** the number of the last alert published (a string): the next alert's id */
	alertSeq = () => `${this.prefix}{alerts}:seq`;
	/** the embedded stores' consumer groups (a hash: group → JSON); Redis keeps them in the stream */
	alertGroups = () => `${this.prefix}{alerts}:groups`;
	/** an alert's cooldown mark per scope: type, route, group, campaign, rule and severity (SET NX PX); ./alerts.ts alertScope */
	alertCooldown = (...scope: [string, string, string, string, string, string]) =>
		`${this.prefix}{alerts}:cool:${keyOf(...scope)}`;
	/** the secret of the recipient digests */
	secret = () => `${this.prefix}secret`;
}

/** The field of a class's sequence counter: the partitioner node, then a fixed-length hash of the class. */
export function counterField(partition: string, classHash: string): string {
	return `${keyPart(partition)}:${classHash}`;
}
