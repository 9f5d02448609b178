/**
 * "Include Raw Event": the provider's own JSON each normalized event was read from. A body that
 * is a list of events (SendGrid, SparkPost, Brevo batches, Postmark) gives one per event when the
 * counts match; SES gives the SES event inside the SNS envelope; anything else (one provider event
 * naming several recipients) the whole body, on each of its events.
 */
export function rawEvents(provider: string, rawBody: Buffer, count: number): unknown[] {
	let body: unknown;
	try {
		body = JSON.parse(rawBody.toString('utf8'));
	} catch {
		return [];
	}
	if (provider === 'ses') {
		const message = (body as { Message?: unknown } | null)?.Message;
		try {
			body = typeof message === 'string' ? JSON.parse(message) : body;
		} catch {
			// an SNS test message: the envelope itself
		}
	}
	const list = Array.isArray(body) ? body : [body];
	return Array.from({ length: count }, (_, i) => (list.length === count ? list[i] : body));
}
