/**
 * Run in a child Node process by test/unit/smtpFaults.test.ts with NODE_EXTRA_CA_CERTS naming the
 * test certificates, the way an n8n operator trusts a private CA: so a certificate is trusted and
 * only its host name can be wrong. A child, because Node reads NODE_EXTRA_CA_CERTS once at start.
 * Sends one message per job through an SmtpTransport and prints the outcomes as JSON.
 */
import { parseSmtpCredential, SmtpTransport } from '../../lib/transports/smtp';
import type { SendOutcome } from '../../lib/transports/types';
import { plainMessage } from './messages';

interface Job {
	name: string;
	port: number;
	security: 'tls' | 'starttls' | 'starttlsRequired';
}

async function main() {
	const jobs = JSON.parse(process.argv[2] ?? '[]') as Job[];
	const outcomes: Record<string, SendOutcome> = {};
	for (const job of jobs) {
		const transport = new SmtpTransport(
			parseSmtpCredential({ host: '127.0.0.1', port: job.port, security: job.security }),
			{ connectionTimeoutMs: 5000, greetingTimeoutMs: 5000, socketTimeoutMs: 5000 },
		);
		outcomes[job.name] = await transport.send(plainMessage('to@example.org'));
		transport.close();
	}
	process.stdout.write(JSON.stringify(outcomes));
}

void main();
