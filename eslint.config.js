// typescript-eslint over every TypeScript folder, then n8n's community-node rules
// (eslint-plugin-n8n-nodes-base) on package.json, credentials and nodes. Formatting is Prettier's
// (`npm run format:check`); eslint-config-prettier turns off the rules it owns.
const n8n = require('eslint-plugin-n8n-nodes-base');
const tsParser = require('@typescript-eslint/parser');
const tseslint = require('typescript-eslint');
const prettier = require('eslint-config-prettier');

const plugin = { 'n8n-nodes-base': n8n };

const typescript = tseslint.config({
	files: [
		'lib/**/*.ts',
		'nodes/**/*.ts',
		'credentials/**/*.ts',
		'test/**/*.ts',
		'bench/**/*.ts',
		'scripts/**/*.ts',
	],
	extends: [...tseslint.configs.recommended],
	rules: {
		// `_`-prefixed parameters are there for a signature (n8n's method shapes, callbacks)
		'@typescript-eslint/no-unused-vars': [
			'error',
			{ argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
		],
	},
});

module.exports = [
	{ ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js'] },
	...typescript,
	prettier,
	{
		files: ['package.json'],
		languageOptions: { parser: tsParser, parserOptions: { extraFileExtensions: ['.json'] } },
		plugins: plugin,
		rules: n8n.configs.community.rules,
	},
	{
		files: ['credentials/**/*.ts'],
		languageOptions: { parser: tsParser, parserOptions: { sourceType: 'module' } },
		plugins: plugin,
		rules: {
			...n8n.configs.credentials.rules,
			// our documentation lives on npm (a full URL), not in n8n's docs tree (a camelCase slug)
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		languageOptions: { parser: tsParser, parserOptions: { sourceType: 'module' } },
		plugins: plugin,
		rules: {
			...n8n.configs.nodes.rules,
			// the credential names postalSmtp and postalRedis are part of the product (like n8n's own
			// smtp and redis credentials, which are not suffixed either)
			'n8n-nodes-base/node-class-description-credentials-name-unsuffixed': 'off',
			// written when n8n nodes had one output (two for If, four for Switch); Load-Balanced Send has
			// Sent / Failed / Fallback, as many n8n core nodes now have several outputs
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
		},
	},
];
