import { BUILT_IN_GROUPS, isCountryStyleSuffix, type ProviderGroup } from './catalog';

/** A user-defined group: wins over the built-in catalog. */
export interface UserGroup {
	name: string;
	/** exact domains, `*.example.com` subdomain wildcards or `brand.*` brand wildcards */
	domains: string[];
	/** MX host suffixes such as `.mx.example.net` (a leading dot is optional) */
	mxPatterns: string[];
}

export type MatchSource = 'user' | 'catalog';

export interface GroupMatch {
	group: string;
	source: MatchSource;
}

/** One tier of patterns (user or built-in), compiled for constant-time lookups per label. */
class PatternTier {
	private readonly exact = new Map<string, string>();
	private readonly subdomainOf = new Map<string, string>();
	private readonly brands = new Map<string, string>();
	private readonly mx = new Map<string, string>();

	addDomainPattern(pattern: string, group: string): void {
		const p = normalizePattern(pattern);
		if (!p) return;
		if (p.startsWith('*.')) setOnce(this.subdomainOf, p.slice(2), group);
		else if (p.endsWith('.*')) setOnce(this.brands, p.slice(0, -2), group);
		else setOnce(this.exact, p, group);
	}

	addMxSuffix(suffix: string, group: string): void {
		const s = normalizePattern(suffix).replace(/^\*?\./, '');
		if (s) setOnce(this.mx, s, group);
	}

	matchDomain(domain: string): string | undefined {
		const exact = this.exact.get(domain);
		if (exact !== undefined) return exact;
		if (this.subdomainOf.size > 0) {
			for (let dot = domain.indexOf('.'); dot !== -1; dot = domain.indexOf('.', dot + 1)) {
				const hit = this.subdomainOf.get(domain.slice(dot + 1));
				if (hit !== undefined) return hit;
			}
		}
		if (this.brands.size > 0) {
			const dot = domain.indexOf('.');
			if (dot > 0) {
				const brand = this.brands.get(domain.slice(0, dot));
				if (brand !== undefined && isCountryStyleSuffix(domain.slice(dot + 1))) return brand;
			}
		}
		return undefined;
	}

	/** The host itself or any parent on a label boundary. */
	matchMxHost(host: string): string | undefined {
		if (this.mx.size === 0) return undefined;
		let h = host;
		for (;;) {
			const hit = this.mx.get(h);
			if (hit !== undefined) return hit;
			const dot = h.indexOf('.');
			if (dot === -1) return undefined;
			h = h.slice(dot + 1);
		}
	}
}

function setOnce(map: Map<string, string>, key: string, group: string): void {
	// the first group that names a pattern keeps it, so earlier groups win within a tier
	if (!map.has(key)) map.set(key, group);
}

function normalizePattern(p: string): string {
	return p.trim().toLowerCase().replace(/\.$/, '');
}

export interface GroupCatalogOptions {
	userGroups?: UserGroup[];
	/** include the security-gateway groups (Proofpoint, Mimecast, Barracuda) in MX matching */
	includeGateways?: boolean;
}

/**
 * Built-in groups plus user groups, compiled. User groups are consulted first, so they win over
 * the catalog for both domains and MX hosts.
 */
export class GroupCatalog {
	private readonly user = new PatternTier();
	private readonly builtIn = new PatternTier();
	readonly userGroupNames: string[];
	readonly builtInGroups: readonly ProviderGroup[];

	constructor(options: GroupCatalogOptions = {}) {
		const userGroups = options.userGroups ?? [];
		this.userGroupNames = userGroups.map((g) => g.name);
		for (const g of userGroups) {
			for (const d of g.domains) this.user.addDomainPattern(d, g.name);
			for (const m of g.mxPatterns) this.user.addMxSuffix(m, g.name);
		}
		this.builtInGroups = BUILT_IN_GROUPS.filter((g) => !g.gateway || options.includeGateways);
		for (const g of this.builtInGroups) {
			for (const d of g.domains) this.builtIn.addDomainPattern(d, g.id);
			for (const m of g.mxSuffixes) this.builtIn.addMxSuffix(m, g.id);
		}
	}

	matchDomain(domain: string): GroupMatch | undefined {
		const u = this.user.matchDomain(domain);
		if (u !== undefined) return { group: u, source: 'user' };
		const b = this.builtIn.matchDomain(domain);
		if (b !== undefined) return { group: b, source: 'catalog' };
		return undefined;
	}

	/** MX hosts in priority order; the first host that matches any group wins. */
	matchMxHosts(hosts: readonly string[]): GroupMatch | undefined {
		for (const host of hosts) {
			const u = this.user.matchMxHost(host);
			if (u !== undefined) return { group: u, source: 'user' };
			const b = this.builtIn.matchMxHost(host);
			if (b !== undefined) return { group: b, source: 'catalog' };
		}
		return undefined;
	}
}
