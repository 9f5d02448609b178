import type { IDataObject, INode, INodeExecutionData } from 'n8n-workflow';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { PACKAGE, runWorkflow, type WorkflowJson } from '../helpers/engine';
import { recipients } from '../helpers/recipients';

/*
 * The nodes build large batches piece by piece (the classifier item by item, a dry run of the send
 * node in chunks of jobs, the partitioner without index lists for a batch of one campaign): the
 * outputs must be what one pass over the whole batch gives.
 */

const delivery = (i: INodeExecutionData) => i.json.postalDelivery as IDataObject;
const route = (i: INodeExecutionData) => (i.json.postalRoute as IDataObject).route;
const paired = (i: INodeExecutionData) => (i.pairedItem as { item: number }).item;

function node(name: string, type: string, parameters: IDataObject): INode {
	return {
		id: name,
		name,
		type,
		typeVersion: 1,
		position: [0, 0],
		parameters: parameters as INode['parameters'],
	};
}

function chain(nodes: INode[]): WorkflowJson {
	const connections: WorkflowJson['connections'] = {};
	for (let k = 0; k < nodes.length - 1; k++)
		connections[nodes[k].name] = { main: [[{ node: nodes[k + 1].name, type: 'main', index: 0 }]] };
	return { id: 'wfLarge', name: 'large batches', nodes, connections };
}

function workflow(split: IDataObject, withSend = true): WorkflowJson {
	const send = node('Send', `${PACKAGE}.loadBalancedSend`, {
		provider: 'smtp',
		from: 'Shop <news@shop.example>',
		subject: 'Hello',
		text: 'Hi there',
		dryRun: true,
	});
	send.credentials = { postalSmtp: { id: 'sink', name: 'Sink' } };
	return chain([
		node('Manual Trigger', 'n8n-nodes-base.manualTrigger', {}),
		node('Recipients', 'test.injectedItems', {}),
		node('Classify', `${PACKAGE}.domainGroupClassifier`, {}),
		node('Split', `${PACKAGE}.routePartitioner`, {
			mode: 'percentage',
			outputMode: 'fields',
			dryRun: true,
			routes: {
				values: [
					{ name: 'Relay A', percentage: 70 },
					{ name: 'Relay B', percentage: 30 },
				],
			},
			...split,
		}),
		...(withSend ? [send] : []),
	]);
}

const credentials = { sink: { host: '127.0.0.1', port: 9, security: 'none' } };

/** 1,050 recipients, every 9th one invalid, of campaign "a" (every third) or "b" */
const people = recipients(1050, 5).map((r, i) => ({
	email: i % 9 === 4 ? `not an address ${i}` : r.email,
	campaign: i % 3 === 0 ? 'a' : 'b',
}));

beforeEach(() => resetEmbeddedStateStore());

describe('large batches through the engine, built piece by piece', () => {
	it('a dry run gives every item its own record on its output, in item order, with one queuedAt', async () => {
		const run = await runWorkflow(workflow({}), { Recipients: people }, { credentials });
		expect(run.error).toBeUndefined();
		const [sent, failed, fallback, skipped] = run.outputs('Send');
		expect([fallback.length, skipped.length]).toEqual([0, 0]);

		const invalid = people.flatMap((p, i) => (i % 9 === 4 ? [i] : []));
		expect(failed.map(paired)).toEqual(invalid);
		expect(sent.map(paired)).toEqual(people.flatMap((_, i) => (i % 9 === 4 ? [] : [i])));
		for (const item of failed)
			expect(delivery(item).error).toBe(
				`Item ${paired(item)}: To: the Domain Group Classifier found no valid recipient — there is no "@"`,
			);
		for (const item of sent) {
			expect(item.json.email).toBe(people[paired(item)].email);
			expect(delivery(item)).toMatchObject({
				status: 'dry-run',
				recipients: [people[paired(item)].email],
				route: route(item),
			});
		}
		expect(new Set(sent.map((i) => delivery(i).queuedAt)).size).toBe(1);
	});

	it('two campaigns in one batch: each is split as a batch of its own items would be', async () => {
		const both = await runWorkflow(
			workflow({ campaignId: '={{ $json.campaign }}' }, false),
			{ Recipients: people },
			{ credentials },
		);
		expect(both.error).toBeUndefined();
		const out = both.outputs('Split')[0];
		expect(out.map(paired)).toEqual(people.map((_, i) => i));
		for (const campaign of ['a', 'b']) {
			const own = people.filter((p) => p.campaign === campaign);
			resetEmbeddedStateStore();
			const alone = await runWorkflow(
				workflow({ campaignId: '={{ $json.campaign }}' }, false),
				{ Recipients: own },
				{ credentials },
			);
			expect(out.filter((i) => i.json.campaign === campaign).map(route)).toEqual(
				alone.outputs('Split')[0].map(route),
			);
		}
		// one campaign for the whole batch (no index lists): exactly 70/30
		const one = await runWorkflow(workflow({}, false), { Recipients: people }, { credentials });
		const routes = one.outputs('Split')[0].map(route);
		expect(routes.filter((r) => r === 'Relay A')).toHaveLength(0.7 * people.length);
	});
});
