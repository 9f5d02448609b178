import type { CampaignPause, OnceClaim, ReputationState, SuppressionEntry } from '../state/types';
import type {
	OutgoingMessage,
	RefusedRecipient,
	SendFailure,
	SendSuccess,
} from '../transports/types';
import { capText } from '../util/secrets';
import type { SuppressedRecipient } from './suppressed';
import type {
	DeliveryJob,
	DeliveryRecord,
	DeliveryResult,
	DeliveryStatus,
	RefusedRecipientRecord,
	SkipRecord,
} from './types';

/** To, CC and BCC, each mailbox once: what the transport puts in the envelope (or the restriction). */
export function envelopeRecipients(message: OutgoingMessage): string[] {
	if (message.envelopeTo) return [...message.envelopeTo];
	return [...new Set([...message.to, ...message.cc, ...message.bcc].map((a) => a.address))];
}

/** transports cap their texts already (../util/secrets safeText); this holds for any other */
const short = (s: string | undefined) => (s === undefined ? s : capText(s));
const iso = (ms: number) => new Date(ms).toISOString();

/** How an item shows a suppression entry: reason, where it came from, since and until when (ISO). */
export interface SuppressionDetails {
	reason: string;
	source: string;
	since: string;
	until?: string;
}

export function suppressionDetails(entry: SuppressionEntry): SuppressionDetails {
	return {
		reason: entry.reason,
		source: entry.source,
		since: iso(entry.at),
		...(entry.until === undefined ? {} : { until: iso(entry.until) }),
	};
}

/** What the earlier claim a skip or a resend refers to says, in the record's terms. */
const claimOf = (since: number | undefined, by: string | undefined) => ({
	...(since ? { since: iso(since) } : {}),
	...(by ? { by } : {}),
});

/** The refused recipients as the record lists them. */
function refusedRecords(refused: RefusedRecipient[]): RefusedRecipientRecord[] {
	return refused.map((r) => ({
		recipient: r.address,
		kind: r.failure.kind,
		responseCode: r.failure.code,
		enhancedCode: r.failure.enhancedCode,
		error: short(r.failure.message)!,
	}));
}

/** The earlier claim a resend went over, as the record names it. */
export function resentAfter(reclaimed: { since: number; owner: string }): {
	since: string;
	by: string;
} {
	return { since: iso(reclaimed.since), by: reclaimed.owner };
}

/** How one send of a job went, for the record: its tries and its time. */
export interface Effort {
	attempts: number;
	latencyMs: number;
}

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

	/** the route is suspended for the job's domain group: held for another route or a later run */
	reputationHeld(job: DeliveryJob, state: ReputationState): DeliveryResult {
		const until = iso(state.suspendedUntil);
		const error = `route "${job.route}" is suspended for the domain group "${job.group}" until ${until} (rule ${state.rule}: ${state.reason}); nothing was sent`;
		return {
			index: job.index,
			output: 'fallback',
			record: this.record(job, 'route-suspended', {
				error,
				retryAt: until,
				reputation: [
					{
						what: 'suspended',
						rule: state.rule,
						group: job.group ?? '',
						until,
						reason: state.reason,
					},
				],
			}),
		};
	}

	/** the job's campaign is paused: held for a later run */
	campaignPaused(job: DeliveryJob, pause: CampaignPause): DeliveryResult {
		const until = iso(pause.until);
		return {
			index: job.index,
			output: 'fallback',
			record: this.record(job, 'campaign-paused', {
				error: `campaign "${job.campaign}" is paused until ${until} (rule ${pause.rule}: ${pause.reason}); nothing was sent`,
				retryAt: until,
			}),
		};
	}

	/** What the claim found instead of a free marker: sent before, being sent, or in doubt. */
	claimed(job: DeliveryJob, claim: OnceClaim): DeliveryResult {
		if (claim.state === 'sent')
			return this.skipped(job, 'skipped-duplicate', {
				reason: 'already-sent',
				detail: 'already sent to these recipients in this campaign',
			});
		if (claim.state === 'leased')
			return this.skipped(job, 'skipped-in-flight', {
				reason: 'in-flight',
				detail:
					'another run is sending this message now; it is left to that run (it counts as interrupted once its claim runs out)',
				...claimOf(claim.since, claim.owner),
				...(claim.leaseUntil ? { leaseUntil: iso(claim.leaseUntil) } : {}),
			});
		return this.skipped(job, 'in-doubt', {
			reason: 'in-doubt',
			detail:
				'an earlier run was cut off while sending this message: it may have gone out, and "If a Send Was Interrupted" is set to "Don\'t Resend"',
			...claimOf(claim.since, claim.owner),
		});
	}

	/** a recipient is on the suppression list: nothing was sent */
	suppressed(job: DeliveryJob, hits: readonly SuppressedRecipient[]): DeliveryResult {
		const reasons = [...new Set(hits.map((h) => h.entry.reason))].join(', ');
		return this.skipped(job, 'suppressed', {
			reason: 'suppressed',
			detail: `not sent: ${hits.map((h) => h.address).join(', ')} ${hits.length === 1 ? 'is' : 'are'} on the suppression list (${reasons}); remove ${hits.length === 1 ? 'it' : 'them'} from the list to send again`,
			suppressed: hits.map((h) => ({ recipient: h.address, ...suppressionDetails(h.entry) })),
		});
	}

	/** every recipient of the message has it already (a partial delivery completed elsewhere) */
	deliveredEarlier(job: DeliveryJob): DeliveryResult {
		return this.skipped(job, 'skipped-duplicate', {
			reason: 'already-sent',
			detail: 'every recipient of this message has it already (earlier partial deliveries)',
		});
	}

	/**
	 * The send ended without an answer after the whole message went: it may have been delivered.
	 * Not retried; the marker says "in doubt", and the policy decides what a later run does.
	 */
	unknownOutcome(
		job: DeliveryJob,
		failure: SendFailure,
		effort: Effort,
		claim: { since: number; by: string; resend: boolean },
	): DeliveryResult {
		const next = claim.resend
			? 'the next run sends it again ("If a Send Was Interrupted": Resend)'
			: 'it is not sent again ("If a Send Was Interrupted": Don\'t Resend)';
		return {
			index: job.index,
			output: 'skipped',
			record: this.record(job, 'in-doubt', {
				...effort,
				responseCode: failure.code,
				enhancedCode: failure.enhancedCode,
				error: short(failure.message),
				failureScope: failure.scope,
				skip: {
					reason: 'in-doubt',
					detail: `the server took the whole message and gave no answer: it may have been delivered, so it was not retried; ${next}`,
					...claimOf(claim.since, claim.by),
				},
			}),
		};
	}

	rateDeferred(job: DeliveryJob, effort: Effort, retryAt: number): DeliveryResult {
		return {
			index: job.index,
			output: 'fallback',
			record: this.record(job, 'rate-deferred', {
				...effort,
				error: 'the rate limits would hold this message too long',
				retryAt: iso(retryAt),
			}),
		};
	}

	sent(
		job: DeliveryJob,
		outcome: SendSuccess,
		effort: Effort,
		sentAt: number,
		extra: Partial<DeliveryRecord> = {},
	): DeliveryResult {
		const fields = {
			messageId: outcome.messageId,
			responseCode: outcome.code,
			enhancedCode: outcome.enhancedCode,
			response: short(outcome.response),
			...effort,
			sentAt: iso(sentAt),
			...extra,
		};
		const refused = outcome.refused ?? [];
		if (refused.length === 0)
			return { index: job.index, output: 'sent', record: this.record(job, 'sent', fields) };
		const refusedSet = new Set(refused.map((r) => r.address.toLowerCase()));
		const list = refusedRecords(refused);
		// a refusal that may pass later goes where another try can reach it: a backup route, a re-run
		const retryable = list.some((r) => r.kind !== 'permanent');
		return {
			index: job.index,
			output: retryable ? 'fallback' : 'failed',
			record: this.record(job, 'partially-sent', {
				...fields,
				accepted: envelopeRecipients(job.message).filter((a) => !refusedSet.has(a.toLowerCase())),
				refused: list,
				error: `${list.length} of the message's recipients refused it; the others have it${retryable ? ' (a backup route or a re-run sends it to the refused ones only)' : ''}`,
			}),
		};
	}

	/**
	 * recipient- or message-scoped permanent: Failed. Anything about the route (blocked, transient,
	 * or a route that refuses every message): Fallback, where another route may deliver it.
	 */
	failure(
		job: DeliveryJob,
		outcome: SendFailure,
		effort: Effort,
		extra: Partial<DeliveryRecord> = {},
	): DeliveryResult {
		const common = {
			responseCode: outcome.code,
			enhancedCode: outcome.enhancedCode,
			error: short(outcome.message),
			failureScope: outcome.scope,
			// every recipient refused: each one's own reply
			...(outcome.refused?.length ? { refused: refusedRecords(outcome.refused) } : {}),
			...effort,
			...extra,
		};
		if (outcome.kind === 'permanent' && outcome.scope === 'recipient')
			return { index: job.index, output: 'failed', record: this.record(job, 'failed', common) };
		const status = outcome.kind === 'transient' ? 'deferred' : 'blocked';
		return { index: job.index, output: 'fallback', record: this.record(job, status, common) };
	}

	/** Never tried: the state store failed first, and sending without it could double a message. */
	notSent(job: DeliveryJob, error: Error): DeliveryResult {
		return {
			index: job.index,
			output: 'failed',
			record: this.record(job, 'not-sent', {
				error: short(`not sent: ${error.message}`),
			}),
		};
	}

	private skipped(job: DeliveryJob, status: DeliveryStatus, skip: SkipRecord): DeliveryResult {
		return { index: job.index, output: 'skipped', record: this.record(job, status, { skip }) };
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
