import type { HttpClient, HttpRequest, HttpResponse, OutgoingMessage, SendFailure, SendOutcome, Transport } from '../types';
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
		let request: HttpRequest;
		try {
			request = await this.api.buildRequest(message, this.credential, { now });
		} catch (error) {
			// the message itself could not be encoded: no route would do better
			return this.failure('permanent', 'recipient', `could not build the request: ${errorMessage(error)}`);
		}
		let response: HttpResponse;
		try {
			response = await this.http(request);
		} catch (error) {
			// no response at all (DNS, TLS, reset, timeout): the route is unhealthy, try again later
			return this.failure('transient', 'route', `request failed: ${errorMessage(error)}`);
		}
		const outcome = this.api.parseResponse(response, { now });
		return outcome.ok ? outcome : { ...outcome, message: this.scrub(outcome.message) };
	}

	private failure(kind: SendFailure['kind'], scope: SendFailure['scope'], text: string): SendFailure {
		return { ok: false, kind, scope, message: this.scrub(`${this.api.label}: ${text}`) };
	}

	/** A last guard: no credential secret ever leaves in a message, whatever a server or library echoed. */
	private scrub(text: string): string {
		let out = text;
		for (const secret of this.api.secrets(this.credential)) {
			if (secret.length >= 4) out = out.split(secret).join('[redacted]');
		}
		return out;
	}
}

function errorMessage(error: unknown): string {
	if (error instanceof Error) {
		const code = (error as { code?: unknown }).code;
		return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
	}
	return String(error);
}
