/**
 * Postal Operations through the n8n engine: an operator suspends Relay A for yahoo and the next
 * campaign run sends every Yahoo item through Relay B (via reputation, with the operator's reason),
 * a resume gives A its share back at once; and the suppression list's add, check and remove, with
 * an address that is none named on its item.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { duplicateKeyOf } from '../../lib/delivery/message';
import { circuitName, recipientDigest } from '../../lib/state/keys';
import { CAMPAIGN_TOTALS_ROUTE } from '../../lib/state/outcomes';
import { closeRedisStateStores } from '../../lib/state/connection';
import { RedisStateStore } from '../../lib/state/redis';
import { embeddedStateStore, resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { runWorkflow, type WorkflowJson } from '../helpers/engine';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { startSmtpFaultServer, type SmtpFaultServer } from '../helpers/smtpFaultServer';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import {
	assigned,
	delivery,
	isYahoo,
	people,
	reputationWorkflow,
	smtpCredential,
	startSinks,
} from './reputationWorkflow';

/** The operations node on the Redis store of the credential `redis-1`. */
function onRedis(wf: WorkflowJson): WorkflowJson {
	for (const n of wf.nodes as Array<{
		type: string;
		parameters: IDataObject;
		credentials?: unknown;
	}>)
		if (n.type === 'n8n-nodes-postal-routes.postalOperations') {
			n.parameters = { ...n.parameters, stateStore: 'redis' };
			n.credentials = { postalRedis: { id: 'redis-1', name: 'Redis' } };
		}
	return wf;
}

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

		it('Set Weight Factor keeps a share of the route for the group, announced as an alert', async () => {
			const credentials = {
				'smtp-a': smtpCredential(sinks[0].port),
				'smtp-b': smtpCredential(sinks[1].port),
			};
			const store = embeddedStateStore();
			// a trigger's consumer group made before the change: it reads what comes after
			await store.readAlerts('ops-test', 'main', { count: 10 });
			const set = await runWorkflow(
				operations({
					resource: 'route',
					operation: 'setWeight',
					route: 'Relay A',
					group: 'yahoo',
					weightFactor: 0.2,
					weightHours: 2,
					reason: 'warming a new IP',
				}),
				{ Input: [{}] },
			);
			expect(set.error).toBeUndefined();
			const [state] = json(set.outputs('Operations')[0]);
			expect(state).toMatchObject({
				route: 'Relay A',
				group: 'yahoo',
				reputation: 'throttled',
				share: 0.2,
				rule: 'manual',
				reason: 'warming a new IP',
			});
			expect(Date.parse(String(state.until)) - Date.now()).toBeGreaterThan(1.9 * 3_600_000);
			const alerts = await store.readAlerts('ops-test', 'main', { count: 10 });
			expect(alerts).toEqual([
				expect.objectContaining({
					type: 'route.throttled',
					route: 'Relay A',
					group: 'yahoo',
					rule: 'manual',
					reason: 'warming a new IP',
				}),
			]);

			// 20 Yahoo items: half would be Relay A's turns, it keeps a fifth of them
			const run = await runWorkflow(
				reputationWorkflow(),
				{ Recipients: people(20, 'w1') },
				{
					credentials,
				},
			);
			expect(run.error).toBeUndefined();
			const [a, b] = run.outputs('Split');
			const onA = a.filter(isYahoo).length;
			expect(onA).toBeGreaterThanOrEqual(1);
			expect(onA).toBeLessThanOrEqual(3);
			expect(b.filter(isYahoo)).toHaveLength(20 - onA);
			expect(b.filter((i) => assigned(i).via === 'reputation')).toHaveLength(10 - onA);
			// Gmail keeps its even split
			expect(a.filter((i) => !isYahoo(i))).toHaveLength(10);

			const bad = await runWorkflow(
				operations(
					{
						resource: 'route',
						operation: 'setWeight',
						route: 'Relay A',
						group: 'yahoo',
						weightFactor: '={{ $json.f }}',
					},
					true,
				),
				{ Input: [{ f: 1.5 }, { f: 1 }] },
			);
			expect(bad.error).toBeUndefined();
			const items = bad.outputs('Operations')[0];
			expect(items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
			expect(items[0].json.error).toBe('Weight Factor must be from 0 to 1, not 1.5');
			expect(items[1].json).toMatchObject({ reputation: 'throttled', share: 1 });
		});

		it('Reset Circuit closes the campaign’s circuit of the route: the partitioner routes to it again', async () => {
			const credentials = {
				'smtp-a': smtpCredential(sinks[0].port),
				'smtp-b': smtpCredential(sinks[1].port),
			};
			const store = embeddedStateStore();
			const now = Date.now();
			await store.setCircuit(circuitName('winter', 'Relay A'), {
				openUntil: now + 3_600_000,
				ejections: 2,
				failures: 0,
				probing: true,
				lastEjectedAt: now,
			});
			const open = await runWorkflow(
				reputationWorkflow(),
				{ Recipients: people(4, 'c1') },
				{
					credentials,
				},
			);
			expect(open.outputs('Split')[0]).toHaveLength(0);

			const reset = await runWorkflow(
				operations({
					resource: 'route',
					operation: 'resetCircuit',
					route: 'Relay A',
					campaign: 'winter',
				}),
				{ Input: [{}] },
			);
			expect(reset.error).toBeUndefined();
			expect(json(reset.outputs('Operations')[0])).toEqual([
				{
					route: 'Relay A',
					campaign: 'winter',
					circuit: 'closed',
					wasOpen: true,
					openUntil: new Date(now + 3_600_000).toISOString(),
					ejections: 2,
				},
			]);
			expect(await store.getCircuits([circuitName('winter', 'Relay A')])).toEqual([null]);
			const after = await runWorkflow(
				reputationWorkflow(),
				{ Recipients: people(4, 'c2') },
				{
					credentials,
				},
			);
			expect(after.outputs('Split')[0]).toHaveLength(4);

			// an expression that gives nothing (n8n itself refuses a required field left empty)
			const again = await runWorkflow(
				operations({
					resource: 'route',
					operation: 'resetCircuit',
					route: 'Relay A',
					campaign: '={{ $json.campaign }}',
				}),
				{ Input: [{ campaign: '' }] },
			);
			expect(again.error?.message).toBe('Campaign ID is empty');
		});

		it('names the empty parameter on its item', async () => {
			const r = await runWorkflow(
				operations({ resource: 'route', operation: 'suspend', route: 'Relay A', group: '' }),
				{ Input: [{}] },
			);
			expect(r.error?.message).toBe('Domain Group is empty');
		});

		it('Every Domain Group: suspends the route for each group it has sent to, an item each', async () => {
			const store = embeddedStateStore();
			const at = await store.now();
			await store.countOutcomes([
				{ route: 'Relay Z', group: 'yahoo', counts: { sent: 3 }, at },
				{ route: 'Relay Z', group: 'google', counts: { sent: 2 }, at },
				{ route: 'Relay Y', group: 'microsoft', counts: { sent: 1 }, at },
			]);
			const r = await runWorkflow(
				operations(
					{
						resource: 'route',
						operation: 'suspend',
						route: '={{ $json.route }}',
						allGroups: true,
						durationMinutes: 10,
					},
					true,
				),
				{ Input: [{ route: 'Relay Z' }, { route: 'Relay Nowhere' }] },
			);
			expect(r.error).toBeUndefined();
			const items = r.outputs('Operations')[0];
			expect(
				items.map((i) => [i.pairedItem, i.json.route, i.json.group, i.json.reputation]),
			).toEqual([
				[{ item: 0 }, 'Relay Z', 'google', 'suspended'],
				[{ item: 0 }, 'Relay Z', 'yahoo', 'suspended'],
				[{ item: 1 }, undefined, undefined, undefined],
			]);
			expect(items[2].json.error).toBe(
				'Route "Relay Nowhere" has sent to no domain group in the last 8 days',
			);
			// only Relay Z's groups: Relay Y is untouched
			const states = await store.getReputation([
				{ route: 'Relay Z', group: 'yahoo' },
				{ route: 'Relay Z', group: 'google' },
				{ route: 'Relay Y', group: 'microsoft' },
			]);
			expect(states.map((s) => (s?.suspendedUntil ?? 0) > at)).toEqual([true, true, false]);
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
					// every accept within 100 ms: p50 is 100 · 470/940 = 50 ms, p90 90 ms
					counts: { sent: 940, blocked: 60, acceptMsSum: 94_000, acceptN: 940, acceptLe100: 940 },
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
			expect(a.latency).toEqual({ meanMs: 100, p50Ms: 50, p90Ms: 90, p99Ms: 99 });
			expect(a.state).toMatchObject({ reputation: 'suspended', share: 0, rule: 'yahoo-tss04' });
			expect(a.state.circuit).toBeUndefined();
		});

		it("Get Many with a Campaign ID: the route's circuit and warm-up in it", async () => {
			const store = embeddedStateStore();
			const now = await store.now();
			await store.setCircuit(circuitName('spring', 'Relay A'), {
				openUntil: now + 600_000,
				ejections: 1,
				failures: 0,
				probing: true,
			});
			const date = new Date(now).toISOString().slice(0, 10);
			await store.setWarmup(
				'spring',
				[
					{
						route: 'Relay B',
						warmup: { day: 4, date, cap: 400, sharePercent: 100, endsAt: now + 3_600_000, at: now },
					},
				],
				86_400_000,
			);
			const r = await runWorkflow(
				operations({
					resource: 'stats',
					operation: 'getAll',
					window: '1h',
					groups: 'yahoo',
					statsCampaign: ' spring ',
				}),
				{ Input: [{}] },
			);
			expect(r.error).toBeUndefined();
			const [a, b] = json(r.outputs('Operations')[0]) as Array<{ state: IDataObject }>;
			expect(a.state).toMatchObject({
				campaign: 'spring',
				circuit: { state: 'open', until: new Date(now + 600_000).toISOString(), ejections: 1 },
			});
			expect(a.state.warmup).toBeUndefined();
			// nothing allocated against the cap yet: all 400 left
			expect(b.state).toMatchObject({
				campaign: 'spring',
				circuit: { state: 'closed', ejections: 0 },
				warmup: { day: 4, date, cap: 400, used: 0, left: 400, current: true },
			});
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

		it('Compare Routes on delivery latency: the share slower than the bound the node was given', async () => {
			const r = await runWorkflow(
				operations({
					resource: 'stats',
					operation: 'compare',
					window: '1h',
					compareGroup: 'yahoo',
					metric: 'latency',
					slowerThanMs: 250,
					minEffect: 5,
				}),
				{ Input: [{}] },
			);
			expect(r.error).toBeUndefined();
			const [v] = json(r.outputs('Operations')[0]);
			expect(v).toMatchObject({ group: 'yahoo', metric: 'latency', slowerThanMs: 250 });
			expect(String(v.summary)).toContain('share of accepts slower than 250 ms');
			// Relay A's yahoo messages were timed: its arm counts them
			expect((v.arms as IDataObject[]).find((a) => a.route === 'Relay A')).toMatchObject({
				sample: 940,
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
			// no Campaign ID: no warm-up or circuits; the alert log is empty
			expect(html).toContain('Give the report a Campaign ID');
			expect(html).toContain('No alert in this window');
		});

		it('HTML Report with a Campaign ID: warm-up progress and the state changes, consuming no alert', async () => {
			const store = embeddedStateStore();
			const now = await store.now();
			await store.readAlerts('trigger', 'c', { count: 1 });
			await store.publishAlerts(
				[
					{
						type: 'route.suspended',
						severity: 'warning',
						route: 'Relay A',
						group: 'yahoo',
						rule: 'yahoo-tss04',
						reason: 'TSS04 from Yahoo',
						at: new Date(now - 30_000).toISOString(),
						until: new Date(now + 3_600_000).toISOString(),
					},
				],
				0,
			);
			const date = new Date(now).toISOString().slice(0, 10);
			await store.setWarmup(
				'spring',
				[
					{
						route: 'Relay B',
						warmup: { day: 4, date, cap: 400, sharePercent: 100, endsAt: now + 3_600_000, at: now },
					},
				],
				86_400_000,
			);
			const r = await runWorkflow(
				operations({
					resource: 'report',
					operation: 'html',
					window: '24h',
					statsCampaign: 'spring',
				}),
				{ Input: [{}] },
			);
			expect(r.error).toBeUndefined();
			const html = String(r.outputs('Operations')[0][0].json.html);
			expect(html).toContain('0 of 400 used · 400 left');
			expect(html).toContain('Circuit<small>campaign spring</small>');
			expect(html).toContain('TSS04 from Yahoo');
			expect(await store.readAlerts('trigger', 'c', { count: 10 })).toHaveLength(1);
		});
	});

	describe('Campaign: Clear Counters', () => {
		it('clears the campaign’s own totals and its pause; route counters stay', async () => {
			const store = embeddedStateStore();
			const at = Date.now() - 60_000;
			const hour = 3_600_000;
			await store.countOutcomes([
				{
					route: CAMPAIGN_TOTALS_ROUTE,
					group: 'winter',
					counts: { sent: 900, bounceHard: 60 },
					at,
				},
				{ route: CAMPAIGN_TOTALS_ROUTE, group: 'spring', counts: { sent: 10 }, at },
				{ route: 'Relay A', group: 'yahoo', counts: { sent: 900, bounceHard: 60 }, at },
			]);
			await store.setCampaignPause('winter', {
				until: Date.now() + hour,
				rule: 'hard-bounce-rate',
				reason: 'list quality',
				since: Date.now(),
			});
			const r = await runWorkflow(
				operations({ resource: 'campaign', operation: 'clearCounters', campaign: 'winter' }),
				{ Input: [{}] },
			);
			expect(r.error).toBeUndefined();
			expect(json(r.outputs('Operations')[0])).toEqual([
				{ campaign: 'winter', paused: false, cleared: ['list-quality totals', 'pause'] },
			]);
			const span = [at - 2 * hour, at + hour] as const;
			expect(await store.readOutcomes(CAMPAIGN_TOTALS_ROUTE, 'winter', 'hour', ...span)).toEqual(
				[],
			);
			expect(await store.getCampaignPauses(['winter'])).toEqual([null]);
			// another campaign's totals and the route's counters stay
			expect(
				await store.readOutcomes(CAMPAIGN_TOTALS_ROUTE, 'spring', 'hour', ...span),
			).toHaveLength(1);
			expect(
				(await store.readOutcomes('Relay A', 'yahoo', 'hour', ...span))[0].counts,
			).toMatchObject({ sent: 900, bounceHard: 60 });
		});
	});

	describe('Message and Recipient: in-doubt messages, where a recipient stands', () => {
		let sinks: SmtpSink[] = [];
		beforeEach(async () => {
			sinks = await startSinks({ yahooDeferred: false });
		});
		afterEach(async () => {
			await closeSmtpTransports();
			await Promise.all(sinks.map((s) => s.close()));
		});
		const DAY = 86_400_000;

		it('lists the in-doubt ones page by page; a released one is sent by the next run, one marked sent never', async () => {
			const credentials = {
				'smtp-a': smtpCredential(sinks[0].port),
				'smtp-b': smtpCredential(sinks[1].port),
			};
			const store = embeddedStateStore();
			const secret = await store.hashSecret();
			const [x, y, z] = ['yd-0@yahoo.com', 'yd-1@yahoo.com', 'yd-2@yahoo.com'];
			const digest = (email: string) => recipientDigest(secret, duplicateKeyOf([email], ''));
			const claim = (keys: string[], owner: string, leaseMs: number) =>
				store.claimOnce('winter', {
					keys,
					token: owner,
					owner,
					leaseMs,
					ttlMs: DAY,
					takeExpired: false,
				});
			// x: sent without an answer; y: being sent now; z: its run died mid-send (the lease ran out)
			await claim([digest(x), digest(y)], 'execution 7 · Send A', 3_600_000);
			await store.settleOnce(
				'winter',
				[{ key: digest(x), token: 'execution 7 · Send A', outcome: 'doubt' }],
				DAY,
			);
			await claim([digest(z)], 'execution 8 · Send B', 1);
			await new Promise((r) => setTimeout(r, 10));

			const all = await runWorkflow(
				operations({
					resource: 'message',
					operation: 'listInDoubt',
					campaign: 'winter',
					returnAll: true,
				}),
				{ Input: [{}] },
			);
			expect(all.error).toBeUndefined();
			const listed = json(all.outputs('Operations')[0]);
			expect(listed.map((m) => m.digest).sort()).toEqual([digest(x), digest(z)].sort());
			const byDigest = new Map(listed.map((m) => [m.digest, m]));
			expect(byDigest.get(digest(x))).toEqual({
				campaign: 'winter',
				digest: digest(x),
				why: 'unknown-outcome',
				since: expect.any(String),
				by: 'execution 7 · Send A',
				deliveredBefore: 0,
				nextCursor: null,
			});
			expect(byDigest.get(digest(z))).toMatchObject({
				why: 'lease-expired',
				by: 'execution 8 · Send B',
				leaseEnded: expect.any(String),
			});

			// a page of one, then the next from its cursor, then the end
			const first = await runWorkflow(
				operations({ resource: 'message', operation: 'listInDoubt', campaign: 'winter', limit: 1 }),
				{ Input: [{}] },
			);
			const [page1] = json(first.outputs('Operations')[0]);
			expect(page1.nextCursor).toEqual(expect.any(String));
			const second = await runWorkflow(
				operations({
					resource: 'message',
					operation: 'listInDoubt',
					campaign: 'winter',
					limit: 1,
					cursor: page1.nextCursor,
				}),
				{ Input: [{}] },
			);
			const page2 = json(second.outputs('Operations')[0]);
			expect(page2).toHaveLength(1);
			expect([page1.digest, page2[0].digest].sort()).toEqual([digest(x), digest(z)].sort());
			const bad = await runWorkflow(
				operations({
					resource: 'message',
					operation: 'listInDoubt',
					campaign: 'winter',
					limit: 1,
					cursor: 'nonsense',
				}),
				{ Input: [{}] },
			);
			expect(bad.error?.message).toBe(
				'"nonsense" is not a cursor a listing of in-doubt messages gave',
			);

			// release x (and try y, which is being sent: left alone); mark z sent
			const released = await runWorkflow(
				operations({ resource: 'message', operation: 'release', campaign: 'winter' }),
				{ Input: [{ digest: digest(x) }, { digest: digest(y) }] },
			);
			expect(json(released.outputs('Operations')[0])).toEqual([
				{ campaign: 'winter', digest: digest(x), released: true },
				{ campaign: 'winter', digest: digest(y), released: false },
			]);
			const marked = await runWorkflow(
				operations({ resource: 'message', operation: 'markSent', campaign: 'winter' }),
				{ Input: [{ digest: digest(z) }] },
			);
			expect(json(marked.outputs('Operations')[0])).toEqual([
				{
					campaign: 'winter',
					digest: digest(z),
					state: 'sent',
					before: { state: 'in-doubt', since: expect.any(String), by: 'execution 8 · Send B' },
				},
			]);

			// Don't Resend: only the released one goes; the one marked sent is a duplicate
			const wf = reputationWorkflow({ sendOptions: { inDoubt: 'skip' } });
			const run = await runWorkflow(
				wf,
				{ Recipients: [{ email: x }, { email: z }] },
				{ credentials },
			);
			expect(run.error).toBeUndefined();
			const ended = ['Send A', 'Send B'].flatMap((n) => run.outputs(n).flat());
			const status = new Map(ended.map((i) => [String(i.json.email), delivery(i).status]));
			expect(status).toEqual(
				new Map([
					[x, 'sent'],
					[z, 'skipped-duplicate'],
				]),
			);
			const received = sinks.flatMap((s) => s.messages.flatMap((m) => m.rcpts));
			expect(received).toEqual([x]);

			// where x stands now: sent, on the route sticky routing gave it; not suppressed
			const route = String(assigned(ended.find((i) => i.json.email === x)!).route);
			const looked = await runWorkflow(
				operations({ resource: 'recipient', operation: 'lookUp', campaign: 'winter' }),
				{ Input: [{ email: 'YD-0@Yahoo.com' }, { email: 'nobody@yahoo.com' }] },
			);
			expect(looked.error).toBeUndefined();
			const [seen, nobody] = json(looked.outputs('Operations')[0]);
			expect(seen).toEqual({
				email: 'YD-0@yahoo.com',
				campaign: 'winter',
				message: { digest: digest(x), messageKey: '', state: 'sent' },
				sticky: [{ partitioner: 'split', route }],
				suppression: { list: '', suppressed: false },
			});
			expect(nobody).toMatchObject({ message: { state: 'none' }, sticky: [] });
			const lookedBad = await runWorkflow(
				operations({ resource: 'recipient', operation: 'lookUp', campaign: 'winter' }, true),
				{ Input: [{ email: 'not an address' }, { email: y }] },
			);
			const items = lookedBad.outputs('Operations')[0];
			expect(items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
			expect(items[0].json.error).toMatch(/^"not an address" is not one email address/);
			expect(items[1].json).toMatchObject({
				message: { state: 'sending', by: 'execution 7 · Send A' },
			});
		});
	});

	describe('Message: an in-doubt send, listed and released', () => {
		let fault: SmtpFaultServer;
		let sink: SmtpSink;
		beforeEach(async () => {
			fault = await startSmtpFaultServer({ fault: 'closeAfterDot' });
			sink = await startSmtpSink();
		});
		afterEach(async () => {
			await closeSmtpTransports();
			await fault.stop();
			await sink.stop();
		});

		/** Recipients → one send node (no partitioner: the campaign is the workflow's id) */
		const sendFlow: WorkflowJson = {
			id: 'wfDoubt',
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
					id: 'r',
					name: 'Recipients',
					type: 'test.injectedItems',
					typeVersion: 1,
					position: [200, 0],
					parameters: {},
				},
				{
					id: 's',
					name: 'Send',
					type: 'n8n-nodes-postal-routes.loadBalancedSend',
					typeVersion: 1,
					position: [400, 0],
					parameters: {
						provider: 'smtp',
						from: 'Shop <news@shop.example>',
						subject: 'Your code',
						text: 'Hi',
						options: { inDoubt: 'skip', maxAttempts: 1 },
					},
					credentials: { postalSmtp: { id: 'smtp-x', name: 'Relay X' } },
				},
			],
			connections: {
				'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
				Recipients: { main: [[{ node: 'Send', type: 'main', index: 0 }]] },
			},
		} as unknown as WorkflowJson;
		const relay = (port: number) => ({
			credentials: { 'smtp-x': { host: '127.0.0.1', port, security: 'none' } },
		});
		const input = { Recipients: [{ email: 'Pat@Example.com' }] };

		it('a relay that closed after the dot leaves it in doubt: listed with its execution, kept back, released, sent', async () => {
			const first = await runWorkflow(sendFlow, input, relay(fault.port));
			expect(first.error).toBeUndefined();
			expect(delivery(first.outputs('Send')[3][0]).status).toBe('in-doubt');

			const listed = await runWorkflow(
				operations({ resource: 'message', operation: 'listInDoubt', campaign: 'wfDoubt' }),
				{ Input: [{}] },
			);
			const secret = await embeddedStateStore().hashSecret();
			const digest = recipientDigest(secret, duplicateKeyOf(['Pat@example.com'], ''));
			expect(json(listed.outputs('Operations')[0])).toEqual([
				{
					campaign: 'wfDoubt',
					digest,
					why: 'unknown-outcome',
					since: expect.any(String),
					by: expect.stringMatching(/^execution .+ · Send$/),
					deliveredBefore: 0,
					nextCursor: null,
				},
			]);
			const looked = await runWorkflow(
				operations({ resource: 'recipient', operation: 'lookUp', campaign: 'wfDoubt' }),
				{ Input: [{ email: 'pat@example.com' }] },
			);
			expect(json(looked.outputs('Operations')[0])[0].message).toMatchObject({
				digest,
				state: 'in-doubt',
			});

			// Don't Resend keeps it back, on a relay that works too
			const kept = await runWorkflow(sendFlow, input, relay(sink.port));
			expect(delivery(kept.outputs('Send')[3][0]).status).toBe('in-doubt');
			expect(sink.messages).toHaveLength(0);

			const released = await runWorkflow(
				operations({ resource: 'message', operation: 'release', campaign: 'wfDoubt' }),
				{ Input: [{ digest }] },
			);
			expect(json(released.outputs('Operations')[0])).toEqual([
				{ campaign: 'wfDoubt', digest, released: true },
			]);
			const again = await runWorkflow(sendFlow, input, relay(sink.port));
			expect(delivery(again.outputs('Send')[0][0]).status).toBe('sent');
			expect(sink.messages.map((m) => m.rcpts)).toEqual([['Pat@example.com']]);
		});
	});

	describe('Suppression: Get Many and Export', () => {
		it('lists digests and masked addresses a page at a time, and exports them as CSV', async () => {
			const add = await runWorkflow(
				operations({ resource: 'suppression', operation: 'add', suppressionList: 'news' }),
				{
					Input: [
						{ email: 'ann@example.com' },
						{ email: 'bob@example.com' },
						{ email: '=cmd@example.com' },
					],
				},
			);
			expect(add.error).toBeUndefined();
			const page = await runWorkflow(
				operations({
					resource: 'suppression',
					operation: 'list',
					suppressionList: 'news',
					limit: 2,
				}),
				{ Input: [{}] },
			);
			const first = json(page.outputs('Operations')[0]);
			expect(first).toHaveLength(2);
			expect(first[0]).toEqual({
				list: 'news',
				digest: expect.stringMatching(/^[\w-]{22}$/),
				masked: expect.stringMatching(/^.\*\*\*@example\.com$/),
				reason: 'manual',
				source: 'manual',
				since: expect.any(String),
				nextCursor: expect.any(String),
			});
			const rest = await runWorkflow(
				operations({
					resource: 'suppression',
					operation: 'list',
					suppressionList: 'news',
					limit: 2,
					cursor: first[0].nextCursor,
				}),
				{ Input: [{}] },
			);
			const second = json(rest.outputs('Operations')[0]);
			expect(second).toHaveLength(1);
			expect(second[0].nextCursor).toBeNull();
			expect(new Set([...first, ...second].map((e) => e.masked))).toEqual(
				new Set(['a***@example.com', 'b***@example.com', '=***@example.com']),
			);

			const stray = await runWorkflow(
				operations(
					{
						resource: 'suppression',
						operation: 'list',
						suppressionList: 'news',
						limit: 2,
						cursor: 'k03',
					},
					true,
				),
				{ Input: [{}] },
			);
			expect(json(stray.outputs('Operations')[0])).toEqual([
				{ error: '"k03" is not a cursor a listing of the suppression list gave' },
			]);

			const exported = await runWorkflow(
				operations({
					resource: 'suppression',
					operation: 'export',
					suppressionList: 'news',
					returnAll: true,
				}),
				{ Input: [{}] },
			);
			expect(exported.error).toBeUndefined();
			const [file] = exported.outputs('Operations')[0];
			expect(file.json).toEqual({ list: 'news', entries: 3, nextCursor: null });
			expect(file.binary?.data).toMatchObject({
				mimeType: 'text/csv',
				fileName: 'suppression-list-news.csv',
			});
			const csv = Buffer.from(String(file.binary!.data.data), 'base64').toString('utf8');
			const lines = csv.split('\r\n');
			expect(lines[0]).toBe('digest,masked,reason,source,since,until');
			expect(lines).toHaveLength(5);
			expect(lines[4]).toBe('');
			// no address, only digests and masks; a formula-looking mask is defused
			expect(csv).not.toMatch(/ann@|bob@|cmd@/);
			expect(lines.some((l) => l.includes(",'=***@example.com,manual,manual,"))).toBe(true);
			const digests = new Set([...first, ...second].map((e) => String(e.digest)));
			expect(new Set(lines.slice(1, 4).map((l) => l.split(',')[0]))).toEqual(digests);
		});
	});

	describe('on Redis: the controls read and write the shared store', () => {
		let server: RedisServer;
		let store: RedisStateStore;
		const keyPrefix = 'opsctl:';
		const credentials = () => ({
			postalRedis: { mode: 'standalone', host: '127.0.0.1', port: server.port, keyPrefix },
		});
		const run = (parameters: IDataObject, input: IDataObject[] = [{}]) =>
			runWorkflow(
				onRedis(operations(parameters)),
				{ Input: input },
				{ credentials: credentials() },
			);
		beforeAll(async () => {
			server = await startRedisServer();
			store = new RedisStateStore({
				mode: 'standalone',
				host: '127.0.0.1',
				port: server.port,
				keyPrefix,
			});
		});
		afterAll(async () => {
			await store.close();
			await closeRedisStateStores();
			await server.stop();
		});

		it('in-doubt messages, a look-up, the list’s pages and export, a circuit, counters, a weight', async () => {
			const secret = await store.hashSecret();
			const digest = (email: string) => recipientDigest(secret, duplicateKeyOf([email], 'v2'));
			await store.claimOnce('spring', {
				keys: [digest('a@example.com'), digest('b@example.com')],
				token: 't',
				owner: 'execution 9 · Send',
				leaseMs: 3_600_000,
				ttlMs: 86_400_000,
				takeExpired: false,
			});
			await store.settleOnce(
				'spring',
				['a@example.com', 'b@example.com'].map((e) => ({
					key: digest(e),
					token: 't',
					outcome: 'doubt' as const,
				})),
				86_400_000,
			);
			const listed = await run({
				resource: 'message',
				operation: 'listInDoubt',
				campaign: 'spring',
				returnAll: true,
			});
			expect(listed.error).toBeUndefined();
			expect(
				json(listed.outputs('Operations')[0])
					.map((m) => m.digest)
					.sort(),
			).toEqual([digest('a@example.com'), digest('b@example.com')].sort());
			const released = await run(
				{ resource: 'message', operation: 'release', campaign: 'spring' },
				[{ digest: digest('a@example.com') }],
			);
			expect(json(released.outputs('Operations')[0])[0].released).toBe(true);
			await run({ resource: 'message', operation: 'markSent', campaign: 'spring' }, [
				{ digest: digest('b@example.com') },
			]);
			expect(
				(
					await store.claimOnce('spring', {
						keys: [digest('a@example.com'), digest('b@example.com')],
						token: 'p',
						owner: 'p',
						leaseMs: 0,
						ttlMs: 1,
						takeExpired: false,
						peek: true,
					})
				).map((c) => c.state),
			).toEqual(['claimed', 'sent']);

			await run({ resource: 'suppression', operation: 'add', suppressionList: 'r' }, [
				{ email: 'b@example.com' },
				{ email: 'c@example.com' },
			]);
			const looked = await run(
				{
					resource: 'recipient',
					operation: 'lookUp',
					campaign: 'spring',
					messageKey: 'v2',
					suppressionList: 'r',
				},
				[{ email: 'b@example.com' }],
			);
			expect(json(looked.outputs('Operations')[0])[0]).toMatchObject({
				message: { digest: digest('b@example.com'), state: 'sent' },
				suppression: { list: 'r', suppressed: true, reason: 'manual' },
			});
			const page = await run({
				resource: 'suppression',
				operation: 'list',
				suppressionList: 'r',
				limit: 1,
			});
			const [one] = json(page.outputs('Operations')[0]);
			const next = await run({
				resource: 'suppression',
				operation: 'list',
				suppressionList: 'r',
				limit: 1,
				cursor: one.nextCursor,
			});
			expect([one, ...json(next.outputs('Operations')[0])].map((e) => e.masked).sort()).toEqual([
				'b***@example.com',
				'c***@example.com',
			]);
			const exported = await run({
				resource: 'suppression',
				operation: 'export',
				suppressionList: 'r',
				returnAll: true,
			});
			expect(json(exported.outputs('Operations')[0])[0]).toMatchObject({ entries: 2 });

			await store.setCircuit(circuitName('spring', 'Relay C'), {
				openUntil: (await store.now()) + 3_600_000,
				ejections: 1,
			});
			const reset = await run({
				resource: 'route',
				operation: 'resetCircuit',
				route: 'Relay C',
				campaign: 'spring',
			});
			expect(json(reset.outputs('Operations')[0])[0]).toMatchObject({
				wasOpen: true,
				circuit: 'closed',
			});
			expect(await store.getCircuits([circuitName('spring', 'Relay C')])).toEqual([null]);

			await store.countOutcomes([
				{
					route: CAMPAIGN_TOTALS_ROUTE,
					group: 'spring',
					counts: { sent: 5, complained: 1 },
					at: Date.now(),
				},
			]);
			await run({ resource: 'campaign', operation: 'clearCounters', campaign: 'spring' });
			expect(
				await store.readOutcomes(
					CAMPAIGN_TOTALS_ROUTE,
					'spring',
					'hour',
					Date.now() - 3_600_000,
					Date.now() + 60_000,
				),
			).toEqual([]);

			const weight = await run({
				resource: 'route',
				operation: 'setWeight',
				route: 'Relay C',
				group: 'google',
				weightFactor: 0.3,
				weightHours: 1,
			});
			expect(json(weight.outputs('Operations')[0])[0]).toMatchObject({
				reputation: 'throttled',
				share: 0.3,
			});
			expect((await store.getReputation([{ route: 'Relay C', group: 'google' }]))[0]).toMatchObject(
				{
					factor: 0.3,
					rule: 'manual',
				},
			);
		});
	});
});
