import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasSqlite } from '../helpers/sqlite';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
	dependencies?: object;
	n8n: { nodes: string[]; credentials: string[] };
};

// `npm test` builds first; run alone, `npm run build` must come before
describe('the bundled build (dist/)', () => {
	it('has no runtime dependencies and lists files that exist, with the Lua scripts next to each node', () => {
		expect(pkg.dependencies ?? {}).toEqual({});
		for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials])
			expect(existsSync(join(root, file))).toBe(true);
		for (const file of pkg.n8n.nodes)
			expect(existsSync(join(root, file, '..', 'lua', 'allocate.lua'))).toBe(true);
	});

	it('leaves node:sqlite to Node in every bundled node, required on first use (the Node 20 runs here load the files)', () => {
		for (const file of pkg.n8n.nodes) {
			const code = readFileSync(join(root, file), 'utf8');
			expect(code).toContain('require("node:sqlite")');
			// `sqlite` without the prefix is no built-in: a stripped prefix would fail in n8n
			expect(code).not.toMatch(/require\("sqlite"\)|from "sqlite"/);
		}
	});

	it('runs classify → split → send on Redis state through the n8n engine with the bundled node classes', () => {
		const out = execFileSync(
			process.execPath,
			['-r', 'ts-node/register', join(__dirname, 'runBundled.ts')],
			{ cwd: root, encoding: 'utf8', timeout: 60_000 },
		);
		const result = JSON.parse(out.trim().split('\n').pop()!) as {
			error?: string;
			received: number[];
			status: string;
		};
		expect(result.error).toBeUndefined();
		expect(result.received).toEqual([70, 30, 0]);
		expect(result.status).toBe('sent');
	});

	it('shares one embedded state store between the bundled nodes: the partitioner skips the circuit the send node opened', () => {
		const out = execFileSync(
			process.execPath,
			['-r', 'ts-node/register', join(__dirname, 'runBundledEmbedded.ts')],
			{ cwd: root, encoding: 'utf8', timeout: 60_000 },
		);
		const result = JSON.parse(out.trim().split('\n').pop()!) as {
			error?: string;
			circuitOpened: boolean;
			secondSplit: number[];
			spillReasons: string[];
			embedded: { kind: string; file?: string; reason?: string };
			userFolder: string;
			fileExists: boolean;
		};
		expect(result.error).toBeUndefined();
		// where node:sqlite exists (npm run test:node24) the bundled nodes share the SQLite file in the
		// run's own user folder; on Node 20 they share a memory store, saying why
		if (hasSqlite)
			expect(result.embedded).toEqual({
				kind: 'sqlite',
				file: join(result.userFolder, '.n8n', 'postal-routes-state.sqlite'),
			});
		else expect(result.embedded.reason).toMatch(/^node:sqlite is not available in Node v/);
		expect(result.fileExists).toBe(hasSqlite);
		expect(result.circuitOpened).toBe(true);
		// Relay A, Relay B, Deferred: Relay B's 30% went to Relay A
		expect(result.secondSplit).toEqual([100, 0, 0]);
		expect(result.spillReasons).toHaveLength(1);
		expect(result.spillReasons[0]).toMatch(
			/^Relay B: circuit open until \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/,
		);
	});
});
