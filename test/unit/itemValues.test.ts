import fc from 'fast-check';
import { getParsedExpression } from '@n8n/tournament/dist/ExpressionBuilder';
import { splitExpression } from '@n8n/tournament/dist/ExpressionSplitter';
import { itemIndependentCode, jsonPathChain, splitTemplate } from '../../nodes/shared/itemValues';

/**
 * The two pieces of the parameter reader that must match n8n's evaluator exactly, against the
 * evaluator's own code (@n8n/tournament, which n8n-workflow runs expressions with): how a template
 * is cut into text and code, and what code the reader takes for item-independent (what the parser
 * makes of it). test/workflow/parameterReaderProperty.test.ts checks the values through the engine.
 */

describe('splitTemplate cuts a template exactly as @n8n/tournament does', () => {
	const piece = fc.constantFrom(
		'{',
		'}',
		'{{',
		'}}',
		'\\',
		'\\\\',
		"'",
		'"',
		' ',
		'a',
		'$json',
		'\n',
	);
	it('on 20,000 strings of brackets, backslashes and quotes (fast-check, seeded)', () => {
		fc.assert(
			fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
				const template = pieces.join('');
				const theirs = splitExpression(template).map(({ type, text }) => ({ type, text }));
				expect(splitTemplate(template)).toEqual(theirs);
			}),
			{ numRuns: 20_000, seed: 1202 },
		);
	});

	it('on the shapes that matter: escapes, unclosed code, text around code', () => {
		const cases: Array<[string, Array<[string, string]>]> = [
			[
				'a {{ b }} c',
				[
					['text', 'a '],
					['code', ' b '],
					['text', ' c'],
				],
			],
			['\\{{ b }}', [['text', '\\{{ b }}']]],
			[
				'\\\\{{ b }}',
				[
					['text', '\\'],
					['code', ' b '],
				],
			],
			[
				"{{ '\\}}' }}",
				[
					['text', ''],
					['code', " '}}' "],
				],
			],
			[
				'{{ b',
				[
					['text', ''],
					['code', ' b'],
				],
			],
		];
		for (const [template, chunks] of cases) {
			expect(splitTemplate(template)).toEqual(chunks.map(([type, text]) => ({ type, text })));
			expect(splitExpression(template).map(({ type, text }) => ({ type, text }))).toEqual(
				splitTemplate(template),
			);
		}
	});
});

/** The allow-list, written out again: the names an item-independent expression may read. */
const MEMBERS: Record<string, (property: string) => boolean> = {
	$workflow: (p) => ['id', 'name', 'active'].includes(p),
	$execution: (p) => ['id', 'mode', 'resumeUrl', 'resumeFormUrl'].includes(p),
	$vars: (p) => /^[A-Za-z_]\w*$/.test(p),
};
const NAMES = [
	'$executionId',
	'$resumeWebhookUrl',
	'$runIndex',
	'$thisRunIndex',
	'$mode',
	'$nodeId',
	'$nodeVersion',
	'$webhookId',
];

interface Node {
	type: string;
	[key: string]: unknown;
}

/** Why the parsed code could read something beyond the allow-list, or undefined when it cannot. */
function beyondAllowList(node: Node, parentKey?: string): string | undefined {
	switch (node.type) {
		case 'File':
		case 'Program':
		case 'ExpressionStatement':
			break;
		case 'Literal':
			if ('regex' in node && node.regex) return 'a regular expression';
			return undefined;
		case 'LogicalExpression':
		case 'ConditionalExpression':
			break;
		case 'BinaryExpression':
			if (!['+', '===', '!=='].includes(node.operator as string))
				return `operator ${node.operator}`;
			break;
		case 'UnaryExpression':
			if (node.operator !== '!') return `operator ${node.operator}`;
			break;
		case 'MemberExpression': {
			const object = node.object as Node;
			const property = node.property as Node;
			if (node.computed || object.type !== 'Identifier' || property.type !== 'Identifier')
				return 'a member expression off the list';
			const allowed = MEMBERS[object.name as string];
			return allowed?.(property.name as string)
				? undefined
				: `${object.name as string}.${property.name as string}`;
		}
		case 'Identifier':
			return NAMES.includes(node.name as string) ? undefined : `name ${node.name as string}`;
		default:
			return `${node.type}${parentKey ? ` in ${parentKey}` : ''}`;
	}
	for (const [key, value] of Object.entries(node)) {
		if (['loc', 'tokens', 'comments', 'original', 'range', 'extra'].includes(key)) continue;
		for (const child of Array.isArray(value) ? value : [value]) {
			if (child && typeof child === 'object' && typeof (child as Node).type === 'string') {
				const why = beyondAllowList(child as Node, key);
				if (why) return why;
			}
		}
	}
	return undefined;
}

/**
 * What n8n's evaluator parses the code of `={{code}}` into; undefined for a syntax error (n8n then
 * fails every item alike, and the reader asks for each).
 */
function parses(code: string): Node | undefined {
	try {
		const chunks = getParsedExpression(`{{${code}}}`);
		if (chunks.length !== 2 || chunks[1].type !== 'code') return undefined;
		return (chunks[1] as unknown as { parsed: Node }).parsed;
	} catch {
		return undefined;
	}
}

describe('itemIndependentCode takes only code that reads nothing beyond the allow-list', () => {
	/** allowed pieces (drawn more often), and every near miss that could hide a read: regex, template, comment, escape, call */
	const token = fc.oneof(
		{
			weight: 2,
			arbitrary: fc.constantFrom(
				'$workflow.id',
				'$workflow.name',
				'$execution.mode',
				'$vars.campaign',
				'$runIndex',
				"'a'",
				'"b"',
				"'\\''",
				'(',
				')',
				'+',
				'||',
				'&&',
				'??',
				'!',
				'?',
				':',
				'===',
				'!==',
				'0',
				'1.5',
				'true',
				'null',
				' ',
			),
		},
		{
			weight: 1,
			arbitrary: fc.constantFrom(
				'$execution.customData',
				'$vars',
				'$json',
				'$json.a',
				'json',
				'$now',
				'Math',
				'this',
				'x',
				'.a',
				'?.a',
				"'/*'",
				"'//'",
				'"`"',
				"'",
				'"',
				'`',
				'${',
				'\\',
				'\\u0024json',
				'/',
				'*',
				'//',
				'/*',
				'*/',
				'<!--',
				'-->',
				'-',
				'<',
				'{',
				'}',
				'[',
				']',
				',',
				';',
				'++',
				'=',
				'==',
				'0x1',
				'.5',
				'1e3',
				'undefined',
				'\n',
				'\u2028',
				'\u00a0',
				'#',
			),
		},
	);

	it('on 50,000 token soups: every one it takes parses to allowed names, literals and operators only (fast-check, seeded)', () => {
		let taken = 0;
		fc.assert(
			fc.property(
				fc.array(fc.tuple(token, fc.constantFrom('', ' ')), { minLength: 1, maxLength: 7 }),
				(parts) => {
					const code = parts.map(([t, space]) => t + space).join('');
					if (!itemIndependentCode(code)) return;
					taken++;
					const ast = parses(code);
					if (ast)
						expect({ code, beyond: beyondAllowList(ast) }).toEqual({ code, beyond: undefined });
				},
			),
			{ numRuns: 50_000, seed: 2026 },
		);
		// the soups reach the accepting side often enough for this to say something
		expect(taken).toBeGreaterThan(1000);
	});

	it('takes the shapes a campaign ID or a sender is written with', () => {
		for (const code of [
			' $workflow.id ',
			"$vars.campaign || 'spring'",
			"'campaign-' + $workflow.id + '-' + $execution.mode",
			'$workflow.active ? "live" : "test"',
			'!($execution.id === "1")',
			'1.5',
		])
			expect({ code, taken: itemIndependentCode(code) }).toEqual({ code, taken: true });
	});

	it('refuses the item, the time, chance, calls and anything it cannot read for sure', () => {
		for (const code of [
			'$json.a',
			'$workflow.id + $json.a',
			'$itemIndex',
			'$now',
			'$today',
			'DateTime.now()',
			'Math.random()',
			'$execution.customData.get("a")',
			'$workflow.id.length',
			'$workflow.id()',
			'$vars.constructor',
			'$vars.a.b',
			'`${$json.a}`',
			"'a' / 'b'",
			'',
			'   ',
			'$workflow .id',
			'$workflow["id"]',
			'($workflow.id',
			'$runIndex: $workflow.id',
		])
			expect({ code, taken: itemIndependentCode(code) }).toEqual({ code, taken: false });
	});
});

describe('jsonPathChain', () => {
	it('reads paths joined by ||, keys in quotes or as indexes', () => {
		expect(jsonPathChain('={{ $json.recipient || $json.email }}')).toEqual([
			['recipient'],
			['email'],
		]);
		expect(jsonPathChain('={{$json["a||$json"]||$json.b.c ||  $json.l[0]}}')).toEqual([
			['a||$json'],
			['b', 'c'],
			['l', '0'],
		]);
	});

	it('refuses what n8n reads differently: other operators, text around, unsafe keys', () => {
		for (const raw of [
			'={{ $json.a ?? $json.b }}',
			"={{ $json.a || 'x' }}",
			'={{ $json.a }} {{ $json.b }}',
			'={{ $json.a }} ',
			'={{ $json.$.x }}',
			'={{ $json.globalThis }}',
			'={{ $json["x.constructor"] }}',
			'={{ $json.__proto__ }}',
			'={{ $json[01] }}',
			'={{ $json }}',
		])
			expect({ raw, chain: jsonPathChain(raw) }).toEqual({ raw, chain: undefined });
	});
});
