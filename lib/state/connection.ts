import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseCredentialData } from '../util/credential';
import { RedisStateStore, type RedisConnection } from './redis';

const splitNodes = (s: string) =>
	s
		.split(/[,\s]+/)
		.map((x) => x.trim())
		.filter(Boolean);

/** The postalRedis credential as it arrives from n8n, validated at the boundary. */
export const redisCredentialSchema = z
	.object({
		mode: z.enum(['standalone', 'sentinel', 'cluster']).default('standalone'),
		host: z.string().trim().default('localhost'),
		port: z.coerce.number().int().min(1).max(65535).default(6379),
		nodes: z.string().default(''),
		sentinelName: z.string().default('mymaster'),
		username: z.string().default(''),
		password: z.string().default(''),
		db: z.coerce.number().int().min(0).default(0),
		tls: z.boolean().default(false),
		commandTimeoutMs: z.coerce.number().int().min(1).default(5000),
		prefix: z.string().optional(),
		/** the field's first name, still accepted */
		keyPrefix: z.string().optional(),
	})
	.superRefine((c, ctx) => {
		if (c.mode === 'standalone' && !c.host)
			ctx.addIssue({ code: 'custom', path: ['host'], message: 'is empty' });
		if (c.mode !== 'standalone' && splitNodes(c.nodes).length === 0)
			ctx.addIssue({
				code: 'custom',
				path: ['nodes'],
				message: `is empty: list the ${c.mode} nodes as host:port`,
			});
	})
	.transform((c): RedisConnection => ({
		mode: c.mode,
		host: c.host,
		port: c.port,
		nodes: splitNodes(c.nodes),
		sentinelName: c.sentinelName,
		username: c.username || undefined,
		password: c.password || undefined,
		db: c.db,
		tls: c.tls,
		commandTimeoutMs: c.commandTimeoutMs,
		keyPrefix: c.prefix || c.keyPrefix || 'postal:',
	}));

/** Parses credential data; the error names the field, never a value. */
export function parseRedisCredential(data: unknown): RedisConnection {
	return parseCredentialData(redisCredentialSchema, data, 'Postal Routes Redis credential');
}

/**
 * n8n's own `redis` credential (n8n-nodes-base: user, password, host, port, database, ssl,
 * disableTlsVerification): a standalone server, keys under the default prefix `postal:` (so it
 * shares state with a Postal Routes Redis credential on the default prefix), the default command
 * timeout. Sentinel, Cluster, another prefix or timeout need a Postal Routes Redis credential.
 */
const n8nRedisSchema = z
	.object({
		host: z.string().trim().default('localhost'),
		port: z.coerce.number().int().min(1).max(65535).default(6379),
		user: z.string().default(''),
		password: z.string().default(''),
		database: z.coerce.number().int().min(0).default(0),
		ssl: z.boolean().default(false),
		disableTlsVerification: z.boolean().default(false),
	})
	.superRefine((c, ctx) => {
		if (!c.host) ctx.addIssue({ code: 'custom', path: ['host'], message: 'is empty' });
	})
	.transform((c): RedisConnection => ({
		mode: 'standalone',
		host: c.host,
		port: c.port,
		nodes: [],
		username: c.user || undefined,
		password: c.password || undefined,
		db: c.database,
		tls: c.ssl,
		...(c.ssl && c.disableTlsVerification ? { tlsInsecure: true } : {}),
		keyPrefix: 'postal:',
	}));

/** Parses n8n's `redis` credential data; the error names the field, never a value. */
export function parseN8nRedisCredential(data: unknown): RedisConnection {
	return parseCredentialData(n8nRedisSchema, data, 'n8n Redis credential');
}

const stores = new Map<string, RedisStateStore>();

/** One store (one connection) per distinct credential, reused by every execution in the process. */
export function redisStateStoreFor(connection: RedisConnection): RedisStateStore {
	const id = createHash('sha256').update(JSON.stringify(connection)).digest('hex');
	let store = stores.get(id);
	if (!store) {
		store = new RedisStateStore(connection);
		stores.set(id, store);
	}
	return store;
}

/** Closes every shared Redis connection (tests, shutdown). */
export async function closeRedisStateStores(): Promise<void> {
	const all = [...stores.values()];
	stores.clear();
	await Promise.all(all.map((s) => s.close()));
}
