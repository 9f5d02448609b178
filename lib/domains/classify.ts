import { parseAddress, type ParsedAddress } from './address';
import { INVALID_GROUP, OTHER_GROUP } from './catalog';
import { GroupCatalog } from './groups';
import type { MxLookup, MxResolver } from './mx';

export type ClassifiedBy =
	| 'catalog' // a built-in domain
	| 'user' // a user-defined domain pattern
	| 'mx' // MX hosts matched a group
	| 'mx-unmatched' // MX hosts found, none matched
	| 'mx-none' // NXDOMAIN, no MX, or a null MX
	| 'mx-timeout'
	| 'mx-error' // another DNS failure (SERVFAIL, refused)
	| 'unmatched' // not in the catalog and MX detection off
	| 'invalid';

export interface Classification {
	/** the group id (`google`, a user group name, `other` or `invalid`) */
	group: string;
	classifiedBy: ClassifiedBy;
	address?: ParsedAddress;
	/** why the address is invalid */
	reason?: string;
	/** the text that was classified, for messages about invalid addresses */
	input?: string;
	mxHosts?: string[];
}

/**
 * Classifies recipients by the mailbox provider that receives their mail: catalog and user domain
 * patterns first, then (when a resolver is given) MX records for the domains still unknown.
 */
export class DomainClassifier {
	constructor(
		readonly catalog: GroupCatalog,
		private readonly mx?: MxResolver,
	) {}

	classifyParsed(address: ParsedAddress): Classification | undefined {
		const m = this.catalog.matchDomain(address.domain);
		if (m) return { group: m.group, classifiedBy: m.source, address };
		return undefined;
	}

	/** Synchronous classification without DNS: unknown domains go to `other`. */
	classifyOne(raw: unknown): Classification {
		const parsed = parseAddress(raw);
		if (!parsed.ok)
			return {
				group: INVALID_GROUP,
				classifiedBy: 'invalid',
				reason: parsed.reason,
				input: parsed.input,
			};
		return (
			this.classifyParsed(parsed) ?? {
				group: OTHER_GROUP,
				classifiedBy: 'unmatched',
				address: parsed,
			}
		);
	}

	/** Classifies a batch; MX lookups (if enabled) run once per unknown domain, concurrently. */
	async classifyMany(raws: readonly unknown[]): Promise<Classification[]> {
		const results = raws.map((r) => this.classifyOne(r));
		if (!this.mx) return results;
		const unknown = new Set<string>();
		for (const r of results) if (r.classifiedBy === 'unmatched') unknown.add(r.address!.domain);
		if (unknown.size === 0) return results;
		const answers = await this.mx.lookupMany([...unknown]);
		for (const r of results) {
			if (r.classifiedBy !== 'unmatched') continue;
			Object.assign(r, this.fromMx(answers.get(r.address!.domain)!));
		}
		return results;
	}

	private fromMx(answer: MxLookup): Pick<Classification, 'group' | 'classifiedBy' | 'mxHosts'> {
		switch (answer.status) {
			case 'found': {
				const m = this.catalog.matchMxHosts(answer.hosts);
				return m
					? { group: m.group, classifiedBy: 'mx', mxHosts: answer.hosts }
					: { group: OTHER_GROUP, classifiedBy: 'mx-unmatched', mxHosts: answer.hosts };
			}
			case 'none':
				return { group: OTHER_GROUP, classifiedBy: 'mx-none' };
			case 'timeout':
				return { group: OTHER_GROUP, classifiedBy: 'mx-timeout' };
			default:
				return { group: OTHER_GROUP, classifiedBy: 'mx-error' };
		}
	}
}

export { OTHER_GROUP, INVALID_GROUP };
