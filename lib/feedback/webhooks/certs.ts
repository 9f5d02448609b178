/**
 * SNS signing certificates: fetched only over HTTPS from an SNS host, at most 64 KiB, within
 * 5 s, and kept by URL for a day (AWS rotates them by publishing a new URL).
 */
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import type { CertFetcher } from './types';

/** sns.<region>.amazonaws.com, and the China regions' .com.cn (AWS SDK's validator allows the same) */
export const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

const MAX_CERT_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 5_000;
export const CERT_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_CACHED = 32;

/** An https URL on an SNS host, default port, no credentials: anything else is not AWS's. */
export function isSnsUrl(text: string | undefined): boolean {
	if (!text) return false;
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		return false;
	}
	return (
		url.protocol === 'https:' &&
		url.port === '' &&
		url.username === '' &&
		url.password === '' &&
		SNS_HOST.test(url.hostname)
	);
}

export const fetchCertOverHttps: CertFetcher = (url) =>
	new Promise((resolve, reject) => {
		const req = request(url, { method: 'GET', timeout: FETCH_TIMEOUT_MS }, (res) => {
			if (res.statusCode !== 200) {
				res.resume();
				reject(new Error(`the certificate URL answered ${res.statusCode ?? 'nothing'}`));
				return;
			}
			const chunks: Buffer[] = [];
			let size = 0;
			res.on('data', (chunk: Buffer) => {
				size += chunk.length;
				if (size > MAX_CERT_BYTES) {
					req.destroy(new Error('the certificate is larger than 64 KiB'));
					return;
				}
				chunks.push(chunk);
			});
			res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
			res.on('error', reject);
		});
		req.on('timeout', () => req.destroy(new Error('the certificate fetch timed out')));
		req.on('error', reject);
		req.end();
	});

const processCache = new Map<string, { pem: string; until: number }>();

/**
 * The certificate at `url`, from the cache while fresh; only a certificate that parses is kept.
 * The caller has checked the URL.
 */
export async function certificateAt(
	url: string,
	fetch: CertFetcher = fetchCertOverHttps,
	cache = processCache,
	now = Date.now(),
): Promise<X509Certificate> {
	const hit = cache.get(url);
	if (hit && hit.until > now) return new X509Certificate(hit.pem);
	const pem = await fetch(url);
	const cert = new X509Certificate(pem); // throws on anything but a certificate
	if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
	cache.set(url, { pem, until: now + CERT_TTL_MS });
	return cert;
}
