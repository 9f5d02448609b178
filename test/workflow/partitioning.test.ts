import type { IDataObject, INodeExecutionData, NodeOperationError } from 'n8n-workflow';
import { embeddedStateStore, resetEmbeddedStateStore } from '../../lib/state/registry';
import { loadWorkflow, runWorkflow, withParameters } from '../helpers/engine';
import { maxPrefixDeviation, recipients, shuffled } from '../helpers/recipients';

/**
 * The title n8n 2.40.7's error view gives a node error (editor-ui RunData, NodeErrorView): the
 * message, then " [item i]" from the error's itemIndex unless the message already says "item i".
 */
function editorErrorTitle(error: NodeOperationError): string {
	const index = error.context.itemIndex;
	if (index === undefined) return error.message;
	const tag = `item ${String(index)}`;
	return error.message.includes(tag) ? error.message : `${error.message} [${tag}]`;
}

const route = (item: INodeExecutionData) => (item.json.postalRoute as IDataObject).route as string;

/** Input index → route, from a partitioner's outputs (pairedItem points into its input). */
function routeByInputIndex(outputs: INodeExecutionData[][], names: string[]): Map<number, string> {
	const map = new Map<number, string>();
	outputs.forEach((items, o) =>
		items.forEach((item) => {
			const paired = item.pairedItem as { item: number };
			map.set(paired.item, names[o] ?? 'Deferred');
		}),
	);
	return map;
}

beforeEach(() => resetEmbeddedStateStore());

describe('broadcast: classifier per group → partitioner 70/30 on the Gmail branch', () => {
	const workflow = loadWorkflow('broadcast-split');
	const people = recipients(10_000, 42);

	it('splits exactly, keeps every prefix within ±1, and re-runs and shuffles give the same routes', async () => {
		const first = await runWorkflow(workflow, { Recipients: people });
		expect(first.error).toBeUndefined();

		const groups = first.outputs('Classify Domains');
		expect(groups).toHaveLength(5); // Google, Microsoft, Yahoo, Other, Invalid
		expect(groups.flat()).toHaveLength(people.length); // every item on exactly one output
		const gmailInput = groups[0];
		expect(gmailInput.length).toBeGreaterThan(800);
		expect(gmailInput.every((i) => i.json.domainGroup === 'google')).toBe(true);

		const split = first.outputs('Gmail Split');
		expect(split).toHaveLength(3); // SendGrid, SMTP relay, Deferred
		const total = gmailInput.length;
		expect(split[0].length + split[1].length).toBe(total);
		expect(split[2]).toHaveLength(0);
		expect(Math.abs(split[0].length - 0.7 * total)).toBeLessThan(1);
		expect(split[0].every((i) => route(i) === 'SendGrid')).toBe(true);

		// the stream in input order: every prefix within ±1 of 70/30
		const byIndex = routeByInputIndex(split, ['SendGrid', 'SMTP relay']);
		const stream = gmailInput.map((_, k) => byIndex.get(k)!);
		expect(maxPrefixDeviation(stream, { SendGrid: 0.7, 'SMTP relay': 0.3 })).toBeLessThan(1);

		const assigned = new Map<string, string>();
		split
			.slice(0, 2)
			.flat()
			.forEach((i) => assigned.set(i.json.email as string, route(i)));

		// second execution of the same campaign: same routes, nothing new counted
		const again = await runWorkflow(workflow, { Recipients: people });
		const againSplit = again.outputs('Gmail Split');
		for (const item of againSplit.slice(0, 2).flat()) {
			expect(route(item)).toBe(assigned.get(item.json.email as string));
			expect((item.json.postalRoute as IDataObject).via).toBe('sticky');
		}
		expect(againSplit[0]).toHaveLength(split[0].length);

		// shuffled input order: same routes
		const mixed = await runWorkflow(workflow, { Recipients: shuffled(people, 7) });
		const mixedItems = mixed.outputs('Gmail Split').slice(0, 2).flat();
		expect(mixedItems).toHaveLength(total);
		for (const item of mixedItems)
			expect(route(item)).toBe(assigned.get(item.json.email as string));
	});

	it('without sticky, a second execution continues the same exact sequence', async () => {
		const wf = withParameters(workflow, 'Gmail Split', { sticky: false });
		const a = await runWorkflow(wf, { Recipients: people.slice(0, 3333) });
		const b = await runWorkflow(wf, { Recipients: people.slice(3333) });
		const stream: string[] = [];
		for (const r of [a, b]) {
			const input = r.outputs('Classify Domains')[0];
			const byIndex = routeByInputIndex(r.outputs('Gmail Split'), ['SendGrid', 'SMTP relay']);
			input.forEach((_, k) => stream.push(byIndex.get(k)!));
		}
		expect(maxPrefixDeviation(stream, { SendGrid: 0.7, 'SMTP relay': 0.3 })).toBeLessThan(1);
	});

	it('dry run annotates items and changes no counters', async () => {
		const dry = withParameters(workflow, 'Gmail Split', { dryRun: true });
		const first = await runWorkflow(dry, { Recipients: people.slice(0, 500) });
		const second = await runWorkflow(dry, { Recipients: people.slice(0, 500) });
		const routesOf = (r: typeof first) =>
			r
				.outputs('Gmail Split')
				.slice(0, 2)
				.flat()
				.map((i) => [i.json.email, route(i), (i.json.postalRoute as IDataObject).dryRun]);
		expect(routesOf(first)).toEqual(routesOf(second)); // nothing was remembered between them
		expect(routesOf(first).every(([, , d]) => d === true)).toBe(true);
		const via = first
			.outputs('Gmail Split')
			.flat()
			.map((i) => (i.json.postalRoute as IDataObject).via);
		expect(via).not.toContain('sticky');
	});

	it('rejects percentages that do not add up to 100, naming the Routes parameter', async () => {
		const wf = withParameters(workflow, 'Gmail Split', {
			routes: {
				values: [
					{ name: 'SendGrid', percentage: 60 },
					{ name: 'SMTP relay', percentage: 30 },
				],
			},
		});
		const result = await runWorkflow(wf, { Recipients: people.slice(0, 100) });
		expect(result.error?.message).toMatch(
			/^Routes: the percentages of the enabled routes add up to 90, not 100 \(SendGrid 60% \+ SMTP relay 30%\)/,
		);
		// and says how to fix it, under the message in n8n's error view
		expect((result.error as NodeOperationError).description).toBe(
			'Change the Percentage of the routes so the enabled ones add up to 100 (a disabled route does not count).',
		);
	});

	it('names an item no route accepts once: n8n adds "[item i]" to the message, the message does not', async () => {
		const wf = withParameters(workflow, 'Gmail Split', {
			routes: {
				values: [
					{ name: 'SendGrid', percentage: 50, groups: 'microsoft' },
					{ name: 'SMTP relay', percentage: 50, groups: 'microsoft' },
				],
			},
		});
		const r = await runWorkflow(wf, { Recipients: people.slice(0, 50) });
		const error = r.error as NodeOperationError;
		expect(error.message).toBe('Routes: no enabled route accepts the domain group "google"');
		expect(error.context.itemIndex).toBe(0);
		expect(error.description).toMatch(/Only for Domain Groups/);
		expect(editorErrorTitle(error)).toBe(
			'Routes: no enabled route accepts the domain group "google" [item 0]',
		);
	});
});

describe('round robin per 100 messages over three routes', () => {
	it('continues the rotation across executions', async () => {
		const workflow = loadWorkflow('round-robin');
		const names = ['Relay A', 'Relay B', 'Relay C'];
		const people = recipients(500, 3);
		const stream: string[] = [];
		for (const part of [people.slice(0, 250), people.slice(250)]) {
			const r = await runWorkflow(workflow, { Recipients: part });
			expect(r.error).toBeUndefined();
			const byIndex = routeByInputIndex(r.outputs('Rotate'), names);
			part.forEach((_, k) => stream.push(byIndex.get(k)!));
		}
		const expected = Array.from({ length: 500 }, (_, p) => names[Math.floor(p / 100) % 3]);
		expect(stream).toEqual(expected);
		// the second execution started where the first stopped: 50 more for Relay C first
		expect(stream.slice(250, 300).every((r) => r === 'Relay C')).toBe(true);
	});
});

describe('warm-up caps', () => {
	const today = new Date().toISOString().slice(0, 10);
	const base = loadWorkflow('warmup');
	const workflow = withParameters(base, 'Warm-up Split', {
		routes: {
			values: [
				{
					name: 'New IP',
					percentage: 50,
					warmup: 'table',
					warmupStartDate: today,
					warmupTable: '1:100, 2:200, 3:400',
				},
				{ name: 'Warm IP', percentage: 50 },
			],
		},
	});

	it('spills the 101st message of a route capped at 100 today to the other route', async () => {
		const r = await runWorkflow(workflow, { Recipients: recipients(300, 5) });
		expect(r.error).toBeUndefined();
		const [newIp, warmIp, deferred] = r.outputs('Warm-up Split');
		expect(newIp).toHaveLength(100);
		expect(warmIp).toHaveLength(200);
		expect(deferred).toHaveLength(0);
		// up to the cap the split is 50/50; after it every New IP slot spills
		const viaOfWarm = warmIp.map((i) => (i.json.postalRoute as IDataObject).via);
		expect(viaOfWarm.filter((v) => v === 'spill')).toHaveLength(50);
		// and each spilled item says why, on its postalRoute
		const reasons = warmIp
			.map((i) => i.json.postalRoute as IDataObject)
			.filter((rec) => rec.via === 'spill')
			.map((rec) => rec.reason);
		expect(new Set(reasons)).toEqual(new Set(['New IP: warm-up cap 100 for day 1 reached']));
		// a second execution the same day: New IP is full, everything goes to Warm IP
		const again = await runWorkflow(workflow, { Recipients: recipients(10, 6) });
		expect(again.outputs('Warm-up Split')[0]).toHaveLength(0);
		expect(again.outputs('Warm-up Split')[1]).toHaveLength(10);
	});

	it('publishes one warmup.cap-reached alert for the run; a failed publish is a hint, not a failed run', async () => {
		const store = embeddedStateStore();
		await store.readAlerts('ops', 'test', { count: 1 });
		const r = await runWorkflow(workflow, { Recipients: recipients(300, 7) });
		expect(r.error).toBeUndefined();
		const alerts = await store.readAlerts('ops', 'test', { count: 10 });
		expect(alerts.map((a) => [a.type, a.severity, a.route, a.campaign, a.reason])).toEqual([
			[
				'warmup.cap-reached',
				'warning',
				'New IP',
				'wfWarmup',
				'New IP: warm-up cap 100 for day 1 reached: its items go to the other routes until the sending day ends',
			],
		]);
		const hintsOf = (run: typeof r) =>
			run.run.data.resultData.runData['Warm-up Split']?.[0]?.hints ?? [];
		expect(hintsOf(r)).toEqual([]);

		store.publishAlerts = async () => {
			throw new Error('alert log unavailable');
		};
		const failed = await runWorkflow(workflow, { Recipients: recipients(10, 8) });
		expect(failed.error).toBeUndefined();
		expect(failed.outputs('Warm-up Split')[1]).toHaveLength(10);
		expect(hintsOf(failed).map((h) => h.message)).toEqual([
			expect.stringMatching(
				/^Alerts: the warm-up cap alert of campaign "wfWarmup" could not be published \(alert log unavailable\)/,
			),
		]);
	});

	it('defers items with retryAt when every route is full', async () => {
		const full = withParameters(workflow, 'Warm-up Split', {
			routes: {
				values: [
					{
						name: 'New IP',
						percentage: 50,
						warmup: 'table',
						warmupStartDate: today,
						warmupTable: '1:100',
					},
					{ name: 'Warm IP', percentage: 50, dailyCap: 100 },
				],
			},
		});
		const r = await runWorkflow(full, { Recipients: recipients(250, 8) });
		const [newIp, warmIp, deferred] = r.outputs('Warm-up Split');
		expect(newIp).toHaveLength(100);
		expect(warmIp).toHaveLength(100);
		expect(deferred).toHaveLength(50);
		const tomorrow = new Date(`${today}T00:00:00Z`).getTime() + 86_400_000;
		for (const item of deferred) {
			const rec = item.json.postalRoute as IDataObject;
			expect(rec.retryAt).toBe(new Date(tomorrow).toISOString());
			expect(rec.reason).toMatch(/no route has room today/);
		}
		// every input item left on exactly one output
		expect(newIp.length + warmIp.length + deferred.length).toBe(250);
	});
});

describe('invalid addresses', () => {
	const workflow = loadWorkflow('classify');
	const input = [
		{ email: 'ann@gmail.com' },
		{ email: 'not-an-address' },
		{ email: 'Bob <bob@outlook.com>' },
		{ email: 'x@@y' },
		{ email: 'zed@unknown-corp.example' },
	];

	it('leave on the Invalid output with a reason', async () => {
		const r = await runWorkflow(workflow, { Recipients: input });
		const [google, microsoft, other, invalid] = r.outputs('Classify Domains');
		expect(google.map((i) => i.json.email)).toEqual(['ann@gmail.com']);
		expect(microsoft.map((i) => i.json.recipient)).toEqual(['bob@outlook.com']);
		expect(other.map((i) => i.json.email)).toEqual(['zed@unknown-corp.example']);
		expect(invalid.map((i) => i.json.email)).toEqual(['not-an-address', 'x@@y']);
		expect(invalid[0].json.invalidReason).toBe('there is no "@"');
		expect(invalid.map((i) => (i.pairedItem as { item: number }).item)).toEqual([1, 3]);
	});

	it('stop the node with an error naming the item when the Invalid output is off', async () => {
		const r = await runWorkflow(
			withParameters(workflow, 'Classify Domains', { invalidOutput: false }),
			{ Recipients: input },
		);
		expect(r.error?.message).toBe(
			'Recipient: "not-an-address" is not a valid email address — there is no "@"',
		);
		// the editor shows the index once, from itemIndex
		expect(editorErrorTitle(r.error as NodeOperationError)).toBe(
			'Recipient: "not-an-address" is not a valid email address — there is no "@" [item 1]',
		);
	});

	it('with Continue on Fail, leave on Other carrying the error', async () => {
		const wf = withParameters(workflow, 'Classify Domains', { invalidOutput: false });
		wf.nodes.find((n) => n.name === 'Classify Domains')!.onError = 'continueRegularOutput';
		const r = await runWorkflow(wf, { Recipients: input });
		expect(r.error).toBeUndefined();
		const outputs = r.outputs('Classify Domains');
		expect(outputs).toHaveLength(3);
		expect(outputs[2].filter((i) => i.json.error).map((i) => i.json.email)).toEqual([
			'not-an-address',
			'x@@y',
		]);
		expect(outputs.flat()).toHaveLength(input.length);
	});
});

describe('weighted, sticky without state (rendezvous hashing)', () => {
	it('gives every recipient the same route in a process with no stored state', async () => {
		const wf = withParameters(loadWorkflow('round-robin'), 'Rotate', {
			mode: 'weighted',
			stickyByHash: true,
			routes: {
				values: [
					{ name: 'Relay A', weight: 2 },
					{ name: 'Relay B', weight: 1 },
					{ name: 'Relay C', weight: 1 },
				],
			},
		});
		const people = recipients(2000, 31);
		const routesOf = async () => {
			resetEmbeddedStateStore(); // as if another worker, or n8n restarted
			const r = await runWorkflow(wf, { Recipients: people });
			expect(r.error).toBeUndefined();
			return routeByInputIndex(r.outputs('Rotate'), ['Relay A', 'Relay B', 'Relay C']);
		};
		const first = await routesOf();
		const second = await routesOf();
		expect([...second.entries()].sort()).toEqual([...first.entries()].sort());
		const shareA = [...first.values()].filter((r) => r === 'Relay A').length / people.length;
		expect(Math.abs(shareA - 0.5)).toBeLessThan(0.04);
	});
});
