/**
 * One partition's sticky assignments in the memory store (recipient key → route name): a Map's
 * get and set, stored so that a million recipients stay cheap, and read and written a batch at a
 * time.
 *
 * Why not a Map: with a million fresh string keys every lookup follows pointers to key strings
 * scattered over the heap (a cache miss per key compared), and every key keeps its digest string
 * and that string's parent alive, which the collector then copies and marks; together that was
 * most of the partitioner's time on the memory store. The keys the partitioner sends are
 * recipientDigest outputs, 22 base64url characters: such a key is kept here as its 132 bits in an
 * open-addressing table of plain integers, with its route as a small number, so no string outlives
 * the batch. Decoding is exact (every 22-character base64url text has its own 132 bits), so this
 * is the Map's behaviour, not an approximation. Any other key (the contract allows any text) goes
 * to an ordinary Map.
 *
 * Why a batch at a time: a probe into a table of a million keys is a cache miss (~100-200 ns),
 * and one item's miss at a time, between the rest of the item's work, leaves the processor
 * waiting for each. lookUp decodes every key first, then touches every key's slot in a loop
 * that does nothing else, so the misses overlap, then probes what is now in cache; insert does
 * the same for the writes, with the keys it already decoded.
 */

/** base64url character → its 6 bits, -1 for any other character */
const SEXTET = new Int8Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
	.split('')
	.forEach((c, i) => (SEXTET[c.charCodeAt(0)] = i));

const DIGEST_LENGTH = 22;
/** a key in five words: 5 + 5 + 5 + 5 + 2 characters of 6 bits */
const KEY_WORDS = 5;
const FIRST_CAPACITY = 1024;
/** what lookUp found a batch's item to be */
const NO_KEY = 0;
const DIGEST = 1;
const OTHER = 2;

export class StickyTable {
	/**
	 * Open addressing, two words a slot: the entry + 1 (0: empty) and the key's hash, side by side,
	 * so a probe, and the write of a new key after it, touch one place. With the hash at hand,
	 * growing walks the slots in order and writes the new table nearly in order too (a slot's keys
	 * go to the same index or that + the old size). Entries are kept in the order they were added,
	 * so adding one writes at the end.
	 */
	private slots = new Int32Array(FIRST_CAPACITY * 2);
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
	/** the last lookUp's batch: per item its kind, hash and words, for the insert that follows */
	private batch: ReadonlyArray<{ key?: string }> = [];
	private kinds = new Uint8Array(0);
	private hashes = new Int32Array(0);
	private words = new Int32Array(0);
	private first = new Int32Array(0);
	/** the batch's own table of its keys (item indices, -1: empty), for `first` */
	private seen = new Int32Array(0);

	get size(): number {
		return this.entries + this.other.size;
	}

	get(key: string): string | undefined {
		return this.lookUp([{ key }]).stored[0];
	}

	set(key: string, route: string): void {
		this.lookUp([{ key }]);
		this.insert([0], [route]);
	}

	/**
	 * Per item: the stored route of its key (undefined: none, or no key) and the first item of the
	 * batch with the same key (-1: no key). Both, and the batch itself, stay as they are until the
	 * next lookUp (for insert).
	 */
	lookUp(items: ReadonlyArray<{ key?: string }>): {
		stored: Array<string | undefined>;
		first: Int32Array;
	} {
		const n = items.length;
		if (this.kinds.length < n) {
			const size = Math.max(n, this.kinds.length * 2);
			this.kinds = new Uint8Array(size);
			this.hashes = new Int32Array(size);
			this.words = new Int32Array(size * KEY_WORDS);
			this.first = new Int32Array(size);
		}
		this.batch = items;
		const { kinds, hashes, words, first } = this;
		for (let i = 0; i < n; i++) {
			const key = items[i].key;
			if (key === undefined) kinds[i] = NO_KEY;
			else if (decode(key, words, i * KEY_WORDS)) {
				kinds[i] = DIGEST;
				hashes[i] = hashOf(words, i * KEY_WORDS);
			} else kinds[i] = OTHER;
		}
		this.touchForLookUp(n);

		// the first item of each key in the batch: a small table of the batch's own (in cache)
		let seenMask = 15;
		while (seenMask + 1 < n * 2) seenMask = seenMask * 2 + 1;
		if (this.seen.length <= seenMask) this.seen = new Int32Array(seenMask + 1);
		const seen = this.seen;
		seen.fill(-1, 0, seenMask + 1);
		let others: Map<string, number> | undefined;
		for (let i = 0; i < n; i++) {
			const kind = kinds[i];
			if (kind === DIGEST) {
				const h = hashes[i];
				for (let j = h & seenMask; ; j = (j + 1) & seenMask) {
					const at = seen[j];
					if (at === -1) {
						seen[j] = first[i] = i;
						break;
					}
					if (hashes[at] === h && sameKey(words, at * KEY_WORDS, i * KEY_WORDS)) {
						first[i] = at;
						break;
					}
				}
			} else if (kind === OTHER) {
				const key = items[i].key!;
				others ??= new Map();
				const at = others.get(key);
				if (at === undefined) others.set(key, (first[i] = i));
				else first[i] = at;
			} else first[i] = -1;
		}

		const stored = new Array<string | undefined>(n);
		for (let i = 0; i < n; i++) {
			const kind = kinds[i];
			if (first[i] !== i) stored[i] = first[i] === -1 ? undefined : stored[first[i]];
			else if (kind === DIGEST) {
				const at = this.find(words, i * KEY_WORDS, hashes[i]);
				stored[i] = at < 0 ? undefined : this.names[this.routes[this.slots[at * 2] - 1]];
			} else stored[i] = this.other.get(items[i].key!);
		}
		return { stored, first };
	}

	/** Sets the keys of items of the last lookUp (by index) to the given routes, in order. */
	insert(items: readonly number[], routes: readonly string[]): void {
		const { kinds, hashes, words } = this;
		// room for them all first: no growth between the touch and the writes
		let digests = 0;
		for (const i of items) if (kinds[i] === DIGEST) digests++;
		while ((this.entries + digests) * 2 > this.mask + 1) this.growSlots();
		this.touchForInsert(items);
		let lastRoute: string | undefined;
		let lastId = -1;
		for (let j = 0; j < items.length; j++) {
			const i = items[j];
			const route = routes[j];
			if (kinds[i] !== DIGEST) {
				if (kinds[i] === OTHER) this.other.set(this.batch[i].key!, route);
				continue;
			}
			// a batch names a few routes: the last one's id is usually the one
			let id = route === lastRoute ? lastId : this.ids.get(route);
			if (id === undefined) {
				id = this.names.length;
				this.names.push(route);
				this.ids.set(route, id);
			}
			lastRoute = route;
			lastId = id;
			const w = i * KEY_WORDS;
			const h = hashes[i];
			const at = this.find(words, w, h);
			if (at >= 0) {
				this.routes[this.slots[at * 2] - 1] = id;
				continue;
			}
			const e = this.entries++;
			if (e === this.routes.length) this.growEntries();
			const keys = this.keys;
			const to = e * KEY_WORDS;
			for (let k = 0; k < KEY_WORDS; k++) keys[to + k] = words[w + k];
			this.routes[e] = id;
			const slot = -1 - at;
			this.slots[slot * 2] = e + 1;
			this.slots[slot * 2 + 1] = h;
		}
		this.batch = [];
	}

	/**
	 * Reads what the batch's probes will read, each kind of read in a loop with nothing else in it,
	 * so that the processor runs ahead and waits for many misses at once: every digest key's first
	 * slot; then, where that slot has the key's hash (the key is likely stored), the entry's key.
	 */
	private touchForLookUp(n: number): void {
		const { kinds, hashes, slots, keys, mask } = this;
		let sum = 0;
		for (let i = 0; i < n; i++) sum += slots[(hashes[i] & mask) * 2 + 1];
		for (let i = 0; i < n; i++) {
			const at = (hashes[i] & mask) * 2;
			if (kinds[i] === DIGEST && slots[at + 1] === hashes[i] && slots[at] !== 0)
				sum += keys[(slots[at] - 1) * KEY_WORDS];
		}
		this.touched = sum;
	}

	/** The same for the writes of items at `which`: their first slots. */
	private touchForInsert(which: readonly number[]): void {
		const { kinds, hashes, slots, mask } = this;
		let sum = 0;
		for (let j = 0; j < which.length; j++) {
			const i = which[j];
			sum += kinds[i] === DIGEST ? slots[(hashes[i] & mask) * 2] : 0;
		}
		this.touched = sum;
	}
	/** the touch loops' last sum: kept, so their reads are not optimized away */
	protected touched = 0;

	/** The slot that holds the key (words[w..w+4]), or -1 - the empty slot where it would go. */
	private find(k: Int32Array, w: number, h: number): number {
		const slots = this.slots;
		const keys = this.keys;
		const mask = this.mask;
		let i = h & mask;
		for (;;) {
			const e = slots[i * 2];
			if (e === 0) return -1 - i;
			if (slots[i * 2 + 1] === h) {
				const at = (e - 1) * KEY_WORDS;
				if (
					keys[at] === k[w] &&
					keys[at + 1] === k[w + 1] &&
					keys[at + 2] === k[w + 2] &&
					keys[at + 3] === k[w + 3] &&
					keys[at + 4] === k[w + 4]
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
		const old = this.slots;
		const capacity = old.length;
		const slots = new Int32Array(capacity * 2);
		const mask = capacity - 1;
		for (let from = 0; from < old.length; from += 2) {
			const e = old[from];
			if (e === 0) continue;
			const h = old[from + 1];
			let i = h & mask;
			while (slots[i * 2] !== 0) i = (i + 1) & mask;
			slots[i * 2] = e;
			slots[i * 2 + 1] = h;
		}
		this.slots = slots;
		this.mask = mask;
	}
}

function sameKey(words: Int32Array, a: number, b: number): boolean {
	return (
		words[a] === words[b] &&
		words[a + 1] === words[b + 1] &&
		words[a + 2] === words[b + 2] &&
		words[a + 3] === words[b + 3] &&
		words[a + 4] === words[b + 4]
	);
}

/** A digest key's 132 bits into out[at..at+4]; false for a key of any other shape. */
function decode(key: string, out: Int32Array, at: number): boolean {
	if (key.length !== DIGEST_LENGTH) return false;
	const a = sextets(key, 0, 5);
	const b = sextets(key, 5, 5);
	const c = sextets(key, 10, 5);
	const d = sextets(key, 15, 5);
	const e = sextets(key, 20, 2);
	if ((a | b | c | d | e) < 0) return false;
	out[at] = a;
	out[at + 1] = b;
	out[at + 2] = c;
	out[at + 3] = d;
	out[at + 4] = e;
	return true;
}

/** `count` characters from `at` as 6 bits each, or -1 if one of them is not base64url. */
function sextets(key: string, at: number, count: number): number {
	let word = 0;
	let seen = 0;
	for (let i = at; i < at + count; i++) {
		const ch = key.charCodeAt(i);
		const v = SEXTET[ch & 255];
		// -1 for a character outside the alphabet, bits above 255 for one beyond Latin-1
		seen |= v | (ch & ~255);
		word = (word << 6) | v;
	}
	return seen >>> 0 > 63 ? -1 : word;
}

/** Mixes all five words: digests are random, but test keys and near misses need not be. */
function hashOf(k: Int32Array, at: number): number {
	let h = Math.imul(k[at] ^ Math.imul(k[at + 1], 0x9e3779b1), 0x85ebca6b);
	h ^= Math.imul(k[at + 2] ^ Math.imul(k[at + 3], 0xc2b2ae35), 0x27d4eb2f) ^ k[at + 4];
	h ^= h >>> 15;
	return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 13);
}
