/**
 * Ties events to what was sent through the message ledger (the send side writes it:
 * ../delivery/feedback.ts): an event that carried only a digest reference gets its names, one that
 * carried nothing gets the reference its message id was sent with. At most two store reads for a
 * batch of events.
 */
import { ledgerKeys } from '../state/keys';
import type { StateStore } from '../state/types';
import { decodeReference, isHashedReference, parseReferenceText } from './reference';
import type { FeedbackEvent, FeedbackSource } from './types';

/** the transport that sent what an event is about: SMTP for anything read from a mailbox */
function providerOf(source: FeedbackSource): string {
	return source === 'dsn' || source === 'arf' || source === 'bounce-text' ? 'smtp' : source;
}

/** The events, with references found in the ledger (the others as they were). */
export async function linkThroughLedger(
	store: StateStore,
	events: readonly FeedbackEvent[],
): Promise<FeedbackEvent[]> {
	const out = events.map((e) => ({ ...e }));
	// 1. message ids → the token each message carried
	const byId = out.filter((e) => !e.reference && !e.referenceToken && e.messageId);
	if (byId.length) {
		const tokens = await store.readLedger(
			byId.map((e) => ledgerKeys.message(providerOf(e.source), e.messageId!)),
		);
		byId.forEach((e, i) => {
			const token = tokens[i];
			if (!token) return;
			e.referenceToken = token;
			e.linkedBy = 'ledger';
			const reference = decodeReference(token);
			if (reference) e.reference = reference;
		});
	}
	// 2. digest tokens → their names
	const digests = out.filter(
		(e) => !e.reference && e.referenceToken && isHashedReference(e.referenceToken),
	);
	if (digests.length) {
		const texts = await store.readLedger(
			digests.map((e) => ledgerKeys.reference(e.referenceToken!)),
		);
		digests.forEach((e, i) => {
			const reference = parseReferenceText(texts[i]);
			if (reference) e.reference = reference;
		});
	}
	return out;
}
