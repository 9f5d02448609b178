/**
 * Postal Bounce Parser through the n8n engine: bounce-mailbox items as n8n's Email Trigger (IMAP)
 * hands them over (Raw: the TEXT part, or base64url) and as .eml files, read into events; the
 * bounced and complaining addresses suppressed on the embedded store; not-reports on their own
 * output; an item without the message named with its fix.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { suppressionDigest } from '../../lib/state/keys';
import { embeddedStateStore, resetEmbeddedStateStore } from '../../lib/state/registry';
import { runWorkflow, type WorkflowJson } from '../helpers/engine';

const P = 'n8n-nodes-postal-routes';
const fixture = (name: string) =>
	readFileSync(join(__dirname, '..', 'fixtures', 'reports', `${name}.eml`));
/** what n8n 2.40's IMAP trigger puts in `raw`: the message's TEXT part, without its header block */
const imapText = (name: string) => {
	const whole = fixture(name).toString('latin1');
	return whole.slice(whole.indexOf('\n\n') + 2);
};

function workflow(parameters: IDataObject = {}): WorkflowJson {
	return {
		id: 'bounceParserTest',
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
				id: 'm',
				name: 'Bounce Mailbox',
				type: 'test.injectedItems',
				typeVersion: 1,
				position: [200, 0],
				parameters: {},
			},
			{
				id: 'p',
				name: 'Parse Bounces',
				type: `${P}.postalBounceParser`,
				typeVersion: 1,
				position: [400, 0],
				parameters,
			},
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Bounce Mailbox', type: 'main', index: 0 }]] },
			'Bounce Mailbox': { main: [[{ node: 'Parse Bounces', type: 'main', index: 0 }]] },
		},
		settings: {},
	} as unknown as WorkflowJson;
}

const event = (i: INodeExecutionData) => i.json.postalEvent as IDataObject;

describe('Postal Bounce Parser in the engine', () => {
	beforeEach(() => resetEmbeddedStateStore());
	afterAll(() => resetEmbeddedStateStore());

	it('reads IMAP Raw items into events, suppresses what bounced or complained, and parks the rest', async () => {
		const run = await runWorkflow(workflow(), {
			'Bounce Mailbox': [
				{ raw: imapText('gmail-address-not-found') },
				{ raw: fixture('postfix-yahoo-deferred-and-blocked').toString('base64url') },
				{ raw: fixture('rfc5965-abuse').toString('latin1') },
				{ raw: fixture('out-of-office').toString('latin1') },
			],
		});
		expect(run.error).toBeUndefined();
		const [events, notReports] = run.outputs('Parse Bounces');
		expect(
			events.map((e) => [event(e).recipient, event(e).type, e.json.suppression, e.pairedItem]),
		).toEqual([
			['no.such.user@gmail.com', 'bounced', { suppressed: 'hard-bounce' }, { item: 0 }],
			[
				'reader.one@yahoo.com',
				'deferred',
				{ skipped: 'a deferred event suppresses nothing' },
				{ item: 1 },
			],
			[
				'reader.two@aol.com',
				'blocked',
				{ skipped: 'a blocked event suppresses nothing' },
				{ item: 1 },
			],
			['full.box@yahoo.com', 'bounced', { suppressed: 'soft-bounce' }, { item: 1 }],
			['user@example.com', 'complained', { suppressed: 'complaint' }, { item: 2 }],
		]);
		expect(event(events[0])).toMatchObject({
			reference: { route: 'Relay A', group: 'yahoo', campaign: 'spring-sale' },
			linkedBy: 'reference',
			enhancedCode: '5.1.1',
		});
		expect(notReports).toHaveLength(1);
		expect(notReports[0].json.postalReport).toEqual({
			reason: 'an automatic reply (out of office), not a bounce',
		});
		expect(notReports[0].pairedItem).toEqual({ item: 3 });

		const store = embeddedStateStore();
		const secret = await store.hashSecret();
		const found = await store.getSuppressions(
			'',
			['no.such.user@gmail.com', 'reader.two@aol.com', 'user@example.com'].map((a) =>
				suppressionDigest(secret, a),
			),
		);
		expect(found.map((f) => f?.reason ?? null)).toEqual(['hard-bounce', null, 'complaint']);
	});

	it('counts the events tied to a route in its outcome counters, in the hour they happened', async () => {
		// the Postfix report (Relay A / yahoo by its ENVID), dated an hour ago
		const at = new Date(Date.now() - 3_600_000);
		const raw = fixture('postfix-yahoo-deferred-and-blocked')
			.toString('latin1')
			.replace(/^(Date|Arrival-Date): .*$/gm, (_, name: string) => `${name}: ${at.toUTCString()}`);
		const run = await runWorkflow(workflow(), { 'Bounce Mailbox': [{ raw }] });
		expect(run.error).toBeUndefined();
		const hours = await embeddedStateStore().readOutcomes(
			'Relay A',
			'yahoo',
			'hour',
			at.getTime() - 3_600_000,
			Date.now() + 1,
		);
		expect(hours.map((b) => b.counts)).toEqual([{ deferred: 1, blocked: 1, bounceSoft: 1 }]);
		expect(hours[0].start).toBe(Math.floor(at.getTime() / 3_600_000) * 3_600_000);
		// a month-old report counts nowhere: its buckets are gone (hours are kept 8 days)
		resetEmbeddedStateStore();
		await runWorkflow(workflow(), {
			'Bounce Mailbox': [{ raw: fixture('postfix-yahoo-deferred-and-blocked').toString('latin1') }],
		});
		expect(
			await embeddedStateStore().readOutcomes(
				'Relay A',
				'yahoo',
				'hour',
				Date.parse('2026-11-05T00:00:00Z'),
				Date.parse('2026-11-06T00:00:00Z'),
			),
		).toEqual([]);
	});

	it('reads a binary .eml, onto a named list, or records nothing when told not to', async () => {
		const eml = {
			base64: fixture('rfc3464-multi').toString('base64'),
			fileName: 'b.eml',
			mimeType: 'message/rfc822',
		};
		const run = await runWorkflow(
			workflow({ input: 'binary', binaryProperty: 'file', suppressionList: 'newsletter' }),
			{ 'Bounce Mailbox': [{ $binary: { file: eml } }] },
		);
		expect(run.error).toBeUndefined();
		expect(run.outputs('Parse Bounces')[0].map((e) => event(e).type)).toEqual([
			'bounced',
			'deferred',
			'bounced',
		]);
		const store = embeddedStateStore();
		const key = suppressionDigest(await store.hashSecret(), 'wsnell@sdcc13.ucsd.edu');
		expect((await store.getSuppressions('newsletter', [key]))[0]?.reason).toBe('hard-bounce');
		expect(await store.getSuppressions('', [key])).toEqual([null]);

		resetEmbeddedStateStore();
		const off = await runWorkflow(workflow({ updateSuppression: false }), {
			'Bounce Mailbox': [{ raw: fixture('rfc3464-multi').toString('latin1') }],
		});
		expect(off.outputs('Parse Bounces')[0][0].json.suppression).toBeUndefined();
		const fresh = embeddedStateStore();
		const k2 = suppressionDigest(await fresh.hashSecret(), 'wsnell@sdcc13.ucsd.edu');
		expect(await fresh.getSuppressions('', [k2])).toEqual([null]);
	});

	it('a returned TSS04 deferral suspends its route for its group (Route Reputation), unless turned off', async () => {
		const mailbox = {
			'Bounce Mailbox': [{ raw: fixture('postfix-yahoo-deferred-and-blocked').toString('latin1') }],
		};
		const off = await runWorkflow(workflow({ options: { routeReputation: false } }), mailbox);
		expect(off.error).toBeUndefined();
		expect(
			await embeddedStateStore().getReputation([{ route: 'Relay A', group: 'yahoo' }]),
		).toEqual([null]);

		const run = await runWorkflow(workflow(), mailbox);
		expect(run.error).toBeUndefined();
		const items = run.outputs('Parse Bounces')[0];
		const noted = items.filter((i) => i.json.reputation);
		expect(noted).toHaveLength(1);
		expect(noted[0].json.reputation).toMatchObject({
			what: 'suspended',
			rule: 'yahoo-tss04',
			group: 'yahoo',
		});
		const [state] = await embeddedStateStore().getReputation([
			{ route: 'Relay A', group: 'yahoo' },
		]);
		expect(state!.suspendedUntil).toBeGreaterThan(Date.now() + 3_600_000);

		const bad = await runWorkflow(
			workflow({ options: { reputationRules: '[{"rule": 1}]' } }),
			mailbox,
		);
		expect(bad.error?.message).toMatch(/Reputation Rules: entry 1 field "rule": Expected string/);
	});

	it('names the parameter and the item when the message is not where it was told to look', async () => {
		const run = await runWorkflow(workflow(), { 'Bounce Mailbox': [{ text: 'hello' }] });
		expect(run.error?.message).toBe(
			'No text in the field "raw" of the item: set Field Name to the field that holds the message (the Email Trigger (IMAP) in Raw format uses "raw")',
		);
		// the item is named by its index, which n8n's error view shows as [item 0]
		expect((run.error as { context?: { itemIndex?: number } }).context?.itemIndex).toBe(0);
		const binary = await runWorkflow(workflow({ input: 'binary' }), {
			'Bounce Mailbox': [{ raw: 'x' }],
		});
		expect(binary.error?.message).toMatch(
			/No binary field "data" on the item: set Input Binary Field/,
		);
	});
});
