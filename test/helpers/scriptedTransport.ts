import type { OutgoingMessage, SendOutcome, Transport } from '../../lib/transports/types';

/** A transport that answers from a script, recording what it was asked to send. */
export class ScriptedTransport implements Transport {
	readonly provider = 'scripted';
	/** the first envelope recipient of each send, in order */
	sent: string[] = [];
	/** every send's envelope (envelopeTo when set, else To, CC, BCC) */
	envelopes: string[][] = [];
	inFlight = 0;
	maxInFlight = 0;
	private attempts = new Map<string, number>();
	constructor(
		private readonly answer: (to: string, attempt: number, m: OutgoingMessage) => SendOutcome,
		private readonly delayMs = 0,
	) {}
	async send(m: OutgoingMessage): Promise<SendOutcome> {
		const to = m.to[0].address;
		const attempt = (this.attempts.get(to) ?? 0) + 1;
		this.attempts.set(to, attempt);
		this.inFlight++;
		this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
		if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
		this.inFlight--;
		this.sent.push(to);
		this.envelopes.push(m.envelopeTo ?? [...m.to, ...m.cc, ...m.bcc].map((a) => a.address));
		return this.answer(to, attempt, m);
	}
}
