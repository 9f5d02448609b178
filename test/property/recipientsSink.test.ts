import fc from 'fast-check';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { runWorkflow, type WorkflowJson } from '../helpers/engine';
import { adversarialRecipient, mailboxOf } from '../helpers/adversarial';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const CASES = 10_000;

const workflow: WorkflowJson = {
	id: 'wfRecipientProperty',
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
			id: 'in',
			name: 'Webhook Items',
			type: 'test.injectedItems',
			typeVersion: 1,
			position: [200, 0],
			parameters: {},
		},
		{
			id: 'send',
			name: 'Send',
			type: 'n8n-nodes-postal-routes.loadBalancedSend',
			typeVersion: 1,
			position: [400, 0],
			parameters: {
				provider: 'smtp',
				from: 'Shop <news@shop.example>',
				to: '={{ $json.email }}',
				subject: 'Welcome',
				text: 'Hello',
				headers: { values: [{ name: 'X-Item', value: '={{ $json.i }}' }] },
				options: { idempotency: false },
			},
			credentials: { postalSmtp: { id: 'sink', name: 'Sink' } },
		},
	],
	connections: {
		'Manual Trigger': { main: [[{ node: 'Webhook Items', type: 'main', index: 0 }]] },
		'Webhook Items': { main: [[{ node: 'Send', type: 'main', index: 0 }]] },
	},
};

const record = (i: INodeExecutionData) => i.json.postalDelivery as IDataObject;

describe('Load-Balanced Send to a real SMTP sink: an adversarial To reaches exactly the mailbox it reports, or nobody', () => {
	let sink: SmtpSink;
	beforeAll(async () => {
		sink = await startSmtpSink();
	});
	afterAll(async () => {
		closeSmtpTransports();
		await sink.stop();
	});

	it(`${CASES.toLocaleString('en')} values (fast-check, seeded) through the n8n engine`, async () => {
		resetEmbeddedStateStore();
		const values = fc.sample(adversarialRecipient, { numRuns: CASES, seed: 424242 });
		const run = await runWorkflow(
			workflow,
			{ 'Webhook Items': values.map((email, i) => ({ email, i })) },
			{
				credentials: {
					sink: { host: '127.0.0.1', port: sink.port, security: 'none', poolSize: 4 },
				},
			},
		);
		expect(run.error).toBeUndefined();
		const [sent, failed, fallback] = run.outputs('Send');
		expect(fallback).toHaveLength(0);
		expect(sent.length + failed.length).toBe(CASES);
		// the generator makes both kinds in numbers: the property is tested on each side
		expect(sent.length).toBeGreaterThan(1000);
		expect(failed.length).toBeGreaterThan(1000);

		const byItem = new Map<string, string[][]>();
		for (const m of sink.messages) {
			const id = String(m.parsed.headers.get('x-item'));
			byItem.set(id, [...(byItem.get(id) ?? []), m.rcpts]);
		}
		expect(sink.messages).toHaveLength(sent.length);
		for (const item of sent) {
			const r = record(item);
			const arrived = byItem.get(String(item.json.i));
			expect(arrived).toHaveLength(1);
			// the envelope is exactly the one mailbox the record reports
			expect(arrived![0].map(mailboxOf)).toEqual(r.recipients);
			expect(r.recipients).toHaveLength(1);
		}
		for (const item of failed) {
			const r = record(item);
			// refused before any connection, with the field named
			expect(r.attempts).toBe(0);
			expect(String(r.error)).toMatch(/^Item \d+: To: /);
			expect(byItem.has(String(item.json.i))).toBe(false);
		}
	});
});
