import { suppressionDigest } from '../state/keys';
import type { StateStore, SuppressionEntry } from '../state/types';
import { envelopeRecipients } from './records';
import type { DeliveryJob } from './types';

export interface SuppressedRecipient {
	address: string;
	entry: SuppressionEntry;
}

/**
 * The batch's one look at the suppression list (one store call for every recipient of every
 * job): per job, the envelope recipients the list holds. A job with none is not in the map. A
 * message to a suppressed recipient is not sent at all, to its other recipients neither: nothing
 * goes to an address that bounced, complained or unsubscribed, and the item says which.
 */
export async function suppressedRecipients(
	store: StateStore,
	jobs: readonly DeliveryJob[],
	list: string,
): Promise<Map<DeliveryJob, SuppressedRecipient[]>> {
	const found = new Map<DeliveryJob, SuppressedRecipient[]>();
	if (jobs.length === 0) return found;
	const secret = await store.hashSecret();
	const perJob = jobs.map((job) =>
		envelopeRecipients(job.message).map((address) => ({
			address,
			key: suppressionDigest(secret, address),
		})),
	);
	const keys = [...new Set(perJob.flat().map((r) => r.key))];
	const entries = await store.getSuppressions(list, keys);
	const byKey = new Map<string, SuppressionEntry>();
	keys.forEach((k, i) => {
		const e = entries[i];
		if (e) byKey.set(k, e);
	});
	if (byKey.size === 0) return found;
	jobs.forEach((job, j) => {
		const hits = perJob[j]
			.filter((r) => byKey.has(r.key))
			.map((r) => ({ address: r.address, entry: byKey.get(r.key)! }));
		if (hits.length) found.set(job, hits);
	});
	return found;
}
