import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

// a quoted key holds no quote, backslash, brace (n8n splits its templates at "}}") or line break
const KEY = String.raw`\.[A-Za-z_$][\w$]*|\[\s*(?:"[^"\\{}\n\r\u2028\u2029]*"|'[^'\\{}\n\r\u2028\u2029]*')\s*\]`;
const SIMPLE_JSON_PATH = new RegExp(String.raw`^=\{\{\s*\$json((?:${KEY})+)\s*\}\}$`);

/**
 * Names n8n's expression sandbox refuses (n8n-workflow's unsafeObjectProperties): a path through one
 * is left to n8n, so its error stands.
 */
const UNSAFE_KEYS = new Set([
	'__proto__',
	'prototype',
	'constructor',
	'getPrototypeOf',
	'setPrototypeOf',
	'getOwnPropertyDescriptor',
	'getOwnPropertyDescriptors',
	'defineProperty',
	'defineProperties',
	'mainModule',
	'binding',
	'_linkedBinding',
	'_load',
	'prepareStackTrace',
	'__lookupGetter__',
	'__lookupSetter__',
	'__defineGetter__',
	'__defineSetter__',
	'caller',
	'callee',
	'arguments',
	'getBuiltinModule',
	'dlopen',
	'execve',
	'loadEnvFile',
]);

/**
 * `={{ $json.a.b }}` or `={{ $json["a-b"] }}` → ['a', 'b'] / ['a-b']; anything else → undefined. Exactly
 * as written: n8n reads ` ={{ … }}` as text and `={{ … }} ` as text after the value.
 */
export function simpleJsonPath(raw: unknown): string[] | undefined {
	if (typeof raw !== 'string') return undefined;
	const m = SIMPLE_JSON_PATH.exec(raw);
	if (!m) return undefined;
	const path: string[] = [];
	const re = /\.([A-Za-z_$][\w$]*)|\[\s*(?:"([^"]*)"|'([^']*)')\s*\]/g;
	for (let p = re.exec(m[1]); p; p = re.exec(m[1])) path.push(p[1] ?? p[2] ?? p[3]);
	return path.some((key) => UNSAFE_KEYS.has(key)) ? undefined : path;
}

/** readPath's answer where only n8n knows what the expression gives */
const ASK_N8N = Symbol('ask n8n');

/**
 * The value at `path`, where that is surely what n8n's evaluation gives: a missing last key is
 * undefined, text, numbers, booleans and null are returned as they are. A path on through a missing
 * value or a text (`.length`), an inherited property (`.toString`), and objects and arrays (n8n
 * rewrites dates inside them) are left to n8n.
 */
function readPath(json: unknown, path: string[]): unknown {
	let v = json;
	for (const key of path) {
		if (v === null || typeof v !== 'object') return ASK_N8N;
		if (Object.prototype.hasOwnProperty.call(v, key)) v = (v as Record<string, unknown>)[key];
		else if (key in v) return ASK_N8N;
		else v = undefined;
	}
	return (v !== null && typeof v === 'object') || typeof v === 'function' ? ASK_N8N : v;
}

/** A per-item parameter for every item (see ParameterReader for how each is read). */
export function perItemValues(
	ctx: IExecuteFunctions,
	name: string,
	items: INodeExecutionData[],
): unknown[] {
	const reader = new ParameterReader(ctx, items);
	return items.map((_, i) => reader.get(name, i));
}

/** Splits "a, b\nc" into trimmed, non-empty parts. */
export function splitList(text: unknown): string[] {
	if (Array.isArray(text))
		return text
			.map(String)
			.map((s) => s.trim())
			.filter(Boolean);
	if (typeof text !== 'string') return [];
	return text
		.split(/[,\n;]/)
		.map((s) => s.trim())
		.filter(Boolean);
}

function hasExpression(value: unknown): boolean {
	if (typeof value === 'string') return value.startsWith('=');
	if (Array.isArray(value)) return value.some(hasExpression);
	if (value && typeof value === 'object') return Object.values(value).some(hasExpression);
	return false;
}

type Plan =
	{ kind: 'constant'; value: unknown } | { kind: 'path'; path: string[] } | { kind: 'evaluate' };

/**
 * Per-item parameters without n8n's per-item expression cost where it is not needed: a parameter
 * with no expression anywhere is read once; a plain `{{ $json.field }}` is read from the item where
 * that surely gives what n8n would (readPath); anything else is evaluated by n8n for each item.
 */
export class ParameterReader {
	private readonly plans = new Map<string, Plan>();

	constructor(
		private readonly ctx: IExecuteFunctions,
		private readonly items: INodeExecutionData[],
	) {}

	get(name: string, i: number, fallback?: unknown): unknown {
		let plan = this.plans.get(name);
		if (!plan) {
			const raw = this.ctx.getNodeParameter(name, 0, fallback as never, { rawExpressions: true });
			const path = simpleJsonPath(raw);
			if (path) plan = { kind: 'path', path };
			else if (!hasExpression(raw))
				plan = { kind: 'constant', value: this.ctx.getNodeParameter(name, 0, fallback as never) };
			else plan = { kind: 'evaluate' };
			this.plans.set(name, plan);
		}
		if (plan.kind === 'constant') return plan.value;
		if (plan.kind === 'path') {
			// as n8n: a missing field is undefined, not `fallback` (that is for a parameter the node lacks)
			const value = readPath(this.items[i].json, plan.path);
			if (value !== ASK_N8N) return value;
		}
		return this.ctx.getNodeParameter(name, i, fallback as never);
	}
}
