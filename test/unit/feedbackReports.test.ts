/**
 * Bounce and complaint messages → normalized events: the RFC 3464 and RFC 5965 examples as the
 * RFCs print them (test/fixtures/reports/rfc*.eml), provider-style reports (Gmail, Postfix relaying
 * Yahoo/AOL replies), a non-standard Exim bounce, and messages that are no report at all.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { encodeReference, hashedReference } from '../../lib/feedback/reference';
import { MAX_REPORT_BYTES, readReport } from '../../lib/feedback/reports';
import type { FeedbackEvent } from '../../lib/feedback/types';

const fixture = (name: string) =>
	readFileSync(join(__dirname, '..', 'fixtures', 'reports', `${name}.eml`));
const NOW = Date.parse('2026-11-10T00:00:00Z');
const read = (raw: Buffer | string) => readReport(raw, { now: () => NOW });
const relayA = { route: 'Relay A', group: 'yahoo', campaign: 'spring-sale' };
const relayB = { route: 'Relay B', group: 'microsoft', campaign: 'spring-sale' };

describe('RFC 3464 delivery status notifications', () => {
	it('reads the simple DSN of §10.1: one recipient, a deferral that became a failure', () => {
		const { kind, events } = read(fixture('rfc3464-simple'));
		expect(kind).toBe('dsn');
		expect(events).toEqual<FeedbackEvent[]>([
			{
				source: 'dsn',
				type: 'bounced',
				bounce: 'soft',
				permanent: false,
				fault: 'recipient',
				recipient: 'louisl@larry.slip.umd.edu',
				eventId: '199407072116.RAA14128@CS.UTK.EDU#0',
				timestamp: '1994-07-07T21:15:49.000Z',
				smtpCode: 426,
				enhancedCode: '4.0.0',
				diagnostic: '426 connection timed out',
				providerType: 'failed',
				reportingMta: 'cs.utk.edu',
				linkedBy: 'none',
				confidence: 1,
			},
		]);
	});

	it('reads the multi-recipient DSN of §10.2: each recipient its own event, folded diagnostics joined', () => {
		const { events } = read(fixture('rfc3464-multi'));
		expect(
			events.map((e) => [e.recipient, e.type, e.bounce, e.permanent, e.enhancedCode, e.remoteMta]),
		).toEqual([
			['arathib@vnet.ibm.com', 'bounced', 'hard', true, '5.0.0', 'vnet.ibm.com'],
			['johnh@hpnjld.njd.hp.com', 'deferred', undefined, false, '4.0.0', undefined],
			['wsnell@sdcc13.ucsd.edu', 'bounced', 'hard', true, '5.0.0', 'sdcc13.ucsd.edu'],
		]);
		expect(events[0].diagnostic).toBe(
			"550 'arathib@vnet.IBM.COM' is not a registered gateway user",
		);
		// no Message-ID on the report: the ids come from its bytes, the same on a second reading
		expect(events[0].eventId).toMatch(/^sha256:[0-9a-f]{32}#0$/);
		expect(read(fixture('rfc3464-multi')).events.map((e) => e.eventId)).toEqual(
			events.map((e) => e.eventId),
		);
		// the report's date: no Last-Attempt-Date or Arrival-Date
		expect(events[1].timestamp).toBe('1994-07-08T13:21:47.000Z');
	});

	it('ties a Gmail bounce back through the VERP address, keeps the returned Message-ID', () => {
		const { events } = read(fixture('gmail-address-not-found'));
		expect(events).toHaveLength(1);
		expect(events[0]).toMatchObject({
			type: 'bounced',
			bounce: 'hard',
			permanent: true,
			fault: 'recipient',
			recipient: 'no.such.user@gmail.com',
			smtpCode: 550,
			enhancedCode: '5.1.1',
			messageId: 'campaign-42.7@shop.example',
			reference: relayA,
			referenceToken: encodeReference(relayA).token,
			linkedBy: 'verp',
			timestamp: '2026-11-04T18:00:05.000Z',
			eventId: '5f1a2b3c.0abc@mx.google.com#0',
		});
		expect(events[0].diagnostic).toMatch(/^550-5\.1\.1 The email account .* gsmtp$/);
	});

	it('tells a reputation deferral and a policy block (the route’s) from a full mailbox (the recipient’s), linked by ENVID', () => {
		const { events } = read(fixture('postfix-yahoo-deferred-and-blocked'));
		expect(
			events.map((e) => [e.recipient, e.type, e.bounce, e.fault, e.smtpCode, e.enhancedCode]),
		).toEqual([
			['reader.one@yahoo.com', 'deferred', undefined, 'route', 421, '4.7.0'],
			['reader.two@aol.com', 'blocked', undefined, 'route', 554, '5.7.9'],
			['full.box@yahoo.com', 'bounced', 'soft', 'recipient', 552, '5.2.2'],
		]);
		for (const e of events) {
			expect(e.linkedBy).toBe('envid');
			expect(e.reference).toEqual(relayA);
			expect(e.messageId).toBe('campaign-42.9@shop.example');
			expect(e.reportingMta).toBe('relay-a.shop.example');
		}
		expect(events[0].diagnostic).toContain('[TSS04]');
	});

	it('links through the returned X-Postal-Ref header when nothing else carries the reference', () => {
		const raw = fixture('gmail-address-not-found')
			.toString('latin1')
			.replace(/bounces\+[A-Za-z0-9_-]+@/g, 'bounces@');
		const [e] = read(raw).events;
		expect(e.linkedBy).toBe('reference');
		expect(e.reference).toEqual(relayA);
	});

	it('reads a report without its header block (n8n’s IMAP trigger, Raw: the TEXT part only)', () => {
		for (const name of ['gmail-address-not-found', 'postfix-yahoo-deferred-and-blocked']) {
			const whole = fixture(name).toString('latin1');
			const body = whole.slice(whole.indexOf('\n\n') + 2);
			const full = read(whole).events;
			const bodyOnly = read(body).events;
			expect(bodyOnly.map((e) => [e.recipient, e.type, e.enhancedCode])).toEqual(
				full.map((e) => [e.recipient, e.type, e.enhancedCode]),
			);
			// the bounce address went with the headers; the reference the returned message or the
			// ENVID carries is still there
			expect(bodyOnly[0].reference).toEqual(relayA);
		}
	});

	it('keeps a digest reference for the ledger, and reads a base64 report part', () => {
		const long = { route: 'r'.repeat(90), group: 'google', campaign: 'c' };
		const digest = hashedReference(long);
		const status = Buffer.from(
			'Reporting-MTA: dns; mx.example\r\nOriginal-Envelope-Id: ' +
				digest +
				'\r\n\r\nFinal-Recipient: rfc822; a@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n',
		).toString('base64');
		const raw = [
			'From: MAILER-DAEMON@mx.example',
			'Subject: failure',
			'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
			'',
			'--b',
			'Content-Type: message/delivery-status',
			'Content-Transfer-Encoding: base64',
			'',
			status,
			'--b--',
		].join('\r\n');
		const [e] = read(raw).events;
		expect(e).toMatchObject({ recipient: 'a@example.com', type: 'bounced', bounce: 'hard' });
		expect(e.reference).toBeUndefined();
		expect(e.referenceToken).toBe(digest);
		expect(e.linkedBy).toBe('envid');
	});
});

describe('RFC 5965 feedback reports', () => {
	it('reads the example of the RFC as a complaint by the reported recipient', () => {
		const { kind, events } = read(fixture('rfc5965-abuse'));
		expect(kind).toBe('arf');
		expect(events).toEqual<FeedbackEvent[]>([
			{
				source: 'arf',
				type: 'complained',
				permanent: true,
				fault: 'recipient',
				recipient: 'user@example.com',
				messageId: '8787KJKJ3K4J3K4J3K4J3.mail@example.net',
				eventId: expect.stringMatching(/^sha256:[0-9a-f]{32}#0$/) as unknown as string,
				// Arrival-Date, 14:00 EDT
				timestamp: '2005-03-08T18:00:00.000Z',
				providerType: 'abuse',
				reportingMta: 'mail.example.com',
				sendingIp: '192.0.2.1',
				linkedBy: 'none',
				confidence: 1,
			},
		]);
	});

	it('takes a redacted loop’s recipient from the returned message, and its reference', () => {
		const { token } = encodeReference(relayB);
		const raw = [
			'From: staff@hotmail.com',
			'Subject: complaint about message from 198.51.100.7',
			'Content-Type: multipart/report; report-type=feedback-report; boundary="x"',
			'',
			'--x',
			'Content-Type: message/feedback-report',
			'',
			'Feedback-Type: abuse',
			'User-Agent: Hotmail FBL',
			'Version: 1',
			'',
			'--x',
			'Content-Type: message/rfc822',
			'',
			'From: Shop <news@shop.example>',
			'To: <reader.five@outlook.com>',
			'Message-ID: <campaign-42.12@shop.example>',
			`X-Postal-Ref: ${token}`,
			'',
			'Hello',
			'--x--',
		].join('\r\n');
		const [e] = read(raw).events;
		expect(e).toMatchObject({
			type: 'complained',
			recipient: 'reader.five@outlook.com',
			reference: relayB,
			linkedBy: 'reference',
			messageId: 'campaign-42.12@shop.example',
		});
	});

	it('is no complaint when the type says not-spam', () => {
		const raw = fixture('rfc5965-abuse')
			.toString('latin1')
			.replace('Feedback-Type: abuse', 'Feedback-Type: not-spam');
		expect(read(raw).events[0]).toMatchObject({ type: 'other', providerType: 'not-spam' });
	});
});

describe('bounces that follow no standard', () => {
	it('reads an Exim bounce with lower confidence, the reply quoted under the address', () => {
		const { kind, events } = read(fixture('exim-nonstandard'));
		expect(kind).toBe('bounce-text');
		expect(events).toHaveLength(1);
		expect(events[0]).toMatchObject({
			source: 'bounce-text',
			type: 'bounced',
			bounce: 'hard',
			recipient: 'gone@example.org',
			smtpCode: 550,
			enhancedCode: '5.1.1',
			confidence: 0.6,
			// from the copy of the message pasted below Exim's marker
			messageId: 'campaign-42.11@shop.example',
			reference: relayB,
			linkedBy: 'reference',
		});
		expect(events[0].confidence).toBeLessThan(1);
	});

	it('reads a quoted-printable bounce text in its charset', () => {
		const raw = [
			'From: Mail Delivery System <MAILER-DAEMON@mx.example.de>',
			'Subject: Unzustellbar: Fr=C3=BChlingsangebot',
			'Content-Type: text/plain; charset=utf-8',
			'Content-Transfer-Encoding: quoted-printable',
			'',
			'Die Nachricht an <m=C3=BCller@example.de> konnte nicht zugestellt werden:=',
			'',
			'550 5.1.1 Benutzer unbekannt',
		].join('\r\n');
		const [e] = read(raw).events;
		expect(e).toMatchObject({
			recipient: 'müller@example.de',
			enhancedCode: '5.1.1',
			bounce: 'hard',
		});
	});

	it('can be switched off', () => {
		expect(readReport(fixture('exim-nonstandard'), { nonStandard: false })).toMatchObject({
			kind: 'none',
			events: [],
		});
	});

	it('gives no event for an out-of-office reply or a person’s answer, and says why', () => {
		const ooo = read(fixture('out-of-office'));
		expect(ooo).toMatchObject({ kind: 'none', events: [] });
		expect(ooo.reason).toMatch(/automatic reply/);
		const reply = read(fixture('person-reply'));
		expect(reply).toMatchObject({ kind: 'none', events: [] });
		expect(reply.reason).toMatch(/not a delivery report/);
	});
});

describe('hostile input', () => {
	it('never throws on random bytes or random MIME-ish text', () => {
		fc.assert(
			fc.property(
				fc.oneof(
					fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
					fc
						.array(
							fc.constantFrom(
								'Content-Type: multipart/report; boundary="b"\r\n',
								'Content-Type: message/delivery-status\r\n',
								'Content-Type: message/rfc822\r\n',
								'--b\r\n',
								'--b--\r\n',
								'\r\n',
								'Final-Recipient: rfc822; a@b.c\r\n',
								'Action: failed\r\n',
								'Status: 5.1.1\r\n',
								'Diagnostic-Code: smtp; 550 x\r\n',
								' folded\r\n',
							),
							{ maxLength: 60 },
						)
						.map((lines) => lines.join('')),
				),
				(raw) => {
					const result = read(raw);
					expect(['dsn', 'arf', 'bounce-text', 'none']).toContain(result.kind);
				},
			),
		);
	});

	it('stays shallow on deeply nested parts, and refuses an oversized message', () => {
		let nested = 'body';
		for (let i = 0; i < 200; i++)
			nested = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${nested}\r\n--b${i}--`;
		expect(read(nested).kind).toBe('none');
		const huge = Buffer.alloc(MAX_REPORT_BYTES + 1, 0x61);
		expect(read(huge).reason).toMatch(/more than/);
	});
});
