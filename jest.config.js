/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	// the real-n8n end-to-end test runs on its own: npm run test:e2e
	testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
	globalSetup: '<rootDir>/test/helpers/globalSetup.ts',
	// a fresh n8n user folder (and so a fresh embedded state file) for every test
	setupFilesAfterEnv: ['<rootDir>/test/helpers/userFolderPerTest.ts'],
	testTimeout: 60_000,
	reporters: ['default', '<rootDir>/test/helpers/summaryReporter.js'],
	// `npm test` prints coverage of the sources users run (the bundle is built from them) and fails
	// when it drops below the floor. The outputs expressions are excluded: n8n evaluates their
	// source text, which instrumentation would change. So is the SQLite store: it needs node:sqlite,
	// which this Node 20 run lacks; `npm run test:node24` measures it, with a floor of its own.
	collectCoverageFrom: [
		'lib/**/*.ts',
		'nodes/**/*.ts',
		'credentials/**/*.ts',
		'!nodes/*/outputs.ts',
		'!lib/state/sqlite.ts',
	],
	coverageReporters: ['text-summary'],
	coverageThreshold: { global: { statements: 94.5, branches: 85, functions: 93.5, lines: 95.5 } },
};
