import type { IDataObject, INode } from 'n8n-workflow';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { runWorkflow, type WorkflowJson } from '../helpers/engine';
import { recipients } from '../helpers/recipients';
import { startSmtpFaultServer, type SmtpFaultServer } from '../helpers/smtpFaultServer';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

/**
 * A route with a backup wired, in the n8n engine, against SMTP servers that fail the way real
 * relays do. Measured before: a server that took the whole message and closed got it 3 times (and
 * the backup a 4th); one message to ok@ + busy@ (452) + gone@ (550) came back plain "sent" and
 * busy@ never got it; a wrong password made 24 of 30 items fail with 24 failed logins.
 */

const node = (name: string, type: string, parameters: IDataObject, x: number): INode => ({
	id: name,
	name,
	type,
	typeVersion: 1,
	position: [x, 0],
	parameters: parameters as INode['parameters'],
});

const send = (name: string, credential: string, x: number, extra: IDataObject = {}): INode => ({
	...node(
		name,
		'n8n-nodes-postal-routes.loadBalancedSend',
		{
			provider: 'smtp',
			from: 'Shop <news@shop.example>',
			subject: 'Hello',
			text: 'Hi',
			routeName: name,
			...extra,
			options: {
				retryBaseMs: 5,
				retryMaxMs: 10,
				maxAttempts: 3,
				...(extra.options as IDataObject),
			},
		},
		x,
	),
	credentials: { postalSmtp: { id: credential, name } },
});

/** Recipients → Primary; Primary's Fallback → Backup (the same message, another relay). */
function withBackup(primaryExtra: IDataObject = {}, backupExtra: IDataObject = {}): WorkflowJson {
	return {
		id: `wfFaults-${Math.random()}`,
		nodes: [
			node('Manual Trigger', 'n8n-nodes-base.manualTrigger', {}, 0),
			node('Recipients', 'test.injectedItems', {}, 200),
			send('Primary', 'smtp-primary', 400, primaryExtra),
			send('Backup', 'smtp-backup', 600, backupExtra),
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: 'Primary', type: 'main', index: 0 }]] },
			Primary: { main: [[], [], [{ node: 'Backup', type: 'main', index: 0 }], []] },
		},
	};
}

const record = (i: { json: IDataObject }) => i.json.postalDelivery as IDataObject;
const plain = (port: number, extra: IDataObject = {}) => ({
	host: '127.0.0.1',
	port,
	security: 'none',
	...extra,
});

describe('a route with a backup, against failing relays', () => {
	let backup: SmtpSink;
	let fault: SmtpFaultServer | undefined;
	let primary: SmtpSink | undefined;
	beforeEach(async () => {
		resetEmbeddedStateStore();
		backup = await startSmtpSink();
	});
	afterEach(async () => {
		closeSmtpTransports();
		await backup.stop();
		await fault?.stop();
		await primary?.stop();
		fault = primary = undefined;
	});

	// (a relay that never answers the dot is the same case after the 30 s socket timeout:
	// test/unit/transportFaults.test.ts covers it with a short one)
	it.each(['closeAfterDot'] as const)(
		'%s: the message reaches the relay once, the backup never, and the item is in doubt on Skipped',
		async (kind) => {
			fault = await startSmtpFaultServer({ fault: kind });
			const run = await runWorkflow(
				withBackup(),
				{ Recipients: recipients(1, 31, ['gmail.com']) },
				{
					credentials: {
						'smtp-primary': plain(fault.port),
						'smtp-backup': plain(backup.port),
					},
				},
			);
			expect(run.error).toBeUndefined();
			expect(fault.messages).toBe(1); // before: 3
			expect(backup.messages).toHaveLength(0); // before: a 4th copy
			const [sent, failed, fallback, skipped] = run.outputs('Primary');
			expect(sent.length + failed.length + fallback.length).toBe(0);
			expect(skipped).toHaveLength(1);
			expect(record(skipped[0])).toMatchObject({
				status: 'in-doubt',
				attempts: 1,
				skip: { reason: 'in-doubt' },
			});
		},
		30_000,
	);

	it('a partial refusal: the backup sends to the refused recipients only, and nobody gets it twice', async () => {
		primary = await startSmtpSink({
			reply: (ctx) =>
				ctx.phase !== 'rcpt'
					? undefined
					: ctx.rcpt.startsWith('busy@')
						? { code: 452, message: '4.2.2 mailbox full, try later' }
						: ctx.rcpt.startsWith('gone@')
							? { code: 550, message: '5.1.1 no such user' }
							: undefined,
		});
		const run = await runWorkflow(
			withBackup(
				{ options: { cc: 'busy@y.example, gone@y.example' } },
				{ options: { cc: 'busy@y.example, gone@y.example' } },
			),
			{ Recipients: [{ email: 'ok@y.example' }] },
			{
				credentials: {
					'smtp-primary': plain(primary.port),
					'smtp-backup': plain(backup.port),
				},
			},
		);
		expect(run.error).toBeUndefined();
		expect(primary.messages.map((m) => m.rcpts)).toEqual([['ok@y.example']]);
		const [sent, , fallback] = run.outputs('Primary');
		expect(sent).toHaveLength(0); // before: plain "sent"
		expect(record(fallback[0])).toMatchObject({
			status: 'partially-sent',
			accepted: ['ok@y.example'],
			refused: [
				{ recipient: 'busy@y.example', kind: 'transient', responseCode: 452 },
				{ recipient: 'gone@y.example', kind: 'permanent', responseCode: 550 },
			],
		});
		// the backup sends to the two refused only; the headers still name all three
		expect(backup.messages.map((m) => m.rcpts.sort())).toEqual([
			['busy@y.example', 'gone@y.example'],
		]);
		expect(backup.messages[0].parsed.cc).toBeDefined();
		const [backupSent] = run.outputs('Backup');
		expect(record(backupSent[0])).toMatchObject({
			status: 'sent',
			deliveredEarlier: ['ok@y.example'],
		});
	});

	it('a wrong password: one failed login, every item to the backup, none on Failed', async () => {
		primary = await startSmtpSink({ auth: { user: 'shop', pass: 'right' } });
		const run = await runWorkflow(
			withBackup({ options: { concurrency: 10 } }),
			{ Recipients: recipients(30, 32, ['gmail.com']) },
			{
				credentials: {
					'smtp-primary': plain(primary.port, {
						security: 'noneInsecureAuth',
						user: 'shop',
						password: 'wrong-password-7',
					}),
					'smtp-backup': plain(backup.port),
				},
			},
		);
		expect(run.error).toBeUndefined();
		expect(primary.authFailures).toBe(1); // before: 24
		const [sent, failed, fallback] = run.outputs('Primary');
		expect(sent).toHaveLength(0);
		expect(failed).toHaveLength(0); // before: 24
		expect(fallback).toHaveLength(30);
		expect(backup.messages).toHaveLength(30);
		expect(JSON.stringify(run.run)).not.toContain('wrong-password-7');
		// the primary's run delivered nothing: n8n shows it
		expect(run.run.data.resultData.runData.Primary[0].hints).toEqual([
			expect.objectContaining({
				type: 'warning',
				message: expect.stringMatching(/^No message was delivered: 30 on Fallback/),
			}),
		]);
	});
});
