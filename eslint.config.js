// typescript-eslint over every TypeScript folder, then n8n's community-node rules on package.json,
// credentials and nodes, set up as `n8n-node lint` sets them up (@n8n/node-cli's configs/eslint.js):
// @n8n/eslint-plugin-community-nodes (the rules of n8n's verification scanner,
// @n8n/scan-community-package) plus eslint-plugin-n8n-nodes-base's community, credentials and
// nodes rule sets with the same rules turned off. Formatting is Prettier's (`prettier --check`);
// eslint-config-prettier turns off the rules it owns.
const { n8nCommunityNodesPlugin } = require('@n8n/eslint-plugin-community-nodes');
const n8n = require('eslint-plugin-n8n-nodes-base');
const tsParser = require('@typescript-eslint/parser');
const tseslint = require('typescript-eslint');
const prettier = require('eslint-config-prettier');

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

// The package targets self-hosted n8n, not n8n Cloud (README, "Where it runs"): it is
// n8n's own `configWithoutCloudSupport` rule set, which leaves out the two Cloud-only rules
// (no-restricted-imports, no-restricted-globals; `n8n-node lint` calls them "cloud-only" too).
// SMTP, Redis and MX lookups need node:net, node:tls and node:dns, and the embedded store
// node:sqlite, none of which those rules allow.
const community = n8nCommunityNodesPlugin.configs.recommendedWithoutN8nCloudSupport;

module.exports = [
	{ ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js'] },
	...typescript,
	prettier,
	{
		files: ['package.json'],
		languageOptions: { parser: tsParser, parserOptions: { extraFileExtensions: ['.json'] } },
		plugins: { ...community.plugins, 'n8n-nodes-base': n8n },
		rules: { ...community.rules, ...n8n.configs.community.rules },
	},
	{
		files: ['nodes/**/*.ts', 'credentials/**/*.ts'],
		languageOptions: { parser: tsParser, parserOptions: { sourceType: 'module' } },
		plugins: { ...community.plugins, 'n8n-nodes-base': n8n },
		rules: community.rules,
	},
	{
		files: ['credentials/**/*.ts'],
		rules: {
			...n8n.configs.credentials.rules,
			// off in n8n-node lint: a community package's documentation is a full URL, not a slug
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
			// off in n8n-node lint: @n8n/community-nodes/credential-password-field is the exact one
			'n8n-nodes-base/cred-class-field-type-options-password-missing': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		rules: {
			...n8n.configs.nodes.rules,
			// off in n8n-node lint: inputs and outputs are NodeConnectionTypes.Main, not the string "main"
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			// off in n8n-node lint: a limit of the server or API is a valid maxValue
			'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
			// Credential types keep their names (postalSmtp, postalRedis): saved workflows and
			// credentials refer to a type by name, so a rename would unbind every existing node from
			// its credential. n8n's own smtp and redis credentials are unsuffixed too.
			'n8n-nodes-base/node-class-description-credentials-name-unsuffixed': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		rules: {
			// Off: the nodes accept n8n's own credential types (smtp, sendGridApi, mailgunApi,
			// postmarkApi, aws, sendInBlueApi, redis), so users need not re-enter secrets they have
			// (issue 11). n8n's verification forbids reusing another package's credentials; this
			// self-hosted package cannot be verified anyway (SMTP, Redis and DNS need sockets), and a
			// real n8n 2.40.7 runs these nodes on n8n's smtp credential (npm run test:e2e).
			'@n8n/community-nodes/no-credential-reuse': 'off',
			'@n8n/community-nodes/valid-credential-references': 'off',
		},
	},
	{
		files: ['nodes/RoutePartitioner/RoutePartitioner.node.ts'],
		rules: {
			// Flow control, not a tool: its answer is the output an item leaves on, which an agent's
			// tool call does not have, and every call would move the campaign's counters and caps.
			// The classifier and Load-Balanced Send are usable as tools.
			'@n8n/community-nodes/node-usable-as-tool': 'off',
		},
	},
];
