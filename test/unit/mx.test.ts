import { DomainClassifier, type Classification } from '../../lib/domains/classify';
import { GroupCatalog, type GroupCatalogOptions } from '../../lib/domains/groups';
import { MxResolver, type MxResolverOptions } from '../../lib/domains/mx';
import { MemoryStateStore } from '../../lib/state/memory';
import { startDnsServer, type TestDnsServer } from '../helpers/dnsServer';

/** MX classification against a real DNS server on loopback UDP (Node's resolver, not a mock). */

const GOOGLE_MX = [
	// out of priority order on purpose: the resolver must sort
	{ exchange: 'alt1.aspmx.l.google.com', priority: 5 },
	{ exchange: 'aspmx.l.google.com', priority: 1 },
];

let dns: TestDnsServer;

beforeAll(async () => {
	dns = await startDnsServer({
		'google-co.example': { mx: GOOGLE_MX },
		'evil.example': { mx: [{ exchange: 'mx.evilgoogle.com', priority: 10 }] },
		'gated.example': {
			mx: [
				{ exchange: 'aspmx.l.google.com', priority: 10 },
				{ exchange: 'x.pphosted.com', priority: 5 },
			],
		},
		'acme.example': { mx: [{ exchange: 'in1.mx.acme-mail.net', priority: 10 }] },
		'nodata.example': 'nodata',
		'nullmx.example': 'null-mx',
		'silent.example': 'silent',
		'servfail.example': 'servfail',
		'cached.example': { mx: [{ exchange: 'aspmx.l.google.com', priority: 1 }] },
		'ttl.example': { mx: [{ exchange: 'aspmx.l.google.com', priority: 1 }] },
		'nocache.example': { mx: [{ exchange: 'aspmx.l.google.com', priority: 1 }] },
		'batch.example': { mx: [{ exchange: 'aspmx.l.google.com', priority: 1 }] },
		'parallel.example': { mx: [{ exchange: 'aspmx.l.google.com', priority: 1 }] },
		'timeout-nocache.example': 'silent',
		// 'nxdomain.example' is not listed: unknown names get NXDOMAIN
	});
});

afterAll(async () => {
	await dns?.close();
});

function classifier(
	mx: MxResolverOptions = {},
	groups: GroupCatalogOptions = {},
): DomainClassifier {
	const resolver = new MxResolver({
		servers: [dns.address],
		timeoutMs: 2000,
		cacheTtlMs: 0,
		...mx,
	});
	return new DomainClassifier(new GroupCatalog(groups), resolver);
}

async function classify(c: DomainClassifier, domain: string): Promise<Classification> {
	const [r] = await c.classifyMany([`someone@${domain}`]);
	return r;
}

/** Runs `fn` and returns how many queries the server received meanwhile. */
async function queriesDuring(fn: () => Promise<unknown>): Promise<number> {
	const before = dns.queries;
	await fn();
	return dns.queries - before;
}

describe('MX classification', () => {
	it('classifies a Google Workspace domain by MX, hosts sorted by priority', async () => {
		const r = await classify(classifier(), 'google-co.example');
		expect(r).toMatchObject({ group: 'google', classifiedBy: 'mx' });
		expect(r.mxHosts).toEqual(['aspmx.l.google.com', 'alt1.aspmx.l.google.com']);
	});

	it('matches MX suffixes on label boundaries only (mx.evilgoogle.com is not Google)', async () => {
		const r = await classify(classifier(), 'evil.example');
		expect(r).toMatchObject({
			group: 'other',
			classifiedBy: 'mx-unmatched',
			mxHosts: ['mx.evilgoogle.com'],
		});
	});

	it('takes the first matching host in priority order; gateways only when enabled', async () => {
		const withGateways = await classify(classifier({}, { includeGateways: true }), 'gated.example');
		expect(withGateways).toMatchObject({ group: 'proofpoint', classifiedBy: 'mx' });
		expect(withGateways.mxHosts).toEqual(['x.pphosted.com', 'aspmx.l.google.com']);

		const withoutGateways = await classify(
			classifier({}, { includeGateways: false }),
			'gated.example',
		);
		expect(withoutGateways).toMatchObject({ group: 'google', classifiedBy: 'mx' });
	});

	it('lets a user group claim a domain by MX pattern', async () => {
		const userGroups = [{ name: 'Acme', domains: [], mxPatterns: ['.mx.acme-mail.net'] }];
		expect(await classify(classifier(), 'acme.example')).toMatchObject({
			group: 'other',
			classifiedBy: 'mx-unmatched',
		});
		expect(await classify(classifier({}, { userGroups }), 'acme.example')).toMatchObject({
			group: 'Acme',
			classifiedBy: 'mx',
			mxHosts: ['in1.mx.acme-mail.net'],
		});
	});

	it.each([
		['nxdomain.example', 'mx-none'],
		['nodata.example', 'mx-none'],
		['nullmx.example', 'mx-none'],
		['servfail.example', 'mx-error'],
	])('%s → other / %s, without throwing', async (domain, classifiedBy) => {
		let r: Classification | undefined;
		// exactly one query: the answer really came from the server, and was not retried
		expect(await queriesDuring(async () => (r = await classify(classifier(), domain)))).toBe(1);
		expect(r).toMatchObject({ group: 'other', classifiedBy });
		expect(r!.mxHosts).toBeUndefined();
	});

	it('gives up on a silent server after timeoutMs', async () => {
		const started = Date.now();
		const results = await classifier({ timeoutMs: 300 }).classifyMany([
			'a@silent.example',
			'b@google-co.example',
		]);
		const elapsed = Date.now() - started;
		expect(results.map((r) => [r.group, r.classifiedBy])).toEqual([
			['other', 'mx-timeout'],
			['google', 'mx'], // a slow domain does not spoil the others
		]);
		expect(elapsed).toBeGreaterThanOrEqual(250);
		expect(elapsed).toBeLessThan(1000);
	});

	it('never queries DNS for catalog domains', async () => {
		let results: Classification[] = [];
		const n = await queriesDuring(async () => {
			results = await classifier().classifyMany(['a@gmail.com', 'b@outlook.com', 'c@yahoo.co.jp']);
		});
		expect(n).toBe(0);
		expect(results.map((r) => [r.group, r.classifiedBy])).toEqual([
			['google', 'catalog'],
			['microsoft', 'catalog'],
			['yahoo', 'catalog'],
		]);
	});
});

describe('MX cache and de-duplication', () => {
	it('queries every time without a cache (so the counts below mean something)', async () => {
		const c = classifier();
		expect(await queriesDuring(() => c.classifyMany(['a@nocache.example']))).toBe(1);
		expect(await queriesDuring(() => c.classifyMany(['a@nocache.example']))).toBe(1);
	});

	it('answers a repeated domain from the store', async () => {
		const store = new MemoryStateStore();
		const c = classifier({ store, cacheTtlMs: 60_000 });
		expect(await queriesDuring(() => c.classifyMany(['a@cached.example']))).toBe(1);
		let second: Classification[] = [];
		expect(
			await queriesDuring(async () => (second = await c.classifyMany(['b@cached.example']))),
		).toBe(0);
		expect(second[0]).toMatchObject({
			group: 'google',
			classifiedBy: 'mx',
			mxHosts: ['aspmx.l.google.com'],
		});
	});

	it('queries once for 50 items of the same domain in one batch', async () => {
		const store = new MemoryStateStore();
		const c = classifier({ store, cacheTtlMs: 60_000 });
		const items = Array.from({ length: 50 }, (_, i) => `user${i}@batch.example`);
		let results: Classification[] = [];
		expect(await queriesDuring(async () => (results = await c.classifyMany(items)))).toBe(1);
		expect(results.every((r) => r.group === 'google' && r.classifiedBy === 'mx')).toBe(true);
	});

	it('shares an in-flight lookup between concurrent batches', async () => {
		const c = classifier(); // no cache: only the in-flight map can de-duplicate
		const n = await queriesDuring(() =>
			Promise.all([c.classifyMany(['a@parallel.example']), c.classifyMany(['b@parallel.example'])]),
		);
		expect(n).toBe(1);
	});

	it('queries again once the cache TTL has passed', async () => {
		let t = 1_000_000;
		const store = new MemoryStateStore({ clock: () => t });
		const c = classifier({ store, cacheTtlMs: 60_000 });
		expect(await queriesDuring(() => c.classifyMany(['a@ttl.example']))).toBe(1);
		t += 59_999;
		expect(await queriesDuring(() => c.classifyMany(['a@ttl.example']))).toBe(0);
		t += 2;
		expect(await queriesDuring(() => c.classifyMany(['a@ttl.example']))).toBe(1);
	});

	it('does not cache timeouts', async () => {
		const store = new MemoryStateStore();
		const c = classifier({ store, cacheTtlMs: 60_000, timeoutMs: 300 });
		expect((await classify(c, 'timeout-nocache.example')).classifiedBy).toBe('mx-timeout');
		expect(await store.getMx(['timeout-nocache.example'])).toEqual([null]);
		expect(await queriesDuring(() => c.classifyMany(['a@timeout-nocache.example']))).toBe(1);
	});
});

describe('MX concurrency limit', () => {
	let slow: TestDnsServer;
	const domains = Array.from({ length: 6 }, (_, i) => `slow${i}.example`);

	beforeAll(async () => {
		// every answer takes 100 ms, so unlimited lookups would all be in flight together
		const zones = Object.fromEntries(
			domains.map((d) => [d, { mx: [{ exchange: 'aspmx.l.google.com', priority: 1 }] }]),
		);
		slow = await startDnsServer(zones, { delayMs: 100 });
	});

	afterAll(async () => {
		await slow?.close();
	});

	async function run(concurrency: number): Promise<Classification[]> {
		const resolver = new MxResolver({
			servers: [slow.address],
			timeoutMs: 2000,
			cacheTtlMs: 0,
			concurrency,
		});
		return new DomainClassifier(new GroupCatalog(), resolver).classifyMany(
			domains.map((d) => `x@${d}`),
		);
	}

	it('keeps at most `concurrency` queries in flight', async () => {
		const results = await run(2);
		expect(results.every((r) => r.group === 'google')).toBe(true);
		expect(slow.queries).toBe(6);
		expect(slow.maxInFlight).toBe(2);
	});

	it('runs them all at once when the limit allows (the measurement works)', async () => {
		await run(16);
		expect(slow.maxInFlight).toBe(6);
	});
});
