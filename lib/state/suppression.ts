/**
 * The suppression list's one definition: what an entry holds, when it applies, and what a new
 * entry does to one already there. The memory and SQLite stores run these functions;
 * lua/suppress.lua mirrors `mergeSuppression` on Redis. The contract and differential tests hold
 * every store to the same answers.
 *
 * An entry is keyed by a keyed hash of the address (./keys.ts suppressionDigest), never the
 * address: the list can answer "is this recipient suppressed?" for a given address, and shows only
 * a masked hint (`j***@gmail.com`) when listed.
 */

export const SUPPRESSION_REASONS = [
	'hard-bounce',
	'complaint',
	'unsubscribe',
	'soft-bounce',
	'manual',
] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface SuppressionEntry {
	/** suppressionDigest of the address */
	key: string;
	reason: SuppressionReason;
	/** where it came from: a provider (`sendgrid`), `dsn`, `arf`, `manual`, a node */
	source: string;
	/** the address masked, for lists: never the address */
	hint: string;
	/** when it was recorded (epoch ms) */
	at: number;
	/** when it stops applying (epoch ms); absent: it never does */
	until?: number;
}

/** As stored: short names, one JSON text per entry. */
interface Stored {
	r: SuppressionReason;
	s: string;
	h: string;
	at: number;
	u?: number;
}

export function encodeSuppression(e: SuppressionEntry): string {
	const stored: Stored = { r: e.reason, s: e.source, h: e.hint, at: e.at };
	if (e.until !== undefined) stored.u = e.until;
	return JSON.stringify(stored);
}

/** The entry a stored text holds, if it still applies at `now`. */
export function readSuppression(
	key: string,
	text: string | null | undefined,
	now: number,
): SuppressionEntry | null {
	if (!text) return null;
	const s = JSON.parse(text) as Stored;
	if (s.u !== undefined && s.u <= now) return null;
	const entry: SuppressionEntry = { key, reason: s.r, source: s.s, hint: s.h, at: s.at };
	if (s.u !== undefined) entry.until = s.u;
	return entry;
}

/**
 * What to store when `incoming` meets `stored` (undefined: leave it). A lasting entry is never
 * shortened by a passing one (a soft bounce after a complaint must not make the complaint
 * expire); a passing entry is replaced by a lasting one, or by one that lasts longer; an entry
 * that no longer applies is replaced.
 */
export function mergeSuppression(
	stored: string | null | undefined,
	incoming: SuppressionEntry,
	now: number,
): string | undefined {
	const current = readSuppression(incoming.key, stored, now);
	if (current === null) return encodeSuppression(incoming);
	if (current.until === undefined) return undefined;
	if (incoming.until === undefined || incoming.until > current.until)
		return encodeSuppression(incoming);
	return undefined;
}

/** `jane.doe@gmail.com` → `j***@gmail.com`: enough to recognize a row, not to recover the address. */
export function maskAddress(address: string): string {
	const at = address.lastIndexOf('@');
	if (at <= 0) return '***';
	return `${address[0]}***${address.slice(at)}`;
}

export function checkSuppressionEntries(entries: readonly SuppressionEntry[]): void {
	for (const e of entries) {
		if (!e.key) throw new Error('a suppression entry needs a key (suppressionDigest)');
		if (!SUPPRESSION_REASONS.includes(e.reason))
			throw new Error(`unknown suppression reason "${e.reason}"`);
		if (!Number.isFinite(e.at)) throw new Error('a suppression entry needs its time (at)');
		if (e.until !== undefined && !Number.isFinite(e.until))
			throw new Error('a suppression entry’s until must be a time (epoch ms)');
	}
}
