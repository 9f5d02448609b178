import { MemoryStateStore } from './memory';
import type { StateStore } from './types';

let embedded: MemoryStateStore | undefined;

/** The embedded memory store: one per n8n process, shared by every node and execution in it. */
export function embeddedStateStore(): StateStore {
	return (embedded ??= new MemoryStateStore());
}

/** Replaces the embedded store (tests start each case on fresh state). */
export function resetEmbeddedStateStore(store?: MemoryStateStore): void {
	embedded = store;
}
