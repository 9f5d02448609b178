/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
	globalSetup: '<rootDir>/test/helpers/globalSetup.ts',
	testTimeout: 60_000,
	reporters: ['default', '<rootDir>/test/helpers/summaryReporter.js'],
};
