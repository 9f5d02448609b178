import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { dataTables, runWorkflow, type WorkflowJson } from '../helpers/engine';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

/** examples/webhook-funnel-send.json with its Webhook replaced by injected sign-up requests. */
function funnel(): WorkflowJson {
	const wf = JSON.parse(
		readFileSync(join(__dirname, '..', '..', 'examples', 'webhook-funnel-send.json'), 'utf8'),
	) as WorkflowJson;
	const hook = wf.nodes.find((n) => n.type === 'n8n-nodes-base.webhook')!;
	Object.assign(hook, { type: 'test.injectedItems', typeVersion: 1, parameters: {} });
	wf.nodes.push({
		id: 'start',
		name: 'Manual Trigger',
		type: 'n8n-nodes-base.manualTrigger',
		typeVersion: 1,
		position: [-200, 0],
		parameters: {},
	});
	wf.connections['Manual Trigger'] = { main: [[{ node: hook.name, type: 'main', index: 0 }]] };
	return wf;
}

const delivery = (i: INodeExecutionData) => i.json.postalDelivery as IDataObject;

describe('the funnel example: one sign-up mails exactly the address it names', () => {
	let sinks: SmtpSink[] = [];
	afterEach(async () => {
		closeSmtpTransports();
		await Promise.all(sinks.map((s) => s.stop()));
		sinks = [];
		dataTables.clear();
	});

	it('a sign-up whose email hides a list, a second address or a look-alike space reaches nobody', async () => {
		resetEmbeddedStateStore();
		sinks = [await startSmtpSink(), await startSmtpSink()];
		const [relay, backup] = sinks;
		// the example's Delivery Log (Failed items): its data table, as a user creates it once
		dataTables.set('delivery log', []);
		const attacks = [
			'"eve"@attacker.test, victim1@gmail.com, victim2@yahoo.com, "z"@attacker.test',
			'a\u00a0victim@gmail.com',
			'a@exämple.com/evil',
			'a@x.test victim@evil.test',
			'a@x.test (victim@evil.test)',
		];
		const signUps = [...attacks, 'Sam <sam@gmail.com>'].map((email) => ({
			body: { email, name: 'Eve' },
		}));
		const smtp = (port: number) => ({ host: '127.0.0.1', port, security: 'none' });
		const run = await runWorkflow(
			funnel(),
			{ 'Sign-Up Webhook': signUps },
			{ credentials: { relayASmtp: smtp(relay.port), relayBSmtp: smtp(backup.port) } },
		);
		expect(run.error).toBeUndefined();

		expect(
			run
				.outputs('Classify Domain')[0]
				.slice(0, attacks.length)
				.every((i) => i.json.domainGroup === 'invalid'),
		).toBe(true);
		const [sent, failed, fallback] = run.outputs('Send Welcome');
		expect(sent.map((i) => delivery(i).recipients)).toEqual([['sam@gmail.com']]);
		expect(fallback).toHaveLength(0);
		expect(failed).toHaveLength(attacks.length);
		for (const item of failed) {
			expect(delivery(item).attempts).toBe(0);
			expect(String(delivery(item).error)).toMatch(
				/^Item \d: To: the Domain Group Classifier found no valid recipient — /,
			);
		}
		expect(String(delivery(failed[0]).error)).toContain('it holds more than one address');
		expect(relay.messages.map((m) => m.rcpts)).toEqual([['sam@gmail.com']]);
		expect(backup.messages).toHaveLength(0);
		// each refused sign-up is a row of the delivery log, under the address as it was given
		expect(dataTables.get('delivery log')!.map((r) => [r.recipient, r.outcome])).toEqual(
			attacks.map((a) => [a, 'failed']),
		);
	});
});
