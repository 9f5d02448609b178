import { domainToASCII } from 'node:url';

export interface ParsedAddress {
	ok: true;
	/** local@ascii-domain, as it should be handed to a transport */
	address: string;
	local: string;
	/** lower-cased, punycode (ASCII) form */
	domain: string;
	displayName?: string;
	/** the part after the first "+" of the local part (plus-addressing), kept in `address` */
	tag?: string;
}

export interface InvalidAddress {
	ok: false;
	input: string;
	reason: string;
}

export type AddressParseResult = ParsedAddress | InvalidAddress;

const MAX_ADDRESS = 254;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const MAX_LABEL = 63;

function invalid(input: string, reason: string): InvalidAddress {
	return { ok: false, input, reason };
}

/** RFC 5322 atext, plus any non-ASCII character (RFC 6531 SMTPUTF8 local parts). */
function isAtext(c: number): boolean {
	return (
		(c >= 97 && c <= 122) || // a-z
		(c >= 65 && c <= 90) || // A-Z
		(c >= 48 && c <= 57) || // 0-9
		c === 33 || (c >= 35 && c <= 39) || c === 42 || c === 43 || c === 45 || c === 47 ||
		c === 61 || c === 63 || (c >= 94 && c <= 96) || (c >= 123 && c <= 126) ||
		c > 127
	);
}

function checkLocal(local: string): string | undefined {
	if (local.length === 0) return 'the part before "@" is empty';
	if (local.length > MAX_LOCAL) return `the part before "@" is longer than ${MAX_LOCAL} characters`;
	if (local.charCodeAt(0) === 34 /* " */) {
		if (local.length < 2 || local.charCodeAt(local.length - 1) !== 34) return 'unbalanced quotes before "@"';
		for (let i = 1; i < local.length - 1; i++) {
			const c = local.charCodeAt(i);
			if (c === 13 || c === 10 || c === 0) return 'line breaks are not allowed in an address';
		}
		return undefined;
	}
	let prevDot = true; // a leading dot is an error too
	for (let i = 0; i < local.length; i++) {
		const c = local.charCodeAt(i);
		if (c === 46 /* . */) {
			if (prevDot) return i === 0 ? 'the address starts with a dot' : 'two dots in a row before "@"';
			prevDot = true;
		} else if (isAtext(c)) {
			prevDot = false;
		} else {
			return `the character "${local[i]}" is not allowed before "@"`;
		}
	}
	if (prevDot) return 'a dot right before "@"';
	return undefined;
}

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

function hasNonAscii(s: string): boolean {
	for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return true;
	return false;
}

/** Splits `Name <addr>` / `"Name" <addr>` / `<addr>` / `addr`. */
function splitDisplayName(s: string): { addr: string; displayName?: string } | string {
	const lt = s.indexOf('<');
	if (lt === -1) {
		if (s.indexOf('>') !== -1) return 'a ">" without a matching "<"';
		return { addr: s };
	}
	if (s.charCodeAt(s.length - 1) !== 62 /* > */) return 'text after the closing ">"';
	const addr = s.slice(lt + 1, -1).trim();
	let name = s.slice(0, lt).trim();
	if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replace(/\\(.)/g, '$1');
	return name ? { addr, displayName: name } : { addr };
}

/**
 * Parses one recipient. Accepts `Name <addr>` forms, trims, lower-cases the domain, converts IDN
 * domains to punycode and keeps plus-addressing. Never throws: an invalid input comes back with a reason.
 */
export function parseAddress(input: unknown): AddressParseResult {
	if (typeof input !== 'string') {
		const shown = input === undefined ? 'nothing' : input === null ? 'null' : typeof input;
		return invalid(String(input ?? ''), `expected an email address as text, got ${shown}`);
	}
	const s = input.trim();
	if (s.length === 0) return invalid(input, 'the address is empty');
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c === 13 || c === 10 || c === 0) return invalid(input, 'line breaks are not allowed in an address');
	}
	const parts = splitDisplayName(s);
	if (typeof parts === 'string') return invalid(input, parts);
	let { addr } = parts;
	if (addr.length > 7 && addr.slice(0, 7).toLowerCase() === 'mailto:') addr = addr.slice(7);
	const at = addr.lastIndexOf('@');
	if (at === -1) return invalid(input, 'there is no "@"');
	const local = addr.slice(0, at);
	let domain = addr.slice(at + 1).toLowerCase();
	if (domain.endsWith('.')) domain = domain.slice(0, -1);
	if (domain.startsWith('[')) return invalid(input, 'IP-address domains ([1.2.3.4]) are not supported');
	if (hasNonAscii(domain)) {
		const ascii = domainToASCII(domain);
		if (!ascii) return invalid(input, `"${domain}" is not a valid international domain name`);
		domain = ascii;
	}
	const localProblem = checkLocal(local);
	if (localProblem) return invalid(input, localProblem);
	const domainProblem = checkDomain(domain);
	if (domainProblem) return invalid(input, domainProblem);
	const address = `${local}@${domain}`;
	if (address.length > MAX_ADDRESS) return invalid(input, `the address is longer than ${MAX_ADDRESS} characters`);
	const result: ParsedAddress = { ok: true, address, local, domain };
	if (parts.displayName) result.displayName = parts.displayName;
	const plus = local.indexOf('+');
	if (plus > 0 && local.charCodeAt(0) !== 34) result.tag = local.slice(plus + 1);
	return result;
}
