/**
 * Outcome counters per route × domain group in time buckets: what reputation rules and route stats
 * read (issue "Close the loop" §4). The one definition of the fields, the buckets and their
 * lifetimes; every store keeps them under StoreKeys.outcomes.
 *
 * Fed by the send node's own results (accepted, refused on the spot, deferred, blocked: one store
 * call per batch) and by feedback events (delivered, bounced, complained … when they come back).
 */

export const OUTCOME_FIELDS = [
	/** accepted by the receiving server or the provider's API */
	'sent',
	/** reported delivered (feedback) */
	'delivered',
	/** a temporary refusal: a deferral on the spot, or a reported delay */
	'deferred',
	'bounceHard',
	'bounceSoft',
	/** refused for the sender: reputation, block list, policy, content */
	'blocked',
	'complained',
	'unsubscribed',
	/** not sent: the recipient is on the suppression list */
	'suppressed',
	/** the accept latency of sent messages: their sum (ms) and how many */
	'acceptMsSum',
	'acceptN',
	/**
	 * the accept latency histogram: per sent message one count in the bucket its latency falls in
	 * (not cumulative; ACCEPT_LATENCY_BUCKETS has the bounds)
	 */
	'acceptLe100',
	'acceptLe250',
	'acceptLe500',
	'acceptLe1000',
	'acceptLe2500',
	'acceptLe5000',
	'acceptLe10000',
	'acceptOver10000',
] as const;
export type OutcomeField = (typeof OUTCOME_FIELDS)[number];
export type OutcomeCounts = Partial<Record<OutcomeField, number>>;

/**
 * The accept latency histogram's buckets, in order: a message whose latency is at most `le` ms (and
 * above the bucket before's) counts in `field`; the last bucket has no upper bound. The one
 * definition of the bounds: the send side counts by it (latencyField), stats estimate percentiles
 * from it (latencyPercentile), Prometheus writes its `le` labels from it.
 */
export const ACCEPT_LATENCY_BUCKETS: ReadonlyArray<{ field: OutcomeField; le: number }> = [
	{ field: 'acceptLe100', le: 100 },
	{ field: 'acceptLe250', le: 250 },
	{ field: 'acceptLe500', le: 500 },
	{ field: 'acceptLe1000', le: 1000 },
	{ field: 'acceptLe2500', le: 2500 },
	{ field: 'acceptLe5000', le: 5000 },
	{ field: 'acceptLe10000', le: 10_000 },
	{ field: 'acceptOver10000', le: Infinity },
];

/** the latency bounds a "slower than" question can be asked at: the histogram's finite bounds */
export const LATENCY_BOUNDS_MS = ACCEPT_LATENCY_BUCKETS.filter((b) => Number.isFinite(b.le)).map(
	(b) => b.le,
);

/**
 * Of the messages in the accept-latency histogram, how many took longer than `overMs` (k) of how
 * many were timed (n): a proportion, so routes can be compared on latency with the same test as
 * on rates. `overMs` must be one of the bounds (LATENCY_BOUNDS_MS): a bucket is counted whole.
 */
export function slowerThan(counts: OutcomeCounts, overMs: number): { k: number; n: number } {
	if (!LATENCY_BOUNDS_MS.includes(overMs))
		throw new Error(
			`a latency bound is one of ${LATENCY_BOUNDS_MS.join(', ')} ms (the histogram's buckets), not ${overMs}`,
		);
	let k = 0;
	let n = 0;
	for (const b of ACCEPT_LATENCY_BUCKETS) {
		const c = counts[b.field] ?? 0;
		n += c;
		if (b.le > overMs) k += c;
	}
	return { k, n };
}

/** The histogram field a latency (ms) counts in. */
export function latencyField(ms: number): OutcomeField {
	for (const b of ACCEPT_LATENCY_BUCKETS) if (ms <= b.le) return b.field;
	return ACCEPT_LATENCY_BUCKETS[ACCEPT_LATENCY_BUCKETS.length - 1].field;
}

/**
 * An estimate of the q-quantile (0 < q ≤ 1) of the accept latency from the histogram, in ms: the
 * bucket the q·n-th message falls in, interpolated linearly within it (as Prometheus's
 * histogram_quantile does: the first bucket starts at 0; a quantile in the open last bucket is its
 * lower bound, 10,000 ms — "at least"). An estimate: the true value lies somewhere in that bucket.
 * null when the histogram holds no message (none sent, or counted before the histogram existed).
 */
export function latencyPercentile(counts: OutcomeCounts, q: number): number | null {
	const n = ACCEPT_LATENCY_BUCKETS.reduce((sum, b) => sum + (counts[b.field] ?? 0), 0);
	if (n === 0) return null;
	const rank = q * n;
	let below = 0;
	let lower = 0;
	for (const b of ACCEPT_LATENCY_BUCKETS) {
		const k = counts[b.field] ?? 0;
		if (k > 0 && below + k >= rank) {
			if (b.le === Infinity) return lower;
			return lower + ((b.le - lower) * Math.max(0, rank - below)) / k;
		}
		below += k;
		lower = b.le;
	}
	return lower;
}

export interface OutcomeEntry {
	route: string;
	/** the domain group ('' when unknown) */
	group: string;
	counts: OutcomeCounts;
	/** when it happened (epoch ms): its buckets */
	at: number;
}

export type OutcomeResolution = 'minute' | 'hour';

/**
 * A campaign's own totals, every route and group together (what list-quality rates read: hard
 * bounces and complaints are the list's, not a route's): counted as the route '' — no route has an
 * empty name (the plan and the send node refuse one) — and the campaign as the group. Not in the
 * pair index (pairWrites leaves them out), so stats list routes only.
 */
export const CAMPAIGN_TOTALS_ROUTE = '';

/** The entries plus, for those that name a campaign, the same counts in the campaign's totals. */
export function withCampaignTotals(
	entries: ReadonlyArray<OutcomeEntry & { campaign?: string }>,
): OutcomeEntry[] {
	const out: OutcomeEntry[] = [];
	for (const { campaign, ...e } of entries) {
		out.push(e);
		if (campaign !== undefined)
			out.push({ route: CAMPAIGN_TOTALS_ROUTE, group: campaign, counts: e.counts, at: e.at });
	}
	return out;
}

/** Bucket sizes and how long a bucket is kept after it ends (15 min … 24 h windows read minutes; 7 d hours). */
export const OUTCOME_BUCKETS: Record<OutcomeResolution, { ms: number; keepMs: number }> = {
	minute: { ms: 60_000, keepMs: 3 * 3_600_000 },
	hour: { ms: 3_600_000, keepMs: 8 * 86_400_000 },
};

/** the most buckets one read may span: a day of minutes, or 31 days of hours */
export const MAX_OUTCOME_BUCKETS = 1440;

export interface OutcomeBucket {
	/** the bucket's start (epoch ms) */
	start: number;
	counts: OutcomeCounts;
}

/** The start of the bucket `at` falls in. */
export function bucketStart(at: number, resolution: OutcomeResolution): number {
	const size = OUTCOME_BUCKETS[resolution].ms;
	return Math.floor(at / size) * size;
}

/** When a bucket is dropped: its end plus how long it is kept. */
export function bucketExpiry(start: number, resolution: OutcomeResolution): number {
	const b = OUTCOME_BUCKETS[resolution];
	return start + b.ms + b.keepMs;
}

/** The bucket starts of [from, to), oldest first; throws past MAX_OUTCOME_BUCKETS. */
export function bucketRange(from: number, to: number, resolution: OutcomeResolution): number[] {
	const size = OUTCOME_BUCKETS[resolution].ms;
	const starts: number[] = [];
	for (let s = bucketStart(from, resolution); s < to; s += size) {
		starts.push(s);
		if (starts.length > MAX_OUTCOME_BUCKETS)
			throw new Error(
				`a read of outcome counters spans more than ${MAX_OUTCOME_BUCKETS} ${resolution} buckets: read hours for longer windows`,
			);
	}
	return starts;
}

/** Entries as each store writes them: per (route, group, resolution, bucket) the summed counts. */
export function outcomeWrites(
	entries: readonly OutcomeEntry[],
	now: number,
): Array<{
	route: string;
	group: string;
	resolution: OutcomeResolution;
	start: number;
	expiresAt: number;
	counts: Array<[OutcomeField, number]>;
}> {
	const byKey = new Map<string, ReturnType<typeof outcomeWrites>[number]>();
	for (const e of entries) {
		for (const resolution of ['minute', 'hour'] as const) {
			const start = bucketStart(e.at, resolution);
			const expiresAt = bucketExpiry(start, resolution);
			// an event reported after its bucket was dropped counts nowhere (it would revive it alone)
			if (expiresAt <= now) continue;
			const id = JSON.stringify([e.route, e.group, resolution, start]);
			let w = byKey.get(id);
			if (!w) byKey.set(id, (w = { ...e, resolution, start, expiresAt, counts: [] }));
			for (const f of OUTCOME_FIELDS) {
				const n = e.counts[f];
				if (!n) continue;
				const at = w.counts.findIndex(([g]) => g === f);
				if (at === -1) w.counts.push([f, n]);
				else w.counts[at][1] += n;
			}
		}
	}
	return [...byKey.values()].filter((w) => w.counts.length > 0);
}

export function checkOutcomeEntries(entries: readonly OutcomeEntry[]): void {
	for (const e of entries) {
		if (!Number.isFinite(e.at)) throw new Error('an outcome entry needs its time (at, epoch ms)');
		for (const [f, n] of Object.entries(e.counts)) {
			if (!(OUTCOME_FIELDS as readonly string[]).includes(f))
				throw new Error(`unknown outcome counter "${f}"`);
			if (n !== undefined && (!Number.isInteger(n) || n < 0))
				throw new Error(`outcome counter "${f}" must be a whole number ≥ 0, not ${n}`);
		}
	}
}

/** A stored bucket's fields as counts (absent fields are 0 and left out). */
export function readOutcomeFields(fields: Record<string, string | number>): OutcomeCounts {
	const counts: OutcomeCounts = {};
	for (const f of OUTCOME_FIELDS) {
		const n = Number(fields[f] ?? 0);
		if (n) counts[f] = n;
	}
	return counts;
}

/**
 * The pair index: which route × group pairs have counters, so stats can list them (the buckets'
 * keys cannot be listed without a scan). countOutcomes records each pair it counts into, with the
 * latest time it counted (`lastAt`), in the same atomic call; an entry is kept as long as the hour
 * bucket of its lastAt (8 days after that hour ends). At most MAX_OUTCOME_PAIRS entries: past
 * that, the least recently counted are dropped (ties: the lowest member, as a Redis sorted set
 * ranks them), so a flood of group names cannot grow the index without end.
 */
export const MAX_OUTCOME_PAIRS = 5000;

export interface OutcomePair {
	route: string;
	group: string;
	/** the latest `at` counted for the pair (epoch ms) */
	lastAt: number;
}

/** A pair's member in the index: the JSON of [route, group] (any text, read back as it was). */
export function pairMember(route: string, group: string): string {
	return JSON.stringify([route, group]);
}

export function pairOfMember(member: string): { route: string; group: string } {
	const [route, group] = JSON.parse(member) as [string, string];
	return { route, group };
}

/** When a pair's index entry is dropped: when the hour bucket of its lastAt is. */
export function pairExpiry(lastAt: number): number {
	return bucketExpiry(bucketStart(lastAt, 'hour'), 'hour');
}

/**
 * The pairs a countOutcomes call records: per pair its latest `at` among entries with a count,
 * and that time's expiry; those already over by `now` are left out (as their buckets are).
 */
export function pairWrites(
	entries: readonly OutcomeEntry[],
	now: number,
): Array<{ member: string; lastAt: number; expiresAt: number }> {
	const latest = new Map<string, number>();
	for (const e of entries) {
		if (e.route === CAMPAIGN_TOTALS_ROUTE) continue;
		if (!OUTCOME_FIELDS.some((f) => (e.counts[f] ?? 0) > 0)) continue;
		const member = pairMember(e.route, e.group);
		const prior = latest.get(member);
		if (prior === undefined || e.at > prior) latest.set(member, e.at);
	}
	return [...latest]
		.map(([member, lastAt]) => ({ member, lastAt, expiresAt: pairExpiry(lastAt) }))
		.filter((w) => w.expiresAt > now);
}

/**
 * Index order: latest first, ties by member, higher first (byte order, as Redis compares): the
 * order ZREVRANGE gives, and the first MAX_OUTCOME_PAIRS of it are what is kept.
 */
export function comparePairs(
	a: { member: string; lastAt: number },
	b: { member: string; lastAt: number },
): number {
	return b.lastAt - a.lastAt || Buffer.compare(Buffer.from(b.member), Buffer.from(a.member));
}

/**
 * The index after a call's writes (member → lastAt): the later lastAt of old and new, expired
 * entries gone, at most MAX_OUTCOME_PAIRS kept. What the memory and SQLite stores run inside their
 * call; lua/count_outcomes.lua mirrors it.
 */
export function mergeOutcomePairs(
	index: ReadonlyMap<string, number>,
	writes: ReadonlyArray<{ member: string; lastAt: number }>,
	now: number,
): Map<string, number> {
	const next = new Map(index);
	for (const w of writes) {
		const prior = next.get(w.member);
		if (prior === undefined || w.lastAt > prior) next.set(w.member, w.lastAt);
	}
	return new Map(listedPairs(next, now).map((p) => [p.member, p.lastAt]));
}

/** The live entries of an index, in index order, at most MAX_OUTCOME_PAIRS. */
export function listedPairs(
	index: ReadonlyMap<string, number>,
	now: number,
): Array<{ member: string; lastAt: number }> {
	return [...index]
		.map(([member, lastAt]) => ({ member, lastAt }))
		.filter((p) => pairExpiry(p.lastAt) > now)
		.sort(comparePairs)
		.slice(0, MAX_OUTCOME_PAIRS);
}

/** Index entries as listOutcomePairs answers them. */
export function outcomePairsOf(
	listed: ReadonlyArray<{ member: string; lastAt: number }>,
): OutcomePair[] {
	return listed.map((p) => ({ ...pairOfMember(p.member), lastAt: p.lastAt }));
}

/** Every outcome counter, 0 where none. */
export function zeroCounts(): Required<OutcomeCounts> {
	return Object.fromEntries(OUTCOME_FIELDS.map((f) => [f, 0])) as Required<OutcomeCounts>;
}

/** Buckets summed into every counter. */
export function sumCounts(
	buckets: ReadonlyArray<{ counts: OutcomeCounts }>,
): Required<OutcomeCounts> {
	const total = zeroCounts();
	for (const b of buckets) for (const f of OUTCOME_FIELDS) total[f] += b.counts[f] ?? 0;
	return total;
}
