#!/usr/bin/env node
/**
 * The Route Partitioner's panel in a real n8n 2.40.7 editor, for before/after comparisons:
 *   docs/partitioner-panel-<tag>.png   a fresh Route Partitioner (no parameters set) opened
 *   docs/partitioner-groups-<tag>.png  the broadcast example's partitioner, scrolled to its domain groups
 * Usage: node scripts/screenshot-panels.js <tag>   (tag: before, after, …)
 * n8n, the owner set-up and chromium come from scripts/screenshot.js (see there); run on Node 24.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

if (typeof WebSocket === 'undefined' || Number(process.versions.node.split('.')[0]) < 22) {
	// screenshot.js re-executes itself on Node 24 when required from an older Node: do it for this file
	const { execFileSync, spawnSync } = require('node:child_process');
	const out = execFileSync('bash', [path.join(__dirname, 'e2e', 'setup.sh')], { encoding: 'utf8' });
	const node24 = /^NODE24=(.*)$/m.exec(out)[1];
	process.exit(
		spawnSync(node24, [__filename, ...process.argv.slice(2)], { stdio: 'inherit' }).status ?? 1,
	);
}

const s = require('./screenshot.js');
const ROOT = path.join(__dirname, '..');
const OUT = path.resolve(process.env.SCREENSHOT_OUT || path.join(ROOT, 'docs'));
const TAG = process.argv[2] || 'after';
const FRESH = 'Route Partitioner';

const freshWorkflow = {
	name: 'A fresh Route Partitioner',
	nodes: [
		{
			id: 'trigger',
			name: 'Manual Trigger',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		{
			id: 'fresh',
			name: FRESH,
			type: 'n8n-nodes-postal-routes.routePartitioner',
			typeVersion: 1,
			position: [300, 0],
			parameters: {},
		},
	],
	connections: { 'Manual Trigger': { main: [[{ node: FRESH, type: 'main', index: 0 }]] } },
	settings: {},
	active: false,
};

/** No routes, and a Domain Group Routing row with a custom group typed before the picker existed. */
const emptyWorkflow = {
	...freshWorkflow,
	name: 'A Route Partitioner without routes',
	nodes: [
		freshWorkflow.nodes[0],
		{
			...freshWorkflow.nodes[1],
			parameters: {
				routes: { values: [] },
				groupRoutes: { values: [{ group: 'partners', route: 'Route A' }] },
			},
		},
	],
};

/** A classifier that stops on an invalid address (item 1): n8n's error view shows the index. */
const errorWorkflow = {
	name: 'Classifier error on item 1',
	nodes: [
		freshWorkflow.nodes[0],
		{
			id: 'code',
			name: 'Recipients',
			type: 'n8n-nodes-base.code',
			typeVersion: 2,
			position: [250, 0],
			parameters: {
				jsCode:
					"return [{ json: { email: 'ann@gmail.com' } }, { json: { email: 'not-an-address' } }];",
			},
		},
		{
			id: 'classify',
			name: 'Classify Strictly',
			type: 'n8n-nodes-postal-routes.domainGroupClassifier',
			typeVersion: 1,
			position: [500, 0],
			parameters: { outputMode: 'perGroup', invalidOutput: false },
		},
	],
	connections: {
		'Manual Trigger': { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
		Recipients: { main: [[{ node: 'Classify Strictly', type: 'main', index: 0 }]] },
	},
	settings: {},
	active: false,
};

async function openWorkflow(page, base, id) {
	await page.send('Page.navigate', { url: `${base}/workflow/${id}` });
	await s.waitFor(
		'the canvas',
		() => page.eval(`document.querySelectorAll('[data-test-id="canvas-node"]').length > 1`),
		60000,
	);
	await s.sleep(1500);
}

async function openNode(page, name) {
	const box = await page.eval(`(() => {
		const n = [...document.querySelectorAll('[data-test-id="canvas-node"]')].find((e) => e.getAttribute('data-node-name') === ${JSON.stringify(name)});
		if (!n) return null;
		const r = n.getBoundingClientRect();
		return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
	})()`);
	if (!box) throw new Error(`node "${name}" is not on the canvas`);
	for (const [type, clickCount] of [
		['mousePressed', 1],
		['mouseReleased', 1],
		['mousePressed', 2],
		['mouseReleased', 2],
	])
		await page.send('Input.dispatchMouseEvent', {
			type,
			x: box.x,
			y: box.y,
			button: 'left',
			clickCount,
		});
	await s.waitFor(
		'the node panel',
		() => page.eval(`!!document.querySelector('[data-test-id="node-parameters"]')`),
		20000,
	);
	await s.sleep(1500);
}

/** What the panel shows: its labels, issues and the values of its selects, for the log. */
const PANEL = `(() => {
	const root = document.querySelector('[data-test-id="node-parameters"]');
	const text = (sel) => [...root.querySelectorAll(sel)].map((e) => e.textContent.trim()).filter(Boolean);
	return {
		labels: text('[data-test-id="parameter-input-label"], .n8n-input-label').slice(0, 60),
		issues: text('[data-test-id="parameter-issues"], .parameter-issues'),
		selects: [...root.querySelectorAll('input')].map((i) => i.value).filter(Boolean).slice(0, 40),
		hints: text('.parameter-input-hint, [data-test-id="parameter-input-hint"], .n8n-input-hint'),
	};
})()`;

async function scrollTo(page, label) {
	return page.eval(`(() => {
		const el = [...document.querySelectorAll('[data-test-id="node-parameters"] *')].find((e) => e.children.length === 0 && e.textContent.trim() === ${JSON.stringify(label)});
		if (!el) return false;
		el.scrollIntoView({ block: 'start' });
		return true;
	})()`);
}

async function main() {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'postal-routes-panels-'));
	s.tempDirs.push(tmp);
	let cdp;
	try {
		const { base } = await s.startN8n(tmp);
		const { token, id } = await s.ownerAndWorkflow(base);
		const cookie = `n8n-auth=${token}`;
		const { json } = await s.rest(base, 'POST', '/workflows', freshWorkflow, cookie);
		cdp = await s.startChromium(tmp);
		const page = await s.openPage(cdp);
		await page.send('Network.setCookie', {
			name: 'n8n-auth',
			value: token,
			url: base,
			httpOnly: true,
			sameSite: 'Lax',
		});
		await page.send('Page.addScriptToEvaluateOnNewDocument', {
			source: `try { localStorage.setItem('n8n-browserId', ${JSON.stringify(s.BROWSER_ID)}); } catch {}`,
		});

		await openWorkflow(page, base, json.data.id);
		await openNode(page, FRESH);
		s.log('fresh partitioner:', JSON.stringify(await page.eval(PANEL)));
		await s.capture(page, path.join(OUT, `partitioner-panel-${TAG}.png`));

		await openWorkflow(page, base, id);
		await openNode(page, 'Route by Domain Group');
		const found = await scrollTo(page, 'Domain Group Routing');
		await s.sleep(800);
		s.log('example partitioner:', found, JSON.stringify(await page.eval(PANEL)));
		await s.capture(page, path.join(OUT, `partitioner-groups-${TAG}.png`));
		// the first route's group picker, opened (a real click: n8n's select opens on mouse events)
		if (await scrollTo(page, 'Only for Domain Groups')) {
			await s.sleep(500);
			const box = await page.eval(`(() => {
				const label = [...document.querySelectorAll('[data-test-id="node-parameters"] *')].find((e) => e.children.length === 0 && e.textContent.trim() === 'Only for Domain Groups');
				let el = label;
				while (el && !el.querySelector('input')) el = el.parentElement;
				const input = el && el.querySelector('input');
				if (!input) return null;
				const r = input.getBoundingClientRect();
				return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
			})()`);
			if (box) {
				for (const type of ['mousePressed', 'mouseReleased'])
					await page.send('Input.dispatchMouseEvent', {
						type,
						x: box.x,
						y: box.y,
						button: 'left',
						clickCount: 1,
					});
				await s.sleep(1000);
				await s.capture(page, path.join(OUT, `partitioner-group-picker-${TAG}.png`));
				await page.send('Input.dispatchKeyEvent', {
					type: 'keyDown',
					key: 'Escape',
					code: 'Escape',
				});
				await page.send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Escape', code: 'Escape' });
			}
		}

		const { json: empty } = await s.rest(base, 'POST', '/workflows', emptyWorkflow, cookie);
		await openWorkflow(page, base, empty.data.id);
		await openNode(page, FRESH);
		s.log('no routes:', JSON.stringify(await page.eval(PANEL)));
		await s.capture(page, path.join(OUT, `partitioner-no-routes-${TAG}.png`));
		// run it in the editor, then open the classifier: its error's title
		const { json: failing } = await s.rest(base, 'POST', '/workflows', errorWorkflow, cookie);
		await openWorkflow(page, base, failing.data.id);
		const ran = await page.eval(`(() => {
			const b = document.querySelector('[data-test-id="execute-workflow-button"]');
			if (b) b.click();
			return !!b;
		})()`);
		if (ran) {
			await s.waitFor(
				'the run to end',
				() => page.eval(`!document.querySelector('[data-test-id="stop-execution-button"]')`),
				60000,
			);
			await s.sleep(2000);
			await openNode(page, 'Classify Strictly');
			const title = await page.eval(`(() => {
				const e = document.querySelector('[data-test-id="node-error-message"], .node-error-view__header-message');
				return e ? e.textContent.trim() : null;
			})()`);
			s.log('error title in the editor:', JSON.stringify(title));
			await s.capture(page, path.join(OUT, `classifier-item-error-${TAG}.png`));
		} else s.log('no execute-workflow button: no classifier-item-error shot');

		if (page.consoleErrors.length)
			s.log('browser console errors:\n  ' + [...new Set(page.consoleErrors)].join('\n  '));
		try {
			await cdp.send('Browser.close');
		} catch {}
	} finally {
		cdp?.close();
		await s.stopAll();
	}
}

main().catch((e) => {
	s.log('FAILED:', e.stack || e.message);
	process.exitCode = 1;
});
