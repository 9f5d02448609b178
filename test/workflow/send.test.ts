import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { loadWorkflow, runWorkflow, withParameters } from '../helpers/engine';
import { recipients } from '../helpers/recipients';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const delivery = (i: INodeExecutionData) => i.json.postalDelivery as IDataObject;
const smtpCredential = (port: number) => ({
	host: '127.0.0.1',
	port,
	security: 'none',
	user: '',
	password: '',
	poolSize: 2,
});

describe('classifier → partitioner 70/30 → two Load-Balanced Send nodes on real SMTP sinks', () => {
	let sinks: SmtpSink[] = [];
	const workflow = loadWorkflow('send-split');
	const people = recipients(600, 77, ['gmail.com', 'googlemail.com']);

	beforeEach(() => resetEmbeddedStateStore());
	afterEach(async () => {
		closeSmtpTransports();
		await Promise.all(sinks.map((s) => s.stop()));
		sinks = [];
	});

	const credentialsFor = (a: SmtpSink, b: SmtpSink, c: SmtpSink) => ({
		'smtp-a': smtpCredential(a.port),
		'smtp-b': smtpCredential(b.port),
		'smtp-c': smtpCredential(c.port),
	});

	it('delivers each route its exact share, parseable with the right headers, and never twice', async () => {
		sinks = await Promise.all([startSmtpSink(), startSmtpSink(), startSmtpSink()]);
		const [a, b, c] = sinks;
		const run = await runWorkflow(
			workflow,
			{ Recipients: people },
			{ credentials: credentialsFor(a, b, c) },
		);
		expect(run.error).toBeUndefined();
		expect(a.messages).toHaveLength(420);
		expect(b.messages).toHaveLength(180);
		expect(c.messages).toHaveLength(0);

		const sentA = run.outputs('Send A')[0];
		expect(sentA).toHaveLength(420);
		expect(delivery(sentA[0])).toMatchObject({
			route: 'Relay A',
			provider: 'smtp',
			status: 'sent',
			responseCode: 250,
			attempts: 1,
		});
		expect(String(delivery(sentA[0]).messageId)).toMatch(/^<.+@.+>$/);

		const m = a.messages[0].parsed;
		expect(m.from?.value).toEqual([{ address: 'news@shop.example', name: 'Shop' }]);
		expect(m.headers.get('x-virtual-mta')).toBe('pool-a');
		expect(m.headers.get('x-campaign')).toBe('winter');
		expect(m.text?.trim()).toBe('Hi there');
		expect(m.subject).toBe(`Hello ${a.messages[0].rcpts[0]}`);
		expect(b.messages[0].parsed.headers.get('x-virtual-mta')).toBe('pool-b');
		const all = [...a.messages, ...b.messages].map((x) => x.rcpts[0]);
		expect(new Set(all).size).toBe(600);
		expect(JSON.stringify(run.run)).not.toMatch(/"password"/);

		// the same campaign again: nothing goes out twice
		const again = await runWorkflow(
			workflow,
			{ Recipients: people },
			{ credentials: credentialsFor(a, b, c) },
		);
		expect(a.messages).toHaveLength(420);
		expect(b.messages).toHaveLength(180);
		const [sentAgain, , , skipped] = again.outputs('Send A');
		expect(sentAgain).toHaveLength(0);
		expect(skipped.map((i) => delivery(i).status)).toEqual(Array(420).fill('skipped-duplicate'));
	});

	it('fails over: sink B stops mid-run, its items leave on Fallback and the backup delivers them', async () => {
		// B goes down for good between two messages: at the 41st transaction it drops every connection
		// and refuses new ones. (One connection to B, so no message is half-accepted when it dies.)
		const stopAfter = 40;
		const b: SmtpSink = await startSmtpSink({
			reply: (ctx) => {
				if (ctx.phase !== 'rcpt' || ctx.messageIndex < stopAfter) return undefined;
				void b.stop();
				return { code: 421, message: '4.3.2 Service shutting down' };
			},
		});
		sinks = [await startSmtpSink(), b, await startSmtpSink()];
		const [a, , c] = sinks;
		const credentials = {
			...credentialsFor(a, b, c),
			'smtp-b': { ...smtpCredential(b.port), poolSize: 1 },
		};
		const run = await runWorkflow(workflow, { Recipients: people }, { credentials });
		expect(run.error).toBeUndefined();

		const [sentB, failedB, fallbackB] = run.outputs('Send B');
		const [sentBackup, failedBackup, fallbackBackup] = run.outputs('Backup Send');
		expect(b.messages).toHaveLength(stopAfter);
		expect(sentB.length).toBe(b.messages.length);
		expect(fallbackB.length).toBe(180 - sentB.length - failedB.length);
		expect(fallbackB.length).toBeGreaterThan(0);
		expect(fallbackB.some((i) => delivery(i).status === 'circuit-open')).toBe(true); // the circuit opened
		expect(sentBackup).toHaveLength(fallbackB.length);
		expect(c.messages).toHaveLength(fallbackB.length);
		expect(sentBackup.every((i) => delivery(i).route === 'Backup')).toBe(true);
		expect(failedBackup.length + fallbackBackup.length).toBe(0);

		// nothing lost, nothing twice: delivered + failed = input
		const delivered = [...a.messages, ...b.messages, ...c.messages].map((x) => x.rcpts[0]);
		expect(new Set(delivered).size).toBe(delivered.length);
		expect(delivered.length + failedB.length).toBe(600);

		// the next execution: the partitioner sees Relay B's open circuit and gives its share to Relay A
		const more = recipients(100, 78, ['gmail.com']);
		const next = await runWorkflow(workflow, { Recipients: more }, { credentials });
		const [toA, toB, deferred] = next.outputs('Gmail Split');
		expect(toB).toHaveLength(0);
		expect(deferred).toHaveLength(0);
		expect(toA).toHaveLength(100);
		expect(toA.filter((i) => (i.json.postalRoute as IDataObject).via === 'spill')).toHaveLength(30);
		expect(next.outputs('Send A')[0]).toHaveLength(100);
	});

	it('rejects a header value with a line break for that item only, naming the item and the field', async () => {
		sinks = await Promise.all([startSmtpSink(), startSmtpSink(), startSmtpSink()]);
		const [a, b, c] = sinks;
		const wf = withParameters(workflow, 'Send A', {
			subject:
				"={{ $json.email.startsWith('user0.') ? 'Hi\\r\\nBcc: victim@evil.example' : 'Hello' }}",
		});
		const run = await runWorkflow(
			wf,
			{ Recipients: people.slice(0, 20) },
			{ credentials: credentialsFor(a, b, c) },
		);
		const [sent, failed] = run.outputs('Send A');
		expect(failed).toHaveLength(1);
		expect(delivery(failed[0]).error).toMatch(
			/^Item \d+: Subject: contains a line break \(CR or LF\), which could inject headers$/,
		);
		expect(sent.length + failed.length).toBe(run.outputs('Gmail Split')[0].length);
		expect(a.messages.some((m) => m.rcpts.includes('victim@evil.example'))).toBe(false);
	});
});

describe('the campaign rate divided by the partitioner is enforced by the send node', () => {
	afterEach(() => closeSmtpTransports());

	it('holds a route to its share of the campaign rate', async () => {
		resetEmbeddedStateStore();
		const a = await startSmtpSink();
		const b = await startSmtpSink();
		const c = await startSmtpSink();
		try {
			// 20/second for the campaign: Relay A's 70% share is 14/second, with a one-second catch-up
			let wf = withParameters(loadWorkflow('send-split'), 'Gmail Split', {
				sticky: false,
				options: { campaignRate: 20, campaignRatePer: 'second' },
			});
			wf = withParameters(wf, 'Send A', { options: { campaignBurstSeconds: 1 } });
			const smtp = (port: number) => ({ host: '127.0.0.1', port, security: 'none' });
			const run = await runWorkflow(
				wf,
				{ Recipients: recipients(60, 3, ['gmail.com']) },
				{ credentials: { 'smtp-a': smtp(a.port), 'smtp-b': smtp(b.port), 'smtp-c': smtp(c.port) } },
			);
			expect(run.error).toBeUndefined();
			const sentA = run.outputs('Send A')[0];
			expect(sentA).toHaveLength(42);
			expect((run.outputs('Gmail Split')[0][0].json.postalRoute as IDataObject).rate).toMatchObject(
				{ limit: 14, per: 'second' },
			);
			// Relay B waits (n8n runs the branches one after another), so Relay A catches up at the
			// campaign's 20/second while its one second of share lasts (14 / (20 − 14) = 2.3 s), never
			// faster: 42 one every 1/20 s take 2.05 s. The first sends also wait for the pool's
			// connections, so allow for that (unthrottled: ~0.1 s)
			const times = sentA.map((i) => Date.parse(String(delivery(i).sentAt))).sort((x, y) => x - y);
			expect(times[times.length - 1] - times[0]).toBeGreaterThanOrEqual(1_500);
			expect(times[times.length - 1] - times[0]).toBeLessThan(4_000);
		} finally {
			await Promise.all([a.stop(), b.stop(), c.stop()]);
		}
	});
});

describe('item data the send node does not trust', () => {
	afterEach(() => closeSmtpTransports());

	it('sends an item whose campaign share names no own rate unit ("toString") without that share, not failing the batch', async () => {
		resetEmbeddedStateStore();
		const sink = await startSmtpSink();
		try {
			const full = loadWorkflow('send-split');
			const wf = {
				...full,
				nodes: full.nodes.filter((n) =>
					['Manual Trigger', 'Recipients', 'Send A'].includes(n.name),
				),
				connections: {
					'Manual Trigger': full.connections['Manual Trigger'],
					Recipients: { main: [[{ node: 'Send A', type: 'main', index: 0 }]] },
				} as typeof full.connections,
			};
			const items = recipients(3, 9, ['gmail.com']).map((r, k) => ({
				...r,
				postalRoute: {
					route: 'Relay A',
					campaignId: 'c1',
					rate: { limit: 5, per: k === 0 ? 'toString' : 'second' },
				},
			}));
			const run = await runWorkflow(
				wf,
				{ Recipients: items },
				{ credentials: { 'smtp-a': smtpCredential(sink.port) } },
			);
			expect(run.error).toBeUndefined();
			expect(run.outputs('Send A')[0].map((i) => delivery(i).status)).toEqual([
				'sent',
				'sent',
				'sent',
			]);
			expect(sink.messages).toHaveLength(3);
		} finally {
			await sink.stop();
		}
	});
});
