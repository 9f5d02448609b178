// Builds dist/: every node and credential bundled with what it uses, so the published package has
// no runtime dependencies and installs from n8n's GUI without fetching anything or meeting a
// second copy of a library n8n also ships. n8n-workflow stays external: the nodes must use n8n's
// own copy (its error classes, its types).
//
// The nodes share one file, dist/lib/shared.js: the routing library (lib/), nodes/shared and the
// libraries under them (ioredis, nodemailer's SMTP transport, p-queue, zod), once. A node file
// holds only its own code and reaches a shared module as require('../../lib/shared.js').modules[…],
// so every node of the process uses the same module instances (one pool registry, one class per
// error). The credentials are small and stand alone.
//
// Nothing is read from disk at run time: lib/state/luaScripts.ts is replaced by its scripts'
// sources, inlined here from its own SCRIPTS list and loadLuaScript.
const { build } = require('esbuild');
const Module = require('node:module');
const { isBuiltin } = Module;
const { existsSync, readdirSync, rmSync } = require('node:fs');
const { join, relative, resolve } = require('node:path');

const root = resolve(__dirname, '..');
const SHARED_OUT = 'dist/lib/shared.js';
/** modules under these folders go into the shared file */
const SHARED_DIRS = ['lib', join('nodes', 'shared')].map((d) => join(root, d) + '/');
const LUA_MODULE = join(root, 'lib', 'state', 'luaScripts.ts');

const nodeEntries = readdirSync(join(root, 'nodes'), { withFileTypes: true })
	.filter((d) => d.isDirectory())
	.flatMap((d) =>
		readdirSync(join(root, 'nodes', d.name))
			.filter((f) => f.endsWith('.node.ts'))
			.map((f) => join('nodes', d.name, f)),
	);
const credentialEntries = readdirSync(join(root, 'credentials'))
	.filter((f) => f.endsWith('.credentials.ts'))
	.map((f) => join('credentials', f));

const common = {
	absWorkingDir: root,
	bundle: true,
	platform: 'node',
	target: 'node20',
	format: 'cjs',
	external: ['n8n-workflow'],
	// the nodes' `outputs` expressions are function source text: keep it readable, no minifying
	minify: false,
	legalComments: 'linked',
	metafile: true,
	logLevel: 'warning',
};

/** The Lua module as the source runs it (ts-node), evaluated here: its scripts, includes in place. */
async function luaSources() {
	const { outputFiles } = await build({
		...common,
		entryPoints: [LUA_MODULE],
		outfile: 'lua.js',
		legalComments: 'none',
		write: false,
	});
	const m = new Module(LUA_MODULE);
	m.filename = LUA_MODULE;
	m._compile(outputFiles[0].text, LUA_MODULE);
	const { SCRIPTS, loadLuaScript } = m.exports;
	const sources = Object.fromEntries(Object.values(SCRIPTS).map((f) => [f, loadLuaScript(f)]));
	return { SCRIPTS, sources };
}

/** Replaces lib/state/luaScripts.ts with the same exports and the sources inlined. */
function inlineLua(lua) {
	return {
		name: 'inline-lua',
		setup(b) {
			b.onLoad({ filter: /luaScripts\.ts$/ }, (args) => {
				if (args.path !== LUA_MODULE) return undefined;
				return {
					loader: 'js',
					contents: [
						'// lib/state/lua/*.lua, inlined by scripts/build.js (includes in place)',
						`export const SCRIPTS = ${JSON.stringify(lua.SCRIPTS)};`,
						`const SOURCES = ${JSON.stringify(lua.sources, null, '\t')};`,
						'export function loadLuaScript(file) {',
						'\tif (!Object.hasOwn(SOURCES, file)) throw new Error(`No Lua script ${file} in this build`);',
						'\treturn SOURCES[file];',
						'}',
					].join('\n'),
				};
			});
		},
	};
}

/**
 * ioredis logs through `debug`, which reads DEBUG and every DEBUG_* variable of the environment as
 * it loads: the bundle gets a silent one instead (ioredis asks `enabled` before it logs anything).
 */
const silentDebug = {
	name: 'silent-debug',
	setup(b) {
		b.onResolve({ filter: /^debug$/ }, () => ({ path: 'debug', namespace: 'silent-debug' }));
		b.onLoad({ filter: /.*/, namespace: 'silent-debug' }, () => ({
			loader: 'js',
			contents: [
				'function debug(namespace) {',
				'\tconst log = () => {};',
				'\treturn Object.assign(log, { namespace, enabled: false, destroy: () => false, extend: (s) => debug(`${namespace}:${s}`) });',
				'}',
				'module.exports = debug;',
				'module.exports.default = debug;',
			].join('\n'),
		}));
	},
};

function resolveSource(path) {
	for (const candidate of [path, `${path}.ts`, join(path, 'index.ts')])
		if (existsSync(candidate) && candidate.endsWith('.ts')) return candidate;
	return undefined;
}

/**
 * In a node's bundle: an import of a shared module becomes a look-up in dist/lib/shared.js.
 * Collects the modules imported so, for the shared file's entry.
 */
function useShared(used, fromOutDir) {
	const sharedPath = relative(fromOutDir, join(root, SHARED_OUT)); // ../../lib/shared.js
	return {
		name: 'use-shared',
		setup(b) {
			b.onResolve({ filter: /^\.\.?\// }, (args) => {
				if (args.namespace !== 'file') return undefined;
				const file = resolveSource(resolve(args.resolveDir, args.path));
				if (!file || !SHARED_DIRS.some((d) => file.startsWith(d))) return undefined;
				const key = relative(root, file).replace(/\.ts$/, '');
				used.add(key);
				return { path: key, namespace: 'shared' };
			});
			// a library a node imports itself (zod) is the shared file's too: one copy
			b.onResolve({ filter: /^[^./]/ }, (args) => {
				if (args.namespace !== 'file' || args.kind === 'entry-point') return undefined;
				if (args.path === 'n8n-workflow' || isBuiltin(args.path)) return undefined;
				used.add(args.path);
				return { path: args.path, namespace: 'shared' };
			});
			b.onLoad({ filter: /.*/, namespace: 'shared' }, (args) => ({
				loader: 'js',
				contents: `module.exports = require(${JSON.stringify(sharedPath)}).modules[${JSON.stringify(args.path)}];`,
			}));
			b.onResolve({ filter: /shared\.js$/ }, (args) =>
				args.path === sharedPath ? { path: sharedPath, external: true } : undefined,
			);
		},
	};
}

function report(result) {
	return Object.entries(result.metafile.outputs)
		.filter(([file]) => file.endsWith('.js'))
		.map(([file, meta]) => `${file.padEnd(72)} ${(meta.bytes / 1024).toFixed(0).padStart(6)} KiB`);
}

async function main() {
	rmSync(join(root, 'dist'), { recursive: true, force: true });
	const lua = await luaSources();
	const used = new Set();
	// every node file sits in dist/nodes/<Node>/: one relative path to the shared file
	const nodes = await build({
		...common,
		entryPoints: nodeEntries,
		outdir: 'dist',
		outbase: '.',
		plugins: [useShared(used, join(root, 'dist', 'nodes', 'X')), inlineLua(lua)],
	});
	const keys = [...used].sort();
	const shared = await build({
		...common,
		stdin: {
			contents: [
				...keys.map(
					(k, i) => `import * as m${i} from '${/^(lib|nodes)\//.test(k) ? `./${k}` : k}';`,
				),
				`export const modules = { ${keys.map((k, i) => `${JSON.stringify(k)}: m${i}`).join(', ')} };`,
			].join('\n'),
			resolveDir: root,
			sourcefile: 'shared-modules.ts',
			loader: 'ts',
		},
		outfile: SHARED_OUT,
		plugins: [inlineLua(lua), silentDebug],
	});
	const credentials = await build({
		...common,
		entryPoints: credentialEntries,
		outdir: 'dist',
		outbase: '.',
		plugins: [inlineLua(lua)],
	});
	for (const line of [...report(nodes), ...report(shared), ...report(credentials)])
		console.log(line);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
