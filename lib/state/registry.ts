import { MemoryStateStore } from './memory';
import type { StateStore } from './types';

/**
 * The embedded store: one per n8n process, shared by every node and execution in it. Each bundled
 * node file (dist/nodes/…/X.node.js) carries its own copy of this module, so a module variable
 * would give each node its own store (the partitioner would never see a circuit the send node
 * opened). The store lives on `globalThis` under a registered symbol instead: one for the process,
 * whatever the bundling. The version in the name changes with the StateStore contract, so a store
 * of another shape is never shared.
 */
const SLOT = Symbol.for('n8n-nodes-postal-routes.embeddedStateStore.v2');

interface Slot {
	store?: StateStore;
}

function slot(): Slot {
	const holder = globalThis as typeof globalThis & { [SLOT]?: Slot };
	return (holder[SLOT] ??= {});
}

export function embeddedStateStore(): StateStore {
	const s = slot();
	return (s.store ??= new MemoryStateStore());
}

/** Replaces the embedded store (tests start each case on fresh state). */
export function resetEmbeddedStateStore(store?: MemoryStateStore): void {
	slot().store = store;
}
