import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
	capKeys,
	circuitName,
	ledgerKeys,
	hashTag,
	seenKeys,
	keyOf,
	keyPart,
	rateKeys,
	recipientDigest,
	smtpCredentialId,
	StoreKeys,
} from '../../lib/state/keys';

const text = fc.string({
	unit: fc.constantFrom('a', 'b', ':', '{', '}', '%', '3', 'A', '_', '.', ''),
	maxLength: 8,
});

describe('state keys', () => {
	it('escape injectively: different tuples of texts never give the same key', () => {
		fc.assert(
			fc.property(
				fc.array(text, { minLength: 1, maxLength: 3 }),
				fc.array(text, { minLength: 1, maxLength: 3 }),
				(a, b) => {
					if (JSON.stringify(a) === JSON.stringify(b)) return;
					expect(keyOf(...a)).not.toBe(keyOf(...b));
				},
			),
			{ numRuns: 5000, seed: 1 },
		);
	});

	it('keep a campaign inside one Cluster hash tag, whatever braces it holds', () => {
		fc.assert(
			fc.property(text, (campaign) => {
				const tag = hashTag(campaign);
				// Redis hashes what lies between the first "{" and the next "}": that must be the whole tag
				const inner = tag.slice(1, tag.indexOf('}'));
				expect(`{${inner}}`).toBe(tag);
				expect(inner.length).toBeGreaterThan(0);
			}),
			{ numRuns: 2000, seed: 2 },
		);
	});

	it('never give two kinds of key, or two campaigns, one name', () => {
		fc.assert(
			fc.property(
				fc.uniqueArray(text, { minLength: 2, maxLength: 2 }),
				text,
				text,
				(campaigns, route, part) => {
					const k = new StoreKeys('postal:');
					const all = [
						k.circuits(),
						k.secret(),
						k.rate(rateKeys.campaignShare(campaigns[0], route)),
						k.rate(rateKeys.campaignRate(campaigns[0])),
						k.rate(rateKeys.campaignRate(campaigns[1])),
						k.rate(rateKeys.group(campaigns[0], route, part)),
						k.rate(rateKeys.connection(part, route)),
						k.mx('example.com'),
						k.alerts(),
						k.alertSeq(),
						k.alertGroups(),
						k.alertCooldown(part, route, part, campaigns[0], part, 'info'),
						...campaigns.flatMap((c) => [
							k.counters(c),
							k.spills(c),
							k.index(c),
							k.sticky(c, part),
							k.cap(c, capKeys.daily('2026-12-01', route)),
							k.cap(c, capKeys.hourly(7, route)),
							k.once(c, 'digest'),
							k.routeLimits(c),
						]),
					];
					expect(new Set(all).size).toBe(all.length);
				},
			),
			{ numRuns: 2000, seed: 3 },
		);
		// the collisions found before keys were escaped
		expect(hashTag('promo{1}')).not.toBe(hashTag('promo_1_'));
		expect(hashTag('{}')).not.toBe(hashTag('__'));
		expect(hashTag('')).not.toBe(hashTag('_'));
		expect(rateKeys.campaignShare('a:b', 'c')).not.toBe(rateKeys.campaignShare('a', 'b:c'));
		// a campaign's own rate is never one of its routes' shares, nor another campaign's share
		expect(rateKeys.campaignRate('a:b')).not.toBe(rateKeys.campaignShare('a', 'b'));
		expect(circuitName('wf-1', 'Primary')).not.toBe(circuitName('wf-2', 'Primary'));
		expect(keyPart('a%3Ab')).toBe('a%253Ab');
		// host "a:1" port 2 user "x" was host "a" port 1 user "2:x" when the parts were joined with ":"
		expect(smtpCredentialId('a:1', 2, 'x')).not.toBe(smtpCredentialId('a', 1, '2:x'));
		expect(smtpCredentialId('Relay.Example', 587, 'u')).toBe(
			smtpCredentialId('relay.example', 587, 'u'),
		);
	});

	it("match the README's key table, row for row", () => {
		const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
		const table = readme.slice(
			readme.indexOf('| key (prefix `postal:`)'),
			readme.indexOf('## Security'),
		);
		const rows = [...table.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
		const k = new StoreKeys('postal:');
		// what the store writes, with the README's placeholders for the variable parts
		const written = [
			k.counters('campaign'),
			k.spills('campaign'),
			k.sticky('campaign', '<node id>'),
			k.cap('campaign', capKeys.daily('<date>', '<route>')),
			k.cap('campaign', capKeys.hourly('<hour>', '<route>')),
			k.index('campaign'),
			k.once('campaign', '<digest>'),
			k.routeLimits('campaign'),
			k.warmup('campaign'),
			k.circuits(),
			k.reputation('<group>'),
			k.reputationVersion('<group>'),
			k.campaignPause('<campaign>'),
			k.rate(rateKeys.connection('<provider>', '<node id>')),
			k.rate(rateKeys.smtpCredential('<credential hash>')),
			k.rate(rateKeys.campaignRate('<campaign>')),
			k.rate(rateKeys.campaignShare('<campaign>', '<route>')),
			k.rate(rateKeys.group('<campaign>', '<route>', '<group>')),
			k.rate(rateKeys.reputation('<route>', '<group>')),
			k.mx('<domain>'),
			k.ledger(
				ledgerKeys.message('<provider>', '<message id>').replace(/:.*/, ':<message digest>'),
			),
			k.ledger(ledgerKeys.reference('<digest reference>')),
			k.suppression('<list>'),
			k.outcomes('<route>', '<group>', 'minute', 0).replace(/:0$/, ':<minute start>'),
			k.outcomes('<route>', '<group>', 'hour', 0).replace(/:0$/, ':<hour start>'),
			k.outcomePairs(),
			k.seen(seenKeys.event('<webhook>', '<provider>', '<id>').replace(/:.*/, ':<event digest>')),
			k.seen(seenKeys.token('<webhook>', '<provider>', '<id>').replace(/:.*/, ':<token digest>')),
			k.seen(seenKeys.alert('<group>', ['<type>']).replace(/:.*/, ':<alert digest>')),
			k.alerts(),
			k.alertSeq(),
			k.alertGroups(),
			k.alertCooldown('<type>', '<route>', '<group>', '<campaign>', '<rule>', '<severity>'),
			k.secret(),
		];
		expect(rows).toEqual(written);
	});
});

describe('recipient digests', () => {
	it('are keyed: the same text under two secrets, or two texts under one, never match', () => {
		const a = recipientDigest('secret-a', 'ann@gmail.com');
		expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
		expect(recipientDigest('secret-a', 'ann@gmail.com')).toBe(a);
		expect(recipientDigest('secret-b', 'ann@gmail.com')).not.toBe(a);
		expect(recipientDigest('secret-a', 'bob@gmail.com')).not.toBe(a);
		// the secret and the text are kept apart: moving a character across the seam changes the digest
		expect(recipientDigest('secret-a', 'x')).not.toBe(recipientDigest('secret-ax', ''));
		expect(a).not.toContain('ann');
	});
});
