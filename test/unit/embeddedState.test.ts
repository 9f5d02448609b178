import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
	embeddedStateInfo,
	embeddedStateStore,
	resetEmbeddedStateStore,
} from '../../lib/state/registry';
import { MemoryStateStore } from '../../lib/state/memory';
import { SqliteStateStore } from '../../lib/state/sqlite';
import { embeddedStateFile, n8nFolder } from '../../lib/state/userFolder';
import { describeSqlite, hasSqlite, openDatabase, tempFolders } from '../helpers/sqlite';

// n8n's own rule, from the @n8n/config that n8n-core (a dev dependency) brings
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getN8nFolder } = require('@n8n/config/dist/utils/utils') as { getN8nFolder(): string };

const folders = tempFolders('postal-embedded-');
const saved = { ...process.env };
afterEach(() => {
	for (const k of ['N8N_USER_FOLDER', 'HOME']) {
		if (saved[k] === undefined) delete process.env[k];
		else process.env[k] = saved[k];
	}
	resetEmbeddedStateStore();
});
afterAll(() => folders.cleanup());

describe('where the embedded state file lives', () => {
	it.each([
		['N8N_USER_FOLDER set', { N8N_USER_FOLDER: '/srv/n8n-data', HOME: '/home/someone' }],
		['N8N_USER_FOLDER empty (n8n keeps it: a relative .n8n)', { N8N_USER_FOLDER: '', HOME: '/h' }],
		['no N8N_USER_FOLDER: the home folder', { N8N_USER_FOLDER: undefined, HOME: '/home/someone' }],
		['neither: the working directory', { N8N_USER_FOLDER: undefined, HOME: undefined }],
	])('follows n8n (@n8n/config getN8nFolder): %s', (_, env) => {
		for (const [k, v] of Object.entries(env)) {
			if (v === undefined) delete process.env[k];
			else process.env[k] = v;
		}
		expect(n8nFolder()).toBe(getN8nFolder());
		expect(embeddedStateFile()).toBe(join(getN8nFolder(), 'postal-routes-state.sqlite'));
	});
});

const withoutSqlite = 'the embedded store on a Node without node:sqlite';
(hasSqlite ? describe.skip : describe)(
	hasSqlite ? `${withoutSqlite} [skipped: this Node has node:sqlite]` : withoutSqlite,
	() => {
		it('has no SQLite store to open, and says why', () => {
			expect(() => new SqliteStateStore({ file: join(folders.make(), 'state.sqlite') })).toThrow(
				/^node:sqlite is not available in Node v/,
			);
		});

		it('is the memory store, and says why', () => {
			resetEmbeddedStateStore();
			expect(embeddedStateStore().kind).toBe('memory');
			expect(embeddedStateInfo()).toEqual({
				kind: 'memory',
				reason: expect.stringMatching(
					new RegExp(
						`^node:sqlite is not available in Node ${process.version.replace(/\./g, '\\.')} \\(it needs Node 22\\.5 or later\\): .*\\. State is kept in memory and lost when n8n restarts\\.$`,
					),
				),
			});
		});
	},
);

describe('a store handed to resetEmbeddedStateStore (tests)', () => {
	it('is the embedded store, a chosen memory store with no reason to report', () => {
		const store = new MemoryStateStore();
		resetEmbeddedStateStore(store);
		expect(embeddedStateStore()).toBe(store);
		expect(embeddedStateInfo()).toEqual({ kind: 'memory' });
	});
});

describeSqlite('the embedded store on a Node with node:sqlite', () => {
	let userFolder: string;
	beforeEach(() => {
		userFolder = folders.make();
		process.env.N8N_USER_FOLDER = userFolder;
		resetEmbeddedStateStore();
	});
	const file = () => join(userFolder, '.n8n', 'postal-routes-state.sqlite');

	it('is the SQLite file in the n8n folder, which it makes', async () => {
		const store = embeddedStateStore();
		expect(store.kind).toBe('sqlite');
		expect(embeddedStateInfo()).toEqual({ kind: 'sqlite', file: file() });
		await store.setCircuit('c:a', { openUntil: 1, ejections: 1 });
		const db = openDatabase(file());
		expect(db.prepare('SELECT count(*) AS n FROM fields').get()?.n).toBe(1);
		db.close();
	});

	it('is one store for every copy of the module in the process (each bundled node has one)', () => {
		const store = embeddedStateStore();
		let other: typeof import('../../lib/state/registry') | undefined;
		jest.isolateModules(() => {
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			other = require('../../lib/state/registry');
		});
		expect(other!.embeddedStateStore).not.toBe(embeddedStateStore);
		expect(other!.embeddedStateStore()).toBe(store);
		expect(other!.embeddedStateInfo()).toEqual({ kind: 'sqlite', file: file() });
	});

	it('reports the file of a SQLite store handed to it', () => {
		const store = new SqliteStateStore({ file: join(userFolder, 'other.sqlite') });
		resetEmbeddedStateStore(store);
		expect(embeddedStateInfo()).toEqual({ kind: 'sqlite', file: join(userFolder, 'other.sqlite') });
	});

	it('finds its state again after a reset, as after a restart', async () => {
		const first = embeddedStateStore();
		const secret = await first.hashSecret();
		await first.setCircuit('c:a', { openUntil: 5, ejections: 2 });
		resetEmbeddedStateStore();
		const second = embeddedStateStore();
		expect(second).not.toBe(first);
		expect(await second.hashSecret()).toBe(secret);
		expect(await second.getCircuits(['c:a'])).toEqual([{ openUntil: 5, ejections: 2 }]);
	});

	it('falls back to memory, saying why, when the n8n folder cannot be made', async () => {
		writeFileSync(join(userFolder, '.n8n'), 'a file where the folder should be');
		const store = embeddedStateStore();
		expect(store.kind).toBe('memory');
		expect(embeddedStateInfo()).toEqual({
			kind: 'memory',
			file: file(),
			reason: expect.stringMatching(
				new RegExp(
					`^The embedded state file ${file()} could not be opened: .*(EEXIST|ENOTDIR).*\\. Make the n8n user folder writable \\(N8N_USER_FOLDER, else the home folder\\), or use the Redis state store\\. State is kept in memory and lost when n8n restarts\\.$`,
				),
			),
		});
		// it still routes, on memory
		await store.setCircuit('c:a', { openUntil: 1, ejections: 1 });
		expect(await store.getCircuits(['c:a'])).toEqual([{ openUntil: 1, ejections: 1 }]);
	});

	it('falls back to memory, saying why, when the file is not a database', () => {
		mkdirSync(join(userFolder, '.n8n'));
		writeFileSync(file(), 'not a database '.repeat(100));
		expect(embeddedStateStore().kind).toBe('memory');
		expect(embeddedStateInfo().file).toBe(file());
		expect(embeddedStateInfo().reason).toMatch(
			`The embedded state file ${file()} could not be used: file is not a database.`,
		);
		expect(existsSync(file())).toBe(true);
	});
});
