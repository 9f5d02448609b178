import { DomainClassifier } from '../../lib/domains/classify';
import { BUILT_IN_GROUPS } from '../../lib/domains/catalog';
import { GroupCatalog } from '../../lib/domains/groups';

describe('GroupCatalog', () => {
	const catalog = new GroupCatalog();

	it.each([
		['gmail.com', 'google'],
		['googlemail.com', 'google'],
		['outlook.com', 'microsoft'],
		['hotmail.co.uk', 'microsoft'],
		['hotmail.com.br', 'microsoft'],
		['live.fr', 'microsoft'],
		['msn.com', 'microsoft'],
		['yahoo.co.jp', 'yahoo'],
		['ymail.com', 'yahoo'],
		['aol.com', 'yahoo'],
		['sbcglobal.net', 'yahoo'],
		['icloud.com', 'apple'],
		['web.de', 'gmx'],
		['ya.ru', 'yandex'],
		['bk.ru', 'mailru'],
		['comcast.net', 'comcast'],
		['wanadoo.fr', 'orange'],
		['foxmail.com', 'qq'],
		['126.com', 'netease'],
		['pm.me', 'proton'],
		['fastmail.fm', 'fastmail'],
	])('%s → %s', (domain, group) => {
		expect(catalog.matchDomain(domain)).toEqual({ group, source: 'catalog' });
	});

	it('does not stretch brand wildcards past country-style suffixes', () => {
		expect(catalog.matchDomain('hotmail.example.com')).toBeUndefined();
		expect(catalog.matchDomain('yahoo.evil.example')).toBeUndefined();
		expect(catalog.matchDomain('notgmail.com')).toBeUndefined();
		expect(catalog.matchDomain('mail.gmail.com')).toBeUndefined();
	});

	it('matches MX hosts on a label boundary only', () => {
		expect(catalog.matchMxHosts(['aspmx.l.google.com'])).toEqual({
			group: 'google',
			source: 'catalog',
		});
		expect(catalog.matchMxHosts(['google.com'])).toEqual({ group: 'google', source: 'catalog' });
		expect(catalog.matchMxHosts(['mx.evilgoogle.com'])).toBeUndefined();
		expect(catalog.matchMxHosts(['acme-com.mail.protection.outlook.com'])).toEqual({
			group: 'microsoft',
			source: 'catalog',
		});
		expect(catalog.matchMxHosts(['mta5.am0.yahoodns.net'])).toEqual({
			group: 'yahoo',
			source: 'catalog',
		});
	});

	it('leaves security gateways out unless asked', () => {
		expect(catalog.matchMxHosts(['mx0a-001.pphosted.com'])).toBeUndefined();
		expect(
			new GroupCatalog({ includeGateways: true }).matchMxHosts(['mx0a-001.pphosted.com']),
		).toEqual({ group: 'proofpoint', source: 'catalog' });
	});

	it('lets user groups win over built-ins, with exact, subdomain and brand patterns', () => {
		const c = new GroupCatalog({
			userGroups: [
				{
					name: 'vip',
					domains: ['gmail.com', '*.acme.io', 'brandco.*'],
					mxPatterns: ['.google.com'],
				},
				{ name: 'late', domains: ['gmail.com'], mxPatterns: [] },
			],
		});
		expect(c.matchDomain('gmail.com')).toEqual({ group: 'vip', source: 'user' });
		expect(c.matchDomain('eu.mail.acme.io')).toEqual({ group: 'vip', source: 'user' });
		expect(c.matchDomain('acme.io')).toBeUndefined(); // *.x is subdomains only
		expect(c.matchDomain('brandco.de')).toEqual({ group: 'vip', source: 'user' });
		expect(c.matchDomain('outlook.com')).toEqual({ group: 'microsoft', source: 'catalog' });
		expect(c.matchMxHosts(['aspmx.l.google.com'])).toEqual({ group: 'vip', source: 'user' });
	});

	it('has no domain claimed by two built-in groups', () => {
		const owner = new Map<string, string>();
		for (const g of BUILT_IN_GROUPS)
			for (const d of g.domains) {
				expect(owner.get(d) ?? g.id).toBe(g.id);
				owner.set(d, g.id);
			}
	});
});

describe('DomainClassifier without MX', () => {
	it('classifies parsed addresses and sends unknown domains to other', async () => {
		const c = new DomainClassifier(new GroupCatalog());
		const out = await c.classifyMany(['Ann <ANN@Gmail.com>', 'bob@acme.example', 'broken']);
		expect(out.map((o) => [o.group, o.classifiedBy])).toEqual([
			['google', 'catalog'],
			['other', 'unmatched'],
			['invalid', 'invalid'],
		]);
		expect(out[0].address?.address).toBe('ANN@gmail.com');
		expect(out[2].reason).toBe('there is no "@"');
	});
});
