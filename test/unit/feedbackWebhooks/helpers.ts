import { encodeReference } from '../../../lib/feedback/reference';
import type { WebhookRequest } from '../../../lib/feedback/webhooks';

/** What a message sent for route "Relay A", group yahoo, campaign spring carries as `pr`. */
export const REF = { route: 'Relay A', group: 'yahoo', campaign: 'spring' };
export const TOKEN = encodeReference(REF).token;

export function request(
	body: string | Buffer,
	headers: Record<string, string> = {},
	extra: Partial<WebhookRequest> = {},
): WebhookRequest {
	const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
	return {
		headers: lower,
		rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
		...extra,
	};
}

export const basic = (user: string, password: string) =>
	`Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
