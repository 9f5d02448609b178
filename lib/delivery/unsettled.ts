import type { OnceSettlement, StateStore } from '../state/types';

/**
 * Settlements of duplicate markers this process could not write because the state store failed
 * mid-call: the claim's lease then says nothing true (the message went, or did not). They are
 * written at the start of the next batch on the same store, so a re-run after an outage neither
 * leaves a sent message open to a resend nor holds an unsent one as in doubt. Only a process that
 * dies in between leaves leases behind, and those run out into "in doubt" (./idempotency.ts).
 */
interface Unsettled {
	campaign: string;
	settlement: OnceSettlement;
}

const byStore = new WeakMap<StateStore, Unsettled[]>();

export function rememberUnsettled(store: StateStore, entry: Unsettled): void {
	const list = byStore.get(store) ?? [];
	list.push(entry);
	byStore.set(store, list);
}

export async function settleUnsettled(store: StateStore, ttlMs: number): Promise<void> {
	const list = byStore.get(store);
	while (list && list.length > 0) {
		const e = list[0];
		await store.settleOnce(e.campaign, [e.settlement], ttlMs);
		list.shift();
	}
}
