/**
 * The operator's hands on messages and recipients (the Postal Operations node's Message and
 * Recipient resources): a campaign's in-doubt messages — list, release (a re-run sends them),
 * mark sent (never sent again) — and where one address stands: its duplicate marker, its sticky
 * routes, its suppression entry. Only what the store holds: no address is stored (markers, sticky
 * keys and list entries are keyed digests), so a listing gives digests, and a look-up starts
 * from the address.
 */
import { mailboxKey, parseAddress } from '../domains/address';
import { duplicateKeyOf } from '../delivery/message';
import { recipientDigest, suppressionDigest } from '../state/keys';
import type { Marker } from '../state/once';
import { MAX_PAGE } from '../state/page';
import { readCursor, writeCursor } from './cursor';
import type { OnceClaim, StateStore } from '../state/types';

const iso = (ms: number) => new Date(ms).toISOString();

/** the token an operator's settlement carries (a 'sent' settlement applies over any marker) */
const OPERATOR_TOKEN = 'operator';

/** A message in doubt: its send may have gone, and no answer says whether. */
export interface InDoubtMessage {
	campaign: string;
	/** the marker's key: a keyed digest of the message's recipients and Message Key */
	digest: string;
	/** unknown-outcome: the send went without an answer; lease-expired: its run stopped mid-send */
	why: 'unknown-outcome' | 'lease-expired';
	/** when the claim that left it in doubt was made */
	since: string;
	/** the run that claimed it (`execution <id> · <send node>`) */
	by: string;
	/** lease-expired: when the lease ran out */
	leaseEnded?: string;
	/** how many recipients an earlier run delivered to (a partial delivery before the claim) */
	deliveredBefore: number;
}

/** the most store pages one listing reads (a Redis page may hold few markers of a big keyspace) */
export const MAX_PAGES_READ = 500;

function inDoubtOf(campaign: string, digest: string, m: Marker): InDoubtMessage | null {
	if (m.s !== 'doubt' && m.s !== 'lease') return null;
	return {
		campaign,
		digest,
		why: m.s === 'doubt' ? 'unknown-outcome' : 'lease-expired',
		since: iso(m.at),
		by: m.o,
		...(m.s === 'lease' ? { leaseEnded: iso(m.u) } : {}),
		deliveredBefore: m.d?.length ?? 0,
	};
}

/**
 * A campaign's in-doubt markers (an unknown outcome, or a lease that ran out), up to `limit`,
 * from a cursor a previous listing gave; the cursor after them (null: every marker was read).
 * The store keeps the in-doubt ones (listOnce `inDoubt`), each page no longer than what is
 * still wanted, so a listing never stops inside a page. At most MAX_PAGES_READ store pages per
 * call (a Redis page of a big keyspace may hold few): the cursor then says where to go on.
 */
export async function listInDoubt(
	store: StateStore,
	campaign: string,
	options: { limit: number; cursor?: string | null },
): Promise<{ messages: InDoubtMessage[]; cursor: string | null }> {
	const messages: InDoubtMessage[] = [];
	let at = readCursor(options.cursor, 'a listing of in-doubt messages');
	for (let pages = 1; ; pages++) {
		const page = await store.listOnce(campaign, {
			cursor: at,
			count: Math.min(MAX_PAGE, options.limit - messages.length),
			inDoubt: true,
		});
		for (const { key, marker } of page.items) {
			const m = inDoubtOf(campaign, key, marker);
			if (m) messages.push(m);
		}
		at = page.cursor;
		if (at === null) return { messages, cursor: null };
		if (messages.length >= options.limit || pages >= MAX_PAGES_READ)
			return { messages, cursor: writeCursor(at) };
	}
}

/** Releases in-doubt markers: per digest whether it was in doubt (and is now released). */
export function releaseInDoubt(
	store: StateStore,
	campaign: string,
	digests: readonly string[],
): Promise<boolean[]> {
	return store.releaseOnce(campaign, [...digests]);
}

/** A marker's state as an operator reads it (from a peek: nothing is claimed). */
export interface MarkerView {
	state: 'none' | 'sent' | 'partial' | 'sending' | 'in-doubt';
	since?: string;
	by?: string;
	leaseUntil?: string;
	deliveredTo?: number;
}

function viewOf(c: OnceClaim): MarkerView {
	if (c.state === 'sent') return { state: 'sent' };
	if (c.state === 'leased')
		return { state: 'sending', since: iso(c.since!), by: c.owner!, leaseUntil: iso(c.leaseUntil!) };
	if (c.state === 'in-doubt') return { state: 'in-doubt', since: iso(c.since!), by: c.owner! };
	if (c.delivered && c.delivered.length > 0)
		return {
			state: 'partial',
			...(c.since !== undefined ? { since: iso(c.since) } : {}),
			deliveredTo: c.delivered.length,
		};
	return { state: 'none' };
}

/** What markers hold now, one peek (a claim that writes nothing). */
async function peekMarkers(
	store: StateStore,
	campaign: string,
	digests: string[],
): Promise<MarkerView[]> {
	if (digests.length === 0) return [];
	const claims = await store.claimOnce(campaign, {
		keys: digests,
		token: 'peek',
		owner: 'Postal Operations',
		leaseMs: 0,
		ttlMs: 1,
		takeExpired: false,
		peek: true,
	});
	return claims.map(viewOf);
}

/**
 * Settles markers as sent (Mark Sent): the message is never sent again in the campaign for
 * `ttlMs`, whatever the marker held; per digest, what it held before.
 */
export async function markSent(
	store: StateStore,
	campaign: string,
	digests: readonly string[],
	ttlMs: number,
): Promise<MarkerView[]> {
	const before = await peekMarkers(store, campaign, [...digests]);
	await store.settleOnce(
		campaign,
		[...new Set(digests)].map((key) => ({ key, token: OPERATOR_TOKEN, outcome: 'sent' as const })),
		ttlMs,
	);
	return before;
}

/** Where an address stands in a campaign, from what the store holds. */
export interface RecipientLookup {
	/** the address as the package reads it (the domain lower-cased, IDN in punycode) */
	email: string;
	campaign: string;
	/**
	 * the duplicate marker of a message to this address alone (To only, no CC or BCC) with the
	 * Message Key given: a message to several recipients has a marker of its own set
	 */
	message: MarkerView & { digest: string; messageKey: string };
	/**
	 * the routes sticky routing recorded for the address, per Route Partitioner (its node id);
	 * empty when the partitioner routed it without Sticky Routing (a plain split, or Sticky by Hash,
	 * which computes the route and stores nothing) or its sticky table expired
	 */
	sticky: Array<{ partitioner: string; route: string }>;
	suppression: {
		list: string;
		suppressed: boolean;
		reason?: string;
		source?: string;
		since?: string;
		until?: string;
	};
}

export type LookupAnswer = { ok: true; value: RecipientLookup } | { ok: false; problem: string };

/**
 * Looks up addresses in a campaign, one store call per kind for the batch (markers, suppression)
 * and one per address for sticky routes.
 */
export async function lookUpRecipients(
	store: StateStore,
	requests: ReadonlyArray<{ address: string; campaign: string; messageKey: string }>,
	list: string,
): Promise<LookupAnswer[]> {
	const secret = await store.hashSecret();
	const read = requests.map((r) => {
		const parsed = parseAddress(r.address);
		return parsed.ok
			? { ok: true as const, parsed, r }
			: {
					ok: false as const,
					problem: `"${r.address}" is not one email address: ${parsed.reason}`,
				};
	});
	const valid = read.flatMap((x) => (x.ok ? [x] : []));
	const markerDigests = valid.map((x) =>
		recipientDigest(secret, duplicateKeyOf([x.parsed.address], x.r.messageKey)),
	);
	// per campaign one peek
	const markers = new Map<number, MarkerView>();
	const byCampaign = new Map<string, number[]>();
	valid.forEach((x, k) => {
		const list = byCampaign.get(x.r.campaign) ?? [];
		list.push(k);
		byCampaign.set(x.r.campaign, list);
	});
	for (const [campaign, ks] of byCampaign) {
		const views = await peekMarkers(
			store,
			campaign,
			ks.map((k) => markerDigests[k]),
		);
		ks.forEach((k, j) => markers.set(k, views[j]));
	}
	const entries = valid.length
		? await store.getSuppressions(
				list,
				valid.map((x) => suppressionDigest(secret, x.parsed.address)),
			)
		: [];
	const sticky: Array<Array<{ partition: string; route: string }>> = [];
	for (const x of valid)
		sticky.push(
			await store.stickyRoutes(x.r.campaign, recipientDigest(secret, mailboxKey(x.parsed))),
		);
	let k = 0;
	return read.map((x) => {
		if (!x.ok) return x;
		const i = k++;
		const e = entries[i];
		return {
			ok: true,
			value: {
				email: x.parsed.address,
				campaign: x.r.campaign,
				message: { digest: markerDigests[i], messageKey: x.r.messageKey, ...markers.get(i)! },
				sticky: sticky[i].map((s) => ({ partitioner: s.partition, route: s.route })),
				suppression: e
					? {
							list,
							suppressed: true,
							reason: e.reason,
							source: e.source,
							since: iso(e.at),
							...(e.until === undefined ? {} : { until: iso(e.until) }),
						}
					: { list, suppressed: false },
			},
		};
	});
}
