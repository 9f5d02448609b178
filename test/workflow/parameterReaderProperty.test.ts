import { inspect, isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
	NodeConnectionTypes,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
} from 'n8n-workflow';
import { ParameterReader } from '../../nodes/shared/itemValues';
import { nodeTypesWith, runWorkflow, type WorkflowJson } from '../helpers/engine';

/**
 * The per-item parameter reader against n8n's own evaluation, on random items and expressions
 * (fast-check, seeded): for every expression and every item, what the reader gives must be what
 * `getNodeParameter(name, i)` gives in n8n-core's engine, errors included. The expressions come
 * from a grammar of the shapes the reader answers itself (`$json` paths joined by `||`, templates
 * that read nothing of the item) and of near misses it must leave to n8n for every item.
 */

const SEED = 20261202;
const RUNS = 60;
const PER_RUN = 25; // expressions per workflow run: RUNS × PER_RUN cases

type Tag = 'fast' | 'once' | 'n8n' | 'any';
interface Case {
	tag: Tag;
	expression: string;
}

// ---------------------------------------------------------------------------------------------
// items
// ---------------------------------------------------------------------------------------------

/** keys a path may use and the reader may read (some inherited: `toString`, `valueOf`, `length`) */
const IDENT_KEYS = ['a', 'b', 'email', 'recipient', '$dollar', '_u', 'default', 'length'];
const INHERITED_KEYS = ['toString', 'valueOf', 'hasOwnProperty'];
const QUOTED_KEYS = ['x y', 'a-b', "it's", 'q"q', '', '0', '1', 'é'];
/** keys the sandbox refuses or rewrites, and keys n8n's template split or parser read differently */
const UNSAFE_KEYS = [
	'constructor',
	'__proto__',
	'prototype',
	'$',
	'globalThis',
	'a.constructor',
	'a. constructor',
	'br{ace',
	'a}}b',
	'a{{b',
	'back\\slash',
];
const ITEM_KEYS = [
	...IDENT_KEYS,
	...QUOTED_KEYS,
	'toString',
	'constructor',
	'$',
	'globalThis',
	'a.constructor',
	'a}}b',
];

const leaf = fc.oneof(
	fc.constantFrom('', ' ', 'ann@example.com', 'Ann <ann@example.com>', '0', 'false', 'null'),
	fc.string({ maxLength: 6 }),
	fc.integer(),
	fc.double(),
	fc.constantFrom(0, -0, NaN, Infinity),
	fc.boolean(),
	fc.constant(null),
	fc.constant(undefined),
	fc.date(),
);
const { tree } = fc.letrec((tie) => ({
	tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('object'), tie('array')),
	object: fc.dictionary(fc.constantFrom(...ITEM_KEYS), tie('tree'), { maxKeys: 4 }),
	array: fc.array(tie('tree'), { maxLength: 3 }),
}));
/** mostly text, numbers and the like at the top, where most paths end; objects and arrays below */
const item = fc
	.tuple(
		fc.dictionary(
			fc.constantFrom(...ITEM_KEYS),
			fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 2, arbitrary: tree }),
			{ maxKeys: 8 },
		),
		// the keys the sandbox treats apart, often holding an object a path could go on into
		fc.record(
			Object.fromEntries(
				['$', 'globalThis', 'a.constructor', 'constructor'].map((k) => [
					k,
					fc.oneof(leaf, fc.dictionary(fc.constantFrom(...IDENT_KEYS), leaf, { maxKeys: 3 })),
				]),
			),
			{ requiredKeys: [] },
		),
	)
	.map(([plain, special]) => ({ ...plain, ...special })) as fc.Arbitrary<Record<string, unknown>>;

// ---------------------------------------------------------------------------------------------
// expressions
// ---------------------------------------------------------------------------------------------

const ws = fc.constantFrom('', ' ', '  ', '\n', '\t', '\u00a0');

/** the ways a key can be written after `$json` */
function renderings(key: string): string[] {
	const out: string[] = [];
	if (/^[A-Za-z_$][\w$]*$/.test(key)) out.push(`.${key}`, `["${key}"]`, `[ '${key}' ]`);
	else {
		if (/^(0|[1-9]\d*)$/.test(key)) out.push(`[${key}]`, `[ ${key} ]`);
		if (!key.includes('"')) out.push(`["${key}"]`);
		if (!key.includes("'")) out.push(`['${key}']`);
	}
	return out;
}
const keyFrom = (keys: string[]) =>
	fc.constantFrom(...keys).chain((k) => fc.constantFrom(...renderings(k)));
/** `$json` and one to three keys, one most often (a longer path goes on through a missing key) */
const path = (keys: fc.Arbitrary<string>) =>
	fc
		.oneof(
			{ weight: 4, arbitrary: fc.tuple(keys) },
			{ weight: 2, arbitrary: fc.tuple(keys, keys) },
			{ weight: 1, arbitrary: fc.tuple(keys, keys, keys) },
		)
		.map((ks) => `$json${ks.join('')}`);
const safePath = path(
	fc.oneof(
		{ weight: 8, arbitrary: keyFrom([...IDENT_KEYS, ...QUOTED_KEYS]) },
		{ weight: 1, arbitrary: keyFrom(INHERITED_KEYS) },
	),
);
const orJoined = (operands: fc.Arbitrary<string>, max = 3) =>
	fc
		.tuple(fc.array(operands, { minLength: 1, maxLength: max }), ws, ws)
		.map(([ops, before, after]) => ops.join(`${before}||${after}`));
const wrapped = (code: fc.Arbitrary<string>) =>
	fc.tuple(ws, code, ws).map(([a, c, b]) => `={{${a}${c}${b}}}`);

/** what the reader answers from the item where it is sure */
const fast: fc.Arbitrary<Case> = wrapped(orJoined(safePath)).map((expression) => ({
	tag: 'fast',
	expression,
}));

const ITEM_INDEPENDENT_OPERANDS = [
	'$workflow.id',
	'$workflow.name',
	'$workflow.active',
	'$execution.id',
	'$execution.mode',
	'$execution.resumeUrl',
	'$execution.resumeFormUrl',
	'$executionId',
	'$resumeWebhookUrl',
	'$vars.campaign',
	'$vars.missing',
	'$runIndex',
	'$thisRunIndex',
	'$mode',
	'$nodeId',
	'$nodeVersion',
	'$webhookId',
	"'text'",
	'"q"',
	"'it\\'s'",
	"'}'",
	'0',
	'1.5',
	'true',
	'false',
	'null',
];
const constantCode = (operand: fc.Arbitrary<string>) =>
	fc.letrec((tie) => ({
		expr: fc.oneof(
			{ depthSize: 'small', withCrossShrink: true },
			operand,
			tie('binary'),
			tie('group'),
			tie('not'),
			tie('conditional'),
		),
		binary: fc
			.tuple(
				tie('expr'),
				fc.constantFrom(' + ', ' || ', ' && ', ' === ', ' !== ', ' ?? ', '+'),
				tie('expr'),
			)
			.map(([a, op, b]) => `${a}${op}${b}`),
		group: tie('expr').map((e) => `(${e})`),
		not: tie('expr').map((e) => `!${e}`),
		conditional: fc
			.tuple(tie('expr'), tie('expr'), tie('expr'))
			.map(([a, b, c]) => `${a} ? ${b} : ${c}`),
	})).expr as fc.Arbitrary<string>;
const template = (code: fc.Arbitrary<string>, text: fc.Arbitrary<string>) =>
	fc
		.array(fc.tuple(text, ws, code, ws), { minLength: 1, maxLength: 3 })
		.chain((parts) =>
			text.map((tail) => `=${parts.map(([t, a, c, b]) => `${t}{{${a}${c}${b}}}`).join('')}${tail}`),
		);
const safeText = fc.constantFrom('', 'x', ' - ', 'campaign ', ':', '/', '#', '"');

/** reads nothing of the item: n8n evaluates it once */
const once: fc.Arbitrary<Case> = template(
	constantCode(fc.constantFrom(...ITEM_INDEPENDENT_OPERANDS)),
	safeText,
).map((expression) => ({ tag: 'once', expression }));

/** operands that depend on the item, the time or chance, or that the allow-list does not name */
const ITEM_DEPENDENT_OPERANDS = [
	'$json.a + ""',
	'($json.email)',
	'!$json["x y"]',
	'$itemIndex',
	'$position',
	'$thisItemIndex',
	'$thisItem.json.a',
	'$input.item.json.email',
	'$("Recipients").item.json.email',
	'$node["Recipients"].json.email',
	'$item(0).$json.email',
	'$data.email',
	'json.email',
	'$binary',
	'$parameter.p0',
	'$now.year',
	'$today.year',
	'DateTime.now().year',
	'Math.random() < 2',
	'$execution.customData.getAll()',
	'$jmespath($json, "email")',
	'$vars.campaign.length',
	'$workflow.id.length',
	'$workflow .id',
	'$workflow?.id',
	'$workflow["id"]',
	'$prevNode.name',
];

const unsafePath = fc
	.tuple(
		fc.array(keyFrom(IDENT_KEYS), { maxLength: 2 }),
		keyFrom(UNSAFE_KEYS),
		fc.array(keyFrom(IDENT_KEYS), { maxLength: 1 }),
	)
	.map(([a, u, b]) => `$json${a.join('')}${u}${b.join('')}`);
const oddAccess = fc
	.tuple(keyFrom(IDENT_KEYS), fc.constantFrom('?.a', ' .a', '.a()', '[`a`]', '.a.b.c.d'))
	.map(([k, odd]) => `$json${k}${odd}`);

/** near misses of both shapes: n8n must evaluate them for every item */
const nearMiss: fc.Arbitrary<Case> = fc
	.oneof(
		// another operator, or a literal in the chain
		fc
			.tuple(safePath, fc.constantFrom(' ?? ', ' && ', ' | ', ' + ', ' === ', ' ||| '), safePath)
			.map(([a, op, b]) => `={{ ${a}${op}${b} }}`),
		fc
			.tuple(orJoined(safePath, 2), fc.constantFrom("'x'", '""', '0', 'null', '$json'))
			.map(([chain, literal]) => `={{ ${chain} || ${literal} }}`),
		fc.tuple(safePath, safePath).map(([a, b]) => `={{ ${a} || (${b}) }}`),
		// unsafe keys, odd accessors
		fc
			.tuple(unsafePath, fc.array(safePath, { maxLength: 1 }), fc.boolean())
			.map(([unsafe, [other], first]) =>
				other === undefined
					? `={{ ${unsafe} }}`
					: `={{ ${first ? unsafe : other} || ${first ? other : unsafe} }}`,
			),
		wrapped(oddAccess),
		// more than the one value: text around it, two of them
		fc
			.tuple(fc.constantFrom('= ', '=x', '=\\\\'), wrapped(orJoined(safePath, 2)))
			.map(([before, e]) => before + e.slice(1)),
		fc
			.tuple(wrapped(orJoined(safePath, 2)), fc.constantFrom(' ', '\n', 'x', '}', '{{ 1 }}'))
			.map(([e, after]) => e + after),
		fc
			.tuple(wrapped(safePath), fc.constantFrom('', ' ', ' - '), wrapped(safePath))
			.map(([a, between, b]) => `${a}${between}${b.slice(1)}`),
		// item-independent code with something of the item, the time or chance in it
		template(
			constantCode(
				fc.oneof(
					{ weight: 1, arbitrary: fc.constantFrom(...ITEM_INDEPENDENT_OPERANDS) },
					{ weight: 1, arbitrary: fc.constantFrom(...ITEM_DEPENDENT_OPERANDS) },
				),
			),
			safeText,
		).filter((e) => ITEM_DEPENDENT_OPERANDS.some((o) => e.includes(o))),
	)
	.map((expression) => ({ tag: 'n8n', expression }));

/** anything: escapes, stray brackets and quotes around either kind of code (values must agree) */
const anything: fc.Arbitrary<Case> = fc
	.oneof(
		template(
			fc.oneof(
				constantCode(fc.constantFrom(...ITEM_INDEPENDENT_OPERANDS, '$json.email', '$json.a')),
				orJoined(safePath),
				fc.constantFrom('', ' ', "'\\}}'", '"{{"', "'}}' + $json.email", '\\', '}'),
			),
			fc.constantFrom('', '\\', '\\\\', '{', '}', '}}', '\\{{', '\\\\{{', "'", 'x'),
		),
		// not an expression, or one whose "{{" is escaped: text
		fc
			.tuple(fc.constantFrom(' =', '', '=\\', '= \\'), wrapped(orJoined(safePath, 2)))
			.map(([before, e]) => before + e.slice(1)),
	)
	.map((expression) => ({ tag: 'any', expression }));

const cases = fc.array(
	fc.oneof(
		{ weight: 6, arbitrary: fast },
		{ weight: 4, arbitrary: once },
		{ weight: 6, arbitrary: nearMiss },
		{ weight: 3, arbitrary: anything },
	),
	{ minLength: PER_RUN, maxLength: PER_RUN },
);

// ---------------------------------------------------------------------------------------------
// the probe: every parameter read by n8n and by the reader, compared in the node
// ---------------------------------------------------------------------------------------------

type Outcome = { value: unknown } | { error: string };
const outcome = (read: () => unknown): Outcome => {
	try {
		return { value: read() };
	} catch (error) {
		return { error: `${(error as Error).constructor.name}: ${(error as Error).message}` };
	}
};

interface Checked {
	/** items where the reader's answer differs from n8n's */
	mismatches: string[];
	/** how often the reader asked n8n to evaluate (not counting its one raw read) */
	asked: number;
	/** items n8n answered with an error */
	errors: number;
}

function probe(names: string[]): INodeType {
	return {
		description: {
			displayName: 'Reader Probe',
			name: 'readerProbe',
			group: ['transform'],
			version: 1,
			description: '',
			defaults: { name: 'Probe' },
			inputs: [NodeConnectionTypes.Main],
			outputs: [NodeConnectionTypes.Main],
			properties: names.map((name) => ({
				displayName: name,
				name,
				type: 'string' as const,
				default: '',
			})),
		},
		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			const items = this.getInputData();
			const checked: Checked[] = names.map((name) => {
				let asked = 0;
				const counting = {
					getNodeParameter: (...args: Parameters<IExecuteFunctions['getNodeParameter']>) => {
						if (!(args[3] as { rawExpressions?: boolean } | undefined)?.rawExpressions) asked++;
						return this.getNodeParameter(...args);
					},
				} as unknown as IExecuteFunctions;
				const reader = new ParameterReader(counting, items);
				const mismatches: string[] = [];
				let errors = 0;
				items.forEach((_, i) => {
					const theirs = outcome(() => this.getNodeParameter(name, i));
					const ours = outcome(() => reader.get(name, i));
					if ('error' in theirs) errors++;
					if (!isDeepStrictEqual(ours, theirs))
						mismatches.push(
							`item ${i} ${inspect(items[i].json, { depth: 5 })}: n8n ${inspect(theirs)}, reader ${inspect(ours)}`,
						);
				});
				return { mismatches, asked, errors };
			});
			return [[{ json: { checked } as unknown as IDataObject }]];
		},
	};
}

function probeWorkflow(expressions: string[]): WorkflowJson {
	const parameters: IDataObject = {};
	expressions.forEach((e, k) => (parameters[`p${k}`] = e));
	return {
		id: 'reader-property',
		name: 'Reader property',
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

describe('ParameterReader = n8n’s getNodeParameter on random items and expressions (fast-check, n8n-core engine)', () => {
	it(`${(RUNS * PER_RUN).toLocaleString('en')} expressions, seed ${SEED}`, async () => {
		const seen: Record<Tag, number> = { fast: 0, once: 0, n8n: 0, any: 0 };
		let fastReads = 0;
		let fastItems = 0;
		let onceEvaluated = 0;
		await fc.assert(
			fc.asyncProperty(
				cases,
				fc.array(item, { minLength: 1, maxLength: 8 }),
				async (list, items) => {
					const names = list.map((_, k) => `p${k}`);
					const run = await runWorkflow(
						probeWorkflow(list.map((c) => c.expression)),
						{ Recipients: items as IDataObject[] },
						{
							nodeTypes: nodeTypesWith({ readerProbe: probe(names) }),
							variables: { campaign: 'spring' },
						},
					);
					expect(run.error).toBeUndefined();
					const { checked } = run.outputs('Probe')[0][0].json as unknown as {
						checked: Checked[];
					};
					list.forEach((c, k) => {
						const { mismatches, asked, errors } = checked[k];
						const where = `${c.tag} ${JSON.stringify(c.expression)}`;
						expect({ where, mismatches }).toEqual({ where, mismatches: [] });
						seen[c.tag]++;
						if (c.tag === 'n8n') expect({ where, asked }).toEqual({ where, asked: items.length });
						if (c.tag === 'once') {
							// evaluated once, or (if that fails, as it does for every item) for each item
							const expected = errors === items.length ? items.length : 1;
							expect({ where, asked, errors }).toEqual({ where, asked: expected, errors });
							if (errors === 0) onceEvaluated++;
						}
						if (c.tag === 'fast') {
							fastItems += items.length;
							fastReads += items.length - asked;
						}
					});
				},
			),
			{ seed: SEED, numRuns: RUNS },
		);
		// every kind was drawn often, and the reader answered many fast-path reads itself
		expect(seen.fast).toBeGreaterThan(300);
		expect(seen.once).toBeGreaterThan(200);
		expect(seen.n8n).toBeGreaterThan(200);
		expect(seen.any).toBeGreaterThan(100);
		expect(onceEvaluated).toBeGreaterThan(100);
		expect(fastReads).toBeGreaterThan(fastItems / 4);
	});
});
