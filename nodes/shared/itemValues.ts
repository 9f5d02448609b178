import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

/*
 * n8n evaluates a parameter that starts with "=" as a template (n8n-workflow's Expression, run by
 * @n8n/tournament): text and `{{ code }}` chunks. One chunk of code and nothing else gives the
 * code's own value; anything else is joined into text. The code reads `$json` and the rest from
 * WorkflowDataProxy, made for one item: every bare name resolves there (its `has` answers true for
 * all), so `json`, `$item`, `$input`, `$(…)`, `$node`, `$parameter`, `$data`, `$binary`,
 * `$position`, `$thisItem…`, `$itemIndex`, `$now`… are all in reach and many depend on the item.
 * The reader skips that cost in two cases it can prove: code that reads nothing of the item
 * (ITEM_INDEPENDENT, evaluated once per run) and `{{ $json.a || $json.b }}` read straight from the
 * item where that surely gives n8n's value (readPath).
 */

/** A template's chunks, cut exactly as @n8n/tournament's splitExpression cuts them (it evaluates them). */
export interface TemplateChunk {
	type: 'text' | 'code';
	text: string;
}

export function splitTemplate(expression: string): TemplateChunk[] {
	if (expression === '') return [{ type: 'text', text: '' }];
	const chunks: TemplateChunk[] = [];
	let open = true; // looking for "{{", else for "}}"
	let buffer = '';
	let index = 0;
	while (index < expression.length) {
		const rest = expression.slice(index);
		const at = rest.indexOf(open ? '{{' : '}}');
		if (at < 0) {
			buffer += rest;
			// tournament drops the backslash of "\}}" (its first one) in code
			chunks.push(open ? { type: 'text', text: buffer } : { type: 'code', text: unescape(buffer) });
			break;
		}
		const backslashes = /\\*$/.exec(rest.slice(0, at))![0].length;
		if (backslashes % 2 === 1) {
			// escaped: part of the text or code
			buffer += rest.slice(0, at + 2);
			index += at + 2;
			continue;
		}
		buffer += rest.slice(0, at);
		chunks.push(
			open
				? { type: 'text', text: buffer.replace(/\\\\/g, '\\') }
				: { type: 'code', text: unescape(buffer) },
		);
		open = !open;
		index += at + 2;
		buffer = '';
	}
	return chunks;
}

const unescape = (code: string) => code.replace('\\}}', '}}');

/**
 * Names n8n's expression sandbox refuses (n8n-workflow's unsafeObjectProperties), and two it
 * rewrites as a property name (`.$` unless alone, `.globalThis`): a path through one is left to
 * n8n, so its error stands.
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
	'$',
	'globalThis',
]);

/**
 * What item-independent code may contain, and nothing else. Names: the ones WorkflowDataProxy
 * answers from the workflow, the node and the execution alone (n8n-core's additional keys: not
 * `$execution.customData`, which a run can change; not `$now`, `$today`, `DateTime`, `Math`,
 * which change by themselves). Values: quoted text, numbers, true/false/null. Operators:
 * `+ || && ?? === !== ! ? :` and parentheses, never a call. No `/`, backtick, brace, dot or
 * backslash outside a name or a quoted text, so a regular expression, a template literal, a comment
 * or an escaped name cannot hide a read.
 */
const ITEM_INDEPENDENT = {
	names: String.raw`\$workflow\.(?:id|name|active)|\$execution\.(?:id|mode|resumeUrl|resumeFormUrl)|\$vars\.[A-Za-z_]\w*|\$(?:executionId|resumeWebhookUrl|runIndex|thisRunIndex|mode|nodeId|nodeVersion|webhookId)`,
	text: String.raw`'(?:[^'\\\n\r\u2028\u2029]|\\[^\n\r\u2028\u2029])*'|"(?:[^"\\\n\r\u2028\u2029]|\\[^\n\r\u2028\u2029])*"`,
	number: String.raw`(?:0|[1-9]\d*)(?:\.\d+)?`,
	literal: 'true|false|null',
	binary: String.raw`\|\||&&|\?\?|===|!==|[+?:]`,
};
const TOKEN = new RegExp(
	[
		String.raw`(\s+)`,
		`(${ITEM_INDEPENDENT.text}|(?:${ITEM_INDEPENDENT.number}|${ITEM_INDEPENDENT.literal}|${ITEM_INDEPENDENT.names})(?![\\w$.]))`,
		`(${ITEM_INDEPENDENT.binary})`,
		String.raw`(!)`,
		String.raw`(\()`,
		String.raw`(\))`,
	].join('|'),
	'y',
);

/** Whether one chunk of code is made only of what ITEM_INDEPENDENT allows, as an operand/operator sequence. */
export function itemIndependentCode(code: string): boolean {
	TOKEN.lastIndex = 0;
	let operand = true; // an operand (or "(" or "!") comes next, else an operator or ")"
	let depth = 0;
	let questions = 0; // a ":" only after a "?" (else it is a label)
	let tokens = 0;
	while (TOKEN.lastIndex < code.length) {
		const m = TOKEN.exec(code);
		if (!m) return false;
		if (m[1]) continue;
		tokens++;
		if (m[2] !== undefined) {
			if (!operand) return false;
			if (m[2].startsWith('$vars.') && UNSAFE_KEYS.has(m[2].slice(6))) return false;
			operand = false;
		} else if (m[3] !== undefined) {
			if (operand) return false;
			if (m[3] === '?') questions++;
			else if (m[3] === ':' && questions-- === 0) return false;
			operand = true;
		} else if (m[4] !== undefined || m[5] !== undefined) {
			if (!operand) return false; // "(" after an operand would be a call
			if (m[5] !== undefined) depth++;
		} else {
			if (operand || depth === 0) return false;
			depth--;
		}
	}
	return tokens > 0 && !operand && depth === 0;
}

/** Whether every expression in a parameter value (nested in collections too) reads nothing of the item. */
function itemIndependent(value: unknown): boolean {
	if (typeof value === 'string')
		return (
			!value.startsWith('=') ||
			splitTemplate(value.slice(1)).every((c) => c.type === 'text' || itemIndependentCode(c.text))
		);
	if (Array.isArray(value)) return value.every(itemIndependent);
	if (value && typeof value === 'object') return Object.values(value).every(itemIndependent);
	return true;
}

// a quoted key holds no quote, backslash, brace (n8n splits its templates at "{{" and "}}") or line break
const KEY = String.raw`\.[A-Za-z_$][\w$]*|\[\s*(?:"[^"\\{}\n\r\u2028\u2029]*"|'[^'\\{}\n\r\u2028\u2029]*'|0|[1-9]\d{0,8})\s*\]`;
const JSON_PATH = String.raw`\$json(?:${KEY})+`;
const JSON_PATH_CHAIN = new RegExp(
	String.raw`^=\{\{\s*(${JSON_PATH}(?:\s*\|\|\s*${JSON_PATH})*)\s*\}\}$`,
);
const OPERAND = new RegExp(String.raw`\$json((?:${KEY})+)(?:\s*\|\|\s*)?`, 'y');

/**
 * `={{ $json.a.b }}`, `={{ $json["a-b"] }}`, `={{ $json.list[0] }}` or a chain of them joined by `||`
 * (`={{ $json.recipient || $json.email }}`) → the paths ([['a', 'b']], [['recipient'], ['email']]);
 * anything else → undefined. Exactly as written: n8n reads ` ={{ … }}` as text and `={{ … }} ` as
 * text after the value.
 */
export function jsonPathChain(raw: unknown): string[][] | undefined {
	if (typeof raw !== 'string') return undefined;
	const m = JSON_PATH_CHAIN.exec(raw);
	// n8n refuses any ".constructor" in an expression, inside quotes too
	if (!m || /\.\s*constructor/.test(raw)) return undefined;
	const chain: string[][] = [];
	OPERAND.lastIndex = 0;
	for (let o = OPERAND.exec(m[1]); o; o = OPERAND.exec(m[1])) {
		const path: string[] = [];
		const re = /\.([A-Za-z_$][\w$]*)|\[\s*(?:"([^"]*)"|'([^']*)'|(\d+))\s*\]/g;
		for (let p = re.exec(o[1]); p; p = re.exec(o[1])) path.push(p[1] ?? p[2] ?? p[3] ?? p[4]);
		chain.push(path);
	}
	return chain.some((path) => path.some((key) => UNSAFE_KEYS.has(key))) ? undefined : chain;
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

/** `a || b || c` over readPath: the first truthy operand or the last one, as JavaScript does. */
function readChain(json: unknown, chain: string[][]): unknown {
	let v: unknown;
	for (const path of chain) {
		v = readPath(json, path);
		if (v === ASK_N8N || v) return v;
	}
	return v;
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
	| { kind: 'constant'; value: unknown }
	| { kind: 'once'; evaluated: boolean; value?: unknown }
	| { kind: 'paths'; chain: string[][] }
	| { kind: 'evaluate' };

/**
 * Per-item parameters without n8n's per-item expression cost where it is not needed: a parameter
 * with no expression anywhere is read once; one whose expressions read nothing of the item
 * (`{{ $workflow.id }}`, see ITEM_INDEPENDENT) is evaluated by n8n once, for the first item asked,
 * and that value stands for every item (if that evaluation fails, every item is evaluated on its
 * own, so each gets n8n's own error); `{{ $json.a.b }}` and `{{ $json.a || $json.b }}` are read from
 * the item where that surely gives what n8n would (readPath); anything else is evaluated by n8n for
 * each item.
 */
export class ParameterReader {
	/** The reader before item-independent expressions and `||` chains (the engine benchmark's comparison): only for bench/. */
	static oldReader = false;

	private readonly plans = new Map<string, Plan>();

	constructor(
		private readonly ctx: IExecuteFunctions,
		private readonly items: INodeExecutionData[],
	) {}

	get(name: string, i: number, fallback?: unknown): unknown {
		let plan = this.plans.get(name);
		if (!plan) {
			plan = this.plan(name, fallback);
			this.plans.set(name, plan);
		}
		switch (plan.kind) {
			case 'constant':
				return plan.value;
			case 'once':
				if (!plan.evaluated) {
					// if n8n throws, its error goes to the node as is and later items ask n8n one by one
					this.plans.set(name, { kind: 'evaluate' });
					plan.value = this.ctx.getNodeParameter(name, i, fallback as never);
					plan.evaluated = true;
					this.plans.set(name, plan);
				}
				return plan.value;
			case 'paths': {
				// as n8n: a missing field is undefined, not `fallback` (that is for a parameter the node lacks)
				const value = readChain(this.items[i].json, plan.chain);
				if (value !== ASK_N8N) return value;
			}
		}
		return this.ctx.getNodeParameter(name, i, fallback as never);
	}

	private plan(name: string, fallback: unknown): Plan {
		const raw = this.ctx.getNodeParameter(name, 0, fallback as never, { rawExpressions: true });
		const old = ParameterReader.oldReader;
		const chain = jsonPathChain(raw);
		if (chain && (!old || chain.length === 1)) return { kind: 'paths', chain };
		if (!hasExpression(raw))
			return { kind: 'constant', value: this.ctx.getNodeParameter(name, 0, fallback as never) };
		if (!old && itemIndependent(raw)) return { kind: 'once', evaluated: false };
		return { kind: 'evaluate' };
	}
}
