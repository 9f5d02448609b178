/**
 * What kind of event, and whose fault: the providers' own classes first (each module maps
 * those), the reply codes when a provider says no more than "failed" (the same reply rules as
 * the send side, ../../transports/smtpReplies.ts).
 */
import { classifySmtpReply, POLICY_BLOCKS } from '../../transports/smtpReplies';
import type { FeedbackEvent, FeedbackFault } from '../types';

export type Verdict = Pick<FeedbackEvent, 'type' | 'bounce' | 'permanent' | 'fault'>;

export const delivered: Verdict = { type: 'delivered', permanent: false, fault: 'none' };
export const other = (fault: FeedbackFault = 'none'): Verdict => ({
	type: 'other',
	permanent: false,
	fault,
});
export const hardBounce: Verdict = {
	type: 'bounced',
	bounce: 'hard',
	permanent: true,
	fault: 'recipient',
};
/** a soft bounce is final for this message, not for the address: suppressed with an expiry */
export const softBounce = (fault: FeedbackFault = 'recipient'): Verdict => ({
	type: 'bounced',
	bounce: 'soft',
	permanent: false,
	fault,
});
export const blocked = (fault: 'route' | 'content'): Verdict => ({
	type: 'blocked',
	permanent: false,
	fault,
});
export const deferred = (fault: FeedbackFault = 'route'): Verdict => ({
	type: 'deferred',
	permanent: false,
	fault,
});
export const complained: Verdict = { type: 'complained', permanent: true, fault: 'recipient' };
export const unsubscribed: Verdict = { type: 'unsubscribed', permanent: true, fault: 'none' };
/** the provider did not send: the address was on its own list (no new signal about the route) */
export const suppressed = (fault: FeedbackFault = 'recipient'): Verdict => ({
	type: 'suppressed',
	permanent: false,
	fault,
});

interface Codes {
	smtpCode?: number;
	enhancedCode?: string;
}

const isPolicyBlock = (text: string) => POLICY_BLOCKS.some((b) => b.pattern.test(text));

/** A final failure the provider did not classify (or called generic), read from its reply. */
export function failureVerdict(codes: Codes, text = ''): Verdict {
	const enhanced = codes.enhancedCode ?? '';
	// the message itself (5.3.4 too big, 5.6.x media/content) and content-policy 5.7.x
	if (/^[45]\.6\./.test(enhanced) || enhanced === '5.3.4') return blocked('content');
	if (codes.smtpCode && codes.smtpCode >= 400) {
		const verdict = classifySmtpReply({
			code: codes.smtpCode,
			enhancedCode: codes.enhancedCode,
			text,
		});
		if (verdict.kind === 'blocked') return blocked('route');
		if (codes.smtpCode < 500)
			return softBounce(verdict.scope === 'recipient' ? 'recipient' : 'route');
	} else if (isPolicyBlock(text) || enhanced.startsWith('5.7.')) return blocked('route');
	if (enhanced === '5.2.2' || enhanced.startsWith('4.')) return softBounce();
	return hardBounce;
}

/** A deferral: the mailbox's own state (4.2.1 paused, 4.2.2 full) is the recipient's, the rest the route's. */
export function deferralVerdict(codes: Codes): Verdict {
	const enhanced = codes.enhancedCode ?? '';
	return enhanced === '4.2.1' || enhanced === '4.2.2' ? deferred('recipient') : deferred('route');
}
