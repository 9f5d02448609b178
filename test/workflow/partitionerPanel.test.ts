import {
	NodeHelpers,
	Workflow,
	type IDataObject,
	type INode,
	type INodeOutputConfiguration,
	type INodeParameters,
} from 'n8n-workflow';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { sendParametersSchema } from '../../nodes/LoadBalancedSend/options';
import { loadWorkflow, nodeTypes, PACKAGE, runWorkflow, withParameters } from '../helpers/engine';
import { recipients } from '../helpers/recipients';

/**
 * The Route Partitioner's panel as n8n's editor and engine read it: the parameters a fresh node
 * gets, the issues n8n flags, which fields it shows, and old parameter shapes still running.
 */
const type = `${PACKAGE}.routePartitioner`;
const description = nodeTypes.getByNameAndVersion(type).description;

function node(parameters: INodeParameters): INode {
	return { id: 'p', name: 'P', type, typeVersion: 1, position: [0, 0], parameters };
}
/** The parameters as n8n resolves them: defaults filled in, hidden fields left out. */
const resolved = (parameters: INodeParameters) =>
	NodeHelpers.getNodeParameters(
		description.properties,
		parameters,
		true,
		false,
		node(parameters),
		description,
	)!;
const issues = (parameters: INodeParameters) =>
	NodeHelpers.getNodeParametersIssues(
		description.properties,
		node(resolved(parameters)),
		description,
	)?.parameters ?? {};

beforeEach(() => resetEmbeddedStateStore());

describe('a fresh Route Partitioner', () => {
	it('has two routes at 50/50, so two outputs and Deferred', () => {
		const params = resolved({});
		expect(params.routes).toEqual({
			values: [
				expect.objectContaining({ name: 'Route A', percentage: 50, enabled: true }),
				expect.objectContaining({ name: 'Route B', percentage: 50, enabled: true }),
			],
		});
		const workflow = new Workflow({
			nodes: [node({})],
			connections: {},
			active: false,
			nodeTypes,
		});
		const outputs = NodeHelpers.getNodeOutputs(workflow, workflow.getNode('P')!, description);
		expect(outputs.map((o) => (o as INodeOutputConfiguration).displayName)).toEqual([
			'Route A',
			'Route B',
			'Deferred',
		]);
		expect(issues({}).routes).toBeUndefined();
	});

	it('runs 50/50 as it comes', async () => {
		const wf = loadWorkflow('split-70-30');
		wf.nodes.find((n) => n.name === 'Split 70/30')!.parameters = {};
		const r = await runWorkflow(wf, { Recipients: recipients(100, 7) });
		expect(r.error).toBeUndefined();
		expect(r.outputs('Split 70/30').map((o) => o.length)).toEqual([50, 50, 0]);
	});

	it('flags an empty route list as a node issue, before anything runs', () => {
		expect(issues({ routes: {} }).routes).toEqual(['At least 1 field is required.']);
		expect(issues({ routes: { values: [] } }).routes).toEqual(['At least 1 field is required.']);
		expect(issues({ routes: { values: [{ name: 'Only', percentage: 100 }] } }).routes).toBe(
			undefined,
		);
	});
});

describe('Recipient is shown only where it is read', () => {
	const cases: Array<[IDataObject, boolean]> = [
		[{ mode: 'percentage' }, true],
		[{ mode: 'percentage', sticky: false }, false],
		[{ mode: 'weighted' }, true],
		[{ mode: 'weighted', sticky: false }, false],
		[{ mode: 'weighted', sticky: false, stickyByHash: true }, true],
		[{ mode: 'weighted', sticky: true, stickyByHash: true }, true],
		[{ mode: 'roundRobin' }, false],
		[{ mode: 'failover' }, false],
		[{ mode: 'single' }, false],
	];
	it.each(cases)('%j: %s', (parameters, shown) => {
		expect('recipient' in resolved(parameters as INodeParameters)).toBe(shown);
	});
});

describe('domain groups: picked, or typed as before', () => {
	const people = [
		{ email: 'a@gmail.com', domainGroup: 'google' },
		{ email: 'b@acme.com', domainGroup: 'partners' },
		{ email: 'c@outlook.com', domainGroup: 'microsoft' },
		{ email: 'd@outlook.com', domainGroup: 'microsoft' },
		{ email: 'e@yahoo.com', domainGroup: 'yahoo' },
		{ email: 'f@yahoo.com', domainGroup: 'yahoo' },
	];
	async function routeOf(parameters: IDataObject) {
		const wf = withParameters(loadWorkflow('split-70-30'), 'Split 70/30', {
			mode: 'percentage',
			sticky: false,
			...parameters,
		});
		const r = await runWorkflow(wf, { Recipients: people });
		expect(r.error).toBeUndefined();
		const [ms, any, deferred] = r.outputs('Split 70/30');
		expect(deferred).toHaveLength(0);
		const name = (items: typeof ms, route: string) =>
			items.map((i) => [i.json.email, route, (i.json.postalRoute as IDataObject).via]);
		return [...name(ms, 'MS'), ...name(any, 'Any')].sort((x, y) =>
			String(x[0]).localeCompare(String(y[0])),
		);
	}
	const expected = [
		['a@gmail.com', 'Any', 'group-table'],
		['b@acme.com', 'MS', 'group-table'],
		['c@outlook.com', 'MS', 'sequence'],
		['d@outlook.com', 'Any', 'sequence'],
		['e@yahoo.com', 'Any', 'sequence'],
		['f@yahoo.com', 'Any', 'sequence'],
	];

	it('runs a workflow saved with typed group ids ("microsoft, Partners", "google")', async () => {
		expect(
			await routeOf({
				routes: {
					values: [
						{ name: 'MS', percentage: 50, groups: 'microsoft, Partners' },
						{ name: 'Any', percentage: 50 },
					],
				},
				groupRoutes: {
					values: [
						{ group: 'google', route: 'Any' },
						{ group: 'Partners', route: 'MS' },
					],
				},
			}),
		).toEqual(expected);
	});

	it('routes the same with the pickers: built-in groups picked, a custom group typed', async () => {
		expect(
			await routeOf({
				routes: {
					values: [
						{ name: 'MS', percentage: 50, onlyGroups: ['microsoft'], groups: 'Partners' },
						{ name: 'Any', percentage: 50 },
					],
				},
				groupRoutes: {
					values: [
						{ group: 'google', route: 'Any' },
						{ group: '__custom', customGroup: 'Partners', route: 'MS' },
					],
				},
			}),
		).toEqual(expected);
	});

	it('keeps the typed fields where n8n keeps parameters: an old value is not dropped as hidden', () => {
		const params = resolved({
			routes: { values: [{ name: 'MS', percentage: 100, groups: 'microsoft' }] },
			groupRoutes: { values: [{ group: 'partners', route: 'MS' }] },
		});
		expect((params.routes as { values: IDataObject[] }).values[0].groups).toBe('microsoft');
		expect((params.groupRoutes as { values: IDataObject[] }).values[0]).toEqual(
			expect.objectContaining({ group: 'partners' }),
		);
		// the custom name field is there only for "Custom Group…"
		expect((params.groupRoutes as { values: IDataObject[] }).values[0].customGroup).toBeUndefined();
	});

	it('Domain Group Limits of the send node: typed ids and picked or custom groups alike', () => {
		const parsed = sendParametersSchema.parse({
			groupLimits: {
				values: [
					{ group: 'Yahoo', messages: 5, per: 'hour' },
					{ group: 'google', messages: 7, per: 'minute' },
					{ group: '__custom', customGroup: ' Partners ', messages: 3, per: 'minute' },
					{ group: '__custom', customGroup: '', messages: 3, per: 'minute' },
				],
			},
		});
		expect(parsed.groupLimits.values.map((g) => [g.group, g.limit, g.per])).toEqual([
			['yahoo', 5, 'hour'],
			['google', 7, 'minute'],
			['partners', 3, 'minute'],
		]);
	});
});
