/**
 * Postal Bounce Parser › Record Events through the n8n engine: events another node received (n8n's
 * Postmark or Brevo Trigger, a Postal event from elsewhere) recorded in the same loop as the
 * trigger's: the address on the suppression list, the event in its route's outcome counters. An
 * item that cannot be read is named with its field; a workflow saved before the Operation
 * parameter still parses bounces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { encodeReference } from '../../lib/feedback/reference';
import { suppressionDigest } from '../../lib/state/keys';
import { embeddedStateStore, resetEmbeddedStateStore } from '../../lib/state/registry';
import { PACKAGE, runWorkflow, type WorkflowJson } from '../helpers/engine';

const REF = { campaign: 'spring', route: 'Relay B', group: 'gmail' };
const TOKEN = encodeReference(REF).token;
const AN_HOUR_AGO = Date.now() - 3_600_000;

function workflow(parameters: IDataObject, node: IDataObject = {}): WorkflowJson {
	return {
		id: 'recordEventsTest',
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
				id: 's',
				name: 'Provider Events',
				type: 'test.injectedItems',
				typeVersion: 1,
				position: [200, 0],
				parameters: {},
			},
			{
				id: 'r',
				name: 'Record',
				type: `${PACKAGE}.postalBounceParser`,
				typeVersion: 2,
				position: [400, 0],
				parameters,
				...node,
			},
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Provider Events', type: 'main', index: 0 }]] },
			'Provider Events': { main: [[{ node: 'Record', type: 'main', index: 0 }]] },
		},
		settings: {},
	} as unknown as WorkflowJson;
}

const event = (i: INodeExecutionData) => i.json.postalEvent as IDataObject;

async function suppressed(address: string, list = '') {
	const store = embeddedStateStore();
	const [entry] = await store.getSuppressions(list, [
		suppressionDigest(await store.hashSecret(), address),
	]);
	return entry?.reason ?? null;
}

const counters = async (route = REF.route, group = REF.group) =>
	(
		await embeddedStateStore().readOutcomes(
			route,
			group,
			'hour',
			AN_HOUR_AGO - 3_600_000,
			Date.now() + 1,
		)
	).map((b) => b.counts);

/** Postmark's Bounce webhook, as its docs show it (n8n's Postmark Trigger emits the body as the item) */
const POSTMARK_BOUNCE = {
	RecordType: 'Bounce',
	MessageStream: 'outbound',
	ID: 4323372036854775807,
	Type: 'HardBounce',
	TypeCode: 1,
	Name: 'Hard bounce',
	Tag: 'Test',
	MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
	// the send side's metadata key, echoed back by Postmark
	Metadata: { pr: TOKEN },
	ServerID: 23,
	Description:
		'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
	Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
	Email: 'John@gmail.com',
	From: 'sender@example.com',
	BouncedAt: new Date(AN_HOUR_AGO).toISOString(),
	DumpAvailable: true,
	Inactive: true,
	CanActivate: true,
	Subject: 'Test subject',
	Content: '<Full dump of bounce>',
};

/** Brevo's hard_bounce transactional webhook, as its docs show it (n8n's Brevo Trigger emits it) */
const BREVO_HARD_BOUNCE = {
	event: 'hard_bounce',
	email: 'nobody@gmail.com',
	id: 26224,
	date: '2026-11-05 12:00:00',
	ts: Math.floor(AN_HOUR_AGO / 1000),
	'message-id': '<202611051200.12345678@smtp-relay.mailin.fr>',
	ts_event: Math.floor(AN_HOUR_AGO / 1000),
	subject: 'Subject Line',
	'X-Mailin-custom': `pr:${TOKEN}`,
	sending_ip: '185.41.28.109',
	template_id: 10,
	tags: ['transactionalTag'],
	reason: 'server relayed with the following error: 550 5.1.1 unknown user',
	ts_epoch: AN_HOUR_AGO,
};

describe('Postal Bounce Parser › Record Events in the engine', () => {
	beforeEach(() => resetEmbeddedStateStore());
	afterAll(() => resetEmbeddedStateStore());

	it('records a Postmark Bounce as n8n’s Postmark Trigger emits it: suppressed and counted for its route', async () => {
		const run = await runWorkflow(workflow({ operation: 'record', inputFormat: 'postmark' }), {
			'Provider Events': [POSTMARK_BOUNCE],
		});
		expect(run.error).toBeUndefined();
		const [events, unread] = run.outputs('Record');
		expect(unread).toEqual([]);
		expect(events).toHaveLength(1);
		expect(events[0].pairedItem).toEqual({ item: 0 });
		expect(event(events[0])).toMatchObject({
			source: 'postmark',
			type: 'bounced',
			bounce: 'hard',
			recipient: 'John@gmail.com',
			messageId: '883953f4-6105-42a2-a16a-77a8eac79483',
			smtpCode: 550,
			enhancedCode: '5.1.1',
			reference: REF,
			linkedBy: 'reference',
		});
		expect(events[0].json.suppression).toEqual({ suppressed: 'hard-bounce' });
		expect(await suppressed('john@gmail.com')).toBe('hard-bounce');
		expect(await counters()).toEqual([{ bounceHard: 1 }]);
	});

	it('records a Brevo hard_bounce as n8n’s Brevo Trigger emits it, on a named list', async () => {
		const run = await runWorkflow(
			workflow({ operation: 'record', inputFormat: 'brevo', suppressionList: 'newsletter' }),
			{ 'Provider Events': [BREVO_HARD_BOUNCE] },
		);
		expect(run.error).toBeUndefined();
		const [events] = run.outputs('Record');
		expect(events.map((e) => [event(e).source, event(e).type, event(e).bounce])).toEqual([
			['brevo', 'bounced', 'hard'],
		]);
		expect(event(events[0])).toMatchObject({ reference: REF, sendingIp: '185.41.28.109' });
		expect(await suppressed('nobody@gmail.com', 'newsletter')).toBe('hard-bounce');
		expect(await suppressed('nobody@gmail.com')).toBeNull();
		expect(await counters()).toEqual([{ bounceHard: 1 }]);
	});

	it('records Postal events (a trigger’s output, or one written by hand) and a webhook body in a field', async () => {
		const fromTrigger = {
			source: 'sendgrid',
			type: 'complained',
			permanent: true,
			fault: 'recipient',
			recipient: 'angry@gmail.com',
			eventId: 'sg-1',
			timestamp: new Date(AN_HOUR_AGO).toISOString(),
			reference: REF,
			linkedBy: 'reference',
			confidence: 1,
		};
		// only type and bounce, the route by its token: the rest defaults
		const byHand = {
			type: 'bounced',
			bounce: 'soft',
			recipient: 'Full@Gmail.com',
			referenceToken: TOKEN,
		};
		const run = await runWorkflow(workflow({ operation: 'record' }), {
			'Provider Events': [{ postalEvent: fromTrigger }, { postalEvent: byHand }],
		});
		expect(run.error).toBeUndefined();
		const [events] = run.outputs('Record');
		expect(events.map((e) => [event(e).type, e.json.suppression, e.pairedItem])).toEqual([
			['complained', { suppressed: 'complaint' }, { item: 0 }],
			['bounced', { suppressed: 'soft-bounce' }, { item: 1 }],
		]);
		expect(event(events[1])).toMatchObject({
			source: 'custom',
			recipient: 'Full@gmail.com',
			permanent: false,
			fault: 'unknown',
			reference: REF,
			linkedBy: 'reference',
			confidence: 1,
		});
		expect(await suppressed('angry@gmail.com')).toBe('complaint');
		expect(await suppressed('full@gmail.com')).toBe('soft-bounce');
		// the one from the trigger in the hour it happened, the undated one now
		expect(await counters()).toEqual([{ complained: 1 }, { bounceSoft: 1 }]);

		// a Webhook node's item: the provider's body under "body", as JSON text here
		resetEmbeddedStateStore();
		const hook = await runWorkflow(
			workflow({ operation: 'record', inputFormat: 'postmark', payloadField: 'body' }),
			{ 'Provider Events': [{ headers: {}, body: JSON.stringify(POSTMARK_BOUNCE) }] },
		);
		expect(hook.error).toBeUndefined();
		expect(hook.outputs('Record')[0].map((e) => event(e).type)).toEqual(['bounced']);
		expect(await suppressed('john@gmail.com')).toBe('hard-bounce');
	});

	it('names the field of an item that cannot be read, and with On Error: Continue puts it on the second output', async () => {
		const bad = await runWorkflow(workflow({ operation: 'record' }), {
			'Provider Events': [{ postalEvent: { type: 'bounced', recipient: 'x@gmail.com' } }],
		});
		expect(bad.error?.message).toBe(
			'The item\'s event cannot be read: "postalEvent.bounce" must be "hard" or "soft" for a bounced event',
		);
		expect((bad.error as { context?: { itemIndex?: number } }).context?.itemIndex).toBe(0);

		const missing = await runWorkflow(workflow({ operation: 'record' }), {
			'Provider Events': [{ event: 'bounce' }],
		});
		expect(missing.error?.message).toBe(
			'The field "postalEvent" of the item holds no event object: set Event Field to the field that holds it (the Postal nodes put it in "postalEvent")',
		);

		const wrong = await runWorkflow(workflow({ operation: 'record', inputFormat: 'postmark' }), {
			'Provider Events': [BREVO_HARD_BOUNCE],
		});
		expect(wrong.error?.message).toBe(
			'The item holds no Postmark event: expected a webhook record with "RecordType" (Bounce, Delivery, SpamComplaint, …). Check Input Format and Payload Field.',
		);

		const text = await runWorkflow(
			workflow({ operation: 'record', inputFormat: 'brevo', payloadField: 'Body' }),
			{ 'Provider Events': [{ Body: 'not json' }] },
		);
		expect(text.error?.message).toBe(
			'The field "Body" of the item holds text that is not JSON: a Brevo event is JSON (set Payload Field to the field that holds it)',
		);

		// On Error: Continue: the readable item is recorded, the other leaves on the second output
		const cont = await runWorkflow(
			workflow({ operation: 'record', inputFormat: 'brevo' }, { onError: 'continueRegularOutput' }),
			{ 'Provider Events': [{ nothing: true }, BREVO_HARD_BOUNCE] },
		);
		expect(cont.error).toBeUndefined();
		const [events, unread] = cont.outputs('Record');
		expect(events.map((e) => [event(e).recipient, e.pairedItem])).toEqual([
			['nobody@gmail.com', { item: 1 }],
		]);
		expect(unread.map((e) => [e.json.nothing, e.pairedItem])).toEqual([[true, { item: 0 }]]);
		expect((unread[0].json.postalReport as IDataObject).error).toMatch(
			/^The item holds no Brevo event: expected an event with an "event" field/,
		);
		expect(await suppressed('nobody@gmail.com')).toBe('hard-bounce');
	});

	it('a workflow saved before the Operation parameter (no operation, version 1 or 2) still parses bounces', async () => {
		const raw = readFileSync(
			join(__dirname, '..', 'fixtures', 'reports', 'gmail-address-not-found.eml'),
		).toString('latin1');
		for (const typeVersion of [1, 2]) {
			resetEmbeddedStateStore();
			const run = await runWorkflow(workflow({}, { typeVersion }), {
				'Provider Events': [{ raw }],
			});
			expect(run.error).toBeUndefined();
			const [events] = run.outputs('Record');
			expect(events.map((e) => [event(e).type, e.json.report, e.json.suppression])).toEqual([
				['bounced', 'dsn', { suppressed: 'hard-bounce' }],
			]);
			expect(await suppressed('no.such.user@gmail.com')).toBe('hard-bounce');
		}
	});
});
