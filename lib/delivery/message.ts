import addressparser from 'nodemailer/lib/addressparser';
import { parseAddress } from '../domains/address';
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
}

export type BuildResult = { ok: true; message: OutgoingMessage } | { ok: false; field: string; reason: string };

class FieldError extends Error {
	constructor(readonly field: string, reason: string) {
		super(reason);
	}
}

const HEADER_NAME = /^[!-9;-~]+$/; // printable ASCII except ":" (RFC 5322 field-name)
const RESERVED = new Set(['from', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'content-type', 'content-transfer-encoding', 'mime-version']);

function noLineBreaks(field: string, value: string): string {
	if (/[\r\n]/.test(value)) throw new FieldError(field, 'contains a line break (CR or LF), which could inject headers');
	return value;
}

function text(field: string, v: unknown): string | undefined {
	if (v === undefined || v === null || v === '') return undefined;
	if (typeof v === 'string') return v;
	if (typeof v === 'number' || typeof v === 'boolean') return String(v);
	throw new FieldError(field, `expected text, got ${Array.isArray(v) ? 'a list' : typeof v}`);
}

/** Parses "Ann <a@x.com>, b@y.com" or a list of such strings into checked addresses. */
function addresses(field: string, v: unknown): MailAddress[] {
	if (v === undefined || v === null || v === '') return [];
	const parts = Array.isArray(v) ? v.map((x) => text(field, x) ?? '') : [text(field, v) ?? ''];
	const out: MailAddress[] = [];
	for (const part of parts) {
		noLineBreaks(field, part);
		for (const entry of addressparser(part, { flatten: true }) as Array<{ name?: string; address?: string }>) {
			// a bare word comes back as a name without an address: check the word itself
			const raw = entry.address || entry.name || '';
			const parsed = parseAddress(raw);
			if (!parsed.ok) throw new FieldError(field, `"${raw || part}" is not a valid email address — ${parsed.reason}`);
			out.push(entry.address && entry.name ? { address: parsed.address, name: entry.name } : { address: parsed.address });
		}
	}
	return out;
}

function single(field: string, v: unknown, required: boolean): MailAddress | undefined {
	const list = addresses(field, v);
	if (list.length === 0) {
		if (required) throw new FieldError(field, 'is empty');
		return undefined;
	}
	if (list.length > 1) throw new FieldError(field, 'takes one address');
	return list[0];
}

/**
 * Builds a message from user input and checks it: valid addresses, at least one recipient, a body,
 * and no CR/LF in any header value (header injection). Never throws: the error names the field.
 */
export function buildMessage(input: MessageInput): BuildResult {
	try {
		const from = single('From', input.from, true)!;
		const to = addresses('To', input.to);
		const cc = addresses('CC', input.cc);
		const bcc = addresses('BCC', input.bcc);
		if (to.length + cc.length + bcc.length === 0) throw new FieldError('To', 'is empty: a message needs at least one recipient');
		const replyTo = single('Reply-To', input.replyTo, false);
		const subject = noLineBreaks('Subject', text('Subject', input.subject) ?? '');
		const textBody = text('Text', input.text);
		const html = text('HTML', input.html);
		if (textBody === undefined && html === undefined) throw new FieldError('Text', 'and HTML are both empty: the message has no body');

		const headers: Record<string, string> = {};
		for (const [name, raw] of Object.entries(input.headers ?? {})) {
			const field = `Headers › ${name}`;
			if (!HEADER_NAME.test(name)) throw new FieldError(field, 'is not a valid header name');
			if (RESERVED.has(name.toLowerCase())) throw new FieldError(field, 'is set by its own field');
			headers[name] = noLineBreaks(field, text(field, raw) ?? '');
		}
		const tags = (Array.isArray(input.tags) ? input.tags : typeof input.tags === 'string' ? input.tags.split(',') : [])
			.map((t) => noLineBreaks('Tags', String(t).trim()))
			.filter(Boolean);
		const metadata: Record<string, string> = {};
		for (const [k, v] of Object.entries(input.metadata ?? {})) metadata[k] = noLineBreaks(`Metadata › ${k}`, text(`Metadata › ${k}`, v) ?? '');

		const message: OutgoingMessage = { from, to, cc, bcc, subject, headers, attachments: input.attachments ?? [], tags, metadata };
		if (replyTo) message.replyTo = replyTo;
		if (textBody !== undefined) message.text = textBody;
		if (html !== undefined) message.html = html;
		return { ok: true, message };
	} catch (error) {
		if (error instanceof FieldError) return { ok: false, field: error.field, reason: error.message };
		throw error;
	}
}
