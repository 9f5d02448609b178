// Copies what tsc does not: node icons and codex files, next to the compiled nodes in dist.
const { src, dest, parallel } = require('gulp');

function nodeAssets() {
	return src(['nodes/**/*.svg', 'nodes/**/*.node.json'], { base: '.' }).pipe(dest('dist'));
}

// the Redis store loads its Lua scripts from a lua/ folder next to the code that runs it: each
// node is one bundle in dist/nodes/<Node>/, so every node folder gets a copy
const { readdirSync } = require('node:fs');
function luaScripts() {
	const nodeDirs = readdirSync('nodes', { withFileTypes: true })
		.filter((d) => d.isDirectory() && d.name !== 'shared')
		.map((d) => d.name);
	let stream = src('lib/state/lua/*.lua');
	for (const dir of nodeDirs) stream = stream.pipe(dest(`dist/nodes/${dir}/lua`));
	return stream;
}

function credentialAssets() {
	return src('credentials/**/*.svg', { base: '.', allowEmpty: true }).pipe(dest('dist'));
}

exports['build:assets'] = parallel(nodeAssets, luaScripts, credentialAssets);
