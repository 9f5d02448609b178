import type { HttpRequest, HttpResponse, OutgoingMessage, SendOutcome } from '../types';

export type ApiProviderId =
	'sendgrid' | 'mailgun' | 'postmark' | 'sparkpost' | 'ses' | 'resend' | 'brevo';

/** The clock is passed in so requests (SigV4 dates, MIME Date headers) are reproducible in tests. */
export interface ApiContext {
	now: Date;
}

/**
 * One email API: how to turn a message into an HTTP request and the reply into an outcome. Providers
 * are pure (no I/O); ApiTransport does the exchange, so the node can supply n8n's HTTP helpers.
 */
export interface ApiProvider<C> {
	readonly id: ApiProviderId;
	readonly label: string;
	/** the n8n credential type name, e.g. `postalSendGridApi` */
	readonly credentialType: string;
	/**
	 * The API can send to part of a message's recipients with its headers unchanged, as a resend
	 * after a partial delivery needs (OutgoingMessage.envelopeTo); buildRequest then honours it.
	 * Without it the transport refuses such a message: the API would send to everyone again.
	 */
	readonly envelopeSubset?: boolean;
	/**
	 * Validates credential data; throws an Error naming the bad field, never echoing values. `label`
	 * names the credential in that error (default: ours; n8n's own types pass theirs).
	 */
	parseCredential(data: unknown, label?: string): C;
	/** Async only where the body must be composed first (SES builds a MIME message). */
	buildRequest(
		message: OutgoingMessage,
		credential: C,
		ctx: ApiContext,
	): HttpRequest | Promise<HttpRequest>;
	/** `ctx` resolves an HTTP-date Retry-After; without it the current time is used. */
	parseResponse(response: HttpResponse, ctx?: ApiContext): SendOutcome;
	/** A cheap authenticated request that proves the credential works. */
	testRequest(credential: C, ctx: ApiContext): HttpRequest;
	/**
	 * What a successful answer to testRequest says about the account beyond "up", for the probe;
	 * `problem`: the account cannot send although the credential works (the probe fails);
	 * `warning`: it can, but an operator should hear what the provider says (the probe passes).
	 */
	probeDetails?(response: HttpResponse): {
		details: Record<string, string | number | boolean>;
		problem?: string;
		warning?: string;
	};
	/** The secret strings of a credential, so the transport can scrub them from any message. */
	secrets(credential: C): string[];
}
