import { safeText } from '../../util/secrets';
import { envelopeRestriction } from '../envelope';
import { isTlsConfigError } from '../tls';
import type {
	HttpClient,
	HttpRequest,
	HttpResponse,
	OutgoingMessage,
	SendFailure,
	SendOutcome,
	Transport,
} from '../types';
import { isSuccess } from './httpStatus';
import type { ProbeResult } from '../probe';
import type { ApiProvider } from './types';

/** Sends through one email API: build the request, exchange it, classify the reply. Never throws. */
export class ApiTransport<C> implements Transport {
	readonly provider: string;

	constructor(
		private readonly api: ApiProvider<C>,
		private readonly credential: C,
		private readonly http: HttpClient,
		private readonly clock: () => Date = () => new Date(),
	) {
		this.provider = api.id;
	}

	async send(message: OutgoingMessage): Promise<SendOutcome> {
		const now = this.clock();
		const envelope = envelopeRestriction(message);
		if (envelope.kind === 'invalid')
			return this.failure('permanent', 'recipient', `not sent: ${envelope.problem}`);
		if (envelope.kind === 'subset' && !this.api.envelopeSubset)
			// blocked/route: this route cannot do it; an SMTP route can (the pipeline may fail over)
			return this.failure(
				'blocked',
				'route',
				`not sent: a resend to part of the recipients (envelopeTo) needs an SMTP route; this API sends every message to all of its To, Cc and Bcc addresses`,
			);
		let request: HttpRequest;
		try {
			request = await this.api.buildRequest(message, this.credential, { now });
		} catch (error) {
			// the message itself could not be encoded: no route would do better
			return this.failure(
				'permanent',
				'recipient',
				`could not build the request: ${errorMessage(error)}`,
			);
		}
		let response: HttpResponse;
		try {
			response = await this.http(request);
		} catch (error) {
			// a certificate or TLS version the client refuses: configuration (or interception), which
			// no retry fixes: blocked, and the route's circuit opens at once
			if (isTlsConfigError(error))
				return {
					...this.failure('blocked', 'route', `request failed: ${errorMessage(error)}`),
					opensCircuit: true,
				};
			// no response at all (DNS, reset, timeout): the route is unhealthy, try again later
			return this.failure('transient', 'route', `request failed: ${errorMessage(error)}`);
		}
		return this.clean(this.api.parseResponse(response, { now }));
	}

	/**
	 * The credential test: the provider's cheap authenticated request. The message is scrubbed and
	 * capped like a send's, so a test against a server that echoes the key shows no key either.
	 */
	async verify(): Promise<{ ok: true } | { ok: false; message: string }> {
		const now = this.clock();
		let response: HttpResponse;
		try {
			response = await this.http(this.api.testRequest(this.credential, { now }));
		} catch (error) {
			return {
				ok: false,
				message: this.safe(`${this.api.label}: request failed: ${errorMessage(error)}`),
			};
		}
		if (isSuccess(response)) return { ok: true };
		return { ok: false, message: this.testFailure(response, now) };
	}

	/**
	 * The active health check: the credential test's request, timed, within `timeoutMs` (a slower
	 * answer is a failure; the request is not cancelled, its answer is ignored). One step, `request`;
	 * what the provider's answer says about the account (SES GetAccount) in `details`.
	 */
	async probe(timeoutMs: number): Promise<ProbeResult> {
		const started = Date.now();
		const now = this.clock();
		const result = (
			ok: boolean,
			extra: {
				reply?: string;
				error?: string;
				details?: ProbeResult['details'];
				warning?: string;
			},
		): ProbeResult => {
			const ms = Date.now() - started;
			return {
				ok,
				steps: [{ step: 'request', ok, ms, ...(extra.reply ? { reply: extra.reply } : {}) }],
				latencyMs: ms,
				...(extra.error ? { error: extra.error } : {}),
				...(extra.details ? { details: extra.details } : {}),
				...(extra.warning ? { warning: extra.warning } : {}),
			};
		};
		let timer: NodeJS.Timeout | undefined;
		const late = new Promise<'late'>((resolve) => {
			timer = setTimeout(() => resolve('late'), timeoutMs);
		});
		let response: HttpResponse | 'late';
		try {
			response = await Promise.race([
				this.http(this.api.testRequest(this.credential, { now })),
				late,
			]);
		} catch (error) {
			return result(false, {
				error: this.safe(`${this.api.label}: request failed: ${errorMessage(error)}`),
			});
		} finally {
			clearTimeout(timer);
		}
		if (response === 'late')
			return result(false, {
				error: `${this.api.label}: no answer within ${timeoutMs / 1000} s (Probe Options › Timeout (Seconds))`,
			});
		const reply = `HTTP ${response.statusCode}`;
		if (!isSuccess(response))
			return result(false, { reply, error: this.testFailure(response, now) });
		const read = this.api.probeDetails?.(response);
		return read?.problem
			? result(false, {
					reply,
					error: this.safe(`${this.api.label}: ${read.problem}`),
					details: read.details,
				})
			: result(true, {
					reply,
					...(read ? { details: read.details } : {}),
					...(read?.warning ? { warning: this.safe(`${this.api.label}: ${read.warning}`) } : {}),
				});
	}

	/** A refused credential test, as a send's failure says it (scrubbed, capped). */
	private testFailure(response: HttpResponse, now: Date): string {
		const outcome = this.api.parseResponse(response, { now });
		return this.safe(
			outcome.ok ? `${this.api.label}: HTTP ${response.statusCode}` : outcome.message,
		);
	}

	private failure(
		kind: SendFailure['kind'],
		scope: SendFailure['scope'],
		text: string,
	): SendFailure {
		return { ok: false, kind, scope, message: this.safe(`${this.api.label}: ${text}`) };
	}

	/** Every text a server or library supplied, scrubbed and only then capped. */
	private clean(outcome: SendOutcome): SendOutcome {
		if (!outcome.ok) return { ...outcome, message: this.safe(outcome.message) };
		return outcome.response === undefined
			? outcome
			: { ...outcome, response: this.safe(outcome.response) };
	}

	/** A last guard: no credential secret ever leaves, in any form a server or library may echo it. */
	private safe(text: string): string {
		return safeText(text, this.api.secrets(this.credential));
	}
}

function errorMessage(error: unknown): string {
	// by shape, not instanceof: an error made in another realm (Node's own TLS errors seen from a
	// vm context) is no instance of this realm's Error
	const { message, code } = (typeof error === 'object' && error !== null ? error : {}) as {
		message?: unknown;
		code?: unknown;
	};
	if (typeof message !== 'string') return String(error);
	return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
