/**
 * One interface for every way a message leaves: SMTP (nodemailer) and the email APIs. Transports
 * never throw for a delivery failure: they classify it, so the pipeline can retry, fail over or stop.
 */

export interface MailAddress {
	address: string;
	name?: string;
}

export interface MailAttachment {
	filename: string;
	contentType: string;
	content: Buffer;
	/** content id, for inline images referenced as cid:… in the HTML */
	cid?: string;
}

/** A message ready to send: addresses parsed, header values checked (no CR/LF). */
export interface OutgoingMessage {
	from: MailAddress;
	to: MailAddress[];
	cc: MailAddress[];
	bcc: MailAddress[];
	replyTo?: MailAddress;
	subject: string;
	text?: string;
	html?: string;
	/** extra headers (e.g. X-Virtual-MTA); names are header names, values single-line */
	headers: Record<string, string>;
	attachments: MailAttachment[];
	/** provider tags / categories */
	tags: string[];
	/** provider metadata / custom args (string values) */
	metadata: Record<string, string>;
	/**
	 * send to these envelope recipients only (a resend after a partial delivery); headers stay as
	 * they are. Each must be one of the message's to/cc/bcc addresses. SMTP routes honour it (the
	 * SMTP envelope); an API route whose provider cannot address a subset refuses the message
	 * (blocked/route) rather than send it to everyone again.
	 */
	envelopeTo?: string[];
	/**
	 * the reference its feedback finds its way back with (../feedback/reference.ts): SMTP asks for
	 * DSNs with it as the envelope id; every route also carries it as the X-Postal-Ref header and
	 * the `pr` metadata key
	 */
	reference?: string;
	/**
	 * the envelope sender (SMTP MAIL FROM) when it is not From's address: a VERP bounce address
	 * (../feedback/verp.ts). The From header stays. API routes have no envelope sender to set.
	 */
	returnPath?: string;
}

/** One envelope recipient the server refused, with its own reply, classified. */
export interface RefusedRecipient {
	address: string;
	failure: SendFailure;
}

export interface SendSuccess {
	ok: true;
	/** the provider's or the SMTP server's id for the message */
	messageId?: string;
	/** the SMTP reply code or HTTP status */
	code?: number;
	/** the SMTP enhanced status code, e.g. 2.0.0 */
	enhancedCode?: string;
	/** the server's reply text, shortened */
	response?: string;
	/**
	 * recipients the server refused while it took the message for the others (SMTP RCPT TO
	 * replies): the message went to every other envelope recipient. A deferral (4xx) here is
	 * scope 'recipient': the route took the message, so it says nothing about the route's health.
	 */
	refused?: RefusedRecipient[];
}

export interface SendFailure {
	ok: false;
	/**
	 * permanent: do not retry (SMTP 5xx, API validation); transient: retry later (4xx, 429, 5xx, network);
	 * blocked: the route refused on policy grounds: do not retry on this route; another route may deliver.
	 * unknown: the whole message went and no answer came (the connection dropped after the final
	 * dot, or the reply to it timed out): it may have been delivered, so it is never retried blindly.
	 */
	kind: 'permanent' | 'transient' | 'blocked' | 'unknown';
	/**
	 * route: the connection is unhealthy (connection failure, timeout, 421/451 deferral, policy block,
	 * HTTP 5xx/429) — counts toward opening the route's circuit. recipient: this recipient's problem
	 * (550 5.1.1 user unknown, an invalid address) — says nothing about the route.
	 */
	scope: 'route' | 'recipient';
	code?: number;
	enhancedCode?: string;
	/** what went wrong, for people; never a secret */
	message: string;
	/** the server asked to wait this long (HTTP Retry-After) */
	retryAfterMs?: number;
	/**
	 * the route cannot send anything until someone fixes it (authentication refused, a certificate
	 * rejected): its circuit opens at once, other sends on it stop, and what is left goes to Fallback
	 */
	opensCircuit?: boolean;
	/**
	 * every envelope recipient was refused (SMTP RCPT TO), so nothing was sent: each one's reply,
	 * classified as the reply says (kind and scope of the whole failure follow the deferred one)
	 */
	refused?: RefusedRecipient[];
}

export type SendOutcome = SendSuccess | SendFailure;

export interface Transport {
	/** `smtp`, `sendgrid`, `mailgun`, `postmark`, `sparkpost`, `ses`, `resend`, `brevo` */
	readonly provider: string;
	/**
	 * the most sends that can be on the wire at once (an SMTP pool's connections); more would only
	 * queue inside the transport, each holding its duplicate lease while it waits
	 */
	readonly maxParallel?: number;
	send(message: OutgoingMessage): Promise<SendOutcome>;
}

/** An HTTP exchange for the email APIs. The node supplies it through n8n's request helpers. */
export interface HttpRequest {
	method: 'GET' | 'POST' | 'PUT';
	url: string;
	headers: Record<string, string>;
	body?: string | Buffer;
}

export interface HttpResponse {
	statusCode: number;
	headers: Record<string, string | string[] | undefined>;
	body: string;
}

/** Resolves for every HTTP status; rejects only when no response arrived (network error, timeout). */
export type HttpClient = (request: HttpRequest) => Promise<HttpResponse>;
