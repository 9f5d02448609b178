// Builds dist/: every node and credential bundled with the runtime libraries it uses (nodemailer,
// ioredis, p-queue, zod, …), so the published package has no runtime dependencies and installs from
// n8n's GUI without fetching anything or meeting a second copy of a library n8n also ships.
// n8n-workflow stays external: the nodes must use n8n's own copy (its error classes, its types).
const { build } = require('esbuild');
const { readdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const nodeEntries = readdirSync('nodes', { withFileTypes: true })
	.filter((d) => d.isDirectory())
	.flatMap((d) =>
		readdirSync(join('nodes', d.name))
			.filter((f) => f.endsWith('.node.ts'))
			.map((f) => join('nodes', d.name, f)),
	);
const credentialEntries = readdirSync('credentials')
	.filter((f) => f.endsWith('.credentials.ts'))
	.map((f) => join('credentials', f));
const entryPoints = [...nodeEntries, ...credentialEntries];

async function main() {
	rmSync('dist', { recursive: true, force: true });
	const result = await build({
		entryPoints,
		outdir: 'dist',
		outbase: '.',
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
	});
	const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
	for (const [file, meta] of outputs)
		console.log(`${file.padEnd(72)} ${(meta.bytes / 1024).toFixed(0).padStart(6)} KiB`);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
