/**
 * VERP Return Path through the n8n engine: a Load-Balanced Send on a real SMTP sink sends with
 * MAIL FROM:<bounces+<reference>@bounce.example.com> (the From header stays), and the Postal Bounce
 * Parser ties a DSN addressed to that bounce address back to route, group and campaign — from the
 * bounce address alone (the report quotes nothing of the message), also when the names are too
 * long for a local part and the reference is a digest the message ledger resolves.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDataObject, INode } from 'n8n-workflow';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { PACKAGE, runWorkflow, type WorkflowJson } from '../helpers/engine';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const VERP = 'bounces+{ref}@bounce.example.com';

const node = (name: string, type: string, x: number, extra: Partial<INode> = {}): INode => ({
	id: name,
	name,
	type,
	typeVersion: 1,
	position: [x, 0],
	parameters: {},
	...extra,
});

function workflow(last: INode): WorkflowJson {
	return {
		id: 'wfVerp',
		nodes: [
			node('Manual Trigger', 'n8n-nodes-base.manualTrigger', 0),
			node('Recipients', 'test.injectedItems', 200),
			{ ...last, position: [400, 0] },
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: last.name, type: 'main', index: 0 }]] },
		},
	};
}

/** a send node of today's editor (version 3, n8n's SMTP credential), options in their groups */
const sendV3 = (route: string, deliveryOptions: IDataObject) =>
	node('Send', `${PACKAGE}.loadBalancedSend`, 400, {
		typeVersion: 3,
		parameters: {
			routeName: route,
			from: 'Shop <news@shop.example>',
			to: '={{ $json.email }}',
			subject: 'Spring sale',
			text: 'Hi',
			deliveryOptions: { maxAttempts: 1, ...deliveryOptions },
		} as never,
		credentials: { smtp: { id: 'c1', name: 'Relay' } },
	});
const n8nSmtp = (port: number) => ({
	user: '',
	password: '',
	host: '127.0.0.1',
	port,
	secure: false,
	disableStartTls: false,
});
const parser = node('Parse Bounces', `${PACKAGE}.postalBounceParser`, 400);

/** RFC 3464's own example (no ENVID, no returned headers), sent to `to` about `recipient` */
const dsnTo = (to: string, recipient: string) =>
	readFileSync(join(__dirname, '..', 'fixtures', 'reports', 'rfc3464-simple.eml'), 'latin1')
		.replace(/^To: .*$/m, `To: <${to}>`)
		.replace(/louisl@larry\.slip\.umd\.edu/g, recipient);

const ann = { email: 'ann@yahoo.com', domainGroup: 'yahoo', postalRoute: { campaignId: 'spring' } };

describe('VERP Return Path in n8n', () => {
	let sink: SmtpSink | undefined;
	beforeEach(() => resetEmbeddedStateStore());
	afterEach(async () => {
		closeSmtpTransports();
		await sink?.stop();
		sink = undefined;
	});
	afterAll(() => resetEmbeddedStateStore());

	it('sends MAIL FROM the bounce address with the reference; a DSN to it comes back to its route', async () => {
		sink = await startSmtpSink({ dsn: true });
		const run = await runWorkflow(
			workflow(sendV3('Relay A', { verpReturnPath: VERP })),
			{ Recipients: [ann] },
			{ credentials: { c1: n8nSmtp(sink.port) } },
		);
		expect(run.error).toBeUndefined();
		expect(
			run.outputs('Send')[0].map((i) => (i.json.postalDelivery as IDataObject).status),
		).toEqual(['sent']);
		const [m] = sink.messages;
		const token = m.parsed.headers.get('x-postal-ref') as string;
		expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
		expect(m.mailFrom).toBe(`bounces+${token}@bounce.example.com`);
		expect(m.rcpts).toEqual(['ann@yahoo.com']);
		expect(m.parsed.from?.value).toEqual([{ address: 'news@shop.example', name: 'Shop' }]);
		expect(m.dsn?.envid).toBe(token);

		const parsed = await runWorkflow(workflow(parser), {
			Recipients: [{ raw: dsnTo(m.mailFrom, 'ann@yahoo.com') }],
		});
		expect(parsed.error).toBeUndefined();
		const [events] = parsed.outputs('Parse Bounces');
		expect(events.map((e) => e.json.postalEvent)).toEqual([
			expect.objectContaining({
				recipient: 'ann@yahoo.com',
				reference: { route: 'Relay A', group: 'yahoo', campaign: 'spring' },
				linkedBy: 'verp',
			}),
		]);
		// the same report without the bounce address ties nothing back: the link was the VERP address
		const plain = await runWorkflow(workflow(parser), {
			Recipients: [{ raw: dsnTo('bounces@bounce.example.com', 'ann@yahoo.com') }],
		});
		expect((plain.outputs('Parse Bounces')[0][0].json.postalEvent as IDataObject).reference).toBe(
			undefined,
		);
	});

	it('names too long for a local part: a digest in the bounce address, resolved by the ledger', async () => {
		sink = await startSmtpSink();
		const route = `Relay ${'A'.repeat(40)}`;
		const run = await runWorkflow(
			workflow(sendV3(route, { verpReturnPath: VERP })),
			{ Recipients: [ann] },
			{ credentials: { c1: n8nSmtp(sink.port) } },
		);
		expect(run.error).toBeUndefined();
		const [m] = sink.messages;
		const local = m.mailFrom.slice(0, m.mailFrom.indexOf('@'));
		expect(local).toMatch(/^bounces\+h\.[A-Za-z0-9_-]{22}$/);
		expect(m.parsed.headers.get('x-postal-ref')).toBe(local.slice('bounces+'.length));

		const parsed = await runWorkflow(workflow(parser), {
			Recipients: [{ raw: dsnTo(m.mailFrom, 'ann@yahoo.com') }],
		});
		expect(parsed.error).toBeUndefined();
		expect(parsed.outputs('Parse Bounces')[0][0].json.postalEvent).toMatchObject({
			reference: { route, group: 'yahoo', campaign: 'spring' },
		});
	});

	it('a version 1 node has it in its one Options list; a wrong template stops the run naming the option', async () => {
		sink = await startSmtpSink();
		const v1 = (verpReturnPath: string) =>
			workflow(
				node('Send', `${PACKAGE}.loadBalancedSend`, 400, {
					parameters: {
						routeName: 'Relay A',
						from: 'news@shop.example',
						to: '={{ $json.email }}',
						subject: 'Hello',
						text: 'Hi',
						options: { verpReturnPath },
					} as never,
					credentials: { postalSmtp: { id: 'old', name: 'Relay' } },
				}),
			);
		const credentials = { old: { host: '127.0.0.1', port: sink.port, security: 'none' } };
		const ok = await runWorkflow(v1(VERP), { Recipients: [ann] }, { credentials });
		expect(ok.error).toBeUndefined();
		expect(sink.messages.map((m) => m.mailFrom)).toEqual([
			expect.stringMatching(/^bounces\+[A-Za-z0-9_-]+@bounce\.example\.com$/),
		]);

		const wrong = await runWorkflow(
			v1('bounces-{ref}@bounce.example.com'),
			{ Recipients: [ann] },
			{
				credentials,
			},
		);
		expect(wrong.error?.message).toMatch(
			/^Options › VERP Return Path: "bounces-\{ref\}@bounce\.example\.com" must end the part before the "@" with \+\{ref\}/,
		);
		expect(sink.messages).toHaveLength(1);
	});
});
