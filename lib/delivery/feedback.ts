/**
 * The send side of the feedback loop, per batch: every message carries its reference (route,
 * group, campaign: ../feedback/reference.ts) where its feedback will echo it, each sent message's
 * id goes into the message ledger, and the batch's outcomes are counted per route × domain group
 * (../state/outcomes.ts). Two store calls at the end of the batch, whatever its size: the ledger
 * and the counters. A failure of either loses no message (they went): it is reported, not thrown.
 */
import {
	encodeReference,
	MAX_REFERENCE_LENGTH,
	referenceText,
	REFERENCE_HEADER,
} from '../feedback/reference';
import { verpAddress, verpTokenRoom, type VerpTemplate } from '../feedback/verp';
import { ledgerKeys } from '../state/keys';
import type { OutcomeCounts, OutcomeEntry, StateStore } from '../state/types';
import { latencyField, withCampaignTotals } from '../state/outcomes';
import type { OutgoingMessage } from '../transports/types';
import type { DeliveryJob, DeliveryResult } from './types';

/** the metadata key every provider echoes back in its events */
export const REFERENCE_METADATA_KEY = 'pr';

/**
 * The message with its reference on it: the header, the provider metadata, the DSN envelope id,
 * and with a VERP template the envelope sender (SMTP routes read it; the token must fit the
 * template: BatchFeedback makes it short enough).
 */
export function withReference(
	message: OutgoingMessage,
	token: string,
	verp?: VerpTemplate,
): OutgoingMessage {
	return {
		...message,
		headers: { ...message.headers, [REFERENCE_HEADER]: token },
		metadata: { ...message.metadata, [REFERENCE_METADATA_KEY]: token },
		reference: token,
		...(verp ? { returnPath: verpAddress(verp, token) } : {}),
	};
}

/** What each result adds to its route × group's counters. */
function countsOf(result: DeliveryResult): OutcomeCounts | undefined {
	const r = result.record;
	switch (r.status) {
		case 'sent':
		case 'partially-sent': {
			const ms = Math.max(0, Math.round(r.latencyMs));
			return { sent: 1, acceptMsSum: ms, acceptN: 1, [latencyField(ms)]: 1 };
		}
		case 'blocked':
			return { blocked: 1 };
		case 'deferred':
			return { deferred: 1 };
		case 'suppressed':
			return { suppressed: 1 };
		case 'failed':
			// refused for the recipient on the spot (550 5.1.1): a hard bounce; anything else failed
			// before a server judged the message (an invalid input), and counts nowhere
			return r.failureScope === 'recipient' && (r.responseCode ?? 0) >= 500
				? { bounceHard: 1 }
				: undefined;
		default:
			return undefined;
	}
}

export class BatchFeedback {
	private readonly tokens = new Map<DeliveryJob, string>();
	/** digest references and their names, for the ledger */
	private readonly digests = new Map<string, string>();
	private readonly sent: Array<{ key: string; value: string }> = [];
	private readonly counts: Array<OutcomeEntry & { campaign: string }> = [];

	constructor(
		private readonly provider: string,
		private readonly ledgerTtlMs: number,
		private readonly clock: () => number,
	) {}

	/** The message as this job sends it: with its reference. */
	message(job: DeliveryJob, message: OutgoingMessage): OutgoingMessage {
		let token = this.tokens.get(job);
		if (token === undefined) {
			const ref = { route: job.route, group: job.group ?? '', campaign: job.campaign };
			// one token everywhere: with VERP, one short enough for the bounce address's local part
			const room = job.verp ? verpTokenRoom(job.verp) : MAX_REFERENCE_LENGTH;
			const encoded = encodeReference(ref, Math.min(room, MAX_REFERENCE_LENGTH));
			token = encoded.token;
			if (!encoded.full) this.digests.set(token, referenceText(ref));
			this.tokens.set(job, token);
		}
		return withReference(message, token, job.verp);
	}

	/** A job's result: its counts, and its message id for the ledger when it was sent. */
	record(job: DeliveryJob, result: DeliveryResult): void {
		const counts = countsOf(result);
		if (counts)
			this.counts.push({
				route: job.route,
				group: job.group ?? '',
				campaign: job.campaign,
				counts,
				at: this.clock(),
			});
		const token = this.tokens.get(job);
		const id = result.record.messageId;
		if (
			token &&
			id &&
			(result.record.status === 'sent' || result.record.status === 'partially-sent')
		)
			this.sent.push({ key: ledgerKeys.message(this.provider, id), value: token });
	}

	/** The batch's ledger entries and counters, in two store calls; the error, if one failed. */
	async flush(store: StateStore): Promise<Error | undefined> {
		const ledger = [
			...this.sent,
			...[...this.digests].map(([token, text]) => ({
				key: ledgerKeys.reference(token),
				value: text,
			})),
		];
		const calls: Array<Promise<void>> = [];
		if (ledger.length) calls.push(store.recordLedger(ledger, this.ledgerTtlMs));
		if (this.counts.length) calls.push(store.countOutcomes(withCampaignTotals(this.counts)));
		const settled = await Promise.allSettled(calls);
		const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
		return failed ? (failed.reason as Error) : undefined;
	}
}
