import { domainToASCII, domainToUnicode } from 'node:url';

/**
 * The one address parser of the package: the classifier, the partitioner's sticky key and every
 * address field of the send node (From, To, CC, BCC, Reply-To) read addresses through it, so what
 * the classifier reports is exactly what the transport puts in the envelope.
 *
 * A value is exactly one mailbox or it is invalid: anything that could be read as a list (a ","
 * or ";" outside quotes, two "@" in one address, an address in a comment) is refused with a
 * reason, never split or truncated.
 */

export interface ParsedAddress {
	ok: true;
	/** local@ascii-domain: the mailbox, exactly as it goes into the envelope */
	address: string;
	/** the part before "@", as a dot-atom (a quoted "ann" becomes ann) */
	local: string;
	/** lower-cased, punycode (ASCII) form */
	domain: string;
	displayName?: string;
	/** the part after the first "+" of the local part (plus-addressing), kept in `address` */
	tag?: string;
}

export interface InvalidAddress {
	ok: false;
	/** the input as text, shortened for messages */
	input: string;
	reason: string;
}

export type AddressParseResult = ParsedAddress | InvalidAddress;

export type AddressListResult =
	{ ok: true; addresses: ParsedAddress[] } | { ok: false; input: string; reason: string };

const MAX_ADDRESS = 254;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const MAX_LABEL = 63;
/** longer than any real "Name <address>": refused before any work, and never echoed whole */
const MAX_INPUT = 1000;
/** how much of a bad input a message shows */
const SHOWN_INPUT = 80;

/** Shortens user text for an error message: a huge value must not become a huge error. */
export function shownInput(text: string): string {
	return text.length > SHOWN_INPUT ? `${text.slice(0, SHOWN_INPUT - 1)}…` : text;
}

function invalid(input: string, reason: string): InvalidAddress {
	return { ok: false, input: shownInput(input), reason };
}

/** Thrown inside the scanner; becomes an InvalidAddress. */
class Refused extends Error {}

// ---------------------------------------------------------------------------------------------
// Characters
// ---------------------------------------------------------------------------------------------

/**
 * Controls, format characters (zero-width, bidi overrides), lone surrogates, private use, and every
 * whitespace but the plain space: each can make two readers of one value see different mailboxes
 * (a no-break space became a list separator in one of them).
 */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}]|[^\S ]/u;

const CHAR_NAMES: Record<number, string> = {
	0x09: 'a tab',
	0xa0: 'a no-break space',
	0x200b: 'a zero-width space',
	0x2028: 'a line separator',
	0x2029: 'a paragraph separator',
	0xfeff: 'a byte-order mark',
};

function checkCharacters(s: string): string | undefined {
	const m = FORBIDDEN.exec(s);
	if (!m) return undefined;
	const c = m[0].codePointAt(0)!;
	if (c === 13 || c === 10 || c === 0) return 'line breaks are not allowed in an address';
	const code = `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
	const name =
		CHAR_NAMES[c] ?? (/\s/u.test(m[0]) ? 'a space character' : 'an invisible or control character');
	return `the character ${code} (${name}) is not allowed in an address`;
}

/** RFC 5322 atext, plus any non-ASCII character (RFC 6531 SMTPUTF8 local parts). */
function isAtext(c: number): boolean {
	return (
		(c >= 97 && c <= 122) || // a-z
		(c >= 65 && c <= 90) || // A-Z
		(c >= 48 && c <= 57) || // 0-9
		c === 33 ||
		(c >= 35 && c <= 39) ||
		c === 42 ||
		c === 43 ||
		c === 45 ||
		c === 47 ||
		c === 61 ||
		c === 63 ||
		(c >= 94 && c <= 96) ||
		(c >= 123 && c <= 126) ||
		c > 127
	);
}

function dotAtomProblem(local: string): string | undefined {
	let prevDot = true; // a leading dot is an error too
	for (let i = 0; i < local.length; i++) {
		const c = local.charCodeAt(i);
		if (c === 46 /* . */) {
			if (prevDot)
				return i === 0 ? 'the address starts with a dot' : 'two dots in a row before "@"';
			prevDot = true;
		} else if (isAtext(c)) {
			prevDot = false;
		} else if (c === 64 /* @ */) {
			return 'it holds more than one "@": put one address per item';
		} else {
			return `the character "${local[i]}" is not allowed before "@"`;
		}
	}
	if (prevDot) return 'a dot right before "@"';
	return undefined;
}

// ---------------------------------------------------------------------------------------------
// Scanning: quotes, comments, angle brackets
// ---------------------------------------------------------------------------------------------

interface Token {
	kind: 'text' | 'quoted' | 'comment' | 'angle' | 'separator';
	/** text: as written; quoted/comment: unescaped content; angle: the content between < and > */
	value: string;
	/** as written, with quotes or brackets */
	raw: string;
}

/** Reads a quoted string starting at `start` (a `"`); returns its unescaped content and the end. */
function readQuoted(s: string, start: number): { value: string; end: number } {
	let value = '';
	for (let i = start + 1; i < s.length; i++) {
		const c = s[i];
		if (c === '\\') {
			if (i + 1 >= s.length) break;
			value += s[++i];
		} else if (c === '"') {
			return { value, end: i + 1 };
		} else value += c;
	}
	throw new Refused('unbalanced quotes');
}

/** Reads a (possibly nested) comment starting at `start` (a `(`). */
function readComment(s: string, start: number): { value: string; end: number } {
	let depth = 0;
	let value = '';
	for (let i = start; i < s.length; i++) {
		const c = s[i];
		if (c === '\\') {
			if (i + 1 >= s.length) break;
			value += s[++i];
			continue;
		}
		if (c === '(') {
			if (depth > 0) value += c;
			depth++;
		} else if (c === ')') {
			depth--;
			if (depth === 0) return { value, end: i + 1 };
			value += c;
		} else value += c;
	}
	throw new Refused('a "(" without a matching ")"');
}

/** Splits a value into tokens; "," and ";" outside quotes, comments and <…> become separators. */
function scan(s: string): Token[] {
	const tokens: Token[] = [];
	let text = '';
	const flush = () => {
		if (text) tokens.push({ kind: 'text', value: text, raw: text });
		text = '';
	};
	for (let i = 0; i < s.length;) {
		const c = s[i];
		if (c === '"') {
			flush();
			const q = readQuoted(s, i);
			tokens.push({ kind: 'quoted', value: q.value, raw: s.slice(i, q.end) });
			i = q.end;
		} else if (c === '(') {
			flush();
			const q = readComment(s, i);
			tokens.push({ kind: 'comment', value: q.value, raw: s.slice(i, q.end) });
			i = q.end;
		} else if (c === '<') {
			flush();
			let j = i + 1;
			let inner = '';
			for (; j < s.length && s[j] !== '>'; j++) {
				if (s[j] === '"') {
					const q = readQuoted(s, j);
					inner += s.slice(j, q.end);
					j = q.end - 1;
				} else if (s[j] === '<') throw new Refused('a "<" inside <…>');
				else inner += s[j];
			}
			if (j >= s.length) throw new Refused('a "<" without a matching ">"');
			tokens.push({ kind: 'angle', value: inner.trim(), raw: s.slice(i, j + 1) });
			i = j + 1;
		} else if (c === '>') {
			throw new Refused('a ">" without a matching "<"');
		} else if (c === ')') {
			throw new Refused('a ")" without a matching "("');
		} else if (c === ',' || c === ';') {
			flush();
			tokens.push({ kind: 'separator', value: c, raw: c });
			i++;
		} else {
			text += c;
			i++;
		}
	}
	flush();
	return tokens;
}

// ---------------------------------------------------------------------------------------------
// addr-spec
// ---------------------------------------------------------------------------------------------

function checkDomain(domain: string): string | undefined {
	if (domain.length === 0) return 'the domain after "@" is empty';
	if (domain.length > MAX_DOMAIN) return `the domain is longer than ${MAX_DOMAIN} characters`;
	let labelStart = 0;
	let labels = 0;
	let lastLabelAllDigits = true;
	for (let i = 0; i <= domain.length; i++) {
		const c = i < domain.length ? domain.charCodeAt(i) : 46;
		if (c === 46) {
			const len = i - labelStart;
			if (len === 0) return 'the domain has an empty label (two dots in a row, or a leading dot)';
			if (len > MAX_LABEL) return `a domain label is longer than ${MAX_LABEL} characters`;
			if (domain.charCodeAt(labelStart) === 45 || domain.charCodeAt(i - 1) === 45)
				return 'a domain label starts or ends with a hyphen';
			labels++;
			labelStart = i + 1;
			if (i < domain.length) lastLabelAllDigits = true;
		} else if ((c >= 97 && c <= 122) || c === 45) {
			lastLabelAllDigits = false;
		} else if (c >= 48 && c <= 57) {
			// digits keep lastLabelAllDigits as it is
		} else {
			return `the character "${domain[i]}" is not allowed in a domain`;
		}
	}
	if (labels < 2) return 'the domain has no dot (e.g. "example.com")';
	if (lastLabelAllDigits) return 'the domain ends in a number, not a top-level domain';
	return undefined;
}

const ASCII_DOMAIN = /^[A-Za-z0-9.-]*$/;

/**
 * The ASCII form of a domain, label by label. A label's characters must all survive: a URL parser
 * would cut "exämple.com/evil" at the "/" and return a prefix, so ASCII characters other than
 * letters, digits and "-" are refused first, and an international label must convert back to
 * itself (no silent mapping of look-alike characters).
 */
function asciiDomain(domain: string): string | { problem: string } {
	if (domain.endsWith('.')) domain = domain.slice(0, -1);
	if (ASCII_DOMAIN.test(domain)) return domain.toLowerCase();
	if (domain.startsWith('['))
		return { problem: 'IP-address domains ([1.2.3.4]) are not supported' };
	const labels = domain.split('.');
	const out: string[] = [];
	for (const label of labels) {
		let ascii = true;
		for (let i = 0; i < label.length; i++) {
			const c = label.charCodeAt(i);
			if (c > 127) ascii = false;
			else if (!(
				(c >= 97 && c <= 122) ||
				(c >= 65 && c <= 90) ||
				(c >= 48 && c <= 57) ||
				c === 45
			)) {
				if (c === 64) return { problem: 'it holds more than one "@": put one address per item' };
				return { problem: `the character "${label[i]}" is not allowed in a domain` };
			}
		}
		if (ascii || label === '') {
			out.push(label.toLowerCase());
			continue;
		}
		const lower = label.normalize('NFC').toLowerCase();
		const converted = domainToASCII(lower);
		if (!converted || converted.includes('.') || domainToUnicode(converted) !== lower)
			return { problem: `"${label}" is not a valid international domain name` };
		out.push(converted);
	}
	return out.join('.');
}

/** A local part in its canonical form: a dot-atom, unquoted. */
function canonicalLocal(token: { quoted: boolean; value: string }): string | { problem: string } {
	if (!token.quoted) {
		const problem = dotAtomProblem(token.value);
		return problem ? { problem } : token.value;
	}
	const v = token.value;
	if (v.length === 0) return { problem: 'the part before "@" is empty' };
	if (!dotAtomProblem(v)) return v; // "ann"@x.com is ann@x.com
	// a local part that needs its quotes (spaces, commas, odd dots) is read differently by mail
	// servers and libraries (a real SMTP server refused "a b"@x.com as bad syntax): refused here
	return {
		problem:
			'an address that needs quotes before "@" (spaces, commas or unusual dots) is not supported: mail servers read it differently',
	};
}

/** Parses `local@domain` (no name, no comment). */
function parseAddrSpec(
	spec: string,
): { address: string; local: string; domain: string } | { problem: string } {
	let s = spec.trim();
	if (s.length > 7 && s.slice(0, 7).toLowerCase() === 'mailto:') s = s.slice(7);
	if (s.length === 0) return { problem: 'the address is empty' };
	let localToken: { quoted: boolean; value: string };
	let rest: string;
	if (s[0] === '"') {
		let q: { value: string; end: number };
		try {
			q = readQuoted(s, 0);
		} catch {
			return { problem: 'unbalanced quotes before "@"' };
		}
		if (s[q.end] !== '@')
			return {
				problem: q.end >= s.length ? 'there is no "@"' : 'text between the closing quote and "@"',
			};
		localToken = { quoted: true, value: q.value };
		rest = s.slice(q.end + 1);
	} else {
		const at = s.indexOf('@');
		if (at === -1) return { problem: 'there is no "@"' };
		localToken = { quoted: false, value: s.slice(0, at) };
		rest = s.slice(at + 1);
		if (localToken.value.length === 0) return { problem: 'the part before "@" is empty' };
	}
	if (/\s/.test(rest) && rest.includes('@'))
		return { problem: 'it holds more than one address: put one address per item' };
	const local = canonicalLocal(localToken);
	if (typeof local !== 'string') return local;
	if (local.length > MAX_LOCAL)
		return { problem: `the part before "@" is longer than ${MAX_LOCAL} characters` };
	const ascii = asciiDomain(rest);
	if (typeof ascii !== 'string') return ascii;
	const domainProblem = checkDomain(ascii);
	if (domainProblem) return { problem: domainProblem };
	// the text itself when it is the mailbox already (the common case): the same characters, and no
	// new string per address for a batch to keep in every item it outputs
	const address =
		s.length === local.length + 1 + ascii.length &&
		s.charCodeAt(local.length) === 64 &&
		s.startsWith(local) &&
		s.endsWith(ascii)
			? s
			: `${local}@${ascii}`;
	if (address.length > MAX_ADDRESS)
		return { problem: `the address is longer than ${MAX_ADDRESS} characters` };
	return { address, local, domain: ascii };
}

// ---------------------------------------------------------------------------------------------
// Mailboxes
// ---------------------------------------------------------------------------------------------

const PHRASE_SPECIALS = /[@:[\]\\]/;

/** One mailbox from the tokens of one list entry. */
function mailbox(tokens: Token[]): { spec: string; name?: string } {
	const angles = tokens.filter((t) => t.kind === 'angle');
	if (angles.length > 1)
		throw new Refused('it holds more than one <address>: put one address per item');
	const comments = tokens.filter((t) => t.kind === 'comment');
	for (const c of comments) {
		if (c.value.includes('@'))
			throw new Refused(
				`the comment "${shownInput(c.raw)}" holds another address: put one address per item`,
			);
	}

	if (angles.length === 1) {
		const at = tokens.indexOf(angles[0]);
		for (const t of tokens.slice(at + 1)) {
			if (t.kind !== 'comment' && t.value.trim() !== '')
				throw new Refused('text after the closing ">"');
		}
		// the display name: words and quoted strings before <…>
		const words: string[] = [];
		for (const t of tokens.slice(0, at)) {
			if (t.kind === 'comment') continue;
			if (t.kind === 'quoted') words.push(t.value);
			else {
				const text = t.value.trim();
				if (!text) continue;
				if (PHRASE_SPECIALS.test(text)) {
					// "ann@x.com <ann@x.com>" (a common export) names the same mailbox twice: fine
					const same = parseAddrSpec(text);
					const inner = parseAddrSpec(angles[0].value);
					if (
						'address' in same &&
						'address' in inner &&
						same.address.toLowerCase() === inner.address.toLowerCase()
					)
						continue;
					if (text.includes('@'))
						throw new Refused(
							'the name before "<" holds another address: put it in quotes, or put one address per item',
						);
					throw new Refused(
						`the name before "<" has a "${PHRASE_SPECIALS.exec(text)![0]}": put the name in quotes`,
					);
				}
				words.push(text);
			}
		}
		const name = words.join(' ').replace(/ +/g, ' ').trim();
		return name ? { spec: angles[0].value, name } : { spec: angles[0].value };
	}

	// a bare address, maybe with a trailing comment: "ann@x.com (Ann Smith)"
	let end = tokens.length;
	while (
		end > 0 &&
		(tokens[end - 1].kind === 'comment' ||
			(tokens[end - 1].kind === 'text' && tokens[end - 1].value.trim() === ''))
	)
		end--;
	const body = tokens.slice(0, end);
	if (body.some((t) => t.kind === 'comment'))
		throw new Refused('a comment "(…)" inside the address');
	const spec = body.map((t) => t.raw).join('');
	if (/^[^"]*\s/.test(spec.trim()) && spec.includes('@')) {
		const words = spec.trim().split(/\s+/);
		if (words.filter((w) => w.includes('@')).length > 1)
			throw new Refused('it holds more than one address: put one address per item');
		if (!words[0].includes('@'))
			throw new Refused('a name without <…> around the address: write it as Name <address>');
	}
	const name = tokens
		.slice(end)
		.filter((t) => t.kind === 'comment')
		.map((t) => t.value.trim())
		.filter(Boolean)
		.join(' ');
	return name ? { spec, name } : { spec };
}

function entries(s: string): Token[][] {
	const list: Token[][] = [[]];
	for (const t of scan(s)) {
		if (t.kind === 'separator') list.push([]);
		else list[list.length - 1].push(t);
	}
	return list;
}

const isBlank = (tokens: Token[]) =>
	tokens.every((t) => t.kind === 'text' && t.value.trim() === '');

function textOf(input: unknown): string | InvalidAddress {
	if (typeof input === 'string') return input;
	const shown =
		input === undefined
			? 'nothing'
			: input === null
				? 'null'
				: Array.isArray(input)
					? 'a list'
					: typeof input;
	return invalid(String(input ?? ''), `expected an email address as text, got ${shown}`);
}

/** The checks every value goes through before it is read at all. */
function precheck(input: string): string | undefined {
	if (input.trim().length === 0) return 'the address is empty';
	if (input.length > MAX_INPUT) return `the value is longer than ${MAX_INPUT} characters`;
	return checkCharacters(input);
}

function finish(input: string, parts: { spec: string; name?: string }): AddressParseResult {
	const spec = parseAddrSpec(parts.spec);
	if ('problem' in spec) return invalid(input, spec.problem);
	const result: ParsedAddress = {
		ok: true,
		address: spec.address,
		local: spec.local,
		domain: spec.domain,
	};
	if (parts.name) result.displayName = parts.name;
	const plus = spec.local.indexOf('+');
	if (plus > 0 && spec.local.charCodeAt(0) !== 34) result.tag = spec.local.slice(plus + 1);
	return result;
}

/** atext, dots, one "@", domain characters: what the full reading would take as it is */
const PLAIN_ADDRESS = /^ *[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+ *$/;

/**
 * Parses exactly one mailbox: `addr`, `Name <addr>`, `"Name" <addr>`, `<addr>`, `mailto:addr`, with
 * trailing comments. Trims, lower-cases the domain, converts IDN domains to punycode and keeps
 * plus-addressing. Never throws: an invalid input comes back with a reason.
 */
export function parseAddress(input: unknown): AddressParseResult {
	const s = textOf(input);
	if (typeof s !== 'string') return s;
	// the common case, a bare ASCII address, skips the scanner: nothing in it can quote, comment or separate
	if (s.length <= MAX_INPUT && PLAIN_ADDRESS.test(s)) return finish(s, { spec: s.trim() });
	return readMailbox(s);
}

/** The full reading of one mailbox (quotes, comments, names, separators); parseAddress's fast path must agree with it. */
export function readMailbox(s: string): AddressParseResult {
	const problem = precheck(s);
	if (problem) return invalid(s, problem);
	try {
		const list = entries(s.trim());
		if (list.length > 1) {
			const filled = list.filter((e) => !isBlank(e));
			const sep = s.includes(';') && !s.includes(',') ? ';' : ',';
			throw new Refused(
				filled.length > 1
					? `it holds more than one address (a "${sep}" outside quotes): put one address per item`
					: `a "${sep}" outside quotes: write exactly one address, without list separators`,
			);
		}
		return finish(s, mailbox(list[0]));
	} catch (error) {
		if (error instanceof Refused) return invalid(s, error.message);
		throw error;
	}
}

export interface AddressListOptions {
	/** the most addresses the list may hold */
	max: number;
}

/**
 * Parses a list of mailboxes: one text with addresses separated by "," or ";" (outside quotes),
 * or a list of such texts. Every address is checked like a single one; above `max` the list is
 * refused whole.
 */
export function parseAddressList(input: unknown, options: AddressListOptions): AddressListResult {
	if (input === undefined || input === null || input === '') return { ok: true, addresses: [] };
	const values = Array.isArray(input) ? input : [input];
	const out: ParsedAddress[] = [];
	for (const value of values) {
		if (value === undefined || value === null || value === '') continue;
		const s = textOf(value);
		if (typeof s !== 'string') return s;
		if (s.length > MAX_INPUT * Math.max(1, options.max))
			return invalid(s, `the list is longer than ${MAX_INPUT * options.max} characters`);
		const chars = checkCharacters(s);
		if (chars) return invalid(s, chars);
		let list: Token[][];
		try {
			list = entries(s.trim());
		} catch (error) {
			if (error instanceof Refused) return invalid(s, error.message);
			throw error;
		}
		for (const entry of list) {
			if (isBlank(entry)) continue;
			const raw = entry
				.map((t) => t.raw)
				.join('')
				.trim();
			let parsed: AddressParseResult;
			try {
				parsed = finish(raw, mailbox(entry));
			} catch (error) {
				if (!(error instanceof Refused)) throw error;
				parsed = invalid(raw, error.message);
			}
			if (!parsed.ok) return { ok: false, input: parsed.input, reason: parsed.reason };
			out.push(parsed);
			if (out.length > options.max)
				return {
					ok: false,
					input: shownInput(s),
					reason: `more than ${options.max} addresses (the limit is set in the options)`,
				};
		}
	}
	return { ok: true, addresses: out };
}

/** The mailbox as a case-insensitive key (sticky routes, duplicate markers): local part lower-cased too. */
export function mailboxKey(address: Pick<ParsedAddress, 'address' | 'local' | 'domain'>): string {
	const local = address.local.toLowerCase();
	// no capitals before "@": the key is the address itself, not a new string per recipient
	return local === address.local ? address.address : `${local}@${address.domain}`;
}
