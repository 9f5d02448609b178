/**
 * Reading provider JSON without trusting its shape: every accessor answers undefined for what is
 * not there or not of the type asked, so normalization never throws on any JSON.
 */
import { createHash } from 'node:crypto';
import { parseAddress } from '../../domains/address';
import { parseSmtpReply } from '../../transports/smtpReplies';
import { capText } from '../../util/secrets';
import { decodeReference, isHashedReference } from '../reference';
import type { FeedbackEvent } from '../types';
import { WebhookPayloadError, type NormalizeContext, type WebhookRequest } from './types';

export type Json = Record<string, unknown>;

export function parseJsonBody(rawBody: Buffer, provider: string): unknown {
	try {
		return JSON.parse(rawBody.toString('utf8'));
	} catch {
		throw new WebhookPayloadError(`${provider} webhook: the body is not JSON`);
	}
}

export const obj = (v: unknown): Json | undefined =>
	typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;

export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export const str = (v: unknown): string | undefined =>
	typeof v === 'string' && v !== ''
		? v
		: typeof v === 'number' && Number.isFinite(v)
			? String(v)
			: undefined;

export const num = (v: unknown): number | undefined => {
	const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
	return Number.isFinite(n) ? n : undefined;
};

/** A header's first value. */
export function header(request: WebhookRequest, name: string): string | undefined {
	const value = request.headers[name];
	return Array.isArray(value) ? value[0] : value;
}

/** ISO 8601 from unix seconds (or milliseconds, when the number is that large). */
export function fromUnix(value: unknown): string | undefined {
	const n = num(value);
	if (n === undefined || n <= 0) return undefined;
	const ms = n > 1e12 ? n : n * 1000;
	const date = new Date(ms);
	return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** ISO 8601 from a date string the provider wrote (any offset), or from unix time. */
export function fromDate(value: unknown): string | undefined {
	if (typeof value === 'number') return fromUnix(value);
	if (typeof value !== 'string' || value === '') return undefined;
	if (/^\d+(\.\d+)?$/.test(value)) return fromUnix(value);
	const date = new Date(value);
	return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function nowIso(context?: NormalizeContext): string {
	return new Date(context?.now ? context.now() : Date.now()).toISOString();
}

/** The mailbox with its domain lower-cased (the one address parser); the text as given when it is none. */
export function recipientOf(value: unknown): string | undefined {
	const text = str(value);
	if (!text) return undefined;
	const parsed = parseAddress(text);
	return parsed.ok ? parsed.address : capText(text, 320);
}

/** Reply code and enhanced code from a server's reply, with a DSN-style `smtp;` prefix taken off. */
export function replyCodes(
	text: string | undefined,
	status?: unknown,
): Pick<FeedbackEvent, 'smtpCode' | 'enhancedCode'> {
	const out: Pick<FeedbackEvent, 'smtpCode' | 'enhancedCode'> = {};
	if (text) {
		const reply = parseSmtpReply(text.replace(/^\s*smtp\s*;\s*/i, ''));
		if (reply.code && reply.code >= 200 && reply.code < 600) out.smtpCode = reply.code;
		if (reply.enhancedCode) out.enhancedCode = reply.enhancedCode;
	}
	const given = str(status);
	if (given && /^[245]\.\d{1,3}\.\d{1,3}$/.test(given)) out.enhancedCode = given;
	return out;
}

export const diagnostic = (text: string | undefined): string | undefined =>
	text && text.trim() ? capText(text) : undefined;

/**
 * The route, group and campaign from the `pr` token a message carried. A digest token (`h.…`)
 * comes back as `referenceToken` without `reference`: only the message ledger can resolve it
 * (linkedBy says where it was found, as the bounce reports do: ../reports.ts).
 */
export function linkReference(
	token: unknown,
): Pick<FeedbackEvent, 'reference' | 'referenceToken' | 'linkedBy'> {
	const text = typeof token === 'string' ? token.trim() : undefined;
	const reference = decodeReference(text);
	if (reference) return { reference, referenceToken: text, linkedBy: 'reference' };
	if (text && isHashedReference(text)) return { referenceToken: text, linkedBy: 'reference' };
	return { linkedBy: 'none' };
}

/** Drops undefined fields, so events compare and serialize cleanly. */
export function event(fields: FeedbackEvent): FeedbackEvent {
	const out: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
	return out as unknown as FeedbackEvent;
}

/** `id`, and `id#n` for the n-th recipient when one provider event names several. */
export function perRecipientId(
	id: string | undefined,
	index: number,
	count: number,
): string | undefined {
	if (!id) return undefined;
	return count > 1 ? `${id}#${index}` : id;
}

/**
 * An id made of what a provider sends again unchanged when it redelivers an event without an id
 * of its own: a digest, so no address ends up in a dedupe key.
 */
export function compositeId(parts: ReadonlyArray<string | undefined>): string {
	return `c.${createHash('sha256')
		.update(parts.map((p) => p ?? '').join('\n'))
		.digest('base64url')
		.slice(0, 22)}`;
}
