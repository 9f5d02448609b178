import type { StateStore } from '../state/types';

/**
 * Idempotency markers this process could not settle because the state store failed mid-call: a
 * claim whose answer never came (the message was not sent) or a confirmation that did not land
 * (the message was sent). They are settled at the start of the next batch on the same store, so a
 * re-run after an outage neither loses the first kind nor repeats the second. Only a process that
 * dies in between leaves markers pending — and those are never sent again.
 */
interface Unsettled {
	campaign: string;
	key: string;
	token: string;
	sent: boolean;
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
		if (e.sent) await store.confirmOnce(e.campaign, [e.key], ttlMs);
		else await store.releaseOnce(e.campaign, [e.key], e.token);
		list.shift();
	}
}
