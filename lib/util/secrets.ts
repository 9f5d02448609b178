/**
 * Keeps credential secrets out of text that leaves a transport: failure messages, server replies,
 * credential-test results. Scrub FIRST, then shorten: cutting first can leave a prefix of a secret
 * that no longer matches the whole secret, and so survives the scrub.
 */

export const REDACTED = '[redacted]';

/** Error and reply text is cut to this; the pipeline stores at most 300 characters too. */
export const MAX_TEXT = 300;

/** Encoded fragments shorter than this are too likely to match ordinary text. */
const MIN_FRAGMENT = 8;

const toBase64Url = (b64: string) => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/**
 * The ways a server or library may echo a secret back:
 *  - as is, JSON-escaped (also with `\/`, as PHP writes it)
 *  - URL-encoded: encodeURIComponent, form encoding (space as +), lower-case %xx
 *  - base64 and base64url of the secret on its own, padded and unpadded
 *  - base64 / base64url of the secret inside a longer base64 string (a token blob, Basic or AUTH
 *    PLAIN): there its encoding depends on the byte offset mod 3, so for each of the three offsets
 *    the 4-character groups made of secret bytes alone are listed. That covers all but the first
 *    and last one or two bytes of the secret; secrets under about 7 bytes give no such fragment.
 * The raw secret is listed whatever its length; other forms from 4 characters (8 for fragments).
 */
export function secretForms(secret: string): string[] {
	if (!secret) return [];
	const bytes = Buffer.from(secret, 'utf8');
	const b64 = bytes.toString('base64');
	const json = JSON.stringify(secret).slice(1, -1);
	const url = encodeURIComponent(secret);
	const forms = [
		json,
		json.replace(/\//g, '\\/'),
		url,
		url.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
		new URLSearchParams({ s: secret }).toString().slice(2),
		b64,
		b64.replace(/=+$/, ''),
		toBase64Url(b64),
	].filter((form) => form.length >= 4);
	for (let offset = 0; offset < 3; offset++) {
		const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
		// the first group mixes in what precedes the secret, the last partial one what follows it
		const middle = encoded.slice(offset ? 4 : 0, Math.floor((offset + bytes.length) / 3) * 4);
		if (middle.length >= MIN_FRAGMENT) forms.push(middle, toBase64Url(middle));
	}
	return [...new Set([secret, ...forms])];
}

/** Replaces every form of every secret (longest first, so a form inside another goes with it). */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
	const forms = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
	let out = text;
	for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
	return out;
}

/** One line, at most `max` characters: replies can be multi-line banners or HTML error pages. */
export function capText(text: string, max = MAX_TEXT): string {
	const line = text.replace(/\s+/g, ' ').trim();
	if (line.length <= max) return line;
	let cut = max - 1;
	// never split a surrogate pair
	if (/[\uD800-\uDBFF]/.test(line[cut - 1] ?? '')) cut--;
	return `${line.slice(0, cut)}…`;
}

/**
 * Text from a server or library, made safe to show: scrubbed, on one line, capped. Scrubbed again
 * after the whitespace is folded, in case folding joined a secret back together.
 */
export function safeText(text: string, secrets: readonly string[], max = MAX_TEXT): string {
	const line = capText(scrubSecrets(text, secrets), Number.MAX_SAFE_INTEGER);
	return capText(scrubSecrets(line, secrets), max);
}
