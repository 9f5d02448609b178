import { DomainClassifier } from '../lib/domains/classify';
import { BUILT_IN_GROUPS, isCountryStyleSuffix } from '../lib/domains/catalog';
import { GroupCatalog } from '../lib/domains/groups';
import { Partitioner } from '../lib/routing/partitioner';
import { parseRoutePlan } from '../lib/routing/plan';
import { MemoryStateStore } from '../lib/state/memory';
import { recipients } from '../test/helpers/recipients';
import { measure, report } from './util';

const N = 1_000_000;

/** The anchor: what a first attempt looks like — a regex split and a scan of every pattern. */
function naiveClassify(raw: string): string {
	const m = /^\s*(?:.*<)?([^<>@\s]+)@([^<>@\s]+?)>?\s*$/.exec(raw);
	if (!m) return 'invalid';
	const domain = m[2].toLowerCase();
	for (const g of BUILT_IN_GROUPS)
		for (const d of g.domains) {
			if (
				d.endsWith('.*')
					? domain.startsWith(d.slice(0, -1)) && isCountryStyleSuffix(domain.slice(d.length - 1))
					: domain === d
			)
				return g.id;
		}
	return 'other';
}

export async function benchClassifier(): Promise<void> {
	const emails = recipients(N, 11).map((r) => r.email);
	const classifier = new DomainClassifier(new GroupCatalog());
	let sink = 0;
	const ours = await measure('DomainClassifier (parse + catalog)', N, () => {
		for (const e of emails) sink += classifier.classifyOne(e).group.length;
	});
	const naive = await measure('anchor: regex + linear pattern scan', N, () => {
		for (const e of emails) sink += naiveClassify(e).length;
	});
	report(
		`Domain Group Classifier, ${N.toLocaleString('en')} recipients over catalog domains`,
		[ours, naive],
		{ perSecond: 1_000_000, label: '≥ 1M items/s' },
	);
	if (sink === 42) console.log('');
}

export async function benchPartitioner(): Promise<void> {
	const people = recipients(N, 12).map((r) => ({ key: r.email, group: 'google' }));
	const plan = parseRoutePlan({
		mode: 'percentage',
		sticky: true,
		timeZone: 'UTC',
		routes: [
			{ name: 'SendGrid', percentage: 70 },
			{ name: 'SMTP relay', percentage: 30, dailyCap: 10_000_000 },
		],
	});
	let run = 0;
	const batched = await measure('Partitioner, memory store, batches of 1,000', N, async () => {
		const p = new Partitioner(plan, new MemoryStateStore(), {
			campaign: `bench-${run++}`,
			partition: 'n1',
		});
		for (let i = 0; i < N; i += 1000) await p.assign(people.slice(i, i + 1000));
	});
	const perItem = await measure('anchor: one store call per item', N / 10, async () => {
		const p = new Partitioner(plan, new MemoryStateStore(), {
			campaign: `bench-${run++}`,
			partition: 'n1',
		});
		for (let i = 0; i < N / 10; i++) await p.assign([people[i]]);
	});
	report(
		`Route Partitioner (70/30, sticky, capped route), ${N.toLocaleString('en')} recipients`,
		[batched, perItem],
		// issue 14, "Fast at scale"
		{ perSecond: 1_000_000, label: '≥ 1M items/s' },
	);
}
