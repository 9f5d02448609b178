/**
 * Duplicate markers as leases: the one definition of what a marker holds and how a claim and a
 * settlement change it. Pure (no I/O): the memory and SQLite stores run these functions inside
 * their atomic calls, lua/claim_once.lua and lua/settle_once.lua mirror them on Redis, and the
 * differential test holds them to one behaviour.
 *
 * A marker is stored as text: `sent`, or JSON for the other states (below). A key's marker lives
 * for the duplicate window (ttlMs) whatever its state, so an expired lease is remembered as in
 * doubt instead of vanishing.
 */

import type { OnceClaim, OnceClaimRequest, OnceSettlement } from './types';

/** A message that was delivered to every recipient. */
export const SENT = 'sent';

/**
 * lease: a run is sending it (token t, owner o, since at, until u). doubt: a run may have sent it
 * (an unknown outcome, or a lease that ran out). partial: delivered to the recipients whose
 * digests are in d, and not yet to the others. d, on lease and doubt, carries a partial
 * delivery from before the claim.
 */
export type Marker =
	| { s: 'sent' }
	| { s: 'lease'; t: string; o: string; at: number; u: number; d?: string[] }
	| { s: 'doubt'; o: string; at: number; d?: string[] }
	| { s: 'partial'; at: number; d: string[] };

/** Reads a stored marker; `pending:<token>` is the claim of 0.1.x, which never expired: in doubt. */
export function readMarker(text: string | undefined | null): Marker | undefined {
	if (text === undefined || text === null) return undefined;
	if (text === SENT) return { s: 'sent' };
	if (text.startsWith('pending:')) return { s: 'doubt', o: 'an earlier version', at: 0 };
	return JSON.parse(text) as Marker;
}

export function writeMarker(m: Marker): string {
	return m.s === 'sent' ? SENT : JSON.stringify(m);
}

/** What a claim of one key finds and leaves: the answer, and the marker to store (none: unchanged). */
export function claimMarker(
	stored: string | undefined | null,
	req: Pick<OnceClaimRequest, 'token' | 'owner' | 'leaseMs' | 'takeExpired'>,
	now: number,
): { claim: OnceClaim; store?: string } {
	const m = readMarker(stored);
	const lease = (d: string[] | undefined): string =>
		writeMarker({
			s: 'lease',
			t: req.token,
			o: req.owner,
			at: now,
			u: now + req.leaseMs,
			...(d && d.length > 0 ? { d } : {}),
		});
	if (m === undefined) return { claim: { state: 'claimed' }, store: lease(undefined) };
	if (m.s === 'sent') return { claim: { state: 'sent' } };
	if (m.s === 'partial')
		return { claim: { state: 'claimed', delivered: m.d, since: m.at }, store: lease(m.d) };
	if (m.s === 'lease' && m.u > now)
		return { claim: { state: 'leased', since: m.at, owner: m.o, leaseUntil: m.u } };
	// a lease that ran out, or an unknown outcome: the earlier run may have sent it
	if (!req.takeExpired) return { claim: { state: 'in-doubt', since: m.at, owner: m.o } };
	return {
		claim: {
			state: 'claimed',
			reclaimed: { since: m.at, owner: m.o },
			...(m.d && m.d.length > 0 ? { delivered: m.d } : {}),
		},
		store: lease(m.d),
	};
}

/**
 * What a settlement leaves: the marker to store, `null` to delete it, undefined to leave it.
 * 'sent' is written whatever is there (the message went); the others only over this claim's own
 * lease (token), so a run never overwrites a claim another run has since taken.
 */
export function settleMarker(
	stored: string | undefined | null,
	s: OnceSettlement,
	now: number,
): string | null | undefined {
	if (s.outcome === 'sent') return SENT;
	const m = readMarker(stored);
	if (m === undefined || m.s !== 'lease' || m.t !== s.token) return undefined;
	const earlier = m.d && m.d.length > 0 ? m.d : undefined;
	if (s.outcome === 'partial' && s.delivered && s.delivered.length > 0)
		return writeMarker({ s: 'partial', at: now, d: s.delivered });
	if (s.outcome === 'doubt')
		return writeMarker({ s: 'doubt', o: m.o, at: m.at, ...(earlier ? { d: earlier } : {}) });
	// release (or a partial that delivered nothing): back to what the claim found
	return earlier ? writeMarker({ s: 'partial', at: m.at, d: earlier }) : null;
}

/**
 * In doubt: an unknown outcome, or a lease that ran out by `now` (its run died mid-send). What
 * Postal Operations lists as in-doubt messages and what an operator's release applies to.
 */
export function isInDoubt(m: Marker | undefined, now: number): boolean {
	return m !== undefined && (m.s === 'doubt' || (m.s === 'lease' && m.u <= now));
}

/**
 * What an operator's release of a marker leaves (the store's releaseOnce): an in-doubt marker goes
 * back to what the recipients had before that claim — a partial delivery (its digests) or no
 * marker (null), so a re-run sends it; undefined: the marker is not in doubt and stays. Its
 * lifetime is kept (mirrored by lua/release_once.lua).
 */
export function releaseMarker(
	stored: string | undefined | null,
	now: number,
): string | null | undefined {
	const m = readMarker(stored);
	if (m === undefined || !isInDoubt(m, now) || m.s === 'sent' || m.s === 'partial')
		return undefined;
	return m.d && m.d.length > 0 ? writeMarker({ s: 'partial', at: m.at, d: m.d }) : null;
}
