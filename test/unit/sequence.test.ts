import fc from 'fast-check';
import {
	percentagesToWeights,
	quotaCycle,
	reduceWeights,
	smoothWeightedCycle,
} from '../../lib/routing/sequence';

/** Largest |count_i(n) − w_i/W · n| over every prefix of `reps` repetitions of the cycle. */
function worstDeviation(cycle: number[], weights: number[], reps = 2): number {
	const total = weights.reduce((a, b) => a + b, 0);
	const counts = weights.map(() => 0);
	let worst = 0;
	for (let n = 1; n <= cycle.length * reps; n++) {
		counts[cycle[(n - 1) % cycle.length]]++;
		for (let i = 0; i < weights.length; i++)
			worst = Math.max(worst, Math.abs(counts[i] - (weights[i] * n) / total));
	}
	return worst;
}

const weightsArb = fc
	.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 8 })
	.filter((w) => w.some((x) => x > 0));

describe('quotaCycle (Balinski–Young quota method)', () => {
	it('keeps every prefix strictly within 1 of the target, for any weights', () => {
		fc.assert(
			fc.property(weightsArb, (weights) => {
				const cycle = quotaCycle(weights);
				expect(worstDeviation(cycle, reduceWeights(weights))).toBeLessThan(1);
			}),
			{ numRuns: 300 },
		);
	});

	it('conserves: one cycle holds each route exactly its weight, zero-weight routes never', () => {
		fc.assert(
			fc.property(weightsArb, (weights) => {
				const reduced = reduceWeights(weights);
				const cycle = quotaCycle(weights);
				const counts = reduced.map(() => 0);
				cycle.forEach((r) => counts[r]++);
				expect(counts).toEqual(reduced);
			}),
		);
	});

	it('beats "most behind its target" on a case where that lags more than 1', () => {
		// nginx-style smooth WRR can fall ~1.2 behind; the quota method never reaches 1
		const weights = [20, 15, 15, 15, 15, 10, 10];
		expect(worstDeviation(quotaCycle(weights), reduceWeights(weights))).toBeLessThan(1);
		let found = false;
		fc.assert(
			fc.property(weightsArb, (w) => {
				if (worstDeviation(smoothWeightedCycle(w), reduceWeights(w)) >= 1) found = true;
				return true;
			}),
			{ numRuns: 500, seed: 1 },
		);
		expect(found).toBe(true);
	});

	it('gives 70/30 as a cycle of 10', () => {
		const cycle = quotaCycle([70, 30]);
		expect(cycle).toHaveLength(10);
		expect(cycle.filter((r) => r === 0)).toHaveLength(7);
	});
});

describe('smoothWeightedCycle', () => {
	it('interleaves 5,1,1 as nginx does', () => {
		expect(smoothWeightedCycle([5, 1, 1])).toEqual([0, 0, 1, 0, 2, 0, 0]);
	});
	it('holds each route exactly its weight per cycle', () => {
		fc.assert(
			fc.property(weightsArb, (weights) => {
				const counts = weights.map(() => 0);
				smoothWeightedCycle(weights).forEach((r) => counts[r]++);
				expect(counts).toEqual(reduceWeights(weights));
			}),
		);
	});
});

describe('percentagesToWeights', () => {
	it('scales decimals to whole numbers', () => {
		expect(percentagesToWeights([33.33, 33.33, 33.34])).toEqual([3333, 3333, 3334]);
		expect(percentagesToWeights([70, 30])).toEqual([70, 30]);
		expect(() => percentagesToWeights([33.333, 66.667])).toThrow('at most two decimals');
	});
	it('rejects cycles that would be too long', () => {
		expect(() => quotaCycle([1, 200_000])).toThrow(/too fine-grained/);
	});
});
