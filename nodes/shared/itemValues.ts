import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

const SIMPLE_JSON_PATH = /^=\{\{\s*\$json((?:\.[A-Za-z_$][\w$]*|\[\s*(?:"[^"\\]*"|'[^'\\]*')\s*\])+)\s*\}\}$/;

/** `={{ $json.a.b }}` or `={{ $json["a-b"] }}` → ['a', 'b'] / ['a-b']; anything else → undefined. */
export function simpleJsonPath(raw: unknown): string[] | undefined {
	if (typeof raw !== 'string') return undefined;
	const m = SIMPLE_JSON_PATH.exec(raw.trim());
	if (!m) return undefined;
	const path: string[] = [];
	const re = /\.([A-Za-z_$][\w$]*)|\[\s*(?:"([^"\\]*)"|'([^'\\]*)')\s*\]/g;
	for (let p = re.exec(m[1]); p; p = re.exec(m[1])) path.push(p[1] ?? p[2] ?? p[3]);
	return path;
}

function readPath(json: unknown, path: string[]): unknown {
	let v = json;
	for (const key of path) {
		if (v === null || typeof v !== 'object') return undefined;
		v = (v as Record<string, unknown>)[key];
	}
	return v;
}

/** A per-item parameter for every item (see ParameterReader for how each is read). */
export function perItemValues(ctx: IExecuteFunctions, name: string, items: INodeExecutionData[]): unknown[] {
	const reader = new ParameterReader(ctx, items);
	return items.map((_, i) => reader.get(name, i));
}

/** Splits "a, b\nc" into trimmed, non-empty parts. */
export function splitList(text: unknown): string[] {
	if (Array.isArray(text)) return text.map(String).map((s) => s.trim()).filter(Boolean);
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

type Plan = { kind: 'constant'; value: unknown } | { kind: 'path'; path: string[] } | { kind: 'evaluate' };

/**
 * Per-item parameters without n8n's per-item expression cost where it is not needed: a parameter
 * with no expression anywhere is read once; a plain `{{ $json.field }}` is read from the item; any
 * other expression is evaluated by n8n for each item, as usual.
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
			else if (!hasExpression(raw)) plan = { kind: 'constant', value: this.ctx.getNodeParameter(name, 0, fallback as never) };
			else plan = { kind: 'evaluate' };
			this.plans.set(name, plan);
		}
		if (plan.kind === 'constant') return plan.value;
		if (plan.kind === 'path') return readPath(this.items[i].json, plan.path) ?? fallback;
		return this.ctx.getNodeParameter(name, i, fallback as never);
	}
}
