/**
 * Our SigV4 against the signer n8n 2.40.7's `aws` credential signs with: @smithy/signature-v4 5.7.5
 * (n8n-nodes-base credentials/common/aws/utils.ts signOptions: sha256-js, no checksum header,
 * uriEscapePath for every service but S3), here from n8n-core's own dependencies, the same version.
 * Given the same request, headers and time, both must produce the same signature.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { API_PROVIDERS, signV4 } from '../../lib/transports/api';
import { plainMessage } from '../helpers/messages';

const NOW = new Date('2026-03-04T05:06:07Z');
const KEYS = {
	accessKeyId: 'AKIDEXAMPLE',
	secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

async function n8nSignature(
	request: { method: string; url: string; headers: Record<string, string>; body?: string },
	credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<Record<string, string>> {
	const url = new URL(request.url);
	const signer = new SignatureV4({
		credentials,
		region: 'eu-west-1',
		service: 'ses',
		sha256: Sha256,
		applyChecksum: false,
		uriEscapePath: true,
	});
	const headers: Record<string, string> = { host: url.host };
	for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = v;
	const query = Object.fromEntries(url.searchParams);
	const signed = await signer.sign(
		new HttpRequest({
			method: request.method,
			protocol: 'https:',
			hostname: url.hostname,
			path: url.pathname,
			...(Object.keys(query).length ? { query } : {}),
			headers,
			body: request.body,
		}),
		{ signingDate: NOW },
	);
	return signed.headers as Record<string, string>;
}

describe('SigV4: ours and the signer of n8n’s aws credential agree', () => {
	it('SES SendEmail as our provider builds it: the same Authorization, byte for byte', async () => {
		const credential = API_PROVIDERS.ses.parseCredential({ region: 'eu-west-1', ...KEYS });
		const request = await API_PROVIDERS.ses.buildRequest(
			plainMessage('ann@example.org'),
			credential,
			{ now: NOW },
		);
		const unsigned = {
			method: request.method,
			url: request.url,
			headers: { 'Content-Type': 'application/json' },
			body: String(request.body),
		};
		const theirs = await n8nSignature(unsigned, KEYS);
		expect(request.headers.Authorization).toBe(theirs.authorization);
		expect(request.headers['X-Amz-Date']).toBe(theirs['x-amz-date']);
	});

	it('with a session token, a query string and the headers n8n adds (Content-Length)', async () => {
		const withToken = { ...KEYS, sessionToken: 'FwoGZXIvYXdzEXAMPLE//token+/=' };
		const unsigned = {
			method: 'GET',
			url: 'https://email.eu-west-1.amazonaws.com/v2/email/account?b=2&a=1%20x',
			headers: { 'Content-Length': '0', 'X-Extra': '  spaced   value ' },
		};
		const ours = signV4(unsigned, withToken, { region: 'eu-west-1', service: 'ses', now: NOW });
		const theirs = await n8nSignature(unsigned, withToken);
		expect(ours.headers.Authorization).toBe(theirs.authorization);
		expect(ours.headers['X-Amz-Security-Token']).toBe(theirs['x-amz-security-token']);
	});
});
