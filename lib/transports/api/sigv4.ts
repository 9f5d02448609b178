import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4, header form (Authorization header), on node:crypto only.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 * Checked against the SigV4 test suite (see test/unit/apiProviders.test.ts).
 */

export interface AwsCredentials {
	accessKeyId: string;
	secretAccessKey: string;
	/** temporary credentials (STS): sent and signed as X-Amz-Security-Token */
	sessionToken?: string;
}

export interface SignableRequest {
	method: string;
	url: string;
	headers: Record<string, string>;
	body?: string | Buffer;
}

export interface SigningScope {
	region: string;
	service: string;
	now: Date;
}

export interface Signature {
	/** the request's headers plus X-Amz-Date, X-Amz-Security-Token and Authorization */
	headers: Record<string, string>;
	canonicalRequest: string;
	stringToSign: string;
	signature: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

export function signV4(
	request: SignableRequest,
	credentials: AwsCredentials,
	scope: SigningScope,
): Signature {
	const url = new URL(request.url);
	const amzDate = scope.now.toISOString().replace(/[-:]|\.\d{3}/g, '');
	const date = amzDate.slice(0, 8);
	const headers: Record<string, string> = { ...request.headers, 'X-Amz-Date': amzDate };
	if (credentials.sessionToken) headers['X-Amz-Security-Token'] = credentials.sessionToken;

	// Host is signed but not added: the HTTP client derives the same value from the URL.
	const canonical = canonicalHeaders({ host: url.host, ...headers });
	const canonicalRequest = [
		request.method.toUpperCase(),
		canonicalPath(url.pathname),
		canonicalQuery(url.search),
		canonical.block,
		canonical.signed,
		sha256Hex(request.body ?? ''),
	].join('\n');
	const credentialScope = `${date}/${scope.region}/${scope.service}/aws4_request`;
	const stringToSign = [ALGORITHM, amzDate, credentialScope, sha256Hex(canonicalRequest)].join(
		'\n',
	);

	const kDate = hmac(`AWS4${credentials.secretAccessKey}`, date);
	const kSigning = hmac(hmac(hmac(kDate, scope.region), scope.service), 'aws4_request');
	const signature = hmac(kSigning, stringToSign).toString('hex');

	headers.Authorization =
		`${ALGORITHM} Credential=${credentials.accessKeyId}/${credentialScope}, ` +
		`SignedHeaders=${canonical.signed}, Signature=${signature}`;
	return { headers, canonicalRequest, stringToSign, signature };
}

/** Lowercase names, sorted; values trimmed with inner runs of spaces collapsed; repeats joined by commas. */
function canonicalHeaders(headers: Record<string, string>): { block: string; signed: string } {
	const merged = new Map<string, string[]>();
	for (const [name, value] of Object.entries(headers)) {
		const key = name.toLowerCase().trim();
		merged.set(key, [...(merged.get(key) ?? []), value.trim().replace(/\s+/g, ' ')]);
	}
	const names = [...merged.keys()].sort();
	return {
		block: names.map((name) => `${name}:${merged.get(name)?.join(',')}\n`).join(''),
		signed: names.join(';'),
	};
}

/** Every service but S3 encodes each path segment twice: once on the wire (the URL), once here. */
function canonicalPath(pathname: string): string {
	if (!pathname) return '/';
	return pathname
		.split('/')
		.map((segment) => uriEncode(segment))
		.join('/');
}

/** Pairs sorted by encoded name, then value; every name and value RFC 3986-encoded. */
function canonicalQuery(search: string): string {
	if (search.length <= 1) return '';
	return search
		.slice(1)
		.split('&')
		.filter(Boolean)
		.map((pair) => {
			const at = pair.indexOf('=');
			const name = at < 0 ? pair : pair.slice(0, at);
			const value = at < 0 ? '' : pair.slice(at + 1);
			return [uriEncode(decode(name)), uriEncode(decode(value))] as const;
		})
		.sort(([a, av], [b, bv]) => (a === b ? compare(av, bv) : compare(a, b)))
		.map(([name, value]) => `${name}=${value}`)
		.join('&');
}

function uriEncode(value: string): string {
	return encodeURIComponent(value).replace(
		/[!'()*]/g,
		(c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
	);
}

function decode(value: string): string {
	try {
		return decodeURIComponent(value);
	} catch {
		return value;
	}
}

function compare(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

function sha256Hex(data: string | Buffer): string {
	return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
	return createHmac('sha256', key).update(data, 'utf8').digest();
}
