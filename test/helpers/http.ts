import https from 'node:https';
import type { HttpClient } from '../../lib/transports/types';

/** The transports' HttpClient over node:https without an agent, so nock (which patches node:http) sees every request. */
export const httpsClient: HttpClient = (request) =>
	new Promise((resolve, reject) => {
		const req = https.request(
			request.url,
			{ method: request.method, headers: request.headers },
			(res) => {
				const chunks: Buffer[] = [];
				res.on('data', (chunk: Buffer) => chunks.push(chunk));
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
		req.on('error', reject);
		req.end(request.body);
	});
