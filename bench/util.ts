export interface Measure {
	name: string;
	items: number;
	ms: number;
}

export const perSecond = (m: Measure) => (m.items * 1000) / m.ms;

/** Runs `fn` once to warm up, then `runs` times, and keeps the fastest (least disturbed) run. */
export async function measure(
	name: string,
	items: number,
	fn: () => unknown | Promise<unknown>,
	runs = 3,
): Promise<Measure> {
	await fn();
	let best = Infinity;
	for (let r = 0; r < runs; r++) {
		const t0 = process.hrtime.bigint();
		await fn();
		best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
	}
	return { name, items, ms: best };
}

export function fmt(n: number): string {
	return n >= 1e6
		? `${(n / 1e6).toFixed(2)}M`
		: n >= 1e3
			? `${(n / 1e3).toFixed(1)}k`
			: n.toFixed(1);
}

export function report(
	title: string,
	rows: Measure[],
	target?: { perSecond: number; label: string },
): void {
	console.log(`\n## ${title}`);
	const base = rows[rows.length - 1];
	for (const m of rows) {
		const ratio =
			m === base ? '' : `  ×${(perSecond(m) / perSecond(base)).toFixed(2)} vs ${base.name}`;
		console.log(
			`  ${m.name.padEnd(46)} ${fmt(perSecond(m)).padStart(8)} items/s  (${m.items} in ${m.ms.toFixed(0)} ms)${ratio}`,
		);
	}
	if (target) {
		const r = perSecond(rows[0]) / target.perSecond;
		console.log(`  target ${target.label}: ratio ${r.toFixed(2)} ${r >= 1 ? 'MET' : 'MISSED'}`);
	}
}
