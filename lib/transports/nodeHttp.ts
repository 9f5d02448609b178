import { Agent, request } from 'node:https';
import type { HttpClient } from './types';

const agent = new Agent({ keepAlive: true });

/**
 * An HttpClient over node:https with keep-alive, for places without n8n's request helpers (the
 * SES credential test, which must sign its own request).
 */
export const nodeHttpClient: HttpClient = (req) =>
	new Promise((resolve, reject) => {
		const r = request(
			req.url,
			{ method: req.method, headers: req.headers, agent, timeout: 15_000 },
			(res) => {
				const chunks: Buffer[] = [];
				res.on('data', (c: Buffer) => chunks.push(c));
				res.on('end', () =>
					resolve({
						statusCode: res.statusCode ?? 0,
						headers: res.headers,
						body: Buffer.concat(chunks).toString('utf8'),
					}),
				);
				res.on('error', reject);
			},
		);
		r.on('timeout', () => r.destroy(new Error('the request timed out')));
		r.on('error', reject);
		if (req.body !== undefined) r.write(req.body);
		r.end();
	});
