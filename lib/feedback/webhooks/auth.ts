/**
 * For the providers that sign nothing (Postmark, SparkPost, Brevo): the request must carry the
 * basic-auth credentials and/or the token the user set on the provider's side. Compared in
 * constant time; a configuration with neither refuses every request (fail closed).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { header } from './common';
import type { Verification, WebhookRequest } from './types';
import { UNAUTHENTICATED } from './status';

/** Equal in time that does not depend on where they differ (nor, hashed first, on their lengths). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
	const da = createHash('sha256').update(a).digest();
	const db = createHash('sha256').update(b).digest();
	return timingSafeEqual(da, db) && Buffer.byteLength(a) === Buffer.byteLength(b);
}

const optional = z
	.string()
	.optional()
	.transform((v) => (v && v.trim() ? v.trim() : undefined));

function isAddressOrRange(text: string): boolean {
	const [ip, bits, extra] = text.split('/');
	if (extra !== undefined || isIP(ip) === 0) return false;
	if (bits === undefined) return true;
	const max = isIP(ip) === 4 ? 32 : 128;
	return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

/** Whether `ip` is one of the addresses or in one of the ranges (IPv4-mapped IPv6 read as IPv4). */
export function ipAllowed(ip: string | undefined, allowed: readonly string[]): boolean {
	const address = (ip ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
	const family = isIP(address);
	if (family === 0) return false;
	const list = new BlockList();
	for (const entry of allowed) {
		const [base, bits] = entry.split('/');
		const type = isIP(base) === 4 ? 'ipv4' : 'ipv6';
		if (bits === undefined) list.addAddress(base, type);
		else list.addSubnet(base, Number(bits), type);
	}
	return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export const sharedSecretFields = {
	/** basic auth the provider sends (user:password in the webhook URL) */
	username: optional,
	password: z
		.string()
		.optional()
		.transform((v) => (v ? v : undefined)),
	/** a token the provider sends in a header */
	token: optional,
	/** the header the token comes in; `authorization` means `Authorization: Bearer <token>` */
	tokenHeader: z
		.string()
		.trim()
		.toLowerCase()
		.refine((name) => /^[!#$%&'*+.^_`|~0-9a-z-]*$/.test(name), 'must be a header name')
		.optional()
		.transform((v) => v || 'authorization'),
	/** optional: source addresses the requests must come from, in addition to the secret */
	allowedIps: z
		.array(z.string().trim().refine(isAddressOrRange, 'must be an IP address or a CIDR range'))
		.optional(),
};

export const sharedSecretSchema = z
	.object(sharedSecretFields)
	.refine((c) => !(c.username && c.token && c.tokenHeader === 'authorization'), {
		message: 'basic auth and a bearer token cannot both use the Authorization header',
		path: ['tokenHeader'],
	});

export type SharedSecretConfig = z.output<typeof sharedSecretSchema>;

/**
 * `unconfiguredStatus`: what to answer when no secret is set (our own failure: the provider should
 * retry once the user has set it).
 */
export function verifySharedSecret(
	request: WebhookRequest,
	config: SharedSecretConfig,
	provider: string,
	unconfiguredStatus: number,
): Verification {
	const basic = config.username !== undefined || config.password !== undefined;
	if (!basic && !config.token)
		return {
			ok: false,
			status: unconfiguredStatus,
			reason: `${provider} webhook verification is not configured: set "username" and "password" (basic auth) or "token"`,
		};
	if (config.allowedIps?.length && !ipAllowed(request.remoteIp, config.allowedIps))
		return {
			ok: false,
			status: UNAUTHENTICATED,
			reason: `${provider} webhook: the request came from an address not in "allowedIps"`,
		};
	if (basic) {
		const given = header(request, 'authorization') ?? '';
		const match = /^basic\s+(\S+)\s*$/i.exec(given);
		const expected = `${config.username ?? ''}:${config.password ?? ''}`;
		if (!match || !safeEqual(Buffer.from(match[1], 'base64'), Buffer.from(expected, 'utf8')))
			return {
				ok: false,
				status: UNAUTHENTICATED,
				reason: match
					? `${provider} webhook: wrong basic-auth username or password`
					: `${provider} webhook: no basic-auth credentials in the request`,
			};
	}
	if (config.token) {
		const given = header(request, config.tokenHeader);
		const value =
			config.tokenHeader === 'authorization'
				? /^bearer\s+(\S+)\s*$/i.exec(given ?? '')?.[1]
				: given?.trim();
		if (value === undefined)
			return {
				ok: false,
				status: UNAUTHENTICATED,
				reason: `${provider} webhook: no token in the ${config.tokenHeader} header`,
			};
		if (!safeEqual(value, config.token))
			return {
				ok: false,
				status: UNAUTHENTICATED,
				reason: `${provider} webhook: wrong token in the ${config.tokenHeader} header`,
			};
	}
	return { ok: true };
}
