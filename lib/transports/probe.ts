/**
 * Active health checks: what a transport's probe answers. A probe proves the route can be used
 * (connect, greeting, EHLO, STARTTLS, AUTH; or an API's cheapest authenticated call) and sends no
 * mail. lib/delivery/probe.ts feeds the outcome into the route's circuit.
 */

/** `request`: an email API's authenticated call (the transport's credential test request) */
export type ProbeStepName = 'connect' | 'banner' | 'ehlo' | 'starttls' | 'auth' | 'request';

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
}

/** A transport that can check its route without sending (lib/transports/types Transport). */
export interface Probeable {
	probe(timeoutMs: number): Promise<ProbeResult>;
}

export const isProbeable = (t: object): t is Probeable =>
	typeof (t as Partial<Probeable>).probe === 'function';
