// Copies what tsc does not: node icons and codex files, next to the compiled nodes in dist.
const { src, dest, parallel } = require('gulp');

function nodeAssets() {
	return src(['nodes/**/*.svg', 'nodes/**/*.node.json'], { base: '.' }).pipe(dest('dist'));
}

// the Redis store loads its Lua scripts from files next to it
function luaScripts() {
	return src('lib/state/lua/*.lua', { base: '.' }).pipe(dest('dist'));
}

function credentialAssets() {
	return src('credentials/**/*.svg', { base: '.', allowEmpty: true }).pipe(dest('dist'));
}

exports['build:assets'] = parallel(nodeAssets, luaScripts, credentialAssets);
