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
] as const;
export type OutcomeField = (typeof OUTCOME_FIELDS)[number];
export type OutcomeCounts = Partial<Record<OutcomeField, number>>;

export interface OutcomeEntry {
	route: string;
	/** the domain group ('' when unknown) */
	group: string;
	counts: OutcomeCounts;
	/** when it happened (epoch ms): its buckets */
	at: number;
}

export type OutcomeResolution = 'minute' | 'hour';

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
