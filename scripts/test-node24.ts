/**
 * `npm run test:node24`: the suites of the SQLite embedded store (node:sqlite, Node 22.5+) under
 * Node 24, the Node n8n 2.x runs on. On the Node 20 of `npm test` they skip; here
 * POSTAL_REQUIRE_SQLITE=1 makes a missing node:sqlite a failure instead. Node 24 comes from the
 * end-to-end setup's cache (scripts/e2e/setup.sh --node-only: fetched once, then reused).
 * Extra arguments go to jest (e.g. `npm run test:node24 -- -t restart`), without the coverage floor.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setupVars } from '../test/e2e/lib';

const SUITES = [
	'test/contract/sqlite.test.ts',
	'test/contract/differential.test.ts',
	'test/contract/spillReasons.test.ts',
	'test/integration/sqliteProcesses.test.ts',
	'test/integration/killResendSqlite.test.ts',
	'test/unit/embeddedState.test.ts',
	'test/workflow/embeddedState.test.ts',
	'test/build/bundle.test.ts',
];

/** the SQLite files are measured here, where they run; the floor is half a point under the
 * measured 98.7 / 92.4 / 100 / 99.5 */
const COVERED = ['lib/state/sqlite.ts', 'lib/state/sqliteDriver.ts', 'lib/state/registry.ts'];
const FLOOR = { statements: 98.2, branches: 91.9, functions: 99.5, lines: 99 };

async function main(): Promise<number> {
	const { NODE24: node24 } = await setupVars(['--node-only']);
	if (!node24) throw new Error('scripts/e2e/setup.sh --node-only did not print NODE24=');
	const root = join(__dirname, '..');
	const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
	const extra = process.argv.slice(2);
	// a part of the suites (extra arguments) cannot reach the floor: coverage for whole runs only
	const coverage = [
		'--coverage',
		...COVERED.map((f) => `--collectCoverageFrom=${f}`),
		`--coverageThreshold=${JSON.stringify({ global: FLOOR })}`,
	];
	const args = [jest, ...SUITES, ...(extra.length ? extra : coverage)];
	process.stdout.write(`${node24} ${args.join(' ')}\n`);
	const result = spawnSync(node24, args, {
		cwd: root,
		stdio: 'inherit',
		env: { ...process.env, POSTAL_REQUIRE_SQLITE: '1' },
	});
	if (result.error) throw result.error;
	return result.status ?? 1;
}

main().then(
	(code) => process.exit(code),
	(error) => {
		process.stderr.write(`test:node24: ${(error as Error).message}\n`);
		process.exit(1);
	},
);
