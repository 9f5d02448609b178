// Copies what esbuild does not: node icons and codex files next to the bundled nodes in dist, and
// the credentials' icons. (The Lua scripts are inlined into dist/lib/shared.js by scripts/build.js.)
const { src, dest, parallel } = require('gulp');

function nodeAssets() {
	return src(['nodes/**/*.svg', 'nodes/**/*.node.json'], { base: '.' }).pipe(dest('dist'));
}

function credentialAssets() {
	return src('credentials/**/*.svg', { base: '.' }).pipe(dest('dist'));
}

exports['build:assets'] = parallel(nodeAssets, credentialAssets);
