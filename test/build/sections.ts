import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const root = join(__dirname, '..', '..');

/** Every .js file under dist/, relative to the project. */
export function distFiles(dir = join(root, 'dist')): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return distFiles(path);
		return name.endsWith('.js') ? [relative(root, path)] : [];
	});
}

/**
 * A bundle cut into the source files it was made of. esbuild (not minified) starts each module's
 * code with a comment line naming its source (`// lib/state/redis.ts`,
 * `// node_modules/ioredis/built/Redis.js`, `// shared:lib/state/types` for a look-up in the
 * shared file); the text up to the next such line is that source's.
 */
export function sections(file: string): Map<string, string> {
	const out = new Map<string, string>();
	let current = '(bundle)';
	for (const line of readFileSync(join(root, file), 'utf8').split('\n')) {
		const m = /^\s*\/\/ ((?:shared:)?[\w@./-]+)$/.exec(line);
		if (m && (m[1].startsWith('shared:') || /\.(ts|js|cjs|mjs|json)$/.test(m[1]))) current = m[1];
		out.set(current, `${out.get(current) ?? ''}${line}\n`);
	}
	return out;
}

/** Whether a source belongs to this package (not a library under node_modules). */
export const isOurs = (source: string) => /^(lib|nodes|credentials)\//.test(source);
