/**
 * Domain Group Classifier with Check Suppression List, through the n8n engine on the embedded
 * store: a recipient on the list (written with store.suppress, as the Bounce Parser writes it) is
 * flagged with postalSuppressed, or leaves on a Suppressed output appended after the others; the
 * rest are unchanged; every item leaves on exactly one output; one list read per batch.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { suppressionDigest } from '../../lib/state/keys';
import { embeddedStateStore, resetEmbeddedStateStore } from '../../lib/state/registry';
import { GROUP_LABELS } from '../../nodes/DomainGroupClassifier/description';
import { classifierOutputs } from '../../nodes/DomainGroupClassifier/outputs';
import { PACKAGE, runWorkflow, type WorkflowJson } from '../helpers/engine';

function workflow(parameters: IDataObject): WorkflowJson {
	const node = (id: string, name: string, type: string, x: number, p: IDataObject = {}) => ({
		id,
		name,
		type,
		typeVersion: 1,
		position: [x, 0] as [number, number],
		parameters: p as never,
	});
	return {
		id: 'wfClassifierSuppression',
		nodes: [
			node('t', 'Manual Trigger', 'n8n-nodes-base.manualTrigger', 0),
			node('r', 'Recipients', 'test.injectedItems', 200),
			{
				...node('c', 'Classify', `${PACKAGE}.domainGroupClassifier`, 400, parameters),
				typeVersion: 2,
			},
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: 'Classify', type: 'main', index: 0 }]] },
		},
	};
}

const DAY = 86_400_000;
const AT = Date.parse('2026-11-04T10:00:00.000Z');

/** ann bounced hard (for good), bob's mailbox was full (3 days), on the default list */
async function suppressAnnAndBob(list = ''): Promise<void> {
	const store = embeddedStateStore();
	const secret = await store.hashSecret();
	await store.suppress(list, [
		{
			key: suppressionDigest(secret, 'ann@gmail.com'),
			reason: 'hard-bounce',
			source: 'dsn',
			hint: 'a***@gmail.com',
			at: AT,
		},
		{
			key: suppressionDigest(secret, 'bob@yahoo.com'),
			reason: 'soft-bounce',
			source: 'sendgrid',
			hint: 'b***@yahoo.com',
			at: Date.now(),
			until: Date.now() + 3 * DAY,
		},
	]);
}

const people = [
	{ email: 'Ann <ANN@Gmail.com>' },
	{ email: 'bob@yahoo.com' },
	{ email: 'carol@gmail.com' },
	{ email: 'dave@outlook.com' },
	{ email: 'not an address' },
];

const emails = (items: INodeExecutionData[]) => items.map((i) => i.json.email);
const paired = (outputs: INodeExecutionData[][]) =>
	outputs
		.flat()
		.map((i) => (i.pairedItem as { item: number }).item)
		.sort();

describe('Domain Group Classifier: Check Suppression List', () => {
	beforeEach(() => resetEmbeddedStateStore());
	afterAll(() => resetEmbeddedStateStore());

	it('Flag Only: suppressed recipients keep their output and say why; the others are unchanged', async () => {
		await suppressAnnAndBob();
		const reads = jest.spyOn(embeddedStateStore(), 'getSuppressions');
		const run = await runWorkflow(workflow({ checkSuppression: true }), { Recipients: people });
		expect(run.error).toBeUndefined();
		const outputs = run.outputs('Classify');
		expect(outputs).toHaveLength(1);
		const [out] = outputs;
		expect(paired(outputs)).toEqual([0, 1, 2, 3, 4]);
		expect(out.map((i) => [i.json.recipient, i.json.domainGroup, i.json.postalSuppressed])).toEqual(
			[
				[
					'ANN@gmail.com',
					'google',
					{ reason: 'hard-bounce', source: 'dsn', since: '2026-11-04T10:00:00.000Z' },
				],
				[
					'bob@yahoo.com',
					'yahoo',
					{
						reason: 'soft-bounce',
						source: 'sendgrid',
						since: expect.any(String),
						until: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
					},
				],
				['carol@gmail.com', 'google', undefined],
				['dave@outlook.com', 'microsoft', undefined],
				[null, 'invalid', undefined],
			],
		);
		// one read for the whole batch, of the four addresses (the invalid one has none)
		expect(reads).toHaveBeenCalledTimes(1);
		expect(reads.mock.calls[0][1]).toHaveLength(4);
		reads.mockRestore();

		// off (the default): nothing is read, nothing flagged
		const off = await runWorkflow(workflow({}), { Recipients: people });
		expect(off.outputs('Classify')[0].map((i) => i.json.postalSuppressed)).toEqual(
			Array(5).fill(undefined),
		);
	});

	it('Send to Suppressed Output: a new last output; every other output keeps its index', async () => {
		await suppressAnnAndBob();
		const perGroup = {
			outputMode: 'perGroup',
			groups: ['google', 'microsoft'],
			checkSuppression: true,
			suppressedAction: 'output',
		};
		const run = await runWorkflow(workflow(perGroup), { Recipients: people });
		expect(run.error).toBeUndefined();
		const outputs = run.outputs('Classify');
		expect(outputs.map(emails)).toEqual([
			['carol@gmail.com'],
			['dave@outlook.com'],
			[],
			['not an address'],
			['Ann <ANN@Gmail.com>', 'bob@yahoo.com'],
		]);
		expect(paired(outputs)).toEqual([0, 1, 2, 3, 4]);
		expect(outputs[4].map((i) => (i.json.postalSuppressed as IDataObject).reason)).toEqual([
			'hard-bounce',
			'soft-bounce',
		]);
		expect(outputs[4].map((i) => i.json.domainGroup)).toEqual(['google', 'yahoo']);

		// Add Fields mode: Output, then Suppressed
		const fields = await runWorkflow(
			workflow({ checkSuppression: true, suppressedAction: 'output' }),
			{ Recipients: people },
		);
		expect(fields.outputs('Classify').map(emails)).toEqual([
			['carol@gmail.com', 'dave@outlook.com', 'not an address'],
			['Ann <ANN@Gmail.com>', 'bob@yahoo.com'],
		]);
	});

	it('the outputs a saved workflow has are the same until the option asks for the new one', () => {
		const saved = { outputMode: 'perGroup', groups: ['google', 'yahoo'] };
		const names = (p: IDataObject) =>
			classifierOutputs(p as never, GROUP_LABELS).map((s) => s.displayName);
		const before = ['Google', 'Yahoo', 'Other', 'Invalid'];
		expect(names(saved)).toEqual(before);
		expect(names({ ...saved, checkSuppression: true })).toEqual(before);
		expect(names({ ...saved, checkSuppression: true, suppressedAction: 'flag' })).toEqual(before);
		expect(names({ ...saved, suppressedAction: 'output' })).toEqual(before);
		expect(names({ ...saved, checkSuppression: true, suppressedAction: 'output' })).toEqual([
			...before,
			'Suppressed',
		]);
		// a custom group called "suppressed" is a group like any other
		expect(
			names({
				...saved,
				customGroups: { values: [{ name: 'Suppressed' }] },
				checkSuppression: true,
				suppressedAction: 'output',
			}),
		).toEqual(['Google', 'Yahoo', 'Suppressed', 'Other', 'Invalid', 'Suppressed']);
	});

	it('reads the list it is given, and puts the flag with the other fields under Put Fields Under', async () => {
		await suppressAnnAndBob('newsletter');
		const run = await runWorkflow(
			workflow({ checkSuppression: true, suppressionList: ' newsletter ', fieldKey: 'c' }),
			{ Recipients: people.slice(0, 3) },
		);
		expect(run.error).toBeUndefined();
		expect(
			run
				.outputs('Classify')[0]
				.map((i) => ((i.json.c as IDataObject).postalSuppressed as IDataObject)?.reason),
		).toEqual(['hard-bounce', 'soft-bounce', undefined]);
		// the default list holds neither
		const other = await runWorkflow(workflow({ checkSuppression: true }), {
			Recipients: people.slice(0, 3),
		});
		expect(other.outputs('Classify')[0].map((i) => i.json.postalSuppressed)).toEqual([
			undefined,
			undefined,
			undefined,
		]);
	});
});
