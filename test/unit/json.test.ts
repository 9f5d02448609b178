import fc from 'fast-check';
import type { IDataObject } from 'n8n-workflow';
import { copyJson, withField } from '../../nodes/shared/json';

/** Everything a copy can differ in: own keys in order (symbols too), each one's descriptor, the prototype. */
function shape(o: object): unknown {
	return {
		proto: Object.getPrototypeOf(o),
		keys: Reflect.ownKeys(o),
		descriptors: Reflect.ownKeys(o).map((k) => Object.getOwnPropertyDescriptor(o, k)),
	};
}

// keys that behave differently somewhere: __proto__ (a setter on Object.prototype), names on
// Object.prototype, integer-like keys (ordered first), and ordinary ones
const key = fc.constantFrom(
	'__proto__',
	'constructor',
	'toString',
	'hasOwnProperty',
	'1',
	'01',
	'0',
	'email',
	'postalRoute',
	'a',
	'b',
);
const value = fc.oneof(
	fc.string(),
	fc.integer(),
	fc.constant(null),
	fc.constant(undefined),
	fc.object(),
);
/** an item's json as JSON.parse makes it (an own "__proto__" key included) */
const json = fc
	.array(fc.tuple(key, value), { maxLength: 8 })
	.map(
		(entries) =>
			JSON.parse(
				`{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v ?? null)}`).join(',')}}`,
			) as IDataObject,
	);

describe('copyJson and withField copy an item’s json exactly as a spread does', () => {
	it('on json with own __proto__, prototype names and integer-like keys (fast-check, seeded)', () => {
		fc.assert(
			fc.property(json, key, value, (j, k, v) => {
				expect(shape(copyJson(j))).toEqual(shape({ ...j }));
				expect(shape(withField(j, k, v as IDataObject[string]))).toEqual(shape({ ...j, [k]: v }));
			}),
			{ numRuns: 5_000, seed: 1414 },
		);
	});

	it('copies a json that is not an object as a spread does (null, text, a list)', () => {
		for (const j of [null, undefined, 'ab', 7, ['x', 'y']] as unknown as IDataObject[]) {
			expect(shape(copyJson(j))).toEqual(shape({ ...j }));
			expect(shape(withField(j, 'k', 1))).toEqual(shape({ ...j, k: 1 }));
		}
	});

	it('copies symbol keys and reads getters, as a spread does, and never shares the object', () => {
		const sym = Symbol('s');
		let reads = 0;
		const j = {
			a: 1,
			[sym]: 2,
			get g() {
				reads++;
				return 3;
			},
		} as unknown as IDataObject;
		const copy = copyJson(j);
		expect(shape(copy)).toEqual(shape({ ...j }));
		expect(reads).toBe(2);
		expect(copy).not.toBe(j);
		const added = withField(j, 'postalRoute', { route: 'A' });
		expect(added.postalRoute).toEqual({ route: 'A' });
		expect(j.postalRoute).toBeUndefined();
	});
});
