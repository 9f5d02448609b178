import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ICredentialType, INodeType } from 'n8n-workflow';
import { root } from './sections';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
	n8n: { nodes: string[]; credentials: string[] };
};

type Themed = { light: string; dark: string };

/** The class a bundled file exports, as n8n loads it. */
function loaded<T>(file: string): T {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const exported = require(join(root, file)) as Record<string, new () => T>;
	return new (Object.values(exported)[0])();
}

/** Each bundled node's and credential's icon files, relative to the project. */
const icons: Array<{ file: string; icon: Themed }> = [
	...pkg.n8n.nodes.map((file) => ({
		file,
		icon: loaded<INodeType>(file).description.icon as Themed,
	})),
	...pkg.n8n.credentials.map((file) => ({
		file,
		icon: loaded<ICredentialType>(file).icon as Themed,
	})),
];
const iconPath = (file: string, icon: string) =>
	join(dirname(file), icon.replace(/^file:/, '')).replace(/\\/g, '/');

// `npm test` builds first; run alone, `npm run build` must come before
describe('icons and codex files in dist/ and in the packed tarball', () => {
	it('gives every node and credential a light and a dark SVG icon, different files, without text glyphs', () => {
		expect(icons).toHaveLength(pkg.n8n.nodes.length + pkg.n8n.credentials.length);
		for (const { file, icon } of icons) {
			expect(typeof icon).toBe('object');
			expect(icon.light).toMatch(/^file:.+\.svg$/);
			expect(icon.dark).toMatch(/^file:.+\.dark\.svg$/);
			for (const variant of [icon.light, icon.dark]) {
				const path = join(root, iconPath(file, variant));
				expect(`${file}: ${variant}: ${existsSync(path)}`).toBe(`${file}: ${variant}: true`);
				// a <text> glyph is drawn in a font colour that vanishes on the dark canvas
				expect(readFileSync(path, 'utf8')).not.toMatch(/<text\b/);
			}
			expect(readFileSync(join(root, iconPath(file, icon.dark)), 'utf8')).not.toBe(
				readFileSync(join(root, iconPath(file, icon.light)), 'utf8'),
			);
		}
	});

	it('packs the bundles, the shared file, every icon and every codex file', () => {
		const [packed] = JSON.parse(
			execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
				cwd: root,
				encoding: 'utf8',
			}),
		) as Array<{ files: Array<{ path: string }> }>;
		const files = new Set(packed.files.map((f) => f.path));
		const wanted = [
			...pkg.n8n.nodes,
			...pkg.n8n.credentials,
			'dist/lib/shared.js',
			...pkg.n8n.nodes.map((f) => f.replace(/\.js$/, '.json')),
			...icons.flatMap(({ file, icon }) => [iconPath(file, icon.light), iconPath(file, icon.dark)]),
		];
		expect(wanted.filter((f) => !files.has(f))).toEqual([]);
		// nothing the package does not run: no sources, tests or Lua files of their own
		expect([...files].filter((f) => /\.(ts|lua)$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
	});
});
