/**
 * The write side of VERP (variable envelope return path): an SMTP message's envelope sender is a
 * bounce address that carries the message's reference, `<prefix>+<token>@<domain>`, so a bounce
 * sent to it names its route, group and campaign even when the returned message is cut off.
 * The read side is `referenceFromVerp` (./reference.ts): the token is the last `+`-separated part of
 * the local part, which is why the placeholder must close the local part, right after a `+`.
 */
import { parseAddress } from '../domains/address';
import { hashedReference } from './reference';

/** what the template's reference goes in place of */
export const VERP_PLACEHOLDER = '{ref}';
/** RFC 5321 §4.5.3.1.1: a local part is at most 64 octets */
const MAX_LOCAL = 64;
/** a digest reference (`h.` + 22), the shortest form every reference has */
const DIGEST_LENGTH = hashedReference({ route: 'r', group: '', campaign: 'c' }).length;

export interface VerpTemplate {
	/** the local part before the token, ending in `+` */
	prefix: string;
	/** the bounce domain, lower-cased ASCII (punycode) */
	domain: string;
}

export type VerpTemplateResult =
	{ ok: true; template: VerpTemplate } | { ok: false; problem: string };

const EXAMPLE = `bounces+${VERP_PLACEHOLDER}@bounce.example.com`;

/**
 * Reads a template such as `bounces+{ref}@bounce.example.com`: `{ref}` exactly once, closing the
 * local part right after a `+`, the rest a valid address (the one address parser's rules) with
 * room for a digest reference within the 64 characters of a local part.
 */
export function parseVerpTemplate(text: string): VerpTemplateResult {
	const fail = (why: string): VerpTemplateResult => ({
		ok: false,
		problem: `"${text}" ${why} (e.g. ${EXAMPLE})`,
	});
	const at = text.lastIndexOf('@');
	if (at === -1) return fail(`is no address: it needs an "@" and the bounce domain after it`);
	const local = text.slice(0, at);
	const count = text.split(VERP_PLACEHOLDER).length - 1;
	if (count !== 1)
		return fail(
			count === 0
				? `has no ${VERP_PLACEHOLDER}: put it where the message's reference goes, at the end of the part before the "@"`
				: `has ${VERP_PLACEHOLDER} ${count} times: it takes exactly one`,
		);
	if (!local.endsWith(`+${VERP_PLACEHOLDER}`))
		return fail(
			`must end the part before the "@" with +${VERP_PLACEHOLDER}, so the Postal Bounce Parser finds the reference after the last "+"`,
		);
	const prefix = local.slice(0, -VERP_PLACEHOLDER.length);
	if (prefix.length === 1) return fail(`needs a mailbox name before +${VERP_PLACEHOLDER}`);
	if (prefix.length + DIGEST_LENGTH > MAX_LOCAL)
		return fail(
			`leaves no room for the reference: the part before the "@" is at most ${MAX_LOCAL} characters with a ${DIGEST_LENGTH}-character reference, so at most ${MAX_LOCAL - DIGEST_LENGTH} before ${VERP_PLACEHOLDER}`,
		);
	// the address with the longest token it may carry, through the one address parser; it must come
	// back unchanged in its local part (no quoting, no display name, no comment)
	const sample = `${prefix}${'A'.repeat(MAX_LOCAL - prefix.length)}`;
	const parsed = parseAddress(`${sample}${text.slice(at)}`);
	if (!parsed.ok) return fail(`is not a valid address: ${parsed.reason}`);
	if (parsed.local !== sample || parsed.displayName !== undefined)
		return fail(`must be a plain address, without a name, quotes or comments`);
	return { ok: true, template: { prefix, domain: parsed.domain } };
}

/** The longest reference a template's local part has room for. */
export const verpTokenRoom = (t: VerpTemplate): number => MAX_LOCAL - t.prefix.length;

/** The bounce address of a message with this reference token (it must fit: verpTokenRoom). */
export function verpAddress(t: VerpTemplate, token: string): string {
	if (token.length > verpTokenRoom(t) || !/^[A-Za-z0-9._-]+$/.test(token))
		throw new Error('the reference does not fit the VERP local part');
	return `${t.prefix}${token}@${t.domain}`;
}
