/** Deterministic test recipients (no Math.random: a failing run can be replayed). */
export function seededRandom(seed: number): () => number {
	let s = seed >>> 0;
	return () => {
		// mulberry32
		s = (s + 0x6d2b79f5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

export const CATALOG_DOMAINS = [
	'gmail.com',
	'googlemail.com',
	'outlook.com',
	'hotmail.co.uk',
	'live.fr',
	'yahoo.com',
	'yahoo.co.jp',
	'aol.com',
	'icloud.com',
	'gmx.de',
	'web.de',
	'yandex.ru',
	'mail.ru',
	'comcast.net',
	'orange.fr',
	'qq.com',
	'163.com',
	'zoho.com',
	'proton.me',
	'fastmail.com',
	'example-shop.com',
	'acme.io',
];

export function recipients(
	count: number,
	seed = 1,
	domains = CATALOG_DOMAINS,
): Array<{ email: string }> {
	const rnd = seededRandom(seed);
	return Array.from({ length: count }, (_, i) => ({
		email: `user${i}.${Math.floor(rnd() * 1e6)}@${domains[Math.floor(rnd() * domains.length)]}`,
	}));
}

export function shuffled<T>(list: readonly T[], seed: number): T[] {
	const rnd = seededRandom(seed);
	const out = list.slice();
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(rnd() * (i + 1));
		[out[i], out[j]] = [out[j], out[i]];
	}
	return out;
}

/** The largest |count_r(n) − share_r · n| over every prefix n of a route stream. */
export function maxPrefixDeviation(
	stream: readonly string[],
	shares: Record<string, number>,
): number {
	const counts: Record<string, number> = Object.fromEntries(Object.keys(shares).map((k) => [k, 0]));
	let worst = 0;
	stream.forEach((route, i) => {
		counts[route]++;
		const n = i + 1;
		for (const [r, share] of Object.entries(shares))
			worst = Math.max(worst, Math.abs(counts[r] - share * n));
	});
	return worst;
}
