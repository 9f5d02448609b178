import { NodeHelpers, type INode, type INodeParameters } from 'n8n-workflow';
import { bundledNodeTypes } from './bundled';

/**
 * The panel of the BUNDLED Route Partitioner, as n8n reads it from dist/ (`npm test` builds
 * first; run alone, `npm run build` must come before): a fresh node's routes, the issue on an
 * empty list, the group pickers.
 */
const partitioner = bundledNodeTypes().routePartitioner;
const { description } = partitioner;
const node = (parameters: INodeParameters): INode => ({
	id: 'p',
	name: 'P',
	type: 'n8n-nodes-postal-routes.routePartitioner',
	typeVersion: 1,
	position: [0, 0],
	parameters,
});
const resolved = (parameters: INodeParameters) =>
	NodeHelpers.getNodeParameters(
		description.properties,
		parameters,
		true,
		false,
		node(parameters),
		description,
	)!;

describe('the bundled Route Partitioner panel', () => {
	it('starts with two routes at 50/50 and flags an empty list', () => {
		const values = (resolved({}).routes as { values: Array<{ name: string; percentage: number }> })
			.values;
		expect(values.map((r) => [r.name, r.percentage])).toEqual([
			['Route A', 50],
			['Route B', 50],
		]);
		const issues = NodeHelpers.getNodeParametersIssues(
			description.properties,
			node(resolved({ routes: {} })),
			description,
		);
		expect(issues?.parameters?.routes).toEqual(['At least 1 field is required.']);
	});

	it('offers the built-in groups by their labels, Other, and a custom name', () => {
		const routes = description.properties.find((p) => p.name === 'routes')!;
		const rowOf = (p: typeof routes, name: string) =>
			(p.options as Array<{ values: typeof description.properties }>)[0].values.find(
				(v) => v.name === name,
			)!;
		const only = rowOf(routes, 'onlyGroups');
		expect(only.type).toBe('multiOptions');
		expect(only.options).toEqual(
			expect.arrayContaining([
				expect.objectContaining({ name: 'Google (Gmail, Workspace)', value: 'google' }),
				expect.objectContaining({ value: 'other' }),
			]),
		);
		const table = description.properties.find((p) => p.name === 'groupRoutes')!;
		const group = rowOf(table, 'group');
		expect(group.allowArbitraryValues).toBe(true);
		expect(group.options).toEqual(
			expect.arrayContaining([expect.objectContaining({ value: '__custom' })]),
		);
		expect(rowOf(routes, 'name').hint).toMatch(/^Renaming a route resets/);
	});
});
