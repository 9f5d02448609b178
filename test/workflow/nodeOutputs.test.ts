import { NodeHelpers, Workflow, type INode, type INodeOutputConfiguration } from 'n8n-workflow';
import { nodeTypes, PACKAGE } from '../helpers/engine';

/** Evaluates a node's `outputs` expression the way the n8n editor and engine do. */
function outputNames(type: string, parameters: INode['parameters']): string[] {
	const node: INode = {
		id: 'n',
		name: 'N',
		type: `${PACKAGE}.${type}`,
		typeVersion: 1,
		position: [0, 0],
		parameters,
	};
	const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
	const description = nodeTypes.getByNameAndVersion(node.type).description;
	return NodeHelpers.getNodeOutputs(workflow, node, description).map(
		(o) => (o as INodeOutputConfiguration).displayName as string,
	);
}

describe('dynamic outputs in n8n’s expression engine', () => {
	it('classifier: selected groups, custom groups, Other, Invalid', () => {
		expect(
			outputNames('domainGroupClassifier', {
				outputMode: 'perGroup',
				groups: ['google', 'yahoo'],
				customGroups: { values: [{ name: 'Partners', domains: 'acme.com' }] },
			}),
		).toEqual(['Google', 'Yahoo', 'Partners', 'Other', 'Invalid']);
		expect(
			outputNames('domainGroupClassifier', {
				outputMode: 'perGroup',
				groups: ['microsoft'],
				invalidOutput: false,
			}),
		).toEqual(['Microsoft', 'Other']);
		expect(outputNames('domainGroupClassifier', { outputMode: 'addFields' })).toEqual(['Output']);
	});

	it('partitioner: one output per route, then Deferred', () => {
		expect(
			outputNames('routePartitioner', {
				mode: 'percentage',
				routes: { values: [{ name: 'SendGrid' }, { name: 'SMTP relay' }] },
			}),
		).toEqual(['SendGrid', 'SMTP relay', 'Deferred']);
		expect(
			outputNames('routePartitioner', { mode: 'weighted', routes: { values: [{ name: '' }] } }),
		).toEqual(['Route 1', 'Deferred']);
		expect(
			outputNames('routePartitioner', {
				outputMode: 'fields',
				routes: { values: [{ name: 'a' }] },
			}),
		).toEqual(['Output']);
	});
});
