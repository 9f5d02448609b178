import {
	compareRoutes,
	differenceInterval,
	normalCdf,
	normalQuantile,
	sampleSizePerArm,
	twoProportionZTest,
} from '../../lib/operations/compare';

describe('the normal distribution', () => {
	it('Φ matches the tables (to 1e-12, tails relative 1e-9)', () => {
		expect(normalCdf(0)).toBe(0.5);
		expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 12);
		expect(normalCdf(-1.96)).toBeCloseTo(0.0249978951482205, 12);
		expect(normalCdf(3)).toBeCloseTo(0.9986501019683699, 12);
		// the tail keeps its digits: Φ(−5) = 2.866515718791946e-7, Φ(−10) = 7.619853024160527e-24
		expect(normalCdf(-5) / 2.866515718791946e-7).toBeCloseTo(1, 9);
		expect(normalCdf(-10) / 7.619853024160527e-24).toBeCloseTo(1, 8);
		expect(normalCdf(-40)).toBe(0);
	});
	it('Φ⁻¹ gives the z values of the tests', () => {
		expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
		expect(normalQuantile(0.8)).toBeCloseTo(0.8416212335729143, 12);
		expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306167813, 12);
		expect(normalQuantile(1 - 0.05 / 6)).toBeCloseTo(2.3939797998185104, 12);
		expect(() => normalQuantile(1)).toThrow(/0 < p < 1/);
	});
});

describe('sample size per arm (α 0.05 two-sided, power 0.8)', () => {
	it('follows the formula', () => {
		// 2% → 3%: p̄ = 0.025; 1.959964·√(2·0.025·0.975) = 1.959964·0.2207940 = 0.4327484;
		// 0.8416212·√(0.02·0.98 + 0.03·0.97) = 0.8416212·√0.0487 = 0.1857303; (0.6184787)² / 0.01²
		// = 3825.15 → 3826 (rounded up: the research table's 3,825 rounds to the nearest)
		expect(sampleSizePerArm(0.02, 0.01)).toBe(3826);
		// complaint 0.1% → 0.2%: 23,510.14 → 23,511; 5% → 7%: 2,212.20 → 2,213; 20% → 22%: 6,509.47 → 6,510
		expect(sampleSizePerArm(0.001, 0.001)).toBe(23511);
		expect(sampleSizePerArm(0.05, 0.02)).toBe(2213);
		expect(sampleSizePerArm(0.2, 0.02)).toBe(6510);
		expect(() => sampleSizePerArm(0.995, 0.01)).toThrow(/within 0–1/);
	});
});

describe('two proportions', () => {
	it('the pooled z-test and the unpooled interval', () => {
		// 120/5000 vs 80/5000: p̄ = 200/10000 = 0.02, se = √(0.02·0.98·(2/5000)) = √7.84e-6 = 0.0028,
		// z = (0.024 − 0.016)/0.0028 = 2.857142857, p = 2·Φ(−2.857142857) = 0.0042747340
		const t = twoProportionZTest(120, 5000, 80, 5000);
		expect(t.z).toBeCloseTo(2.857142857142857, 12);
		expect(t.pValue).toBeCloseTo(0.004274733960172587, 12);
		// se = √(0.024·0.976/5000 + 0.016·0.984/5000) = √7.8336e-6 = 0.0027988569,
		// 0.008 ± 1.959964·0.0027988569 = 0.008 ± 0.0054856587
		const d = differenceInterval(120, 5000, 80, 5000);
		expect(d.value).toBeCloseTo(0.008, 15);
		expect(d.low).toBeCloseTo(0.0025143412594484608, 12);
		expect(d.high).toBeCloseTo(0.01348565874055154, 12);
		expect(twoProportionZTest(0, 100, 0, 100)).toEqual({ z: 0, pValue: 1 });
	});
});

describe('compareRoutes', () => {
	const blocks = (route: string, blocked: number, attempts: number) => ({
		route,
		counts: { sent: attempts - blocked, blocked },
	});

	it('says how many more each arm needs until both reach the sample, whatever the p-value', () => {
		// 30/1000 vs 10/1000 would already give p ≈ 0.0013, but 3826 per arm are needed (2% → 3%)
		const v = compareRoutes([blocks('A', 30, 1000), blocks('B', 10, 1000)], {
			group: 'google',
			metric: 'block',
			minEffect: 0.01,
			baseline: 0.02,
		});
		expect(v.verdict).toBe('not-enough-data');
		expect(v.requiredPerArm).toBe(3826);
		expect(v.moreNeeded).toEqual({ A: 2826, B: 2826 });
		expect(v.pValue).toBeUndefined();
		expect(v.summary).toContain('B needs 2,826 more');
	});

	it('names the winner with the difference, its interval and the p-value once both arms have it', () => {
		const v = compareRoutes([blocks('A', 120, 5000), blocks('B', 80, 5000)], {
			group: 'google',
			metric: 'block',
			minEffect: 0.01,
			baseline: 0.02,
		});
		expect(v.verdict).toBe('winner');
		expect(v.winner).toBe('B');
		expect([v.best, v.worst, v.comparisons, v.alpha]).toEqual(['B', 'A', 1, 0.05]);
		expect(v.pValue).toBeCloseTo(0.004274733960172587, 12);
		expect(v.difference!.low).toBeCloseTo(0.0025143412594484608, 12);
		expect(v.summary).toBe(
			'B has the lower block rate at google than A: 1.60% vs 2.40%, p = 0.0043, n = 5,000/5,000',
		);
	});

	it('finds no difference when there is none, and tests three routes at α/3', () => {
		// 110/5000 vs 100/5000: p̄ = 0.021, se = √(0.021·0.979·0.0004) = 0.0028677, z = 0.002/0.0028677
		// = 0.6974274, p = 0.4855354
		const two = compareRoutes([blocks('A', 110, 5000), blocks('B', 100, 5000)], {
			group: 'yahoo',
			metric: 'block',
			minEffect: 0.01,
			baseline: 0.02,
		});
		expect(two.verdict).toBe('no-difference');
		expect(two.pValue).toBeCloseTo(0.4855353579564483, 9);
		// three routes: 3 pairs, α = 0.05/3, z = Φ⁻¹(1 − 0.05/6) = 2.3939798: n = (2.3939798·0.2207940
		// + 0.8416212·0.2206808)² / 1e-4 = 5102.33 → 5103; C has only 5000
		const three = compareRoutes(
			[blocks('A', 120, 5000), blocks('B', 80, 5000), blocks('C', 100, 5000)],
			{ group: 'yahoo', metric: 'block', minEffect: 0.01, baseline: 0.02 },
		);
		expect(three.comparisons).toBe(3);
		expect(three.alpha).toBeCloseTo(0.05 / 3, 15);
		expect(three.requiredPerArm).toBe(5103);
		expect(three.moreNeeded).toEqual({ B: 103, A: 103 });
	});

	it('reads each metric by its one definition; the baseline defaults to the pooled rate', () => {
		// complaint over delivered: 4/2000 and 1/2000 → pooled 5/4000 = 0.00125
		const v = compareRoutes(
			[
				{ route: 'A', counts: { sent: 9000, delivered: 2000, complained: 4 } },
				{ route: 'B', counts: { sent: 9000, delivered: 2000, complained: 1 } },
				{ route: 'C', counts: {} },
			],
			{ group: 'outlook', metric: 'complaint', minEffect: 0.001 },
		);
		expect(v.arms.map((a) => [a.route, a.count, a.sample])).toEqual([
			['B', 1, 2000],
			['A', 4, 2000],
		]);
		expect(v.baseline).toBeCloseTo(0.00125, 15);
		expect(v.verdict).toBe('not-enough-data');
		expect(
			compareRoutes([blocks('A', 1, 10)], { group: 'g', metric: 'deferral', minEffect: 0.1 })
				.verdict,
		).toBe('too-few-routes');
		expect(() =>
			compareRoutes([], { group: 'g', metric: 'opens' as never, minEffect: 0.1 }),
		).toThrow();
	});

	it('compares delivery latency as the share of accepts slower than a histogram bound', () => {
		// A: 600 of 5000 over 1 s (buckets ≤2500: 400, ≤5000: 150, >10000: 50), B: 450 of 5000
		// (≤2500: 450). p̄ = 1050/10000 = 0.105, se = √(0.105·0.895·0.0004) = 0.0061315,
		// z = (0.12 − 0.09)/0.0061315 = 4.8928, p = 2·Φ(−4.8928) ≈ 9.9e-7
		const slow = (route: string, fast: number, le2500: number, le5000: number, over: number) => ({
			route,
			counts: {
				acceptLe500: fast,
				acceptLe2500: le2500,
				acceptLe5000: le5000,
				acceptOver10000: over,
			},
		});
		const v = compareRoutes([slow('A', 4400, 400, 150, 50), slow('B', 4550, 450, 0, 0)], {
			group: 'google',
			metric: 'latency',
			minEffect: 0.02,
			baseline: 0.1,
		});
		expect(v.arms.map((a) => [a.route, a.count, a.sample])).toEqual([
			['B', 450, 5000],
			['A', 600, 5000],
		]);
		expect(v.slowerThanMs).toBe(1000);
		expect(v.verdict).toBe('winner');
		expect(v.z).toBeCloseTo(4.8928, 3);
		expect(v.pValue).toBeLessThan(1e-5);
		expect(v.summary).toBe(
			'B has the lower share of accepts slower than 1000 ms at google than A: 9.00% vs 12.00%, p = 9.9e-7, n = 5,000/5,000',
		);
		// at 2.5 s only A's 200 count (≤5000 and >10000): B has none slower
		const at2500 = compareRoutes([slow('A', 4400, 400, 150, 50), slow('B', 4550, 450, 0, 0)], {
			group: 'google',
			metric: 'latency',
			minEffect: 0.02,
			slowerThanMs: 2500,
		});
		expect(at2500.arms.map((a) => [a.route, a.count])).toEqual([
			['B', 0],
			['A', 200],
		]);
		// a bound that is not a bucket's cannot be counted exactly
		expect(() =>
			compareRoutes([], { group: 'g', metric: 'latency', minEffect: 0.1, slowerThanMs: 750 }),
		).toThrow(/100, 250, 500, 1000, 2500, 5000, 10000 ms/);
	});
});
