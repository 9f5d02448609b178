import { promises as dnsPromises } from 'node:dns';
import { createLimiter } from '../util/limit';
import type { MxCacheEntry, StateStore } from '../state/types';

export type MxLookup =
	| { status: 'found'; hosts: string[] }
	| { status: 'none' }
	| { status: 'timeout' }
	| { status: 'error'; code: string };

export interface MxResolverOptions {
	/** DNS servers as `host` or `host:port` (`[::1]:53` for IPv6); empty = the system's */
	servers?: string[];
	timeoutMs?: number;
	concurrency?: number;
	/** how long found / no-MX answers stay cached; 0 disables the cache */
	cacheTtlMs?: number;
	/** where answers are cached (shared across workers with the Redis store) */
	store?: StateStore;
}

const NO_MX_CODES = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);
const TIMEOUT_CODES = new Set(['ETIMEOUT', 'ETIMEDOUT']);

/**
 * MX lookups with a deadline, a concurrency limit, a cache in the state store and in-flight
 * de-duplication. Never throws for a DNS failure: the answer says what happened.
 */
export class MxResolver {
	private readonly resolver: dnsPromises.Resolver;
	private readonly timeoutMs: number;
	private readonly cacheTtlMs: number;
	private readonly store?: StateStore;
	private readonly limit: <T>(task: () => Promise<T>) => Promise<T>;
	private readonly inFlight = new Map<string, Promise<MxLookup>>();

	// defaults for lib's own callers; the Domain Group Classifier passes every value, so its description's defaults win
	constructor(options: MxResolverOptions = {}) {
		this.timeoutMs = options.timeoutMs ?? 3000;
		this.cacheTtlMs = options.cacheTtlMs ?? 6 * 3600_000;
		this.store = options.store;
		this.limit = createLimiter(options.concurrency ?? 16);
		this.resolver = new dnsPromises.Resolver({ timeout: this.timeoutMs, tries: 1 });
		if (options.servers && options.servers.length > 0) this.resolver.setServers(options.servers);
	}

	/** Looks up many domains; cached answers come from one store call. */
	async lookupMany(domains: readonly string[]): Promise<Map<string, MxLookup>> {
		const unique = [...new Set(domains)];
		const out = new Map<string, MxLookup>();
		let toResolve = unique;
		if (this.store && this.cacheTtlMs > 0 && unique.length > 0) {
			const cached = await this.store.getMx(unique);
			toResolve = [];
			unique.forEach((d, i) => {
				const c = cached[i];
				if (c)
					out.set(d, c.hosts.length > 0 ? { status: 'found', hosts: c.hosts } : { status: 'none' });
				else toResolve.push(d);
			});
		}
		const fresh = await Promise.all(toResolve.map((d) => this.lookupOne(d)));
		const toCache: Array<{ domain: string; value: MxCacheEntry }> = [];
		toResolve.forEach((d, i) => {
			const r = fresh[i];
			out.set(d, r);
			if (r.status === 'found') toCache.push({ domain: d, value: { hosts: r.hosts } });
			else if (r.status === 'none') toCache.push({ domain: d, value: { hosts: [] } });
		});
		if (this.store && this.cacheTtlMs > 0 && toCache.length > 0)
			await this.store.setMx(toCache, this.cacheTtlMs);
		return out;
	}

	private lookupOne(domain: string): Promise<MxLookup> {
		const pending = this.inFlight.get(domain);
		if (pending) return pending;
		const p = this.limit(() => this.query(domain)).finally(() => this.inFlight.delete(domain));
		this.inFlight.set(domain, p);
		return p;
	}

	private async query(domain: string): Promise<MxLookup> {
		let timer: NodeJS.Timeout | undefined;
		const deadline = new Promise<MxLookup>((resolve) => {
			timer = setTimeout(() => resolve({ status: 'timeout' }), this.timeoutMs);
		});
		const answer = this.resolver.resolveMx(domain).then(
			(records): MxLookup => {
				const hosts = records
					.slice()
					.sort((a, b) => a.priority - b.priority)
					.map((r) => r.exchange.toLowerCase().replace(/\.$/, ''))
					// RFC 7505 null MX ("." ) means the domain accepts no mail
					.filter((h) => h.length > 0);
				return hosts.length > 0 ? { status: 'found', hosts } : { status: 'none' };
			},
			(err: NodeJS.ErrnoException): MxLookup => {
				const code = String(err.code ?? 'EUNKNOWN');
				if (NO_MX_CODES.has(code)) return { status: 'none' };
				if (TIMEOUT_CODES.has(code)) return { status: 'timeout' };
				return { status: 'error', code };
			},
		);
		try {
			return await Promise.race([answer, deadline]);
		} finally {
			clearTimeout(timer);
		}
	}
}
