/* eslint-disable */
/**
 * Loaded into the n8n process under test with NODE_OPTIONS=--require <this file>.
 * Records how bare module names (n8n-workflow, nodemailer, …) resolve when required from inside
 * our community package, and how n8n itself resolves n8n-workflow, as JSON lines in
 * $POSTAL_E2E_PROBE_FILE. Nothing else is changed: the original resolver's answer is returned as is.
 */
'use strict';
const Module = require('module');
const fs = require('fs');
const path = require('path');

const out = process.env.POSTAL_E2E_PROBE_FILE;
const PKG = process.env.POSTAL_E2E_PROBE_PACKAGE || 'n8n-nodes-postal-routes';
if (out) {
	const seen = new Set();
	const original = Module._resolveFilename;
	const versionOf = (file) => {
		let dir = path.dirname(file);
		for (let i = 0; i < 8 && dir !== path.dirname(dir); i++, dir = path.dirname(dir)) {
			const pj = path.join(dir, 'package.json');
			try {
				const json = JSON.parse(fs.readFileSync(pj, 'utf8'));
				if (json.name && json.version) return { name: json.name, version: json.version, dir };
			} catch {}
		}
		return undefined;
	};
	Module._resolveFilename = function (request, parent, ...rest) {
		const resolved = original.call(this, request, parent, ...rest);
		try {
			const from = parent && parent.filename;
			if (
				from &&
				!request.startsWith('.') &&
				!request.startsWith('/') &&
				!request.startsWith('node:') &&
				!Module.isBuiltin(request)
			) {
				const fromOurs =
					from.includes(`${path.sep}${PKG}${path.sep}`) &&
					!from.includes(`${path.sep}${PKG}${path.sep}node_modules${path.sep}`);
				const fromN8n =
					request === 'n8n-workflow' &&
					from.includes(`${path.sep}node_modules${path.sep}n8n${path.sep}dist${path.sep}`);
				const fromN8nCore =
					request === 'n8n-workflow' &&
					from.includes(`${path.sep}node_modules${path.sep}n8n-core${path.sep}dist${path.sep}`);
				const who = fromOurs ? 'package' : fromN8n ? 'n8n' : fromN8nCore ? 'n8n-core' : undefined;
				const key = `${who}|${request}|${resolved}`;
				if (who && !seen.has(key)) {
					seen.add(key);
					const pkg = versionOf(resolved);
					fs.appendFileSync(
						out,
						JSON.stringify({
							pid: process.pid,
							who,
							request,
							from,
							resolved,
							pkg: pkg && `${pkg.name}@${pkg.version}`,
							pkgDir: pkg && pkg.dir,
							nodePath: who === 'package' ? process.env.NODE_PATH : undefined,
						}) + '\n',
					);
				}
			}
		} catch {}
		return resolved;
	};
}
