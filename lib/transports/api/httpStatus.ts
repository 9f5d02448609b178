import type { HttpResponse, SendFailure, SendSuccess } from '../types';

/**
 * The classification every email API shares; provider files refine it with their documented codes.
 *  - 2xx: accepted
 *  - 429, 5xx: transient, route (the provider is overloaded or down); Retry-After honoured
 *  - 408: transient, route (the request timed out on the way in; nothing was rejected)
 *  - 401: blocked, route, opens the circuit (RFC 9110 §15.5.2: the request lacks valid
 *    authentication credentials; every provider here documents it as a missing or bad key)
 *  - 403: permanent, route (forbidden; each provider file says where its docs make it a bad key,
 *    and then it opens the circuit too)
 *  - 1xx, 3xx: permanent, route (an API never redirects a send: the endpoint is misconfigured)
 *  - 400, 413, 422 and other 4xx: permanent, recipient (this message was refused, the route is fine)
 */

export type FailureKind = SendFailure['kind'];
export type FailureScope = SendFailure['scope'];

export function isSuccess(response: HttpResponse): boolean {
	return response.statusCode >= 200 && response.statusCode < 300;
}

export function success(response: HttpResponse, messageId?: string): SendSuccess {
	return { ok: true, code: response.statusCode, ...(messageId ? { messageId } : {}) };
}

/** Case-insensitive header lookup (the first value of a repeated header). */
export function header(response: HttpResponse, name: string): string | undefined {
	const wanted = name.toLowerCase();
	for (const [key, value] of Object.entries(response.headers)) {
		if (key.toLowerCase() !== wanted || value === undefined) continue;
		return Array.isArray(value) ? value[0] : value;
	}
	return undefined;
}

/** Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
	if (value === undefined) return undefined;
	const trimmed = value.trim();
	if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
	const at = Date.parse(trimmed);
	if (Number.isNaN(at)) return undefined;
	return Math.max(0, at - now.getTime());
}

export function parseJson(body: string): unknown {
	try {
		return JSON.parse(body);
	} catch {
		return undefined;
	}
}

/**
 * The human part of an error body, whatever shape the provider uses. Neither folded nor cut here:
 * ApiTransport scrubs the secrets out of the whole text first and only then caps it (a cut before
 * the scrub can leave part of an echoed key behind).
 */
export function describeBody(body: string): string {
	const json = parseJson(body);
	if (typeof json === 'object' && json !== null) {
		const record = json as Record<string, unknown>;
		for (const key of ['message', 'Message', 'error_description', 'error']) {
			const value = record[key];
			if (typeof value === 'string' && value) return value;
			if (
				typeof value === 'object' &&
				value !== null &&
				typeof (value as { message?: unknown }).message === 'string'
			) {
				return (value as { message: string }).message;
			}
		}
		if (Array.isArray(record.errors)) {
			const messages = record.errors
				.map((e) =>
					typeof e === 'string'
						? e
						: typeof e === 'object' && e !== null
							? String((e as { message?: unknown }).message ?? '')
							: '',
				)
				.filter(Boolean);
			if (messages.length) return messages.join('; ');
		}
	}
	return body;
}

export interface FailureOptions {
	label: string;
	now: Date;
	/** the provider's own reading of the body; defaults to describeBody */
	detail?: string;
	/** a provider refinement; anything left out comes from the status code */
	kind?: FailureKind;
	scope?: FailureScope;
	opensCircuit?: boolean;
}

/** The refinement for a credential the provider refused: no message goes until someone fixes it. */
export const CREDENTIAL_REFUSED = {
	kind: 'blocked',
	scope: 'route',
	opensCircuit: true,
} as const satisfies Pick<FailureOptions, 'kind' | 'scope' | 'opensCircuit'>;

export function httpFailure(response: HttpResponse, options: FailureOptions): SendFailure {
	const status = response.statusCode;
	const byStatus = classifyStatus(status);
	const refined = options.kind !== undefined || options.scope !== undefined;
	const kind = options.kind ?? byStatus.kind;
	const scope = options.scope ?? byStatus.scope;
	// a provider's own reading of the reply replaces the status's, opensCircuit included
	const opensCircuit = options.opensCircuit ?? (refined ? undefined : byStatus.opensCircuit);
	const detail = options.detail ?? describeBody(response.body);
	const retryAfterMs =
		kind === 'transient'
			? parseRetryAfter(header(response, 'retry-after'), options.now)
			: undefined;
	return {
		ok: false,
		kind,
		scope,
		code: status,
		message: `${options.label}: HTTP ${status}${detail ? ` ${detail}` : ''}`,
		...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
		...(opensCircuit ? { opensCircuit } : {}),
	};
}

export function classifyStatus(status: number): {
	kind: FailureKind;
	scope: FailureScope;
	opensCircuit?: boolean;
} {
	if (status === 429 || status === 408 || status >= 500)
		return { kind: 'transient', scope: 'route' };
	if (status === 401) return { ...CREDENTIAL_REFUSED };
	// 403, and the odd 1xx/3xx (a redirect means the endpoint itself is wrong)
	if (status === 403 || status < 400) return { kind: 'permanent', scope: 'route' };
	return { kind: 'permanent', scope: 'recipient' };
}
