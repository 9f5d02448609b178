/**
 * Abuse / feedback reports (RFC 5965): the `message/feedback-report` part of a
 * `multipart/report; report-type=feedback-report` message (Yahoo CFL, Microsoft JMRP, other FBLs).
 */
import { header, headers, type HeaderField } from './mime';

export interface ArfReport {
	/** abuse | fraud | other | virus | not-spam | auth-failure … (lower-case) */
	feedbackType: string;
	userAgent?: string;
	originalMailFrom?: string;
	/** Original-Rcpt-To (may repeat; many loops redact it) */
	originalRcptTo: string[];
	arrivalDate?: string;
	reportingMta?: string;
	sourceIp?: string;
	originalEnvelopeId?: string;
	incidents?: number;
}

const bare = (v: string | undefined) => v?.trim().replace(/^<(.*)>$/, '$1') || undefined;

/** The report's fields: one group (RFC 5965 §3.1); later groups, if any, are ignored. */
export function readArf(fields: HeaderField[]): ArfReport {
	const typed = (v: string | undefined) => {
		if (!v) return undefined;
		const semi = v.indexOf(';');
		return bare(semi === -1 ? v : v.slice(semi + 1));
	};
	const incidents = Number(header(fields, 'incidents'));
	return {
		feedbackType: (header(fields, 'feedback-type') ?? 'other').trim().toLowerCase(),
		userAgent: header(fields, 'user-agent'),
		originalMailFrom: bare(header(fields, 'original-mail-from')),
		originalRcptTo: headers(fields, 'original-rcpt-to')
			.map(bare)
			.filter((a): a is string => !!a),
		arrivalDate: header(fields, 'arrival-date') ?? header(fields, 'received-date'),
		reportingMta: typed(header(fields, 'reporting-mta')),
		sourceIp: bare(header(fields, 'source-ip')),
		originalEnvelopeId: bare(header(fields, 'original-envelope-id')),
		incidents: Number.isInteger(incidents) && incidents > 0 ? incidents : undefined,
	};
}

/** Feedback types that are a complaint about the mail (RFC 5965 §7.3, RFC 6650). */
export const COMPLAINT_TYPES = new Set(['abuse', 'fraud', 'virus', 'other']);
