/**
 * End-to-end: operating postal routes in a real n8n 2.40.7 (issue "Eyes and hands for operators").
 * One `n8n start` on loopback (GUI-mode install in its own user folder) serves three published
 * workflows:
 *   - the scenario (a webhook): five messages through Relay A to a sink, then Postal Operations ›
 *     Stat › Get Many (the stats items), Report › HTML Report written to a file by n8n's Read/Write
 *     Files from Disk node, and Load-Balanced Send › Probe Connection on a route whose server is
 *     down (Fall 1: its circuit opens, a `probe.down` alert is published);
 *   - examples/alert-to-slack.json: its Postal Alert Trigger fires on that alert (its Slack node
 *     is left unconfigured, as the example ships, so that execution ends in Slack's error);
 *   - examples/prometheus-endpoint.json: its webhook answers the metrics, parsed by a real
 *     exposition-format parser.
 * Checks read the executions through n8n's REST API as the owner, as the editor does.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import parsePrometheus from 'parse-prometheus-text-format';
import { startSmtpSink } from '../helpers/smtpSink';
import { Checks, freePort, log, step, waitFor } from './lib';
import { install, n8n, n8nEnv, type Env, type Packed } from './run';
import {
	executionResult,
	finishedExecutions,
	ownerRest,
	serverVars,
	startN8nServer,
	stopN8nServer,
} from './server';
import { PKG, smtpCredential } from './workflow';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const SCENARIO_ID = 'wfPostalOperations';
const SCENARIO_HOOK = 'postal-e2e-operations';
const ALERT_EXAMPLE = 'alert-to-slack.json';
const METRICS_EXAMPLE = 'prometheus-endpoint.json';
const CAMPAIGN = 'ops-e2e';
const RECIPIENTS = [
	{ email: 'ana@gmail.com', domainGroup: 'google' },
	{ email: 'ben@gmail.com', domainGroup: 'google' },
	{ email: 'cy@gmail.com', domainGroup: 'google' },
	{ email: 'dee@outlook.com', domainGroup: 'microsoft' },
	{ email: 'eli@outlook.com', domainGroup: 'microsoft' },
];

/** The examples this scenario runs (the examples step leaves them to it). */
export const OPERATIONS_EXAMPLES = [ALERT_EXAMPLE, METRICS_EXAMPLE];

const example = (file: string) => JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8'));

function scenarioWorkflow(reportFile: string) {
	const node = (
		id: string,
		name: string,
		type: string,
		typeVersion: number,
		x: number,
		extra = {},
	) => ({
		id,
		name,
		type,
		typeVersion,
		position: [x, 0],
		...extra,
	});
	const relay = (route: string, id: string, name: string, parameters: object) => ({
		parameters: {
			provider: 'smtp',
			credentialType: 'postalRoutes',
			routeName: route,
			campaignId: CAMPAIGN,
			...parameters,
		},
		credentials: { postalSmtp: { id, name } },
	});
	return {
		id: SCENARIO_ID,
		name: 'Postal Routes e2e: operations',
		active: false,
		nodes: [
			node('hook', 'Run', 'n8n-nodes-base.webhook', 2, 0, {
				webhookId: SCENARIO_HOOK,
				parameters: {
					httpMethod: 'POST',
					path: SCENARIO_HOOK,
					responseMode: 'onReceived',
					options: {},
				},
			}),
			node('recipients', 'Recipients', 'n8n-nodes-base.code', 2, 200, {
				parameters: { jsCode: `return ${JSON.stringify(RECIPIENTS)}.map((json) => ({ json }));` },
			}),
			node(
				'send',
				'Send',
				`${PKG}.loadBalancedSend`,
				3,
				400,
				relay('Relay A', 'e2eOpsRelayA', 'E2E Ops Relay A', {
					operation: 'send',
					from: 'Shop <news@shop.example>',
					to: '={{ $json.email }}',
					subject: 'Operations e2e',
					text: 'Hi',
				}),
			),
			node('stats', 'Stats', `${PKG}.postalOperations`, 1, 600, {
				parameters: { resource: 'stats', operation: 'getAll', window: '1h' },
			}),
			node('report', 'Report', `${PKG}.postalOperations`, 1, 800, {
				parameters: {
					resource: 'report',
					operation: 'html',
					window: '1h',
					title: 'E2E route report',
					binaryPropertyName: 'report',
				},
			}),
			node('write', 'Write Report', 'n8n-nodes-base.readWriteFile', 1, 1000, {
				parameters: {
					operation: 'write',
					fileName: reportFile,
					dataPropertyName: 'report',
					options: {},
				},
			}),
			node(
				'probe',
				'Probe Relay Down',
				`${PKG}.loadBalancedSend`,
				3,
				1200,
				relay('Relay Down', 'e2eOpsRelayDown', 'E2E Ops Relay Down', {
					operation: 'probe',
					probeOptions: { fall: 1, probeEverySeconds: 60, timeoutSeconds: 5 },
				}),
			),
		],
		connections: {
			Run: { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: 'Send', type: 'main', index: 0 }]] },
			Send: { main: [[{ node: 'Stats', type: 'main', index: 0 }]] },
			Stats: { main: [[{ node: 'Report', type: 'main', index: 0 }]] },
			Report: { main: [[{ node: 'Write Report', type: 'main', index: 0 }]] },
			'Write Report': { main: [[{ node: 'Probe Relay Down', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

/** Runs the scenario; returns the failed checks (empty: passed), never throws. */
export async function runOperations(env: Env, packed: Packed, work: string): Promise<string[]> {
	try {
		return await scenario(env, packed, work);
	} catch (error) {
		return [`[operations] ${(error as Error).message.split('\n')[0]}`];
	}
}

async function scenario(env: Env, packed: Packed, work: string): Promise<string[]> {
	const base = join(work, 'operations');
	const files = join(base, 'files');
	mkdirSync(files, { recursive: true });
	const reportFile = join(files, 'route-report.html');
	const c = new Checks('operations');
	const n8nLog = join(base, 'n8n.log');
	const inst = await step('[operations] install the tarball (GUI installer steps)', () =>
		install(env, 'gui', packed, base),
	);
	const password = `pw-O-${randomBytes(12).toString('hex')}`;
	const sink = await startSmtpSink({ auth: { user: 'relay-ops', pass: password } });
	// a port nothing listens on: the route whose server is down
	const downPort = await freePort();
	const vars = {
		...serverVars(
			n8nEnv(env, inst, base, await freePort(), join(base, 'resolve-probe.jsonl')),
			await freePort(),
		),
		// n8n 2.x lets the file nodes write only under this folder
		N8N_RESTRICT_FILE_ACCESS_TO: files,
	};
	const alerts = { ...example(ALERT_EXAMPLE), active: false };
	const metrics = { ...example(METRICS_EXAMPLE), active: false };
	let server: ChildProcess | undefined;
	try {
		const credsFile = join(base, 'credentials.json');
		writeFileSync(
			credsFile,
			JSON.stringify([
				smtpCredential('e2eOpsRelayA', 'E2E Ops Relay A', sink.port, 'relay-ops', password),
				smtpCredential('e2eOpsRelayDown', 'E2E Ops Relay Down', downPort, 'relay-ops', password),
			]),
		);
		const wfFile = join(base, 'workflows.json');
		writeFileSync(wfFile, JSON.stringify([scenarioWorkflow(reportFile), alerts, metrics], null, 2));
		await step('[operations] import + publish the scenario and two examples', async () => {
			await n8n(env, ['import:credentials', `--input=${credsFile}`], vars, n8nLog);
			await n8n(env, ['import:workflow', `--input=${wfFile}`], vars, n8nLog);
			for (const id of [SCENARIO_ID, alerts.id, metrics.id])
				await n8n(env, ['publish:workflow', `--id=${id}`], vars, n8nLog);
		});
		let url: string;
		({ server, url } = await startN8nServer(env, inst.userFolder, vars, n8nLog, 'operations'));
		const rest = await ownerRest(url, 'Operations-2026');
		c.ok(rest.ok && rest.cookie, 'owner set-up gave a session');
		const finished = (workflowId: string, what: string) =>
			finishedExecutions(rest, workflowId, what, 60_000);
		const runDataOf = (id: string) => executionResult(env, rest, id);

		// the workflows are activated a moment after readiness: the webhook answers 404 until then
		const called = await step('[operations] POST the scenario’s webhook', () =>
			waitFor(
				'the scenario’s webhook to be registered',
				async () => {
					const r = await fetch(`${url}/webhook/${SCENARIO_HOOK}`, { method: 'POST', body: '{}' });
					return r.status === 404 ? undefined : r.status;
				},
				60_000,
			),
		);
		c.equal(called, 200, 'scenario webhook: status');
		const [run] = await step('[operations] the scenario’s execution', () =>
			finished(SCENARIO_ID, 'the scenario to finish'),
		);
		c.equal(run.status, 'success', 'scenario: execution status');
		const data = await runDataOf(run.id);
		const out = (node: string, output = 0) => data.runData[node]?.[0]?.data?.main[output] ?? [];
		c.equal(
			out('Send').map((i) => (i.json.postalDelivery as { status?: string }).status),
			RECIPIENTS.map(() => 'sent'),
			'Send: five messages on Sent',
		);
		c.equal(sink.messages.length, RECIPIENTS.length, 'the sink got the five messages');

		// a stats item per route × group, counted by the send node just before
		const rows = out('Stats').map((i) => i.json as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
		const row = (group: string) => rows.find((r) => r.route === 'Relay A' && r.group === group);
		c.equal(
			[row('google')?.counts.sent, row('microsoft')?.counts.sent],
			[3, 2],
			'Stats › Get Many: Relay A sent 3 (google) and 2 (microsoft) in the last hour',
		);
		c.equal(row('google')?.state?.reputation, 'ok', 'Stats: Relay A is ok for google');
		log(`  a stats item: ${JSON.stringify(row('google'))}`);

		// the report file n8n's own file node wrote
		const html = existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : '';
		c.ok(
			html.startsWith('<!DOCTYPE html>') || html.startsWith('<!doctype html>'),
			`report file: an HTML page at ${reportFile}`,
		);
		c.ok(
			html.includes('E2E route report') && html.includes('<svg'),
			'report file: its title and inline SVG charts',
		);
		c.ok(html.includes('Relay A'), 'report file: names Relay A');
		c.ok(!/(src|href)=["']https?:/i.test(html), 'report file: no external resource');
		log(`  report file: ${reportFile} (${html.length} characters)`);

		// the probe of the route whose server is down: Failed, the circuit open
		const failedProbe = out('Probe Relay Down', 1)[0]?.json as Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
		c.equal(
			[failedProbe?.ok, failedProbe?.route, failedProbe?.circuit?.open],
			[false, 'Relay Down', true],
			'Probe Connection: the down route failed on Failed, its circuit opened (Fall 1)',
		);
		log(`  the probe: ${JSON.stringify(failedProbe)}`);

		// examples/prometheus-endpoint.json: a scrape
		const scrape = await fetch(`${url}/webhook/postal-metrics`);
		const text = await scrape.text();
		c.equal(scrape.status, 200, 'prometheus-endpoint.json: scrape status');
		c.ok(
			(scrape.headers.get('content-type') ?? '').startsWith('text/plain'),
			`prometheus-endpoint.json: content type ${scrape.headers.get('content-type')}`,
		);
		const families = parsePrometheus(text) as Array<{
			name: string;
			metrics: Array<{ labels?: Record<string, string>; value?: string }>;
		}>;
		const sent = families.find((f) => f.name === 'postal_messages_sent');
		c.equal(
			sent?.metrics
				.filter((m) => m.labels?.route === 'Relay A')
				.map((m) => [m.labels?.group, Number(m.value)])
				.sort(),
			[
				['google', 3],
				['microsoft', 2],
			],
			'prometheus-endpoint.json: postal_messages_sent for Relay A, parsed by a real exposition-format parser',
		);
		log(`  prometheus: ${families.length} families, ${text.length} characters`);
		// the alert the probe caused, fired by the published examples/alert-to-slack.json
		const fired = await step('[operations] the alert example’s execution', () =>
			finished(alerts.id, 'the alert trigger to fire'),
		);
		const alertData = await runDataOf(fired[fired.length - 1].id);
		const alertItems = (alertData.runData['Postal Alerts']?.[0]?.data?.main[0] ?? []).map(
			(i) => i.json,
		);
		c.ok(
			alertItems.some(
				(a) =>
					a.route === 'Relay Down' &&
					a.campaign === CAMPAIGN &&
					a.severity === 'critical' &&
					a.type === 'probe.down',
			),
			`alert-to-slack.json: the trigger fired with the down route’s alert (${JSON.stringify(alertItems)})`,
		);
		c.ok(
			Boolean(alertData.error) && 'Post to Slack' in alertData.runData,
			'alert-to-slack.json: the unconfigured Slack node got the alert (and failed for want of a credential, as shipped)',
		);
		log(`  the alert: ${JSON.stringify(alertItems)}`);
	} catch (error) {
		c.ok(false, (error as Error).message.split('\n')[0]);
	} finally {
		await stopN8nServer(server);
		await sink.stop();
	}
	const logText = readFileSync(n8nLog, 'utf8');
	c.ok(!logText.includes(password), 'no SMTP password in n8n’s log');
	return c.failures;
}
