import { parseAddress, parseAddressList, type ParsedAddress } from '../domains/address';
import { attachmentTypeProblem } from '../transports/mime';
import { envelopeRecipients } from './records';
import type { MailAddress, MailAttachment, OutgoingMessage } from '../transports/types';

/** What a user can type into the message fields: address lists as text or arrays. */
export interface MessageInput {
	from: unknown;
	to: unknown;
	cc?: unknown;
	bcc?: unknown;
	replyTo?: unknown;
	subject: unknown;
	text?: unknown;
	html?: unknown;
	headers?: Record<string, unknown>;
	attachments?: MailAttachment[];
	tags?: unknown;
	metadata?: Record<string, unknown>;
	/** the most addresses CC and BCC may each hold; default DEFAULT_MAX_LIST_ADDRESSES */
	maxListAddresses?: number;
	/** List-Unsubscribe (RFC 2369) with one-click (RFC 8058): an HTTPS URL and/or an address */
	listUnsubscribe?: { url?: unknown; mailto?: unknown };
}

export const DEFAULT_MAX_LIST_ADDRESSES = 50;

export type BuildResult =
	{ ok: true; message: OutgoingMessage } | { ok: false; field: string; reason: string };

class FieldError extends Error {
	constructor(
		readonly field: string,
		reason: string,
	) {
		super(reason);
	}
}

const HEADER_NAME = /^[!-9;-~]+$/; // printable ASCII except ":" (RFC 5322 field-name)
const RESERVED = new Set([
	'from',
	'to',
	'cc',
	'bcc',
	'reply-to',
	'subject',
	'content-type',
	'content-transfer-encoding',
	'mime-version',
]);

function noLineBreaks(field: string, value: string): string {
	if (/[\r\n]/.test(value))
		throw new FieldError(field, 'contains a line break (CR or LF), which could inject headers');
	return value;
}

function text(field: string, v: unknown): string | undefined {
	if (v === undefined || v === null || v === '') return undefined;
	if (typeof v === 'string') return v;
	if (typeof v === 'number' || typeof v === 'boolean') return String(v);
	throw new FieldError(field, `expected text, got ${Array.isArray(v) ? 'a list' : typeof v}`);
}

const toMail = (a: ParsedAddress): MailAddress =>
	a.displayName ? { address: a.address, name: a.displayName } : { address: a.address };

/** One mailbox (From, To, Reply-To): a value that names several is refused, never split. */
function single(field: string, v: unknown, required: boolean): MailAddress | undefined {
	if (Array.isArray(v)) {
		const filled = v.filter((x) => x !== undefined && x !== null && x !== '');
		if (filled.length > 1)
			throw new FieldError(
				field,
				`takes one address, got a list of ${filled.length}${field === 'To' ? ': put the others in CC or BCC' : ''}`,
			);
		v = filled[0];
	}
	if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
		if (required) throw new FieldError(field, 'is empty');
		return undefined;
	}
	const parsed = parseAddress(typeof v === 'number' ? String(v) : v);
	if (!parsed.ok)
		throw new FieldError(
			field,
			`"${parsed.input}" is not one valid email address — ${parsed.reason}`,
		);
	return toMail(parsed);
}

/**
 * The last From and Reply-To text a run built a message with, and what it parsed to (or the error):
 * a sender that is the same for every item, as it almost always is, is parsed once per run.
 */
export type AddressMemo = Partial<
	Record<'from' | 'replyTo', { text: string; result: MailAddress | undefined | FieldError }>
>;

/** single(), answered from the memo when the text is the one it parsed last. */
function remembered(
	memo: AddressMemo | undefined,
	key: keyof AddressMemo,
	field: string,
	v: unknown,
	required: boolean,
): MailAddress | undefined {
	if (!memo || typeof v !== 'string') return single(field, v, required);
	let last = memo[key];
	if (last?.text !== v) {
		let result: MailAddress | undefined | FieldError;
		try {
			result = single(field, v, required);
		} catch (error) {
			if (!(error instanceof FieldError)) throw error;
			result = error;
		}
		last = memo[key] = { text: v, result };
	}
	if (last.result instanceof FieldError) throw last.result;
	// a copy: a message never shares an address object with another
	return last.result && { ...last.result };
}

/** An explicit list (CC, BCC): every address checked the same way, at most `max` of them. */
function list(field: string, v: unknown, max: number): MailAddress[] {
	const parsed = parseAddressList(v, { max });
	if (!parsed.ok) throw new FieldError(field, `"${parsed.input}" — ${parsed.reason}`);
	return parsed.addresses.map(toMail);
}

/**
 * The List-Unsubscribe headers (RFC 2369), with one-click (RFC 8058: an HTTPS URI, and
 * List-Unsubscribe-Post) when a URL is given. Both parts are checked: the URL must be https and
 * carry nothing that ends the `<…>` it goes in; the address must be one mailbox.
 */
function listUnsubscribeHeaders(input: MessageInput['listUnsubscribe']): Record<string, string> {
	const url = text('List-Unsubscribe URL (One-Click)', input?.url)?.trim();
	const mailto = text('List-Unsubscribe Email', input?.mailto)?.trim();
	const parts: string[] = [];
	if (url) {
		let parsed: URL | undefined;
		try {
			parsed = new URL(url);
		} catch {
			parsed = undefined;
		}
		if (!parsed || parsed.protocol !== 'https:' || /[\s<>"]/.test(url))
			throw new FieldError(
				'List-Unsubscribe URL (One-Click)',
				`"${url}" is not an https:// address: one-click unsubscribe (RFC 8058) needs an HTTPS URL without spaces or <>`,
			);
		parts.push(`<${parsed.href}>`);
	}
	if (mailto) {
		const address = single('List-Unsubscribe Email', mailto.replace(/^mailto:/i, ''), true)!;
		parts.push(`<mailto:${address.address}>`);
	}
	if (parts.length === 0) return {};
	const headers: Record<string, string> = { 'List-Unsubscribe': parts.join(', ') };
	if (url) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
	return headers;
}

/**
 * Builds a message from user input and checks it: valid addresses, at least one recipient, a body,
 * and no CR/LF in any header value (header injection). Never throws: the error names the field.
 * With a memo (one per run), a From or Reply-To text that repeats is parsed once.
 */
export function buildMessage(input: MessageInput, memo?: AddressMemo): BuildResult {
	try {
		const from = remembered(memo, 'from', 'From', input.from, true)!;
		const max = input.maxListAddresses ?? DEFAULT_MAX_LIST_ADDRESSES;
		const one = single('To', input.to, false);
		const to = one ? [one] : [];
		const cc = list('CC', input.cc, max);
		const bcc = list('BCC', input.bcc, max);
		if (to.length + cc.length + bcc.length === 0)
			throw new FieldError('To', 'is empty: a message needs at least one recipient');
		const replyTo = remembered(memo, 'replyTo', 'Reply-To', input.replyTo, false);
		const subject = noLineBreaks('Subject', text('Subject', input.subject) ?? '');
		const textBody = text('Text', input.text);
		const html = text('HTML', input.html);
		if (textBody === undefined && html === undefined)
			throw new FieldError('Text', 'and HTML are both empty: the message has no body');

		const attachments = input.attachments ?? [];
		const typeProblem = attachmentTypeProblem(attachments);
		if (typeProblem) throw new FieldError('Attachments', typeProblem);

		const headers: Record<string, string> = {};
		for (const [name, raw] of Object.entries(input.headers ?? {})) {
			const field = `Headers › ${name}`;
			if (!HEADER_NAME.test(name)) throw new FieldError(field, 'is not a valid header name');
			if (RESERVED.has(name.toLowerCase())) throw new FieldError(field, 'is set by its own field');
			headers[name] = noLineBreaks(field, text(field, raw) ?? '');
		}
		// the helper's headers win over ones typed under Headers: one List-Unsubscribe, not two
		Object.assign(headers, listUnsubscribeHeaders(input.listUnsubscribe));
		const tags = (
			Array.isArray(input.tags)
				? input.tags
				: typeof input.tags === 'string'
					? input.tags.split(',')
					: []
		)
			.map((t) => noLineBreaks('Tags', String(t).trim()))
			.filter(Boolean);
		const metadata: Record<string, string> = {};
		for (const [k, v] of Object.entries(input.metadata ?? {}))
			metadata[k] = noLineBreaks(`Metadata › ${k}`, text(`Metadata › ${k}`, v) ?? '');

		const message: OutgoingMessage = {
			from,
			to,
			cc,
			bcc,
			subject,
			headers,
			attachments,
			tags,
			metadata,
		};
		if (replyTo) message.replyTo = replyTo;
		if (textBody !== undefined) message.text = textBody;
		if (html !== undefined) message.html = html;
		return { ok: true, message };
	} catch (error) {
		if (error instanceof FieldError)
			return { ok: false, field: error.field, reason: error.message };
		throw error;
	}
}

/**
 * What makes a message unique in its campaign for duplicate protection: its set of recipients
 * (case-insensitive) and the user's message key, as an unambiguous tuple. The pipeline stores only
 * a keyed hash of it.
 */
export function duplicateKey(message: OutgoingMessage, messageKey: string): string {
	return duplicateKeyOf(envelopeRecipients(message), messageKey);
}

/** duplicateKey of a message to these envelope recipients (an operator's look-up of one address). */
export function duplicateKeyOf(recipients: readonly string[], messageKey: string): string {
	return JSON.stringify([[...new Set(recipients.map((a) => a.toLowerCase()))].sort(), messageKey]);
}
