/**
 * Weighted rendezvous (highest random weight) hashing: each recipient goes to the route with the
 * highest w / −ln(u), u a hash of (route, recipient) in (0, 1). No state is kept, the split follows
 * the weights, and changing one route's weight only moves recipients to or from that route.
 */

/** 32-bit FNV-1a: fast and well spread for short keys; not for security. */
function fnv1a(text: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	// a final avalanche (murmur3's fmix32), so nearby keys land far apart
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	h ^= h >>> 16;
	return h >>> 0;
}

/** The index (into `routes`) of the route this key belongs to; routes with weight 0 never win. */
export function rendezvousPick(
	key: string,
	routes: readonly string[],
	weights: readonly number[],
): number {
	let best = -1;
	let bestScore = -Infinity;
	for (let i = 0; i < routes.length; i++) {
		const w = weights[i];
		if (!(w > 0)) continue;
		const u = (fnv1a(`${routes[i]}\u0000${key}`) + 0.5) / 4294967296;
		const score = w / -Math.log(u);
		if (score > bestScore) {
			bestScore = score;
			best = i;
		}
	}
	return best;
}
