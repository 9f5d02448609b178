/**
 * Active health checks: what a transport's probe answers. A probe proves the route can be used
 * (connect, greeting, EHLO, STARTTLS, AUTH; or an API's cheapest authenticated call) and sends no
 * mail. lib/delivery/probe.ts feeds the outcome into the route's circuit.
 */

/**
 * `request`: an email API's authenticated call (the transport's credential test request);
 * `mail`, `rcpt`, `rset`: SMTP's envelope probe to a seed address (never DATA)
 */
export type ProbeStepName =
	'connect' | 'banner' | 'ehlo' | 'starttls' | 'auth' | 'mail' | 'rcpt' | 'rset' | 'request';

export interface ProbeStep {
	step: ProbeStepName;
	ok: boolean;
	/** how long the step took, from the end of the one before */
	ms: number;
	/** the server's reply to it (scrubbed of secrets, capped) */
	reply?: string;
}

export interface ProbeResult {
	ok: boolean;
	steps: ProbeStep[];
	latencyMs: number;
	/** why it failed (scrubbed of secrets, capped) */
	error?: string;
	/** what the provider's answer says beyond "up" (SES: enforcementStatus, sendingEnabled) */
	details?: Record<string, string | number | boolean>;
	/** the probe passed, but the provider says something an operator should hear (SES: PROBATION) */
	warning?: string;
}

export interface ProbeOptions {
	/**
	 * SMTP only: after AUTH, MAIL FROM:<from> RCPT TO:<to> then RSET, never DATA (`from` '' is the
	 * null sender <>); a refusal of either fails the probe. Both are parsed mailboxes.
	 */
	envelope?: { from: string; to: string };
}

/** A transport that can check its route without sending (lib/transports/types Transport). */
export interface Probeable {
	probe(timeoutMs: number, options?: ProbeOptions): Promise<ProbeResult>;
}

export const isProbeable = (t: object): t is Probeable =>
	typeof (t as Partial<Probeable>).probe === 'function';
