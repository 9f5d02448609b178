import {
	NodeOperationError,
	type IExecuteFunctions,
	type INodeProperties,
	type INodePropertyCollection,
	type INodePropertyOptions,
} from 'n8n-workflow';
import { z } from 'zod';

/**
 * Each default of a node is written once, in its description; the node's options schema reads it
 * from there. These helpers find a property and turn it into a zod field with its default.
 */

/**
 * A property by path: `name`, `collection.name` or `fixedCollection.group.name` (e.g.
 * `options.concurrency`, `routes.values.weight`). A path the description does not have throws
 * when the node's module loads, so a renamed option cannot silently lose its default.
 */
export function propertyAt(properties: readonly INodeProperties[], path: string): INodeProperties {
	const names = path.split('.');
	let list: readonly INodeProperties[] = properties;
	for (let k = 0; ; k++) {
		const found = list.find((p) => p.name === names[k]);
		if (!found) throw new Error(`the node description has no property "${path}"`);
		if (k === names.length - 1) return found;
		if (found.type === 'collection') list = found.options as INodeProperties[];
		else if (found.type === 'fixedCollection') {
			const group = (found.options as INodePropertyCollection[]).find((o) => o.name === names[++k]);
			if (!group || k === names.length - 1)
				throw new Error(`the node description has no property "${path}"`);
			list = group.values;
		} else throw new Error(`"${names.slice(0, k + 1).join('.')}" in "${path}" holds no properties`);
	}
}

function typedDefault<T extends 'number' | 'string' | 'boolean'>(
	properties: readonly INodeProperties[],
	path: string,
	type: T,
) {
	const value = propertyAt(properties, path).default;
	if (typeof value !== type) throw new Error(`the default of "${path}" is not a ${type}`);
	return value as T extends 'number' ? number : T extends 'string' ? string : boolean;
}

/** The default the description gives a property. */
export const numberDefault = (properties: readonly INodeProperties[], path: string) =>
	typedDefault(properties, path, 'number');
export const stringDefault = (properties: readonly INodeProperties[], path: string) =>
	typedDefault(properties, path, 'string');
export const booleanDefault = (properties: readonly INodeProperties[], path: string) =>
	typedDefault(properties, path, 'boolean');

/** n8n leaves a field that was emptied as '' or null: that is the field not set. */
const unset = (v: unknown) => (v === '' || v === null ? undefined : v);

/** A number option: the description's default, and its minValue / maxValue checked (an expression can pass them). */
export function numberField(
	properties: readonly INodeProperties[],
	path: string,
	options: { int?: boolean } = {},
) {
	const p = propertyAt(properties, path);
	let n = z.number().finite();
	if (options.int) n = n.int();
	if (typeof p.typeOptions?.minValue === 'number') n = n.min(p.typeOptions.minValue);
	if (typeof p.typeOptions?.maxValue === 'number') n = n.max(p.typeOptions.maxValue);
	return z.preprocess(unset, n.default(numberDefault(properties, path)));
}

/**
 * A number option whose checks belong to lib (the route plan names its own errors): the default
 * when unset, otherwise the value as a number, NaN included, for lib to reject.
 */
export function looseNumberField(properties: readonly INodeProperties[], path: string) {
	const fallback = numberDefault(properties, path);
	return z.unknown().transform((v) => (unset(v) === undefined ? fallback : Number(v)));
}

/** A choice or text whose checks belong to lib: the default when unset, otherwise the value as text. */
export function looseStringField(properties: readonly INodeProperties[], path: string) {
	const fallback = stringDefault(properties, path);
	return z.unknown().transform((v) => (unset(v) === undefined ? fallback : String(v)));
}

export function booleanField(properties: readonly INodeProperties[], path: string) {
	return z.preprocess(unset, z.boolean().default(booleanDefault(properties, path)));
}

/** A text option; an emptied one is its default. */
export function stringField(properties: readonly INodeProperties[], path: string) {
	return z.preprocess(unset, z.coerce.string().default(stringDefault(properties, path)));
}

/**
 * An options (choice) field: one of the description's values, else its default when unset. `values`
 * types the result; they must be the description's own, which is checked when the module loads.
 */
export function choiceField<T extends string>(
	properties: readonly INodeProperties[],
	path: string,
	values: readonly [T, ...T[]],
) {
	const listed = ((propertyAt(properties, path).options ?? []) as INodePropertyOptions[]).map((o) =>
		String(o.value),
	);
	if (listed.length !== values.length || !values.every((v) => listed.includes(v)))
		throw new Error(`"${path}" offers ${listed.join(', ')}, not ${values.join(', ')}`);
	return z.preprocess(unset, z.enum(values).default(stringDefault(properties, path) as T));
}

/** The display names along a path, as the user sees them: `Options › Parallel Sends`. */
function labelOf(properties: readonly INodeProperties[], path: (string | number)[]): string {
	const labels: string[] = [];
	const names = path.filter((p): p is string => typeof p === 'string');
	for (let k = 1; k <= names.length; k++) {
		try {
			const p = propertyAt(properties, names.slice(0, k).join('.'));
			labels.push(p.displayName);
		} catch {
			// a group name of a fixedCollection (`values`) is no property of its own
		}
	}
	const entry = path.find((p): p is number => typeof p === 'number');
	return (
		(labels.join(' › ') || path.join('.')) + (entry === undefined ? '' : ` (entry ${entry + 1})`)
	);
}

/** Parses node parameters with their schema; the error names the field as the node shows it. */
export function parseParameters<S extends z.ZodTypeAny>(
	ctx: IExecuteFunctions,
	properties: readonly INodeProperties[],
	schema: S,
	value: unknown,
): z.output<S> {
	const parsed = schema.safeParse(value);
	if (parsed.success) return parsed.data;
	const issue = parsed.error.issues[0];
	throw new NodeOperationError(
		ctx.getNode(),
		`${labelOf(properties, issue.path)}: ${issue.message}`,
	);
}

/** A node-level parameter (item 0), with the description's default where the workflow has none. */
export function nodeParameter(
	ctx: IExecuteFunctions,
	properties: readonly INodeProperties[],
	name: string,
): unknown {
	return ctx.getNodeParameter(name, 0, propertyAt(properties, name).default);
}
