import { suppressionDigest } from '../state/keys';
import type { StateStore, SuppressionEntry } from '../state/types';
import { envelopeRecipients } from './records';
import type { DeliveryJob } from './types';

export interface SuppressedRecipient {
	address: string;
	entry: SuppressionEntry;
}

/**
 * One look at a suppression list for a batch's addresses, in one store call (an address that comes
 * again is asked once): per address, the entry that applies now or null. Addresses become list
 * keys here only (suppressionDigest under the store's secret).
 */
export async function lookUpSuppressions(
	store: StateStore,
	list: string,
	addresses: readonly string[],
): Promise<(SuppressionEntry | null)[]> {
	if (addresses.length === 0) return [];
	const secret = await store.hashSecret();
	const keyOf = addresses.map((a) => suppressionDigest(secret, a));
	const keys = [...new Set(keyOf)];
	const entries = await store.getSuppressions(list, keys);
	const byKey = new Map<string, SuppressionEntry>();
	keys.forEach((k, i) => {
		const e = entries[i];
		if (e) byKey.set(k, e);
	});
	return keyOf.map((k) => byKey.get(k) ?? null);
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
	const perJob = jobs.map((job) => envelopeRecipients(job.message));
	const entries = await lookUpSuppressions(store, list, perJob.flat());
	let k = 0;
	jobs.forEach((job, j) => {
		const hits: SuppressedRecipient[] = [];
		for (const address of perJob[j]) {
			const entry = entries[k++];
			if (entry) hits.push({ address, entry });
		}
		if (hits.length) found.set(job, hits);
	});
	return found;
}
