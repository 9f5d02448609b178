/**
 * Postal Operations through the n8n engine: an operator suspends Relay A for yahoo and the next
 * campaign run sends every Yahoo item through Relay B (via reputation, with the operator's reason),
 * a resume gives A its share back at once; and the suppression list's add, check and remove, with
 * an address that is none named on its item.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { embeddedStateStore, resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { runWorkflow, type WorkflowJson } from '../helpers/engine';
import type { SmtpSink } from '../helpers/smtpSink';
import {
	assigned,
	isYahoo,
	people,
	reputationWorkflow,
	smtpCredential,
	startSinks,
} from './reputationWorkflow';

function operations(parameters: IDataObject, continueOnFail = false): WorkflowJson {
	return {
		nodes: [
			{
				id: 't',
				name: 'Manual Trigger',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'i',
				name: 'Input',
				type: 'test.injectedItems',
				typeVersion: 1,
				position: [200, 0],
				parameters: {},
			},
			{
				id: 'o',
				name: 'Operations',
				type: 'n8n-nodes-postal-routes.postalOperations',
				typeVersion: 1,
				position: [400, 0],
				parameters,
				...(continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
			},
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Input', type: 'main', index: 0 }]] },
			Input: { main: [[{ node: 'Operations', type: 'main', index: 0 }]] },
		},
	} as unknown as WorkflowJson;
}

const json = (items: INodeExecutionData[]) => items.map((i) => i.json);

describe('Postal Operations', () => {
	beforeEach(() => resetEmbeddedStateStore());

	describe('Route: suspend, get state, resume', () => {
		const flag = { yahooDeferred: false };
		let sinks: SmtpSink[] = [];
		beforeEach(async () => {
			sinks = await startSinks(flag);
		});
		afterEach(async () => {
			await closeSmtpTransports();
			await Promise.all(sinks.map((s) => s.close()));
		});

		it('an operator’s suspension moves the group to the other route; a resume brings it back', async () => {
			const credentials = {
				'smtp-a': smtpCredential(sinks[0].port),
				'smtp-b': smtpCredential(sinks[1].port),
			};
			const suspended = await runWorkflow(
				operations({
					resource: 'route',
					operation: 'suspend',
					route: 'Relay A',
					group: 'yahoo',
					durationMinutes: 30,
					reason: 'IP listed, delisting requested',
				}),
				{ Input: [{}] },
			);
			expect(suspended.error).toBeUndefined();
			const [state] = json(suspended.outputs('Operations')[0]);
			expect(state).toMatchObject({
				route: 'Relay A',
				group: 'yahoo',
				reputation: 'suspended',
				share: 0,
				rule: 'manual',
				reason: 'IP listed, delisting requested',
			});
			expect(Date.parse(String(state.until)) - Date.now()).toBeGreaterThan(29 * 60_000);

			const wf = reputationWorkflow();
			const run = await runWorkflow(wf, { Recipients: people(10, 'op1') }, { credentials });
			expect(run.error).toBeUndefined();
			const [a, b] = run.outputs('Split');
			expect(a.filter(isYahoo)).toHaveLength(0);
			expect(b.filter(isYahoo)).toHaveLength(10);
			expect(String(assigned(b.find((i) => assigned(i).via === 'reputation')!).reason)).toMatch(
				/^Relay A: suspended for yahoo until .* \(manual: IP listed, delisting requested\)$/,
			);
			expect(a.filter((i) => !isYahoo(i))).toHaveLength(5);

			const got = await runWorkflow(
				operations({ resource: 'route', operation: 'get', route: 'Relay A', group: 'google' }),
				{ Input: [{}] },
			);
			expect(json(got.outputs('Operations')[0])).toEqual([
				{ route: 'Relay A', group: 'google', reputation: 'ok', share: 1 },
			]);

			const resumed = await runWorkflow(
				operations({ resource: 'route', operation: 'resume', route: 'Relay A', group: 'yahoo' }),
				{ Input: [{}] },
			);
			expect(json(resumed.outputs('Operations')[0])).toEqual([
				{ route: 'Relay A', group: 'yahoo', reputation: 'ok', share: 1 },
			]);
			const after = await runWorkflow(wf, { Recipients: people(10, 'op2') }, { credentials });
			expect(after.outputs('Split')[0].filter(isYahoo)).toHaveLength(5);
		});

		it('names the empty parameter on its item', async () => {
			const r = await runWorkflow(
				operations({ resource: 'route', operation: 'suspend', route: 'Relay A', group: '' }),
				{ Input: [{}] },
			);
			expect(r.error?.message).toBe('Domain Group is empty');
		});
	});

	describe('Suppression: add, check, remove', () => {
		it('adds for good or for days, checks, removes; the address is normalized; a non-address is named', async () => {
			const added = await runWorkflow(
				operations({
					resource: 'suppression',
					operation: 'add',
					email: '={{ $json.email }}',
					days: '={{ $json.days }}',
				}),
				{
					Input: [
						{ email: 'Ann@Example.com', days: 0 },
						{ email: 'bob@example.com', days: 7 },
					],
				},
			);
			expect(added.error).toBeUndefined();
			const [ann, bob] = json(added.outputs('Operations')[0]);
			expect(ann).toEqual({
				email: 'Ann@example.com',
				list: '',
				suppressed: true,
				reason: 'manual',
			});
			expect(Date.parse(String(bob.until)) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);

			const checked = await runWorkflow(
				operations({ resource: 'suppression', operation: 'check' }),
				{ Input: [{ email: 'ann@EXAMPLE.com' }, { email: 'carol@example.com' }] },
			);
			expect(json(checked.outputs('Operations')[0])).toEqual([
				{
					email: 'ann@example.com',
					list: '',
					suppressed: true,
					reason: 'manual',
					source: 'manual',
					since: expect.any(String),
				},
				{ email: 'carol@example.com', list: '', suppressed: false },
			]);

			const removed = await runWorkflow(
				operations({ resource: 'suppression', operation: 'remove' }),
				{
					Input: [{ email: 'ann@example.com' }, { email: 'carol@example.com' }],
				},
			);
			expect(json(removed.outputs('Operations')[0]).map((j) => j.removed)).toEqual([true, false]);
			const again = await runWorkflow(operations({ resource: 'suppression', operation: 'check' }), {
				Input: [{ email: 'ann@example.com' }],
			});
			expect(json(again.outputs('Operations')[0])[0].suppressed).toBe(false);

			const bad = await runWorkflow(operations({ resource: 'suppression', operation: 'check' }), {
				Input: [{ email: 'not an address' }],
			});
			expect(bad.error?.message).toMatch(/^"not an address" is not one email address/);
			const going = await runWorkflow(
				operations({ resource: 'suppression', operation: 'check' }, true),
				{
					Input: [{ email: 'not an address' }, { email: 'dan@example.com' }],
				},
			);
			expect(going.error).toBeUndefined();
			const items = going.outputs('Operations')[0];
			expect(items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
			expect(items[0].json.error).toMatch(/is not one email address/);
			expect(items[1].json).toEqual({ email: 'dan@example.com', list: '', suppressed: false });
		});
	});

	describe('Stats and Report', () => {
		// an hour of outcomes: Relay A blocked at Yahoo (60 of 1,000), Relay B fine (5 of 1,000)
		beforeEach(async () => {
			const store = embeddedStateStore();
			const at = Date.now() - 60_000;
			await store.countOutcomes([
				{
					route: 'Relay A',
					group: 'yahoo',
					counts: { sent: 940, blocked: 60, acceptMsSum: 94_000, acceptN: 940 },
					at,
				},
				{ route: 'Relay B', group: 'yahoo', counts: { sent: 995, blocked: 5 }, at },
				{ route: 'Relay A', group: 'google', counts: { sent: 500, delivered: 490 }, at },
			]);
			await store.updateReputation('yahoo', [
				{
					kind: 'act',
					route: 'Relay A',
					action: 'suspend',
					rule: 'yahoo-tss04',
					reason: 'TSS04',
					durationMs: 3_600_000,
				},
			]);
		});

		it('Get Many: one item per route × group with counts, Wilson intervals and the state', async () => {
			const r = await runWorkflow(
				operations({ resource: 'stats', operation: 'getAll', window: '1h', groups: 'yahoo' }),
				{ Input: [{}] },
			);
			expect(r.error).toBeUndefined();
			const rows = json(r.outputs('Operations')[0]);
			expect(rows.map((x) => [x.route, x.group])).toEqual([
				['Relay A', 'yahoo'],
				['Relay B', 'yahoo'],
			]);
			const a = rows[0] as unknown as {
				counts: IDataObject;
				rates: Record<string, IDataObject>;
				state: IDataObject;
				latency: IDataObject;
			};
			expect(a.counts).toMatchObject({ sent: 940, blocked: 60 });
			// block rate 60 / (940 + 60) = 6%; Wilson 95%: (0.0619208 ∓ 1.96·√(0.0564/1000 + 3.8416/4e6)) / 1.0038416 = 0.046896 … 0.076471
			expect(a.rates.block.value).toBeCloseTo(0.06, 10);
			expect(a.rates.block.low).toBeCloseTo(0.0469, 4);
			expect(a.rates.block.high).toBeCloseTo(0.07647, 4);
			expect(a.latency.meanMs).toBe(100);
			expect(a.state).toMatchObject({ reputation: 'suspended', share: 0, rule: 'yahoo-tss04' });
		});

		it('Compare Routes: Relay A is worse for yahoo on blocks; applied, it keeps half its share, and both are alerts', async () => {
			// a consumer group from now on: what the run publishes
			await embeddedStateStore().readAlerts('ops', 'test', { count: 1 });
			const r = await runWorkflow(
				operations({
					resource: 'stats',
					operation: 'compare',
					window: '1h',
					compareGroup: 'yahoo',
					metric: 'block',
					minEffect: 5,
					applyVerdict: true,
					verdictHours: 12,
				}),
				{ Input: [{}] },
			);
			expect(r.error).toBeUndefined();
			const [v] = json(r.outputs('Operations')[0]);
			expect(v).toMatchObject({
				verdict: 'winner',
				winner: 'Relay B',
				worst: 'Relay A',
				group: 'yahoo',
				metric: 'block',
			});
			expect(v.pValue as number).toBeLessThan(1e-6);
			expect(v.applied).toMatchObject({ route: 'Relay A', share: 0.5 });
			const [state] = await embeddedStateStore().getReputation([
				{ route: 'Relay A', group: 'yahoo' },
			]);
			expect(state).toMatchObject({ rule: 'ab-verdict', factor: 0.5 });
			// the verdict (info), then the throttle it applied, through the one reputation path
			const alerts = await embeddedStateStore().readAlerts('ops', 'test', { count: 10 });
			expect(alerts.map((a) => [a.type, a.severity, a.route, a.group, a.rule])).toEqual([
				['ab.verdict', 'info', 'Relay B', 'yahoo', 'ab-verdict:block'],
				['route.throttled', 'warning', 'Relay A', 'yahoo', 'ab-verdict'],
			]);
			expect(alerts[0].reason).toContain(
				`A/B verdict on block rate for yahoo: Relay B wins over Relay A, p-value ${(v.pValue as number).toPrecision(2)}`,
			);
			expect(alerts[0].reason).toContain(
				'applied: Relay A keeps 50% of its share for yahoo for 12 hours',
			);
			expect(alerts[1]).toMatchObject({
				reason: v.summary,
				until: (v.applied as IDataObject).until,
			});
		});

		it('Prometheus Metrics: text a real exposition parser reads, labelled by route and group', async () => {
			const r = await runWorkflow(
				operations({ resource: 'report', operation: 'prometheus', window: '1h' }),
				{ Input: [{}] },
			);
			expect(r.error).toBeUndefined();
			const [m] = json(r.outputs('Operations')[0]);
			expect(m.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
			const families = parsePrometheusTextFormat(String(m.metrics));
			const sent = families.find((f) => f.name === 'postal_messages_sent')!;
			expect(sent.metrics.map((x) => [x.labels?.route, x.labels?.group, x.value])).toEqual(
				expect.arrayContaining([
					['Relay A', 'yahoo', '940'],
					['Relay B', 'yahoo', '995'],
					['Relay A', 'google', '500'],
				]),
			);
			const suspended = families.find((f) => f.name === 'postal_route_suspended')!;
			expect(
				suspended.metrics.find((x) => x.labels?.route === 'Relay A' && x.labels?.group === 'yahoo')
					?.value,
			).toBe('1');
		});

		it('HTML Report: a binary file and the page as text', async () => {
			const r = await runWorkflow(
				operations({
					resource: 'report',
					operation: 'html',
					window: '24h',
					title: 'Daily <route> report',
				}),
				{ Input: [{}] },
			);
			expect(r.error).toBeUndefined();
			const [item] = r.outputs('Operations')[0];
			expect(item.binary?.data).toMatchObject({
				mimeType: 'text/html',
				fileName: 'postal-routes-report.html',
			});
			const html = String(item.json.html);
			expect(html).toMatch(/^<!doctype html>/i);
			expect(html).toContain('Daily &lt;route&gt; report');
			expect(html).toContain('Relay A');
			expect(html).toContain('<svg');
			expect(Buffer.from(String(item.binary!.data.data), 'base64').toString('utf8')).toBe(html);
		});
	});
});
