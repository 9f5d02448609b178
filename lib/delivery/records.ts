import type { OutgoingMessage, SendFailure, SendSuccess } from '../transports/types';
import { capText } from '../util/secrets';
import type { DeliveryJob, DeliveryRecord, DeliveryResult, DeliveryStatus } from './types';

/** To, CC and BCC, each mailbox once: what the transport puts in the envelope. */
export function envelopeRecipients(message: OutgoingMessage): string[] {
	return [...new Set([...message.to, ...message.cc, ...message.bcc].map((a) => a.address))];
}

/** transports cap their texts already (../util/secrets safeText); this holds for any other */
const short = (s: string | undefined) => (s === undefined ? s : capText(s));
const iso = (ms: number) => new Date(ms).toISOString();

/** Each job's result for one batch: its record, and the output it leaves the node on. */
export class Results {
	constructor(
		private readonly provider: string,
		private readonly queuedAt: string,
	) {}

	dryRun(job: DeliveryJob): DeliveryResult {
		return { index: job.index, output: 'sent', record: this.record(job, 'dry-run') };
	}

	circuitOpen(job: DeliveryJob, openUntil: number): DeliveryResult {
		const error = `route "${job.route}" is unhealthy (circuit open until ${iso(openUntil)}); nothing was sent`;
		return {
			index: job.index,
			output: 'fallback',
			record: this.record(job, 'circuit-open', { error, retryAt: iso(openUntil) }),
		};
	}

	/** the job's marker was already there: sent, or pending from a run that did not finish */
	duplicate(job: DeliveryJob, marker: 'sent' | 'pending'): DeliveryResult {
		const error =
			marker === 'sent'
				? 'already sent in this campaign'
				: 'claimed by an earlier run that did not finish: it may have gone out, so it is not sent again';
		return {
			index: job.index,
			output: 'sent',
			record: this.record(job, 'skipped-duplicate', { error }),
		};
	}

	rateDeferred(
		job: DeliveryJob,
		attempts: number,
		latencyMs: number,
		retryAt: number,
	): DeliveryResult {
		return {
			index: job.index,
			output: 'fallback',
			record: this.record(job, 'rate-deferred', {
				attempts,
				latencyMs,
				error: 'the rate limits would hold this message too long',
				retryAt: iso(retryAt),
			}),
		};
	}

	sent(
		job: DeliveryJob,
		outcome: SendSuccess,
		attempts: number,
		latencyMs: number,
		sentAt: number,
	): DeliveryResult {
		return {
			index: job.index,
			output: 'sent',
			record: this.record(job, 'sent', {
				messageId: outcome.messageId,
				responseCode: outcome.code,
				enhancedCode: outcome.enhancedCode,
				response: short(outcome.response),
				attempts,
				latencyMs,
				sentAt: iso(sentAt),
			}),
		};
	}

	/** permanent: Failed; blocked or transient: Fallback, where another route may deliver it */
	failure(
		job: DeliveryJob,
		outcome: SendFailure,
		attempts: number,
		latencyMs: number,
	): DeliveryResult {
		const common = {
			responseCode: outcome.code,
			enhancedCode: outcome.enhancedCode,
			error: short(outcome.message),
			failureScope: outcome.scope,
			attempts,
			latencyMs,
		};
		if (outcome.kind === 'permanent')
			return { index: job.index, output: 'failed', record: this.record(job, 'failed', common) };
		return {
			index: job.index,
			output: 'fallback',
			record: this.record(job, outcome.kind === 'blocked' ? 'blocked' : 'deferred', common),
		};
	}

	private record(
		job: DeliveryJob,
		status: DeliveryStatus,
		extra: Partial<DeliveryRecord> = {},
	): DeliveryRecord {
		return {
			route: job.route,
			provider: this.provider,
			status,
			recipients: envelopeRecipients(job.message),
			attempts: 0,
			latencyMs: 0,
			queuedAt: this.queuedAt,
			...extra,
		};
	}
}
