import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { recipientDigest } from '../../lib/state/keys';
import { StickyTable } from '../../lib/state/stickyTable';
import { seededRandom } from '../helpers/recipients';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ROUTES = ['a', 'b', 'SMTP relay', 'c\u0000d', 'd:x é', ''];

/**
 * The memory store's sticky table against the plain Map it replaces: the same answers for every
 * get after any sequence of sets. Keys are digest-shaped (the table's own path), near misses of
 * that shape (the Map path) and keys that differ from each other in one character only (which a
 * weak slot hash would pile into one run of slots).
 */
describe('StickyTable: a Map of sticky keys to route names', () => {
	const digest = fc.string({ unit: fc.constantFrom(...B64), minLength: 22, maxLength: 22 });
	const nearMiss = fc.oneof(
		fc.string({ unit: fc.constantFrom(...B64), minLength: 21, maxLength: 21 }),
		fc.string({ unit: fc.constantFrom(...B64), minLength: 23, maxLength: 23 }),
		// one character outside the alphabet: '=', '+', '/', NUL, an accent, an astral symbol
		fc
			.tuple(
				digest,
				fc.integer({ min: 0, max: 21 }),
				fc.constantFrom('=', '+', '/', '\u0000', 'é', '😀'),
			)
			.map(([d, at, c]) => d.slice(0, at) + c + d.slice(at + 1)),
		fc.constantFrom('', 'u1', 'ü😀'),
	);
	const oneApart = fc
		.tuple(fc.integer({ min: 0, max: 21 }), fc.constantFrom(...B64))
		.map(([at, c]) => 'A'.repeat(at) + c + 'A'.repeat(21 - at));
	const key = fc.oneof(
		{ arbitrary: digest, weight: 4 },
		{ arbitrary: nearMiss, weight: 2 },
		{ arbitrary: oneApart, weight: 2 },
	);

	it('answers as a Map does, after any sets (fixed seed)', () => {
		fc.assert(
			fc.property(
				fc.array(fc.tuple(key, fc.constantFrom(...ROUTES)), { maxLength: 200 }),
				fc.array(key, { maxLength: 50 }),
				(sets, probes) => {
					const table = new StickyTable();
					const map = new Map<string, string>();
					for (const [k, route] of sets) {
						expect(table.get(k)).toBe(map.get(k));
						table.set(k, route);
						map.set(k, route);
					}
					expect(table.size).toBe(map.size);
					for (const k of [...map.keys(), ...probes]) expect(table.get(k)).toBe(map.get(k));
				},
			),
			{ seed: 20261201, numRuns: 300 },
		);
	});

	it('looks a batch up and writes a batch as a Map does key by key (fixed seed)', () => {
		const item = fc.option(key, { nil: undefined }).map((k) => (k === undefined ? {} : { key: k }));
		fc.assert(
			fc.property(
				fc.array(
					fc.tuple(
						fc.array(item, { maxLength: 40 }),
						fc.array(fc.tuple(fc.nat(), fc.constantFrom(...ROUTES)), { maxLength: 40 }),
					),
					{ maxLength: 30 },
				),
				(batches) => {
					const table = new StickyTable();
					const map = new Map<string, string>();
					for (const [items, writes] of batches) {
						const { stored, first } = table.lookUp(items);
						expect(stored).toEqual(
							items.map((it) => (it.key === undefined ? undefined : map.get(it.key))),
						);
						// each item's first item with its key
						expect([...first.subarray(0, items.length)]).toEqual(
							items.map((it) =>
								it.key === undefined ? -1 : items.findIndex((o) => o.key === it.key),
							),
						);
						// writes name items of the batch: any of them, in any order, some twice
						const at = writes
							.map(([i]) => i % Math.max(items.length, 1))
							.filter((i) => i < items.length);
						const routes = writes.slice(0, at.length).map(([, r]) => r);
						table.insert(at, routes);
						at.forEach((i, j) => {
							const k = items[i].key;
							if (k !== undefined) map.set(k, routes[j]);
						});
						expect(table.size).toBe(map.size);
					}
					for (const [k, route] of map) expect(table.get(k)).toBe(route);
				},
			),
			{ seed: 20261202, numRuns: 200 },
		);
	});

	it('keeps every one of many real digests through its growth, and finds none it was not given', () => {
		const secret = randomBytes(32).toString('base64url');
		const rnd = seededRandom(7);
		const table = new StickyTable();
		const map = new Map<string, string>();
		for (let i = 0; i < 50_000; i++) {
			const k = recipientDigest(secret, `user${i}@example.com`);
			const route = ROUTES[Math.floor(rnd() * ROUTES.length)];
			table.set(k, route);
			map.set(k, route);
			// some are assigned again, to another route
			if (i % 7 === 0) {
				const again = recipientDigest(secret, `user${Math.floor(rnd() * (i + 1))}@example.com`);
				table.set(again, 'b');
				map.set(again, 'b');
			}
		}
		expect(table.size).toBe(map.size);
		const wrong = [...map].filter(([k, route]) => table.get(k) !== route);
		expect(wrong).toEqual([]);
		const unknown = [];
		for (let i = 50_000; i < 60_000; i++) {
			const k = recipientDigest(secret, `user${i}@example.com`);
			if (table.get(k) !== undefined) unknown.push(k);
		}
		expect(unknown).toEqual([]);
	});
});
