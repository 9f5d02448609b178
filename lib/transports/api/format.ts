import type { MailAddress, OutgoingMessage } from '../types';

/** `"Name" <addr>`: quoting the name always keeps commas and other specials from splitting it. */
export function formatAddress(address: MailAddress): string {
	if (!address.name) return address.address;
	return `"${address.name.replace(/[\\"]/g, (c) => `\\${c}`)}" <${address.address}>`;
}

/**
 * The same for a raw header value we write ourselves (the provider does not encode it): a non-ASCII
 * name becomes RFC 2047 encoded-words, each under the 75-character limit.
 */
export function formatHeaderAddress(address: MailAddress): string {
	if (!address.name || /^[\x20-\x7e]*$/.test(address.name)) return formatAddress(address);
	const words: string[] = [];
	let chunk = '';
	for (const char of address.name) {
		// 45 bytes of UTF-8 encode to 60 base64 characters: 72 with the =?UTF-8?B?…?= frame
		if (Buffer.byteLength(chunk + char) > 45) {
			words.push(chunk);
			chunk = '';
		}
		chunk += char;
	}
	words.push(chunk);
	const encoded = words
		.map((word) => `=?UTF-8?B?${Buffer.from(word).toString('base64')}?=`)
		.join(' ');
	return `${encoded} <${address.address}>`;
}

export function joinAddresses(addresses: MailAddress[], format = formatAddress): string {
	return addresses.map((address) => format(address)).join(', ');
}

/** Letters, digits, `_` and `-` only, at most 256: the rule SES and Resend apply to tag names and values. */
export function tagSafe(value: string): string {
	return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256) || '_';
}

/** Tags become `name=true`, metadata `key=value`: the name/value tag lists of SES and Resend. */
export function nameValueTags(message: OutgoingMessage): Array<{ name: string; value: string }> {
	return [
		...message.tags.map((tag) => ({ name: tagSafe(tag), value: 'true' })),
		...Object.entries(message.metadata).map(([key, value]) => ({
			name: tagSafe(key),
			value: tagSafe(value),
		})),
	];
}

/** Drops empty arrays/objects and undefined so request bodies carry only what the message uses. */
export function compact<T extends Record<string, unknown>>(body: T): Partial<T> {
	const out: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(body)) {
		if (value === undefined) continue;
		if (Array.isArray(value) && value.length === 0) continue;
		if (isPlainObject(value) && Object.keys(value).length === 0) continue;
		out[key] = value;
	}
	return out as Partial<T>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return (
		typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
	);
}
