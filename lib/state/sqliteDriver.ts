/**
 * Node's built-in SQLite (`node:sqlite`, Node 22.5+; n8n 2.x runs on Node 24). Loaded on first use,
 * never at module load: on an older Node the require throws, and the embedded store falls back to
 * memory instead of the whole node file failing to load. The bundle keeps `node:sqlite` external
 * (esbuild leaves `node:` built-ins to Node).
 *
 * Only the part of the API the store uses is typed here (@types/node 20 has none of it).
 */

export type SqlValue = null | number | bigint | string | Uint8Array;
export type SqlRow = Record<string, SqlValue>;

export interface SqliteStatement {
	run(...params: SqlValue[]): { changes: number | bigint };
	get(...params: SqlValue[]): SqlRow | undefined;
	all(...params: SqlValue[]): SqlRow[];
}

export interface SqliteDatabase {
	exec(sql: string): void;
	prepare(sql: string): SqliteStatement;
	close(): void;
}

export interface SqliteDriver {
	DatabaseSync: new (path: string) => SqliteDatabase;
}

/** An error thrown by node:sqlite: `errcode` is SQLite's (extended) result code. */
export interface SqliteError extends Error {
	code?: string;
	errcode?: number;
	errstr?: string;
}

export type SqliteLoad = { ok: true; driver: SqliteDriver } | { ok: false; reason: string };

let loaded: SqliteLoad | undefined;

/** node:sqlite, or why it is not there (tried once per module copy). */
export function loadSqlite(): SqliteLoad {
	if (loaded) return loaded;
	try {
		// a require in a function, not an import: see the comment at the top
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const driver = require('node:sqlite') as SqliteDriver;
		loaded = { ok: true, driver };
	} catch (error) {
		loaded = {
			ok: false,
			reason: `node:sqlite is not available in Node ${process.version} (it needs Node 22.5 or later): ${(error as Error).message}`,
		};
	}
	return loaded;
}

/** SQLITE_BUSY (5) or SQLITE_LOCKED (6), with any extended code: another connection holds the lock. */
export function isBusy(error: unknown): boolean {
	const code = (error as SqliteError | undefined)?.errcode;
	return typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6);
}

/** An error node:sqlite threw (as opposed to one of ours). */
export function isSqliteError(error: unknown): error is SqliteError {
	const code = (error as SqliteError | undefined)?.code;
	return code === 'ERR_SQLITE_ERROR' || code === 'ERR_INVALID_STATE';
}
