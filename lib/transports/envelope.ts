import type { OutgoingMessage } from './types';

/** The envelope a message asks for: everyone (no envelopeTo), these addresses, or a mistake. */
export type EnvelopeRestriction =
	{ kind: 'all' } | { kind: 'subset'; to: string[] } | { kind: 'invalid'; problem: string };

/**
 * Reads `envelopeTo`: a non-empty list of the message's own to/cc/bcc addresses (compared without
 * regard to case, written as the message has them, each once). Anything else is a caller's
 * mistake, refused before a connection is made, so a resend can never reach someone the message
 * was not addressed to.
 */
export function envelopeRestriction(message: OutgoingMessage): EnvelopeRestriction {
	const wanted = message.envelopeTo;
	if (wanted === undefined) return { kind: 'all' };
	if (!Array.isArray(wanted) || wanted.length === 0)
		return { kind: 'invalid', problem: 'envelopeTo names no recipient' };
	const own = new Map<string, string>();
	for (const a of [...message.to, ...message.cc, ...message.bcc])
		if (!own.has(a.address.toLowerCase())) own.set(a.address.toLowerCase(), a.address);
	const to: string[] = [];
	for (const [i, address] of wanted.entries()) {
		const match = typeof address === 'string' ? own.get(address.toLowerCase()) : undefined;
		// the position, never the value: it may be anything a caller put there
		if (!match)
			return {
				kind: 'invalid',
				problem: `envelopeTo[${i}] is not one of the message's To, Cc or Bcc addresses`,
			};
		if (!to.includes(match)) to.push(match);
	}
	return { kind: 'subset', to };
}
