import {
	NodeConnectionTypes,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
} from 'n8n-workflow';
import { ParameterReader, perItemValues } from '../../nodes/shared/itemValues';
import { nodeTypesWith, runWorkflow, type WorkflowJson } from '../helpers/engine';

/**
 * The per-item parameter reader skips n8n's expression engine for constants, expressions that read
 * nothing of the item (evaluated once) and plain `{{ $json.x }}` / `{{ $json.a || $json.b }}`
 * references. Here the same items go through both, the reader and n8n's own
 * getNodeParameter (n8n-core's engine), for every parameter below: they must agree on every item,
 * errors included.
 */

/** read by the reader itself: once for all items (a constant) or from each item's json */
const READ_ITSELF = [
	'plain text',
	'',
	'ann@example.com',
	'{{ $json.email }}',
	' ={{ $json.email }}',
	'={{ $json.email }}',
	'={{$json.email}}',
	'={{   $json.email   }}',
	'={{\n\t$json.email\n}}',
	'={{\u00a0$json.email\u00a0}}',
	'={{ $json.recipient }}',
	'={{ $json.missing }}',
	'={{ $json["x y"] }}',
	"={{ $json['x y'] }}",
	'={{ $json[ "x y" ] }}',
	'={{ $json.n }}',
	'={{ $json.f }}',
	'={{ $json.zero }}',
	'={{ $json.t }}',
	'={{ $json.no }}',
	'={{ $json.nul }}',
	'={{ $json.empty }}',
	'={{ $json.$dollar }}',
	'={{ $json.default }}',
	'={{ $json.recipient || $json.email }}',
	'={{$json.recipient||$json.email}}',
	'={{ $json.missing || $json.zero || $json.empty }}',
	'={{ $json.recipient || $json["x y"] || $json.n }}',
];

/** read nothing of the item: evaluated by n8n once, for every item */
const ONCE = [
	'={{ $workflow.id }}',
	'={{ $workflow.name }}',
	'=campaign-{{ $workflow.id }}/{{ $execution.mode }}',
	"={{ $vars.campaign || 'none' }}",
	"={{ $vars.missing || 'none' }}",
	'={{ $workflow.active ? "on" : "off" }}',
	'={{ ($workflow.id + "-" + $runIndex) }}',
];

/** read nothing of the item but fail: evaluated by n8n for every item, so each has n8n's own error */
const ONCE_FAILING = [
	"={{ '.constructor' }}",
	"={{ $vars.missing ?? $workflow.id || 'a' }}",
	"={{ true ? 'a' }}",
];

/** read from the item where that is sure to agree, else (that item) by n8n */
const MIXED = [
	'={{ $json.a.b }}',
	'={{ $json.a["b"] }}',
	'={{ $json.a.c }}',
	'={{ $json.list.length }}',
	'={{ $json.toString }}',
	'={{ $json.a }}',
	'={{ $json.list }}',
	'={{ $json.list[0] }}',
	'={{ $json.a || $json.email }}',
	'={{ $json.missing || $json.a }}',
];

/** evaluated by n8n for every item */
const LEFT_TO_N8N = [
	'={{ $json.recipient ?? $json.email }}',
	"={{ $json.recipient || 'nobody' }}",
	'={{ $json.recipient && $json.email }}',
	'={{ $json.email }} {{ $json.n }}',
	'={{ $json["x.constructor"] }}',
	'={{ $json.$.x }}',
	'={{ $json.globalThis }}',
	'={{ $workflow.id + $json.email }}',
	'={{ $execution.customData.getAll() }}',
	'={{ $position }}',
	'={{ $thisItemIndex }}',
	'={{ json.email }}',
	'={{ $data.email }}',
	'={{ Math.random() < 2 }}',
	'={{ $now.year }}',
	'={{ $json.email }} ',
	'={{ $json.email }}\n',
	'=Hi {{ $json.email }}',
	'={{ $json.email }}{{ $json.n }}',
	'={{ $json.email.toUpperCase() }}',
	'={{ $json?.email }}',
	// on through a missing value, a text, or to an array: every item here
	'={{ $json.missing.deeper }}',
	'={{ $json.nested.d.e }}',
	'={{ $json.email.length }}',
	'={{ $json.n + 1 }}',
	'={{ $json }}',
	'={{ $json.constructor }}',
	'={{ $json["constructor"] }}',
	'={{ $json.__proto__ }}',
	'={{ $json["a}}b"] }}',
	'={{ $now.toFormat("yyyy") }}',
	'={{ $itemIndex }}',
	'={{ $input.item.json.email }}',
	'={{ $("Recipients").item.json.email }}',
	'={{ (() => $json.email)() }}',
	'={{ JSON.stringify($json.a) }}',
];

const EXPRESSIONS = [...READ_ITSELF, ...ONCE, ...ONCE_FAILING, ...MIXED, ...LEFT_TO_N8N];

const ITEMS: IDataObject[] = [
	{
		email: 'ann@example.com',
		recipient: 'Ann <ann@example.com>',
		a: { b: 'deep', c: null },
		'x y': 'spaced',
		n: 42,
		f: 1.5,
		zero: 0,
		t: true,
		no: false,
		nul: null,
		empty: '',
		list: [1, 2],
		nested: { d: { e: [{ f: 1 }] } },
		$dollar: 'd',
		default: 'kw',
	},
	{ email: 'bob@example.com' },
	{ recipient: '', email: 'c@example.com', a: 'not an object', 'x y': 7, list: 'text' },
	{ a: null, n: '42', t: 'true', email: null, nested: { d: null } },
	{ a: { b: { c: 1 } }, recipient: 'r@example.com', email: 12 },
	{ toString: 'own', constructor: 'own', 'a}}b': 1, email: 'e@example.com' },
];

/** Collections: a constant one (read once) and one with an expression inside (evaluated per item). */
const COLLECTIONS: Record<string, IDataObject> = {
	constantCollection: { first: 'one', second: 'two' },
	mixedCollection: { first: 'one', second: '={{ $json.email }}' },
};

type Outcome = { value: unknown } | { undefined: true } | { error: string };
const outcome = (read: () => unknown): Outcome => {
	try {
		const v = read();
		return v === undefined ? { undefined: true } : { value: v };
	} catch (error) {
		return { error: (error as Error).message };
	}
};

const names = EXPRESSIONS.map((_, k) => `p${k}`);
const collectionOptions: INodeProperties[] = [
	{ displayName: 'First', name: 'first', type: 'string', default: '' },
	{ displayName: 'Second', name: 'second', type: 'string', default: '' },
];

/** Returns, per item, every parameter as n8n reads it and as the reader does, and how often the reader asked n8n. */
class ReaderProbe implements INodeType {
	description = {
		displayName: 'Reader Probe',
		name: 'readerProbe',
		group: ['transform'],
		version: 1,
		description: '',
		defaults: { name: 'Probe' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			...names.map((name): INodeProperties => ({
				displayName: name,
				name,
				type: 'string',
				default: '',
			})),
			...Object.keys(COLLECTIONS).map((name): INodeProperties => ({
				displayName: name,
				name,
				type: 'collection',
				default: {},
				options: collectionOptions,
			})),
			// hidden, so the workflow holds no value: both must give the caller's fallback
			{
				displayName: 'Hidden',
				name: 'hidden',
				type: 'string',
				default: 'shown default',
				displayOptions: { show: { p0: ['never'] } },
			},
		],
	} as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const all = [...names, ...Object.keys(COLLECTIONS), 'hidden'];
		const fallback = (name: string) => (name === 'hidden' ? 'the fallback' : undefined);
		const n8n = items.map((_, i) =>
			all.map((name) => outcome(() => this.getNodeParameter(name, i, fallback(name)))),
		);
		const reader: Outcome[][] = items.map(() => []);
		const asked: number[] = [];
		const listed: Outcome[][] = [];
		for (const name of all) {
			let calls = 0;
			const counting = {
				getNodeParameter: (...args: Parameters<IExecuteFunctions['getNodeParameter']>) => {
					if (!(args[3] as { rawExpressions?: boolean } | undefined)?.rawExpressions) calls++;
					return this.getNodeParameter(...args);
				},
			} as unknown as IExecuteFunctions;
			const params = new ParameterReader(counting, items);
			items.forEach((_, i) => reader[i].push(outcome(() => params.get(name, i, fallback(name)))));
			asked.push(calls);
			const values = outcome(() => perItemValues(this, name, items));
			listed.push(
				'value' in values ? (values.value as unknown[]).map((v) => outcome(() => v)) : [],
			);
		}
		return [
			items.map((_, i) => ({
				json: {
					n8n: n8n[i],
					reader: reader[i],
					...(i === 0 ? { asked, listed } : {}),
				} as unknown as IDataObject,
				pairedItem: { item: i },
			})),
		];
	}
}

function probeWorkflow(): WorkflowJson {
	const parameters: IDataObject = { ...COLLECTIONS };
	EXPRESSIONS.forEach((e, k) => (parameters[names[k]] = e));
	return {
		id: 'reader-workflow',
		name: 'Reader agreement',
		nodes: [
			{
				id: 't',
				name: 'Start',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'r',
				name: 'Recipients',
				type: 'test.injectedItems',
				typeVersion: 1,
				position: [200, 0],
				parameters: {},
			},
			{
				id: 'p',
				name: 'Probe',
				type: 'n8n-nodes-postal-routes.readerProbe',
				typeVersion: 1,
				position: [400, 0],
				parameters: parameters as never,
			},
		],
		connections: {
			Start: { main: [[{ node: 'Recipients', type: NodeConnectionTypes.Main, index: 0 }]] },
			Recipients: { main: [[{ node: 'Probe', type: NodeConnectionTypes.Main, index: 0 }]] },
		},
	};
}

describe('ParameterReader agrees with n8n’s own evaluation (n8n-core engine)', () => {
	let n8n: Outcome[][];
	let reader: Outcome[][];
	let asked: number[];
	let listed: Outcome[][];

	beforeAll(async () => {
		const run = await runWorkflow(
			probeWorkflow(),
			{ Recipients: ITEMS },
			{
				nodeTypes: nodeTypesWith({ readerProbe: new ReaderProbe() }),
				variables: { campaign: 'spring' },
			},
		);
		expect(run.error).toBeUndefined();
		const out = run.outputs('Probe')[0].map(
			(item) =>
				item.json as unknown as {
					n8n: Outcome[];
					reader: Outcome[];
					asked?: number[];
					listed?: Outcome[][];
				},
		);
		n8n = out.map((o) => o.n8n);
		reader = out.map((o) => o.reader);
		asked = out[0].asked!;
		listed = out[0].listed!;
	});

	const column = (rows: Outcome[][], k: number) => rows.map((row) => row[k]);
	const indexOf = (expression: string) => EXPRESSIONS.indexOf(expression);

	it.each(READ_ITSELF)(
		'reads %j itself, as n8n does, without asking n8n per item',
		(expression) => {
			const k = indexOf(expression);
			expect(column(reader, k)).toEqual(column(n8n, k));
			// a constant is evaluated once; a $json reference not at all
			expect(asked[k]).toBeLessThanOrEqual(1);
		},
	);

	it.each(ONCE)('evaluates %j once for all items, as n8n gives it for each', (expression) => {
		const k = indexOf(expression);
		expect(column(n8n, k).every((o) => 'value' in o)).toBe(true);
		expect(column(reader, k)).toEqual(column(n8n, k));
		expect(asked[k]).toBe(1);
	});

	it.each(ONCE_FAILING)(
		'evaluates %j for every item when its one evaluation fails: n8n’s error for each',
		(expression) => {
			const k = indexOf(expression);
			expect(column(n8n, k).every((o) => 'error' in o)).toBe(true);
			expect(column(reader, k)).toEqual(column(n8n, k));
			expect(asked[k]).toBe(ITEMS.length);
		},
	);

	it.each(MIXED)(
		'reads %j from the item where that is sure, else asks n8n for that item: the same values',
		(expression) => {
			const k = indexOf(expression);
			expect(column(reader, k)).toEqual(column(n8n, k));
			expect(asked[k]).toBeGreaterThan(0);
			expect(asked[k]).toBeLessThan(ITEMS.length);
		},
	);

	it.each(LEFT_TO_N8N)('leaves %j to n8n for every item', (expression) => {
		const k = indexOf(expression);
		expect(column(reader, k)).toEqual(column(n8n, k));
		expect(asked[k]).toBe(ITEMS.length);
	});

	it('gives what n8n gives for a field that is missing or null, not the fallback', () => {
		const k = indexOf('={{ $json.nul }}');
		expect(column(n8n, k).slice(0, 2)).toEqual([{ value: null }, { undefined: true }]);
		expect(column(reader, k).slice(0, 2)).toEqual([{ value: null }, { undefined: true }]);
	});

	it('reads collections: a constant one once, one with an expression inside per item', () => {
		const constant = names.length;
		const mixed = names.length + 1;
		expect(column(reader, constant)).toEqual(column(n8n, constant));
		expect(column(reader, mixed)).toEqual(column(n8n, mixed));
		expect(column(n8n, mixed)[1]).toEqual({ value: { first: 'one', second: 'bob@example.com' } });
		expect(asked[constant]).toBe(1);
		expect(asked[mixed]).toBe(ITEMS.length);
	});

	it('gives the caller’s fallback for a parameter the workflow has no value for, as n8n does', () => {
		const hidden = names.length + 2;
		expect(column(n8n, hidden)).toEqual(ITEMS.map(() => ({ value: 'the fallback' })));
		expect(column(reader, hidden)).toEqual(column(n8n, hidden));
	});

	it('perItemValues gives the reader’s values for every parameter n8n reads without an error', () => {
		EXPRESSIONS.forEach((_, k) => {
			if (column(n8n, k).some((o) => 'error' in o)) return;
			expect(listed[k]).toEqual(column(n8n, k));
		});
	});
});
