/**
 * The SMTP probe: one connection of nodemailer's own SMTPConnection (the pool's client, so the
 * same TLS, STARTTLS and AUTH rules), step by step, timed from its transaction log. HAProxy's
 * smtpchk (banner, EHLO) plus STARTTLS and AUTH, like nodemailer's verify(); with an envelope,
 * then MAIL FROM, RCPT TO to the seed address and RSET: never DATA, so nothing is ever sent.
 */

import { format } from 'node:util';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { ProbeResult, ProbeStep, ProbeStepName } from './probe';

export interface SmtpProbeInput {
	/** nodemailer connection options without auth (SmtpTransport's connectionOptions) */
	options: SMTPConnection.Options;
	auth?: { user: string; pass: string };
	timeoutMs: number;
	/** the envelope probe after AUTH: MAIL FROM:<from> RCPT TO:<to> RSET (parsed mailboxes; from '' = <>) */
	envelope?: { from: string; to: string };
	/** scrubs a server's text of the credential's secrets and caps it */
	clean: (text: string) => string;
	/** a nodemailer error as the transport words a failure (scrubbed) */
	failure: (err: unknown) => string;
}

type Phase = ProbeStepName | 'starttls-ehlo' | 'done';

/** the SMTPConnection internals that reset() uses: one command, one reply */
interface CommandChannel {
	_sendCommand(line: string): void;
	_responseActions: Array<(reply: string) => void>;
}

/**
 * One command and its reply on a connection, as nodemailer's own reset() sends RSET (it has no
 * public MAIL or RCPT without DATA): the reply goes to the action queued before the command.
 */
function command(connection: SMTPConnection, line: string): Promise<string> {
	const channel = connection as unknown as CommandChannel;
	return new Promise((resolve) => {
		channel._responseActions.push(resolve);
		channel._sendCommand(line);
	});
}

export function probeSmtp(input: SmtpProbeInput): Promise<ProbeResult> {
	const started = Date.now();
	const steps: ProbeStep[] = [];
	let phase: Phase = 'connect';
	let stepStart = started;
	/** the server's last reply since the current step began */
	let reply: string | undefined;
	let starttlsReply: string | undefined;
	const needsTls = Boolean(input.options.requireTLS) && !input.options.secure;

	const finish = (step: ProbeStepName, ok: boolean, text?: string) => {
		const now = Date.now();
		steps.push({ step, ok, ms: now - stepStart, ...(text ? { reply: input.clean(text) } : {}) });
		stepStart = now;
		reply = undefined;
	};
	const afterEhlo = (): Phase => (needsTls ? 'starttls' : input.auth ? 'auth' : 'done');

	const line = (entry: { tnx?: string } | undefined, message: unknown, args: unknown[]) => {
		const text = format(String(message ?? ''), ...args);
		const tnx = entry?.tnx;
		if (tnx === 'network' && phase === 'connect' && / established to /.test(text)) {
			finish('connect', true);
			phase = 'banner';
		} else if (tnx === 'server') {
			reply = text;
			if (phase === 'banner' && /^220/.test(text)) {
				finish('banner', true, text);
				phase = 'ehlo';
			} else if (phase === 'ehlo' && /^25\d/.test(text)) {
				finish('ehlo', true, text.split(/\r?\n/)[0]);
				phase = afterEhlo();
			} else if (phase === 'starttls') starttlsReply = text;
			else if (phase === 'starttls-ehlo' && /^25\d/.test(text)) {
				finish('starttls', true, starttlsReply);
				phase = input.auth ? 'auth' : 'done';
			}
		} else if (tnx === 'client') {
			if (/^STARTTLS\b/i.test(text)) phase = 'starttls';
			else if (/^(EHLO|HELO|LHLO)\b/i.test(text) && phase === 'starttls') phase = 'starttls-ehlo';
			else if (/^AUTH\b/i.test(text)) phase = 'auth';
		}
	};
	const log =
		(level: string) =>
		(...args: unknown[]) => {
			if (level === 'debug' || level === 'info')
				line(
					typeof args[0] === 'string' ? undefined : (args.shift() as { tnx?: string }),
					args.shift(),
					args,
				);
		};
	const logger = Object.fromEntries(
		['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((l) => [l, log(l)]),
	);

	return new Promise<ProbeResult>((resolve) => {
		let settled = false;
		const connection = new SMTPConnection({
			...input.options,
			transactionLog: true,
			logger: logger as unknown as SMTPConnection.Options['logger'],
		});
		const end = (error?: string) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			if (error !== undefined) {
				const failed: ProbeStepName =
					phase === 'starttls-ehlo'
						? 'starttls'
						: phase === 'done'
							? input.envelope
								? 'mail'
								: 'auth'
							: phase;
				finish(failed, false, failed === 'starttls' ? (starttlsReply ?? reply) : reply);
				connection.close();
			} else connection.quit();
			resolve({
				ok: error === undefined,
				steps,
				latencyMs: Date.now() - started,
				...(error !== undefined ? { error } : {}),
			});
		};
		const timer = setTimeout(
			() =>
				end(
					`SMTP: no answer within ${input.timeoutMs / 1000} s (Probe Options › Timeout (Seconds)) at ${phase === 'starttls-ehlo' ? 'starttls' : phase}`,
				),
			input.timeoutMs,
		);
		connection.on('error', (err) => end(input.failure(err)));
		/** MAIL, RCPT, RSET: each reply 2xx, or the probe fails at that step with the reply */
		const envelope = async (e: { from: string; to: string }) => {
			const commands: Array<[ProbeStepName, string, string]> = [
				['mail', `MAIL FROM:<${e.from}>`, 'the sender was refused at MAIL FROM'],
				['rcpt', `RCPT TO:<${e.to}>`, 'the seed address was refused at RCPT TO'],
				['rset', 'RSET', 'RSET was refused'],
			];
			for (const [step, line, refused] of commands) {
				if (settled) return;
				phase = step;
				const answer = await command(connection, line);
				if (settled) return;
				if (!/^2/.test(answer))
					return end(input.clean(`SMTP: ${refused}: ${answer.split(/\r?\n/).join(' ')}`));
				finish(step, true, answer.split(/\r?\n/)[0]);
			}
			end();
		};
		const afterLogin = () => (input.envelope ? void envelope(input.envelope) : end());
		connection.connect(() => {
			if (!input.auth) return afterLogin();
			phase = 'auth';
			connection.login(input.auth, (err) => {
				if (err) return end(input.failure(err));
				finish('auth', true, reply);
				afterLogin();
			});
		});
	});
}
