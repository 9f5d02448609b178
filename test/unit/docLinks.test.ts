import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
/** The anchors GitHub and npm give README headings: lower case, punctuation dropped, - for spaces. */
function headingAnchors(markdown: string): Set<string> {
	const seen = new Map<string, number>();
	const anchors = new Set<string>();
	let fenced = false;
	for (const line of markdown.split('\n')) {
		if (line.startsWith('```')) fenced = !fenced;
		const m = !fenced && /^#{1,6} (.+)$/.exec(line);
		if (!m) continue;
		const slug = m[1]
			.trim()
			.toLowerCase()
			.replace(/[^\p{L}\p{N} _-]/gu, '')
			.replace(/ /g, '-');
		const n = seen.get(slug) ?? 0;
		seen.set(slug, n + 1);
		anchors.add(n === 0 ? slug : `${slug}-${n}`);
	}
	return anchors;
}

function files(dir: string, pattern: RegExp): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return files(path, pattern);
		return pattern.test(name) ? [path] : [];
	});
}

describe('documentation links', () => {
	const anchors = headingAnchors(readFileSync(join(root, 'README.md'), 'utf8'));

	it('reads the README headings as GitHub and npm anchor them', () => {
		expect(anchors).toContain('self-hosting-and-queue-mode');
		expect(anchors).toContain('set-up-commands');
		expect(headingAnchors('## A, b & C\n## A, b & C\n```\n# not a heading\n```')).toEqual(
			new Set(['a-b--c', 'a-b--c-1']),
		);
	});

	it('every README link of a credential, codex file or node description goes to a heading that exists', () => {
		const sources = [
			...files(join(root, 'credentials'), /\.ts$/),
			...files(join(root, 'nodes'), /\.(ts|json)$/),
		];
		const links = sources.flatMap((file) =>
			[
				...readFileSync(file, 'utf8').matchAll(
					/https:\/\/www\.npmjs\.com\/package\/n8n-nodes-postal-routes#([\w-]+)/g,
				),
			].map((m) => ({ file: relative(root, file), anchor: m[1] })),
		);
		// every credential of ours and every codex file links the README
		expect(new Set(links.map((l) => l.file.split('/')[0]))).toEqual(
			new Set(['credentials', 'nodes']),
		);
		expect(links.filter((l) => !anchors.has(l.anchor))).toEqual([]);
	});

	it('every link from the README to one of its own headings resolves', () => {
		const readme = readFileSync(join(root, 'README.md'), 'utf8');
		const local = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
		expect(local.length).toBeGreaterThan(0);
		expect(local.filter((a) => !anchors.has(a))).toEqual([]);
	});

	it('every codex file has a primary and a credential documentation link', () => {
		for (const file of files(join(root, 'nodes'), /\.node\.json$/)) {
			const codex = JSON.parse(readFileSync(file, 'utf8')) as {
				resources: Record<string, Array<{ url: string }>>;
			};
			expect(codex.resources.primaryDocumentation[0].url).toMatch(/^https:\/\//);
			expect(codex.resources.credentialDocumentation[0].url).toMatch(/^https:\/\//);
		}
	});
});
