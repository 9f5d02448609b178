import { MemoryStateStore } from './memory';
import { SqliteStateStore } from './sqlite';
import { loadSqlite } from './sqliteDriver';
import type { StateStore } from './types';
import { embeddedStateFile } from './userFolder';

/**
 * The embedded store: one per n8n process, shared by every node and execution in it. The bundled
 * nodes share one copy of this module (dist/lib/shared.js), but a process can hold others (the
 * sources beside the bundle in the tests, a second install of the package), and a module variable
 * would give each copy its own store (a partitioner would not see a circuit a send node opened).
 * The store lives on `globalThis` under a registered symbol instead: one for the process,
 * whatever the bundling. The version in the name changes with the slot's shape or the StateStore
 * contract, so a store of another shape is never shared (v2: reserveRate; v3: the slot also says
 * where state lives).
 */
const SLOT = Symbol.for('n8n-nodes-postal-routes.embeddedStateStore.v3');

/** Where the embedded state lives, for the nodes to tell users. */
export interface EmbeddedStateInfo {
	kind: 'sqlite' | 'memory';
	/** sqlite: the file; memory: the file that could not be used (absent: no node:sqlite) */
	file?: string;
	/** memory, when not chosen: why the file is not used (state is lost when n8n restarts) */
	reason?: string;
}

interface Slot {
	store?: StateStore;
	info?: EmbeddedStateInfo;
}

function slot(): Slot {
	const holder = globalThis as typeof globalThis & { [SLOT]?: Slot };
	return (holder[SLOT] ??= {});
}

/**
 * The SQLite file in the n8n folder when node:sqlite is there and the file opens; else memory,
 * with the reason kept (embeddedStateInfo) instead of failing the node.
 */
function openEmbedded(): { store: StateStore; info: EmbeddedStateInfo } {
	const load = loadSqlite();
	if (!load.ok) return memory(`${load.reason}.`);
	const file = embeddedStateFile();
	try {
		return {
			store: new SqliteStateStore({ file, driver: load.driver }),
			info: { kind: 'sqlite', file },
		};
	} catch (error) {
		return memory(
			`The embedded state file ${(error as Error).message}. Make the n8n user folder writable (N8N_USER_FOLDER, else the home folder), or use the Redis state store.`,
			file,
		);
	}
}

function memory(reason: string, file?: string): { store: StateStore; info: EmbeddedStateInfo } {
	return {
		store: new MemoryStateStore(),
		info: {
			kind: 'memory',
			...(file ? { file } : {}),
			reason: `${reason} State is kept in memory and lost when n8n restarts.`,
		},
	};
}

export function embeddedStateStore(): StateStore {
	const s = slot();
	if (!s.store) Object.assign(s, openEmbedded());
	return s.store!;
}

/** Where the embedded store keeps its state (opening it if that has not happened yet). */
export function embeddedStateInfo(): EmbeddedStateInfo {
	embeddedStateStore();
	return { ...slot().info! };
}

/**
 * Replaces the embedded store (tests). Without a store, the current one is closed and the next
 * call opens the embedded store again: a fresh memory store, or the same file, as after a restart.
 */
export function resetEmbeddedStateStore(store?: StateStore): void {
	const s = slot();
	if (s.store && s.store !== store) void s.store.close();
	s.store = store;
	if (!store) s.info = undefined;
	else
		s.info =
			store instanceof SqliteStateStore ? { kind: 'sqlite', file: store.file } : { kind: 'memory' };
}
