import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSqlite, type SqliteDatabase } from '../../lib/state/sqliteDriver';

/** node:sqlite, loaded the way the embedded store loads it: the suites skip exactly when it would fall back. */
const load = loadSqlite();
export const hasSqlite = load.ok;

/**
 * describe() where node:sqlite exists (Node 22.5+), else describe.skip saying why: the suites run
 * on Node 24 with `npm run test:node24`, which sets POSTAL_REQUIRE_SQLITE=1 so that a Node without
 * node:sqlite fails there instead of skipping.
 */
export function describeSqlite(name: string, fn: () => void): void {
	if (load.ok) return describe(name, fn);
	if (process.env.POSTAL_REQUIRE_SQLITE === '1')
		throw new Error(`${name}: POSTAL_REQUIRE_SQLITE=1 but ${load.reason}`);
	describe.skip(`${name} [skipped: ${load.reason}; npm run test:node24 runs it on Node 24]`, fn);
}

/** A second connection to a state file, for looking inside it as a tool would. */
export function openDatabase(file: string): SqliteDatabase {
	if (!load.ok) throw new Error(load.reason);
	return new load.driver.DatabaseSync(file);
}

/** Temporary folders for state files, removed with cleanup(). */
export function tempFolders(prefix = 'postal-sqlite-'): { make(): string; cleanup(): void } {
	const made: string[] = [];
	return {
		make() {
			const dir = mkdtempSync(join(tmpdir(), prefix));
			made.push(dir);
			return dir;
		},
		cleanup() {
			for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
		},
	};
}
