/**
 * Load-Balanced Send's panel helpers through the engine: the List-Unsubscribe option per item
 * (an expression) reaches the SMTP sink as the two headers; the subtitle names the provider.
 */
import type { IDataObject } from 'n8n-workflow';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { LoadBalancedSend } from '../../nodes/LoadBalancedSend/LoadBalancedSend.node';
import { loadWorkflow, runWorkflow, withParameters } from '../helpers/engine';
import { recipients } from '../helpers/recipients';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

describe('Load-Balanced Send panel helpers', () => {
	let sinks: SmtpSink[] = [];
	beforeEach(() => resetEmbeddedStateStore());
	afterEach(async () => {
		closeSmtpTransports();
		await Promise.all(sinks.map((s) => s.stop()));
		sinks = [];
	});

	it('List-Unsubscribe from an expression per item, with one-click', async () => {
		sinks = await Promise.all([startSmtpSink(), startSmtpSink(), startSmtpSink()]);
		const send = loadWorkflow('send-split').nodes.find((n) => n.name === 'Send A')!;
		const workflow = withParameters(loadWorkflow('send-split'), 'Send A', {
			options: {
				...(send.parameters.options as IDataObject),
				listUnsubscribeUrl: "={{ 'https://shop.example/u?e=' + encodeURIComponent($json.email) }}",
				listUnsubscribeMailto: 'unsubscribe@shop.example',
			},
		});
		const smtp = (port: number) => ({ host: '127.0.0.1', port, security: 'none' });
		const run = await runWorkflow(
			workflow,
			{ Recipients: recipients(10, 5, ['gmail.com']) },
			{
				credentials: {
					'smtp-a': smtp(sinks[0].port),
					'smtp-b': smtp(sinks[1].port),
					'smtp-c': smtp(sinks[2].port),
				},
			},
		);
		expect(run.error).toBeUndefined();
		expect(sinks[0].messages.length).toBeGreaterThan(0);
		// the header block as sent, folded lines joined (mailparser reads List-* into its own shape)
		const head = (m: (typeof sinks)[number]['messages'][number]) =>
			m.raw
				.toString()
				.split('\r\n\r\n')[0]
				.replace(/\r\n[ \t]+/g, ' ');
		for (const m of sinks[0].messages) {
			const to = m.rcpts[0];
			expect(head(m)).toContain(
				`List-Unsubscribe: <https://shop.example/u?e=${encodeURIComponent(to)}>, <mailto:unsubscribe@shop.example>`,
			);
			expect(head(m)).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
		}
		// the other route's node was not given the option
		for (const m of sinks[1].messages) expect(head(m)).not.toContain('List-Unsubscribe');
	});

	it('embeds inline images with their property name as Content-ID', async () => {
		sinks = await Promise.all([startSmtpSink(), startSmtpSink(), startSmtpSink()]);
		const send = loadWorkflow('send-split').nodes.find((n) => n.name === 'Send A')!;
		const workflow = withParameters(loadWorkflow('send-split'), 'Send A', {
			html: '<p>Hi <img src="cid:logo"></p>',
			options: { ...(send.parameters.options as IDataObject), inlineImages: 'logo' },
		});
		const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
		const people = recipients(6, 8, ['gmail.com']).map((r) => ({
			...r,
			$binary: {
				logo: { base64: png.toString('base64'), fileName: 'logo.png', mimeType: 'image/png' },
			},
		}));
		const smtp = (port: number) => ({ host: '127.0.0.1', port, security: 'none' });
		const run = await runWorkflow(
			workflow,
			{ Recipients: people },
			{
				credentials: {
					'smtp-a': smtp(sinks[0].port),
					'smtp-b': smtp(sinks[1].port),
					'smtp-c': smtp(sinks[2].port),
				},
			},
		);
		expect(run.error).toBeUndefined();
		expect(sinks[0].messages.length).toBeGreaterThan(0);
		for (const m of sinks[0].messages) {
			const [image] = m.parsed.attachments;
			expect(image).toMatchObject({
				contentId: '<logo>',
				contentDisposition: 'inline',
				contentType: 'image/png',
			});
			expect(image.content.equals(png)).toBe(true);
			// the HTML as sent points at it; mailparser, resolving cid: links, put the image in its place
			expect(m.raw.toString()).toContain('cid:logo');
			expect(m.parsed.html).toContain(`data:image/png;base64,${png.toString('base64')}`);
		}
	});

	it('version 3 reads its options from the groups (Message, Delivery & Retries, Rate Limits, Route Health)', async () => {
		sinks = await Promise.all([startSmtpSink(), startSmtpSink(), startSmtpSink()]);
		const base = loadWorkflow('send-split');
		const workflow = withParameters(base, 'Send A', {
			credentialType: 'postalRoutes',
			// a flat Options list (versions 1 and 2) is not what version 3 reads
			options: { replyTo: 'old@shop.example' },
			messageOptions: { replyTo: 'help@shop.example', messageKey: 'welcome' },
			deliveryOptions: { maxAttempts: 1, feedbackTracking: false },
			rateOptions: { rateLimit: 1000, rateLimitPer: 'second' },
			healthOptions: { failureThreshold: 2 },
		});
		workflow.nodes.find((n) => n.name === 'Send A')!.typeVersion = 3;
		const smtp = (port: number) => ({ host: '127.0.0.1', port, security: 'none' });
		const run = await runWorkflow(
			workflow,
			{ Recipients: recipients(10, 6, ['gmail.com']) },
			{
				credentials: {
					'smtp-a': smtp(sinks[0].port),
					'smtp-b': smtp(sinks[1].port),
					'smtp-c': smtp(sinks[2].port),
				},
			},
		);
		expect(run.error).toBeUndefined();
		expect(sinks[0].messages.length).toBeGreaterThan(0);
		for (const m of sinks[0].messages) {
			expect(m.parsed.replyTo?.value).toEqual([{ address: 'help@shop.example', name: '' }]);
			// Feedback Tracking off in Delivery & Retries: no reference on the message
			expect(m.parsed.headers.get('x-postal-ref')).toBeUndefined();
		}
		// route B's node is version 1 and keeps the reference (Feedback Tracking on by default)
		expect(sinks[1].messages[0].parsed.headers.get('x-postal-ref')).toBeDefined();
	});

	it('the subtitle names the provider and the route, not the raw value', () => {
		const subtitle = String(new LoadBalancedSend().description.subtitle);
		expect(subtitle).toContain('"smtp":"SMTP"');
		expect(subtitle).toContain('"ses":"Amazon SES"');
		expect(subtitle).not.toContain('"via "');
	});
});
