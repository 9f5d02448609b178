import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hasSqlite } from '../helpers/sqlite';
import { distFiles, isOurs, root, sections } from './sections';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
	dependencies?: object;
	n8n: { nodes: string[]; credentials: string[] };
};
const SHARED = 'dist/lib/shared.js';

// `npm test` builds first; run alone, `npm run build` must come before
describe('the bundled build (dist/)', () => {
	it('has no runtime dependencies and lists files that exist; prints each file’s size', () => {
		expect(pkg.dependencies ?? {}).toEqual({});
		for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials, SHARED])
			expect(existsSync(join(root, file))).toBe(true);
		const kib = (file: string) => `${(statSync(join(root, file)).size / 1024).toFixed(0)} KiB`;
		console.log(
			['bundle sizes:', ...distFiles().map((f) => `  ${f.padEnd(64)} ${kib(f).padStart(9)}`)].join(
				'\n',
			),
		);
	});

	it('holds every library and every lib/ module once, in the shared file: the node files only their own code', () => {
		const owners = new Map<string, string[]>();
		for (const file of distFiles())
			for (const source of sections(file).keys())
				if (!source.startsWith('shared:') && source !== '(bundle)')
					owners.set(source, [...(owners.get(source) ?? []), file]);
		const where = (prefix: string) =>
			[...owners].filter(([source]) => source.startsWith(prefix)).map(([, files]) => files);
		// ioredis, nodemailer and zod are each in one file, the shared one
		for (const lib of ['node_modules/ioredis/', 'node_modules/nodemailer/', 'node_modules/zod/']) {
			expect(where(lib).length).toBeGreaterThan(0);
			expect(new Set(where(lib).flat())).toEqual(new Set([SHARED]));
		}
		// lib/ only there (module singletons such as the SMTP pool registry exist once)
		expect(new Set(where('lib/').flat())).toEqual(new Set([SHARED]));
		for (const file of pkg.n8n.nodes) {
			const own = [...sections(file).keys()].filter(
				(s) => !s.startsWith('shared:') && s !== '(bundle)',
			);
			const folder = file.split('/').slice(1, 3).join('/'); // nodes/<Node>
			expect(own.filter((s) => !s.startsWith(`${folder}/`))).toEqual([]);
			expect(readFileSync(join(root, file), 'utf8')).toContain('require("../../lib/shared.js")');
		}
	});

	it('reads no file and no environment variable of its own at run time, and starts no process', () => {
		const ours = new Map<string, string>();
		for (const file of distFiles())
			for (const [source, text] of sections(file)) {
				// no process anywhere: nodemailer's sendmail transport is left out
				expect(`${file}: ${source}: ${/child_process/.test(text)}`).toBe(
					`${file}: ${source}: false`,
				);
				// no Lua script read from disk (they are inlined)
				expect(text).not.toMatch(/readFileSync\([^)]*lua|\.lua['"]\s*\)/);
				if (isOurs(source)) ours.set(source, `${ours.get(source) ?? ''}${text}`);
			}
		expect(ours.size).toBeGreaterThan(20);
		const readsEnv = [...ours].filter(([, text]) => /process\.env/.test(text)).map(([s]) => s);
		// the one documented read: n8n's folder rule (N8N_USER_FOLDER), see userFolder.ts
		expect(readsEnv).toEqual(['lib/state/userFolder.ts']);
		expect(readFileSync(join(root, SHARED), 'utf8')).toContain('"allocate.lua":');
		// nodemailer's own entry (its createTransport and test-account code) is not bundled
		expect(
			[...sections(SHARED).keys()].filter((s) =>
				/nodemailer\/dist\/\w+\/nodemailer\.js$|sendmail-transport/.test(s),
			),
		).toEqual([]);
	});

	it('leaves node:sqlite to Node, required on first use (the Node 20 runs here load the files)', () => {
		const code = readFileSync(join(root, SHARED), 'utf8');
		expect(code).toContain('require("node:sqlite")');
		// `sqlite` without the prefix is no built-in: a stripped prefix would fail in n8n
		for (const file of distFiles())
			expect(readFileSync(join(root, file), 'utf8')).not.toMatch(
				/require\("sqlite"\)|from "sqlite"/,
			);
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
