/**
 * Delivery status notifications (RFC 3464): the `message/delivery-status` part of a
 * `multipart/report; report-type=delivery-status` message, read into one record per recipient,
 * and each record's verdict in the normalized model (./types.ts).
 */
import { classifySmtpReply, parseSmtpReply } from '../transports/smtpReplies';
import { header, type HeaderField } from './mime';
import type { FeedbackFault, FeedbackType } from './types';

export interface DsnRecipient {
	/** Final-Recipient's address (Original-Recipient when that is all there is) */
	recipient?: string;
	originalRecipient?: string;
	/** failed | delayed | delivered | relayed | expanded (lower-case) */
	action: string;
	/** RFC 3463 class.subject.detail */
	status?: string;
	/** Diagnostic-Code without its type (`smtp; …`) */
	diagnostic?: string;
	remoteMta?: string;
	lastAttempt?: string;
	willRetryUntil?: string;
}

export interface DsnReport {
	envelopeId?: string;
	reportingMta?: string;
	arrivalDate?: string;
	recipients: DsnRecipient[];
}

/** `rfc822; user@example.com` → `user@example.com` (the address type is dropped) */
function typedValue(value: string | undefined): string | undefined {
	if (!value) return undefined;
	const semi = value.indexOf(';');
	const v = (semi === -1 ? value : value.slice(semi + 1)).trim();
	return v.replace(/^<(.*)>$/, '$1') || undefined;
}

/** RFC 3461 xtext (`+XX` for a byte) in Original-Envelope-Id */
function xtextDecode(value: string): string {
	return value.replace(/\+([0-9A-Fa-f]{2})/g, (_, h: string) =>
		String.fromCharCode(parseInt(h, 16)),
	);
}

/** The per-message group, then one group per recipient (RFC 3464 §2.2, §2.3). */
export function readDsn(groups: HeaderField[][]): DsnReport {
	const [first, ...rest] = groups;
	// a per-message group is the one without Final-Recipient / Action
	const perMessage = first && !header(first, 'final-recipient') ? first : [];
	const perRecipient = perMessage === first ? rest : groups;
	const envid = header(perMessage, 'original-envelope-id');
	return {
		envelopeId: envid ? xtextDecode(envid.trim()) : undefined,
		reportingMta: typedValue(header(perMessage, 'reporting-mta')),
		arrivalDate: header(perMessage, 'arrival-date'),
		recipients: perRecipient
			.filter((g) => header(g, 'final-recipient') || header(g, 'original-recipient'))
			.map((g) => {
				const finalRecipient = typedValue(header(g, 'final-recipient'));
				const original = typedValue(header(g, 'original-recipient'));
				return {
					recipient: finalRecipient ?? original,
					originalRecipient: original,
					action: (header(g, 'action') ?? '').trim().toLowerCase(),
					status: /\d\.\d{1,3}\.\d{1,3}/.exec(header(g, 'status') ?? '')?.[0],
					diagnostic: typedValue(header(g, 'diagnostic-code')),
					remoteMta: typedValue(header(g, 'remote-mta')),
					lastAttempt: header(g, 'last-attempt-date'),
					willRetryUntil: header(g, 'will-retry-until'),
				};
			}),
	};
}

export interface Verdict {
	type: FeedbackType;
	bounce?: 'hard' | 'soft';
	permanent: boolean;
	fault: FeedbackFault;
	smtpCode?: number;
	enhancedCode?: string;
}

/** mailbox full / over quota: the recipient's problem, but not a bad address */
const MAILBOX_FULL = /^[45]\.2\.2$/;
/** RFC 3463 X.3.4 (too big) and X.6.x (content): the message as it was, not the list or the route */
const CONTENT = /^[45]\.(?:3\.4|6\.\d+)$/;

/**
 * What one recipient's record means. The remote server's reply (Diagnostic-Code) decides with the
 * same rules the SMTP transport applies to a live reply (../transports/smtpReplies.ts), so a block
 * reads the same whether it came back at once or in a bounce; Status stands in when no reply was
 * quoted.
 */
export function dsnVerdict(r: Pick<DsnRecipient, 'action' | 'status' | 'diagnostic'>): Verdict {
	const reply = r.diagnostic ? parseSmtpReply(r.diagnostic) : undefined;
	const status = r.status ?? reply?.enhancedCode;
	const smtpCode = reply?.code;
	const codes = { smtpCode, enhancedCode: status };
	if (r.action === 'delivered' || r.action === 'relayed' || r.action === 'expanded')
		return { type: 'delivered', permanent: false, fault: 'none', ...codes };
	const cls = status?.[0] ?? (smtpCode ? String(smtpCode)[0] : undefined);
	const verdict = classifySmtpReply(
		{
			code: smtpCode ?? (cls === '4' ? 450 : cls === '5' ? 550 : undefined),
			enhancedCode: status,
			text: reply?.text ?? '',
		},
		{ command: 'RCPT TO' },
	);
	if (r.action === 'delayed')
		return {
			type: 'deferred',
			permanent: false,
			fault: verdict.scope === 'route' ? 'route' : 'recipient',
			...codes,
		};
	// failed (or an unknown action, read as failed: RFC 3464 §2.3.3 lists no other final one)
	if (verdict.kind === 'blocked' || (verdict.kind === 'permanent' && verdict.scope === 'route'))
		return { type: 'blocked', permanent: false, fault: 'route', ...codes };
	if (status && CONTENT.test(status))
		return { type: 'bounced', bounce: 'soft', permanent: false, fault: 'content', ...codes };
	// 4.x.x in a failure: the server kept deferring until the sender gave up
	if (cls === '4' || (status && MAILBOX_FULL.test(status)))
		return { type: 'bounced', bounce: 'soft', permanent: false, fault: 'recipient', ...codes };
	return { type: 'bounced', bounce: 'hard', permanent: true, fault: 'recipient', ...codes };
}
