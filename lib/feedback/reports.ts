/**
 * A message from a bounce or feedback mailbox → normalized events (./types.ts): a DSN (RFC 3464)
 * gives one event per recipient, an ARF report (RFC 5965) one complaint per reported recipient,
 * and a bounce that follows neither is read by heuristics, with lower confidence. Anything else
 * (an auto-reply, a person's answer) gives no event and says why.
 *
 * Each event is tied back to what was sent, in this order: the reference in the bounce address
 * (VERP), in the DSN's Original-Envelope-Id (ENVID), in the returned message's X-Postal-Ref
 * header; else only the returned Message-ID is kept, for a ledger lookup.
 */
import { createHash } from 'node:crypto';
import { parseAddress } from '../domains/address';
import { capText } from '../util/secrets';
import { COMPLAINT_TYPES, readArf } from './arf';
import { dsnVerdict, readDsn, type Verdict } from './dsn';
import {
	fieldGroups,
	header,
	parseHeaderBlock,
	parseMime,
	partText,
	walk,
	type HeaderField,
	type MimePart,
} from './mime';
import {
	decodeReference,
	isHashedReference,
	REFERENCE_HEADER,
	referenceFromVerp,
} from './reference';
import type { FeedbackEvent, FeedbackSource, LinkedBy, PostalReference } from './types';

export interface ReportResult {
	kind: 'dsn' | 'arf' | 'bounce-text' | 'none';
	events: FeedbackEvent[];
	/** kind none: why the message gave no event */
	reason?: string;
}

export interface ReportOptions {
	/** read bounces that follow no standard (default true): their events have confidence < 1 */
	nonStandard?: boolean;
	/** the clock, for an event without a date */
	now?: () => number;
}

/** a report larger than this is not read (bounces that return a whole message stay below it) */
export const MAX_REPORT_BYTES = 25 * 1024 * 1024;

const DELIVERY_STATUS = new Set(['message/delivery-status', 'message/global-delivery-status']);
const RETURNED_HEADERS = new Set(['text/rfc822-headers', 'message/global-headers']);
const RETURNED_MESSAGE = new Set(['message/rfc822', 'message/global']);
/** where the bounce's own envelope recipient (our VERP address) shows */
const ENVELOPE_TO = ['delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to', 'to'];

export function readReport(input: Buffer | string, options: ReportOptions = {}): ReportResult {
	const size = typeof input === 'string' ? Buffer.byteLength(input, 'latin1') : input.length;
	if (size > MAX_REPORT_BYTES)
		return none(`the message is ${size} bytes, more than the ${MAX_REPORT_BYTES} read`);
	const root = parseMime(input);
	const now = options.now ?? Date.now;
	const parts = [...walk(root)];
	const context = reportContext(root, parts, input);

	const status = parts.find((p) => DELIVERY_STATUS.has(p.type));
	if (status) return dsnEvents(status, context, now);
	const feedback = parts.find((p) => p.type === 'message/feedback-report');
	if (feedback) return arfEvents(feedback, context, now);
	if (options.nonStandard === false)
		return none('no delivery-status or feedback-report part (reading non-standard bounces is off)');
	return textBounceEvents(root, parts, context, now);
}

const none = (reason: string): ReportResult => ({ kind: 'none', events: [], reason });

/** What every event of one report shares. */
interface ReportContext {
	/** the report's own id, for each event's eventId */
	reportId: string;
	date?: string;
	/** the returned message's header fields (DSN third part, ARF third part), if any */
	original: HeaderField[];
	/** a reference found in the bounce address */
	verp?: string;
}

function reportContext(root: MimePart, parts: MimePart[], input: Buffer | string): ReportContext {
	const returned = parts.find((p) => RETURNED_HEADERS.has(p.type) || RETURNED_MESSAGE.has(p.type));
	const original = !returned
		? []
		: RETURNED_MESSAGE.has(returned.type)
			? (returned.parts[0]?.headers ?? [])
			: parseHeaderBlock(returned.body.split(/\r?\n\r?\n/)[0]);
	const verp = ENVELOPE_TO.map((name) => addressIn(header(root.headers, name)))
		.map((address) => referenceFromVerp(address))
		.find((token) => token !== undefined);
	const id = header(root.headers, 'message-id');
	const reportId = id
		? bareId(id)
		: `sha256:${createHash('sha256')
				.update(typeof input === 'string' ? Buffer.from(input, 'latin1') : input)
				.digest('hex')
				.slice(0, 32)}`;
	return { reportId, date: header(root.headers, 'date'), original, verp };
}

/** the addr-spec inside `Name <addr>` or a bare address */
function addressIn(value: string | undefined): string | undefined {
	if (!value) return undefined;
	return /<([^<>\s]+@[^<>\s]+)>/.exec(value)?.[1] ?? /[^\s<>,;"]+@[^\s<>,;"]+/.exec(value)?.[0];
}

const bareId = (id: string) => id.trim().replace(/^<(.*)>$/, '$1');

/** The address as the report gives it, domain lower-cased; undefined when it is not an address. */
function recipientOf(text: string | undefined): string | undefined {
	if (!text) return undefined;
	const parsed = parseAddress(text);
	return parsed.ok ? parsed.address : undefined;
}

/** The reference and how it was found, from the bounce address, an ENVID, the returned header. */
function link(
	context: ReportContext,
	envelopeId: string | undefined,
): {
	reference?: PostalReference;
	referenceToken?: string;
	linkedBy: LinkedBy;
} {
	const candidates: Array<[string | undefined, LinkedBy]> = [
		[context.verp, 'verp'],
		[envelopeId?.trim(), 'envid'],
		[header(context.original, REFERENCE_HEADER.toLowerCase())?.trim(), 'reference'],
	];
	for (const [token, linkedBy] of candidates) {
		if (!token) continue;
		const reference = decodeReference(token);
		if (reference) return { reference, referenceToken: token, linkedBy };
		// a digest: the ledger has the names
		if (isHashedReference(token)) return { referenceToken: token, linkedBy };
	}
	return { linkedBy: 'none' };
}

function timestampOf(dates: Array<string | undefined>, now: () => number): string {
	for (const d of dates) {
		const t = d ? Date.parse(d.replace(/\s*\([^)]*\)\s*$/, '')) : NaN;
		if (Number.isFinite(t)) return new Date(t).toISOString();
	}
	return new Date(now()).toISOString();
}

function event(
	source: FeedbackSource,
	verdict: Verdict,
	fields: Partial<FeedbackEvent> & Pick<FeedbackEvent, 'timestamp' | 'linkedBy'>,
): FeedbackEvent {
	const e: FeedbackEvent = {
		source,
		type: verdict.type,
		permanent: verdict.permanent,
		fault: verdict.fault,
		confidence: 1,
		...fields,
	};
	if (verdict.bounce) e.bounce = verdict.bounce;
	if (verdict.smtpCode !== undefined) e.smtpCode = verdict.smtpCode;
	if (verdict.enhancedCode !== undefined) e.enhancedCode = verdict.enhancedCode;
	for (const k of Object.keys(e) as Array<keyof FeedbackEvent>) if (e[k] === undefined) delete e[k];
	return e;
}

function dsnEvents(part: MimePart, context: ReportContext, now: () => number): ReportResult {
	const dsn = readDsn(fieldGroups(partText(part)));
	if (dsn.recipients.length === 0)
		return none('a delivery-status part without any recipient (Final-Recipient) in it');
	const joined = link(context, dsn.envelopeId);
	const messageId = header(context.original, 'message-id');
	return {
		kind: 'dsn',
		events: dsn.recipients.map((r, i) =>
			event('dsn', dsnVerdict(r), {
				recipient: recipientOf(r.recipient) ?? r.recipient,
				messageId: messageId ? bareId(messageId) : undefined,
				eventId: `${context.reportId}#${i}`,
				timestamp: timestampOf([r.lastAttempt, dsn.arrivalDate, context.date], now),
				diagnostic: r.diagnostic ? capText(r.diagnostic) : undefined,
				providerType: r.action || 'failed',
				reportingMta: dsn.reportingMta,
				remoteMta: r.remoteMta,
				...joined,
			}),
		),
	};
}

function arfEvents(part: MimePart, context: ReportContext, now: () => number): ReportResult {
	const arf = readArf(fieldGroups(partText(part))[0] ?? []);
	const complaint = COMPLAINT_TYPES.has(arf.feedbackType);
	const verdict: Verdict = complaint
		? { type: 'complained', permanent: true, fault: 'recipient' }
		: { type: 'other', permanent: false, fault: 'none' };
	const joined = link(context, arf.originalEnvelopeId);
	const messageId = header(context.original, 'message-id');
	// the reported recipient: Original-Rcpt-To, else the returned message's To (loops may redact both)
	const listed = arf.originalRcptTo.length
		? arf.originalRcptTo
		: [addressIn(header(context.original, 'to'))];
	const recipients = listed.map((r) => recipientOf(r));
	return {
		kind: 'arf',
		events: (recipients.length ? recipients : [undefined]).map((recipient, i) =>
			event('arf', verdict, {
				recipient,
				messageId: messageId ? bareId(messageId) : undefined,
				eventId: `${context.reportId}#${i}`,
				timestamp: timestampOf([arf.arrivalDate, context.date], now),
				providerType: arf.feedbackType,
				reportingMta: arf.reportingMta,
				sendingIp: arf.sourceIp,
				...joined,
			}),
		),
	};
}

/** Subjects of bounces that follow no standard (Exim, qmail, Exchange, Gmail in several languages). */
const BOUNCE_SUBJECT =
	/undeliver|undelivered|delivery (?:status notification|failure|has failed)|returned mail|failure notice|mail delivery (?:failed|failure|subsystem)|non-?delivery|could not be delivered|unzustellbar|no se puede entregar|non remis/i;
const BOUNCE_SENDER = /mailer-daemon|postmaster|mail delivery (?:subsystem|system)/i;
/** what marks an automatic reply, which is not a bounce */
const AUTO_REPLY =
	/out of (?:the )?office|auto(?:matic)?[- ]?(?:reply|response|antwort)|autoreply|abwesenheit|vacation|absence/i;
/** the line above a pasted copy of the message (Exim, qmail, Postfix's and Sendmail's plain forms) */
const COPY_MARKER =
	/^.*(?:copy of the (?:original )?message|below this line is a copy|(?:original|returned|undelivered) message (?:follows|headers)|message headers follow).*$/im;
/** an SMTP reply in running text: `550 5.1.1 …`, `550-5.1.1 …`, `550 …` */
const REPLY_IN_TEXT = /\b([45]\d\d)[ -](?:#?([45]\.\d{1,3}\.\d{1,3})\b)?[^\r\n]*/;

function textBounceEvents(
	root: MimePart,
	parts: MimePart[],
	context: ReportContext,
	now: () => number,
): ReportResult {
	const subject = header(root.headers, 'subject') ?? '';
	const from = header(root.headers, 'from') ?? '';
	if (AUTO_REPLY.test(subject) && !BOUNCE_SUBJECT.test(subject))
		return none('an automatic reply (out of office), not a bounce');
	if (!BOUNCE_SUBJECT.test(subject) && !BOUNCE_SENDER.test(from))
		return none(
			'not a delivery report: no report part, and neither its sender nor its subject is a bounce’s',
		);

	const all = parts
		.filter(
			(p) =>
				p.type === 'text/plain' &&
				!/attachment/i.test(header(p.headers, 'content-disposition') ?? ''),
		)
		.map(partText)
		.join('\n');
	// a copy of the message pasted below a marker (Exim, qmail): its addresses are not the report's,
	// its headers are the returned message's
	const marker = COPY_MARKER.exec(all);
	const text = marker ? all.slice(0, marker.index) : all;
	if (marker && context.original.length === 0)
		context.original = parseHeaderBlock(
			all
				.slice(marker.index + marker[0].length)
				.replace(/^\s+/, '')
				.split(/\r?\n\r?\n/)[0],
		);
	// addresses the report is about: those in its text, but not the report's own From / To
	const own = new Set(
		['from', 'to', 'reply-to', ...ENVELOPE_TO]
			.map((n) => addressIn(header(root.headers, n))?.toLowerCase())
			.filter((a): a is string => !!a),
	);
	const seen = new Map<string, { at: number }>();
	for (const m of text.matchAll(/<?([\p{L}\p{N}._%+'=-]+@[\p{L}\p{N}.-]+\.\p{L}{2,})>?/gu)) {
		const address = recipientOf(m[1]);
		if (!address || own.has(address.toLowerCase()) || BOUNCE_SENDER.test(address)) continue;
		if (!seen.has(address)) seen.set(address, { at: m.index! });
	}
	// the returned message's own recipients, when it came back: those in the text are the bounced ones
	const returnedTo = ['to', 'cc']
		.flatMap((n) => (header(context.original, n) ?? '').split(','))
		.map((v) => recipientOf(addressIn(v)))
		.filter((a): a is string => !!a);
	let recipients = [...seen.keys()];
	if (returnedTo.length) {
		const inText = recipients.filter((r) => returnedTo.includes(r));
		recipients = inText.length ? inText : returnedTo;
	}
	if (recipients.length === 0) return none('a bounce that names no recipient address');

	const joined = link(context, undefined);
	const messageId = header(context.original, 'message-id');
	return {
		kind: 'bounce-text',
		events: recipients.map((recipient, i) => {
			// the reply closest after the address (Exim and Postfix quote it under the address)
			const at = seen.get(recipient)?.at ?? 0;
			const reply = REPLY_IN_TEXT.exec(text.slice(at, at + 600)) ?? REPLY_IN_TEXT.exec(text);
			const verdict: Verdict = reply
				? dsnVerdict({ action: 'failed', status: reply[2], diagnostic: reply[0] })
				: { type: 'bounced', bounce: 'soft', permanent: false, fault: 'unknown' };
			return event('bounce-text', verdict, {
				recipient,
				messageId: messageId ? bareId(messageId) : undefined,
				eventId: `${context.reportId}#${i}`,
				timestamp: timestampOf([context.date], now),
				diagnostic: reply ? capText(reply[0]) : undefined,
				providerType: 'non-standard bounce',
				// read from free text: a quoted reply makes it likelier, nothing is certain
				confidence: reply ? 0.6 : 0.3,
				...joined,
			});
		}),
	};
}
