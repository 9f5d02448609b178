/**
 * One partition's sticky assignments in the memory store (recipient key → route name): a Map's
 * get and set, stored so that a million recipients stay cheap.
 *
 * Why not a Map: with a million fresh string keys every lookup follows pointers to key strings
 * scattered over the heap (a cache miss per key compared), and every key keeps its digest string
 * and that string's parent alive, which the collector then copies and marks; together that was
 * most of the partitioner's time on the memory store. The keys the partitioner sends are
 * recipientDigest outputs, 22 base64url characters: such a key is kept here as its 132 bits in an
 * open-addressing table of plain integers, with its route as a small number, so a lookup reads one
 * slot and no string outlives the batch. Decoding is exact (every 22-character base64url text has
 * its own 132 bits), so this is the Map's behaviour, not an approximation. Any other key (the
 * contract allows any text) goes to an ordinary Map.
 */

/** base64url character → its 6 bits, -1 for any other character */
const SEXTET = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
	.split('')
	.forEach((c, i) => (SEXTET[c.charCodeAt(0)] = i));

const DIGEST_LENGTH = 22;
/** a key in five words: 5 + 5 + 5 + 5 + 2 characters of 6 bits */
const KEY_WORDS = 5;
const FIRST_CAPACITY = 1024;
/** the key being looked up, decoded (get and set run to completion: one buffer serves all tables) */
const scratch = new Int32Array(KEY_WORDS);

export class StickyTable {
	/**
	 * Open addressing over two arrays: a byte per slot (0: empty, else 7 bits of the key's hash)
	 * and the slot's entry. A miss, the common case for a new recipient, reads only bytes: the
	 * bytes of a million keys fit in a cache where a Map's entries do not. Entries are kept in the
	 * order they were added, so adding one writes at the end.
	 */
	private tags = new Uint8Array(FIRST_CAPACITY);
	private slots = new Int32Array(FIRST_CAPACITY);
	private mask = FIRST_CAPACITY - 1;
	/** per entry: the key's words, and the route id */
	private keys = new Int32Array(FIRST_CAPACITY * KEY_WORDS);
	private routes = new Int32Array(FIRST_CAPACITY);
	private entries = 0;
	/** route names by id, and back */
	private readonly names: string[] = [];
	private readonly ids = new Map<string, number>();
	/** keys that are not digest-shaped */
	private readonly other = new Map<string, string>();

	get size(): number {
		return this.entries + this.other.size;
	}

	get(key: string): string | undefined {
		if (!decode(key, scratch)) return this.other.get(key);
		const i = this.find(scratch, hashOf(scratch, 0));
		return i < 0 ? undefined : this.names[this.routes[this.slots[i]]];
	}

	set(key: string, route: string): void {
		if (!decode(key, scratch)) {
			this.other.set(key, route);
			return;
		}
		let id = this.ids.get(route);
		if (id === undefined) {
			id = this.names.length;
			this.names.push(route);
			this.ids.set(route, id);
		}
		const h = hashOf(scratch, 0);
		const i = this.find(scratch, h);
		if (i >= 0) {
			this.routes[this.slots[i]] = id;
			return;
		}
		const e = this.entries++;
		if (e === this.routes.length) this.growEntries();
		const w = e * KEY_WORDS;
		const keys = this.keys;
		keys[w] = scratch[0];
		keys[w + 1] = scratch[1];
		keys[w + 2] = scratch[2];
		keys[w + 3] = scratch[3];
		keys[w + 4] = scratch[4];
		this.routes[e] = id;
		this.tags[-1 - i] = tagOf(h);
		this.slots[-1 - i] = e;
		// at most half full: a miss ends after a probe or two
		if (this.entries * 2 > this.mask + 1) this.growSlots();
	}

	/** The slot that holds the key, or -1 - the empty slot where it would go. */
	private find(k: Int32Array, h: number): number {
		const tags = this.tags;
		const keys = this.keys;
		const mask = this.mask;
		const tag = tagOf(h);
		let i = h & mask;
		for (;;) {
			const t = tags[i];
			if (t === 0) return -1 - i;
			if (t === tag) {
				const w = this.slots[i] * KEY_WORDS;
				if (
					keys[w] === k[0] &&
					keys[w + 1] === k[1] &&
					keys[w + 2] === k[2] &&
					keys[w + 3] === k[3] &&
					keys[w + 4] === k[4]
				)
					return i;
			}
			i = (i + 1) & mask;
		}
	}

	private growEntries(): void {
		const keys = new Int32Array(this.keys.length * 2);
		keys.set(this.keys);
		this.keys = keys;
		const routes = new Int32Array(this.routes.length * 2);
		routes.set(this.routes);
		this.routes = routes;
	}

	private growSlots(): void {
		const capacity = (this.mask + 1) * 2;
		const tags = new Uint8Array(capacity);
		const slots = new Int32Array(capacity);
		const mask = capacity - 1;
		const keys = this.keys;
		for (let e = 0; e < this.entries; e++) {
			const h = hashOf(keys, e * KEY_WORDS);
			let i = h & mask;
			while (tags[i] !== 0) i = (i + 1) & mask;
			tags[i] = tagOf(h);
			slots[i] = e;
		}
		this.tags = tags;
		this.slots = slots;
		this.mask = mask;
	}
}

/** 7 bits of the hash that the slot index (its low bits) does not use, + 1: never 0 */
const tagOf = (h: number) => (h >>> 25) + 1;

/** A digest key's 132 bits into `out`; false for a key of any other shape. */
function decode(key: string, out: Int32Array): boolean {
	if (key.length !== DIGEST_LENGTH) return false;
	let word = 0;
	let w = 0;
	for (let i = 0; i < DIGEST_LENGTH; i++) {
		const c = key.charCodeAt(i);
		const v = c < 128 ? SEXTET[c] : -1;
		if (v < 0) return false;
		word = (word << 6) | v;
		if (i % 5 === 4 || i === DIGEST_LENGTH - 1) {
			out[w++] = word;
			word = 0;
		}
	}
	return true;
}

/** Mixes all five words: digests are random, but test keys and near misses need not be. */
function hashOf(k: Int32Array, at: number): number {
	let h = Math.imul(k[at] ^ Math.imul(k[at + 1], 0x9e3779b1), 0x85ebca6b);
	h ^= Math.imul(k[at + 2] ^ Math.imul(k[at + 3], 0xc2b2ae35), 0x27d4eb2f) ^ k[at + 4];
	h ^= h >>> 15;
	return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 13);
}
