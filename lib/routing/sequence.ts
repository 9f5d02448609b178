/**
 * Precomputed route sequences. A sequence cycle is a list of route indices; position p of the
 * stream goes to cycle[floor(p / repeat) % cycle.length], so a batch of k items needs one counter
 * increment, whatever its size.
 */

const MAX_CYCLE = 100_000;

function gcd(a: number, b: number): number {
	while (b) [a, b] = [b, a % b];
	return a;
}

/** Whole-number weights reduced by their greatest common divisor. */
export function reduceWeights(weights: readonly number[]): number[] {
	for (const w of weights)
		if (!Number.isInteger(w) || w < 0)
			throw new RangeError(`weights must be whole numbers ≥ 0, got ${w}`);
	const g = weights.reduce((acc, w) => gcd(acc, w), 0);
	if (g === 0) throw new RangeError('at least one weight must be above 0');
	return weights.map((w) => w / g);
}

function cycleLength(weights: readonly number[]): number {
	const total = weights.reduce((a, b) => a + b, 0);
	if (total > MAX_CYCLE)
		throw new RangeError(
			`the split is too fine-grained (a cycle of ${total} positions; at most ${MAX_CYCLE})`,
		);
	return total;
}

/**
 * Balinski–Young quota method: at step n+1 a route may only be chosen while its count is below its
 * upper quota ceil(p·(n+1)); among those, the one with the highest p / (count + 1) wins. Every
 * prefix of the result keeps each route's count strictly within 1 of p·n, and one cycle ends with
 * exact counts, so repeating it keeps the bound forever.
 */
export function quotaCycle(weightsIn: readonly number[]): number[] {
	const weights = reduceWeights(weightsIn);
	const total = cycleLength(weights);
	const counts = new Array<number>(weights.length).fill(0);
	const out: number[] = [];
	for (let n = 0; n < total; n++) {
		let best = -1;
		let bestNum = 0;
		let bestDen = 1;
		for (let i = 0; i < weights.length; i++) {
			const w = weights[i];
			if (w === 0) continue;
			// upper quota in integers: counts[i] < ceil(w (n+1) / total)  <=>  counts[i] * total < w (n+1)
			if (counts[i] * total >= w * (n + 1)) continue;
			// compare w / (counts+1) as fractions to stay exact
			if (best === -1 || w * bestDen > bestNum * (counts[i] + 1)) {
				best = i;
				bestNum = w;
				bestDen = counts[i] + 1;
			}
		}
		counts[best]++;
		out.push(best);
	}
	return out;
}

/**
 * nginx's smooth weighted round robin, one full cycle: interleaves routes by weight with no long
 * runs (weights 5,1,1 give a a b a c a a).
 */
export function smoothWeightedCycle(weightsIn: readonly number[]): number[] {
	const weights = reduceWeights(weightsIn);
	const total = cycleLength(weights);
	const current = new Array<number>(weights.length).fill(0);
	const out: number[] = [];
	for (let n = 0; n < total; n++) {
		let best = -1;
		for (let i = 0; i < weights.length; i++) {
			if (weights[i] === 0) continue;
			current[i] += weights[i];
			if (best === -1 || current[i] > current[best]) best = i;
		}
		current[best] -= total;
		out.push(best);
	}
	return out;
}

/** Percentages with up to two decimals as whole-number weights (33.33 → 3333). */
export function percentagesToWeights(percentages: readonly number[]): number[] {
	const decimals = Math.max(0, ...percentages.map((p) => (String(p).split('.')[1] ?? '').length));
	if (decimals > 2) throw new RangeError('percentages may have at most two decimals');
	const scale = 10 ** decimals;
	return percentages.map((p) => Math.round(p * scale));
}
