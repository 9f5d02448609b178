/**
 * Turns what an SMTP exchange ended with (a nodemailer error, or a bare reply) into a SendFailure.
 * Pure: no I/O, no nodemailer import, so the rules can be tested against real-world reply strings.
 *
 * The two questions are: may the same message be retried (kind), and does the failure say
 * something about the route, i.e. the sending IP / account / connection (scope)?
 */

import { safeText } from '../util/secrets';
import { isTlsConfigText } from './tls';
import type { RefusedRecipient, SendFailure } from './types';

/** The fields nodemailer puts on its errors (see NodemailerError in nodemailer's errors.d.ts). */
export interface SmtpErrorLike {
	message?: string;
	/** nodemailer's code (ECONNECTION, EAUTH, EENVELOPE, …) or a Node system error code */
	code?: string;
	/** the system error code nodemailer replaced with its own, e.g. ECONNREFUSED under ESOCKET */
	originalCode?: string;
	responseCode?: number;
	response?: string;
	/** the SMTP command in flight: 'CONN', 'AUTH PLAIN', 'MAIL FROM', 'RCPT TO', 'DATA', … */
	command?: string;
	/** the refused recipient, on an EENVELOPE error for one RCPT TO */
	recipient?: string;
	/** on "all recipients were rejected": the refused addresses and each one's error */
	rejected?: string[];
	rejectedErrors?: SmtpErrorLike[];
}

/** What the transport saw of the exchange, beyond the error itself. */
export interface SmtpErrorContext {
	/**
	 * the whole message, up to and including the final dot, was handed to the connection before
	 * the error: a failure without a reply is then an unknown outcome, not a transient one
	 */
	bodySent?: boolean;
}

export interface SmtpReply {
	code?: number;
	/** RFC 3463 enhanced status code, e.g. 5.1.1 */
	enhancedCode?: string;
	/** the reply on one line (multi-line replies joined with spaces) */
	text: string;
}

/**
 * Mailbox-provider policy and reputation refusals. They are about the sending IP or domain, not
 * the recipient, and retrying them on the same route only digs deeper: kind 'blocked'. Matched
 * anywhere in the reply, whatever the reply class, because Yahoo sends its TS codes with 421.
 * Sources: postmaster.yahooinc.com/error-codes (TS/TSS), learn.microsoft.com "fix error code
 * 5.7.700 through 5.7.750" and the Outlook.com troubleshooting page (S3140, OU-002),
 * support.google.com/a/answer/3726730 (Gmail SMTP errors: 5.7.26–5.7.28).
 */
export const POLICY_BLOCKS: ReadonlyArray<{ pattern: RegExp; provider: string; meaning: string }> =
	[
		{
			pattern: /\[TSS?0\d\]/i,
			provider: 'Yahoo / AOL',
			meaning:
				'TS01 new IP, TS02 complaints, TS03 "permanently deferred", TSS04/TSS05 unexpected volume or complaints, TS06 repeated violations; others (TSS07 …) alike',
		},
		{
			pattern: /\[BL\d\d\]/i,
			provider: 'Yahoo / AOL',
			meaning: 'sending IP on a block list (e.g. [BL21] Spamhaus)',
		},
		{
			pattern: /\bS3(?:140|150)\b/,
			provider: 'Outlook.com',
			meaning: 'sending IP on the Outlook.com block list',
		},
		{
			pattern: /\b(?:OU|SC)-00\d\b/,
			provider: 'Outlook.com',
			meaning: 'network or IP on the block list',
		},
		{
			pattern: /(?:^|[^.\d])5\.7\.(?:606|705|708|750)\b/,
			provider: 'Microsoft 365',
			meaning: 'banned sending IP, tenant over threshold, traffic not accepted from this IP',
		},
		{
			pattern: /(?:^|[^.\d])5\.7\.2[5-8]\b/,
			provider: 'Gmail',
			meaning:
				'5.7.25 no PTR, 5.7.26 unauthenticated (DMARC), 5.7.27 SPF fail, 5.7.28 unusual rate of unsolicited mail',
		},
	];

/** Reply text that names a block list or reputation without a provider code (no enhanced 5.1/5.2 code). */
const BLOCK_PHRASES =
	/\b(?:blocked|block ?list(?:ed)?|black ?list(?:ed)?|deny ?list(?:ed)?|spamhaus|spamcop|barracuda|sorbs|poor reputation|listed (?:at|on|in)|policy reasons)\b/i;

/** nodemailer's err.command for replies that come before any recipient is named */
const SESSION_COMMANDS = /^(?:CONN|EHLO|HELO|LHLO|STARTTLS|MAIL FROM)$/;

/** Reads the reply code and enhanced status code from a (possibly multi-line) SMTP reply. */
export function parseSmtpReply(response: string): SmtpReply {
	const text = response.replace(/\s+/g, ' ').trim();
	const lead = /^(\d{3})(?:[ -]|$)/.exec(text);
	const code = lead ? Number(lead[1]) : undefined;
	// the enhanced code follows the reply code; else take the first x.y.z of the same class that
	// stands alone (not the tail of an IP address or of Yahoo's "4.16.55.1" diagnostic)
	const leading = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})(?![.\d])/.exec(text);
	let enhancedCode = leading?.[1];
	if (!enhancedCode && code) {
		const cls = String(code)[0];
		const anywhere = new RegExp(`(?:^|[\\s(#\\[])(${cls}\\.\\d{1,3}\\.\\d{1,3})(?![.\\d])`).exec(
			text,
		);
		enhancedCode = anywhere?.[1];
	}
	return { code, enhancedCode, text };
}

type Verdict = Pick<SendFailure, 'kind' | 'scope' | 'opensCircuit'>;

const route = (kind: SendFailure['kind']): Verdict => ({ kind, scope: 'route' });
const recipient = (kind: SendFailure['kind']): Verdict => ({ kind, scope: 'recipient' });
/**
 * Refused credentials or a TLS setup the route does not accept: nothing will go through this
 * route until someone fixes its configuration, and retrying only repeats it (and may lock the
 * account). Blocked, so another route may take the message; the route's circuit opens at once.
 */
const routeCannotSend: Verdict = { kind: 'blocked', scope: 'route', opensCircuit: true };

/**
 * The rules for a reply the server actually sent. `command` is the command it answered,
 * `auth` says the reply came from the AUTH exchange.
 */
export function classifySmtpReply(
	reply: SmtpReply,
	context: { command?: string; auth?: boolean } = {},
): Verdict {
	const { code, enhancedCode: enhanced = '', text } = reply;
	if (!code) return route('transient');
	const cls = Math.floor(code / 100);
	// a 2xx/3xx where something else was expected: a confused session, a new one may work
	if (cls !== 4 && cls !== 5) return route('transient');

	if (POLICY_BLOCKS.some((b) => b.pattern.test(text))) return route('blocked');

	// AUTH refused (535 bad credentials, 534 mechanism too weak / web login required, 530 auth
	// required, 538 encryption required for the mechanism): the route's configuration, every
	// message would meet it; 454 is a passing failure. By reply code, not by 5.7.8/5.7.9: Yahoo
	// answers policy refusals with 554 5.7.9 (matched above)
	if (context.auth || [530, 534, 535, 538].includes(code))
		return cls === 4 ? route('transient') : routeCannotSend;

	if (cls === 4) {
		// 4.2.1 / 4.2.2: this mailbox is paused or full, says nothing about the route. Every other
		// deferral (421, 450 4.2.0 greylisting, 451 4.7.x, 452 4.5.3 …) counts against the route
		return enhanced === '4.2.1' || enhanced === '4.2.2'
			? recipient('transient')
			: route('transient');
	}

	// STARTTLS refused for good (502 not implemented, 5.7.x): TLS will not come up on this route
	if (context.command === 'STARTTLS') return routeCannotSend;
	// 503 bad sequence: the session was in the wrong state, a new one can take the message
	if (code === 503) return route('transient');
	// Exchange recipient restrictions (distribution group refusing outsiders) use 5.7.1 too
	if (/\bRESOLVER\.RST\./.test(text)) return recipient('permanent');
	// 5.7.x is security/policy: 554 5.7.1 relay or spam block, 550 5.7.x, 553 5.7.x
	if (enhanced.startsWith('5.7.')) return route('blocked');
	// the message itself (5.3.4 too big, 5.6.x content): no route will take it as it is
	if (/^5\.[36]\./.test(enhanced)) return recipient('permanent');
	// the sender's own address refused (5.1.7 bad sender mailbox, 5.1.8 bad sender domain)
	if (enhanced === '5.1.7' || enhanced === '5.1.8') return route('permanent');
	// before any recipient was named (greeting, EHLO, STARTTLS, MAIL FROM) it is the route's setup
	if (SESSION_COMMANDS.test(context.command ?? ''))
		return route(BLOCK_PHRASES.test(text) ? 'blocked' : 'permanent');
	// recipient (5.1.x address, 5.2.x mailbox) problems
	if (/^5\.[1-5]\./.test(enhanced)) return recipient('permanent');
	if (BLOCK_PHRASES.test(text)) return route('blocked');
	return recipient('permanent');
}

/**
 * Classifies anything nodemailer rejected with (or threw). Never throws. `secrets` are scrubbed from
 * the message before it is cut short (in that order, so no part of a secret can survive the cut).
 */
export function classifySmtpError(
	error: unknown,
	secrets: readonly string[] = [],
	context: SmtpErrorContext = {},
): SendFailure {
	const err: SmtpErrorLike =
		typeof error === 'object' && error !== null
			? (error as SmtpErrorLike)
			: { message: String(error) };
	const raw = err.message || err.code || 'SMTP send failed';
	const response = typeof err.response === 'string' ? err.response : undefined;
	const reply = response ? parseSmtpReply(response) : undefined;
	const code = err.responseCode ?? reply?.code;

	if (code) {
		// a reply, also one to the final dot: the server said what became of the message
		const parsed: SmtpReply = { text: reply?.text ?? '', ...reply, code };
		const verdict = classifySmtpReply(parsed, {
			command: err.command,
			auth: err.code === 'EAUTH' || /^AUTH\b/.test(err.command ?? ''),
		});
		const failure: SendFailure = {
			ok: false,
			...verdict,
			code,
			enhancedCode: parsed.enhancedCode,
			message: safeText(raw, secrets),
		};
		// every recipient refused: say what each one was told (nodemailer puts them on the error)
		const refused = refusals(err, secrets, { othersAccepted: false });
		return refused.length ? { ...failure, refused } : failure;
	}
	// no reply to quote: name nodemailer's code ("Timeout (ETIMEDOUT)") so people can tell the step
	const tagged = err.code && !raw.includes(err.code) ? `${raw} (${err.code})` : raw;
	if (context.bodySent) {
		// the final dot went out and no reply came (closed, reset, timed out): the server may have
		// queued the message. Retrying would deliver it twice, failing over too: unknown
		return {
			ok: false,
			kind: 'unknown',
			scope: 'route',
			message: safeText(
				`No reply to the end of the message (${tagged}): it may have been delivered`,
				secrets,
			),
		};
	}
	return { ok: false, ...classifyWithoutReply(err), message: safeText(tagged, secrets) };
}

/**
 * One refused RCPT TO, classified. `othersAccepted`: the server took the message for other
 * recipients of the same transaction, so a deferral concerns this recipient only (greylisting
 * is per recipient, 452 too many recipients per transaction), not the route's health.
 */
export function classifyRefusal(
	error: SmtpErrorLike,
	secrets: readonly string[] = [],
	{ othersAccepted }: { othersAccepted: boolean },
): SendFailure {
	const failure = classifySmtpError(error, secrets);
	return othersAccepted && failure.kind === 'transient'
		? { ...failure, scope: 'recipient' }
		: failure;
}

/** The refusals nodemailer lists on an error or a send result, one per address. */
export function refusals(
	source: Pick<SmtpErrorLike, 'rejected' | 'rejectedErrors'>,
	secrets: readonly string[],
	options: { othersAccepted: boolean },
): RefusedRecipient[] {
	const errors = Array.isArray(source.rejectedErrors) ? source.rejectedErrors : [];
	const addresses = Array.isArray(source.rejected)
		? source.rejected
		: errors.map((e) => e.recipient).filter((a): a is string => typeof a === 'string');
	return addresses.map((address) => {
		const err = errors.find((e) => e.recipient === address) ?? {
			code: 'EENVELOPE',
			command: 'RCPT TO',
			message: 'Recipient refused',
		};
		return { address, failure: classifyRefusal(err, secrets, options) };
	});
}

/** No SMTP reply: the connection, TLS, the local configuration or the message itself failed. */
function classifyWithoutReply(err: SmtpErrorLike): Verdict {
	const systemCode = `${err.originalCode ?? ''} ${err.code ?? ''} ${err.message ?? ''}`;
	switch (err.code) {
		case 'ETLS':
		case 'ESOCKET':
			// a certificate the route does not accept (see allowUnauthorizedCerts) or a TLS version
			// mismatch (implicit TLS against a plain port) is configuration, like a wrong password;
			// a reset handshake is transient
			return isTlsConfigText(systemCode) ? routeCannotSend : route('transient');
		case 'EAUTH': // credentials missing for the mechanism, or refused without a reply
		case 'ENOAUTH': // AUTH demanded (forceAuth) but no credentials given
		case 'EOAUTH2': // the OAuth2 token could not be had
			return routeCannotSend;
		case 'EREQUIRETLS':
		case 'ECONFIG':
			return route('permanent');
		case 'EENVELOPE': // no recipients / an address nodemailer refused to send
		case 'EMESSAGE': // larger than the server's SIZE
		case 'EMAXRECIPIENTS':
		case 'ESTREAM':
		case 'EFILEACCESS':
		case 'EURLACCESS':
			return recipient('permanent');
		default:
			// ECONNECTION, ETIMEDOUT, EDNS (ENOTFOUND, EAI_AGAIN), ECONNREFUSED, EPROXY, EPROTOCOL,
			// EABORT, unknown: a relay that is down or unreachable counts toward the circuit, and
			// may well come back, so it does not open the circuit by itself
			return route('transient');
	}
}
