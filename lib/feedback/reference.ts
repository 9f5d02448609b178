/**
 * The reference a sent message carries so that its feedback finds its way back to route, domain
 * group and campaign: `base64url(utf8("1|<route>|<group>|<campaign>"))`, unpadded.
 *
 * Why this shape: base64url's alphabet is exactly `[A-Za-z0-9_-]`, which every place a provider
 * echoes back accepts unchanged (SES and Resend tags allow only those characters, Brevo's
 * X-Mailin-custom is one header string, an SMTP ENVID is xtext, a VERP local part is an atom), and
 * it decodes to the names as they were (the tag sanitizing of ../transports/api/format.ts does not).
 * Names are escaped inside ('%' and '|'), so any route or campaign name survives.
 *
 * A reference longer than the place allows (RFC 3461: ENVID at most 100 characters; a VERP local
 * part at most 64 with its prefix) is sent as `h.<digest>` instead and must be resolved through the
 * message ledger; `encodeReference` says so with `full: false`.
 */
import { createHash } from 'node:crypto';
import type { PostalReference } from './types';

const VERSION = '1';
/** RFC 3461 §4.4: ENVID is at most 100 characters */
export const MAX_REFERENCE_LENGTH = 100;
const HASHED = 'h.';

const escape = (s: string) => s.replace(/%/g, '%25').replace(/\|/g, '%7C');
const unescape = (s: string) => s.replace(/%7C/gi, '|').replace(/%25/g, '%');

export interface EncodedReference {
	token: string;
	/** false: the token is a digest (`h.…`); the names must be looked up in the ledger */
	full: boolean;
}

/** The reference's text form (what a full token encodes, and what the ledger keeps for a digest). */
export function referenceText(ref: PostalReference): string {
	return [VERSION, ref.route, ref.group, ref.campaign].map(escape).join('|');
}

/** The names of a reference's text form; undefined for any other text. */
export function parseReferenceText(text: string | null | undefined): PostalReference | undefined {
	if (!text) return undefined;
	const parts = text.split('|');
	if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
	const [route, group, campaign] = parts.slice(1).map(unescape);
	if (!route || !campaign) return undefined;
	return { route, group, campaign };
}

export function encodeReference(
	ref: PostalReference,
	maxLength = MAX_REFERENCE_LENGTH,
): EncodedReference {
	const token = Buffer.from(referenceText(ref), 'utf8').toString('base64url');
	if (token.length <= maxLength) return { token, full: true };
	return { token: hashedReference(ref), full: false };
}

/** The digest form of a reference: the ledger's key for it. */
export function hashedReference(ref: PostalReference): string {
	return (
		HASHED +
		createHash('sha256').update(referenceText(ref), 'utf8').digest('base64url').slice(0, 22)
	);
}

export function isHashedReference(token: string): boolean {
	return token.startsWith(HASHED) && /^[A-Za-z0-9_-]{22}$/.test(token.slice(HASHED.length));
}

/** The names a full token carries; undefined for anything else (a digest, a stranger's text). */
export function decodeReference(token: string | undefined): PostalReference | undefined {
	if (!token || token.length > MAX_REFERENCE_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token))
		return undefined;
	const text = Buffer.from(token, 'base64url').toString('utf8');
	// base64url decoding ignores what it cannot read: the text must encode back to the token
	if (Buffer.from(text, 'utf8').toString('base64url') !== token) return undefined;
	return parseReferenceText(text);
}

/** The header an SMTP message carries its reference in (returned in DSN and ARF reports). */
export const REFERENCE_HEADER = 'X-Postal-Ref';

/**
 * The reference in a VERP bounce address, `<local>+<token>@<domain>` (the token is the last
 * `+`-separated part of the local part); undefined when the address carries none.
 */
export function referenceFromVerp(address: string | undefined): string | undefined {
	if (!address) return undefined;
	const at = address.lastIndexOf('@');
	const local = at === -1 ? address : address.slice(0, at);
	const plus = local.lastIndexOf('+');
	if (plus === -1) return undefined;
	const token = local.slice(plus + 1);
	return decodeReference(token) || isHashedReference(token) ? token : undefined;
}
