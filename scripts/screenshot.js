#!/usr/bin/env node
/**
 * Screenshots of the package in a real n8n editor, for the README:
 *   docs/canvas.png              examples/broadcast-domain-groups.json on the canvas (1600x900)
 *   docs/node-partitioner.png    the "Route by Domain Group" Route Partitioner opened (its parameter panel)
 *
 *   docs/node-send.png           with --send-panel instead: a Load-Balanced Send node's panel (a new
 *                                node on n8n's own SMTP credential); prints `SEND_PANEL <json>` with
 *                                the panel's text, for the e2e check that Provider is in the panel;
 *   docs/node-classifier-redis.png  and, in the same run, a Domain Group Classifier on the Redis state
 *                                store (`CLASSIFIER_PANEL <json>`: its labels in reading order)
 *
 * Usage: node scripts/screenshot.js [--send-panel]   (needs Debian's chromium: apt-get install -y chromium)
 *
 * It starts n8n 2.40.7 with this package through scripts/dev.sh (a fresh user folder in the temp
 * folder, free ports; Node 24 and n8n come from the e2e cache, see scripts/e2e/setup.sh), sets up the
 * owner (POST /rest/owner/setup, which sets the n8n-auth cookie), creates the example workflow through
 * the REST API, then drives a headless chromium over its DevTools protocol with that cookie set
 * (plain `chromium --screenshot` would only reach the sign-in page). Everything it started is stopped
 * at the end, and the temp folders removed.
 *
 * Plain JavaScript, run on Node 24 (re-executed there if started on an older Node): it uses Node's
 * global fetch and WebSocket and needs no dependency.
 * Env: SCREENSHOT_OUT (output folder, default docs/), CHROMIUM (default chromium),
 *      SCREENSHOT_KEEP=1 (keep the temp folders, with n8n's log, for a look afterwards),
 *      SEND_PANEL_VERSION (the send node's typeVersion, default 2), SEND_PANEL_CREDENTIAL (the
 *      credential type it holds, default smtp), SEND_PANEL_FILE (default node-send.png),
 *      POSTAL_DEV_ROOT (the package to load, default this repo; its dist/ must be built),
 *      POSTAL_DEV_SKIP_BUILD=1 (use dist/ as it is), both passed on to scripts/dev.sh,
 *      SCREENSHOT_THEME=dark|light (the editor's theme, as n8n keeps it in localStorage N8N_THEME).
 */
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const OUT = path.resolve(process.env.SCREENSHOT_OUT || path.join(ROOT, 'docs'));
const CHROMIUM = process.env.CHROMIUM || 'chromium';
const EXAMPLE = path.join(ROOT, 'examples', 'broadcast-domain-groups.json');
const PARTITIONER_NODE = 'Route by Domain Group';
const SEND_PANEL = process.argv.includes('--send-panel');
const SEND_NODE = 'Load-Balanced Send';
const SEND_VERSION = Number(process.env.SEND_PANEL_VERSION || 2);
const SEND_CREDENTIAL = process.env.SEND_PANEL_CREDENTIAL || 'smtp';
const SEND_FILE = process.env.SEND_PANEL_FILE || 'node-send.png';
// the same run opens a Domain Group Classifier on the Redis state store: where its selector is
const CLASSIFIER_NODE = 'Domain Group Classifier';
const REDIS_CREDENTIAL = process.env.SEND_PANEL_REDIS_CREDENTIAL || 'redis';
const CLASSIFIER_FILE = process.env.CLASSIFIER_PANEL_FILE || 'node-classifier-redis.png';
const WIDTH = 1600;
const HEIGHT = 900;

const log = (...a) => console.error('[screenshot]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// n8n binds its session to the browser: the n8n-auth token carries a hash of the `browser-id` header
// sent when it was issued, and the editor sends the id it keeps in localStorage (n8n-browserId). The
// owner set-up below sends this id, and the page gets the same one in its localStorage.
const BROWSER_ID = require('node:crypto').randomUUID();

// --- Node 24 (global WebSocket; n8n needs it anyway) -----------------------------------------------
function setupPaths() {
	const out = execFileSync('bash', [path.join(ROOT, 'scripts', 'e2e', 'setup.sh')], {
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	return Object.fromEntries(
		out
			.split('\n')
			.filter((l) => /^[A-Z0-9_]+=/.test(l))
			.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
	);
}

if (typeof WebSocket === 'undefined' || Number(process.versions.node.split('.')[0]) < 22) {
	const { NODE24 } = setupPaths();
	const r = require('node:child_process').spawnSync(
		NODE24,
		[__filename, ...process.argv.slice(2)],
		{ stdio: 'inherit' },
	);
	process.exit(r.status ?? 1);
}

// --- processes we start, stopped at the end ---------------------------------------------------------
const started = []; // { name, child }
const tempDirs = [];
function startProcess(name, cmd, args, opts) {
	// detached: its own process group, so n8n's task runner (a child of n8n) goes with it
	const child = spawn(cmd, args, { ...opts, detached: true });
	started.push({ name, child });
	return child;
}
async function stopAll() {
	for (const { name, child } of started.reverse()) {
		if (child.exitCode !== null || child.signalCode !== null) continue;
		log(`stopping ${name} (pid ${child.pid})`);
		const gone = new Promise((r) => child.once('exit', r));
		try {
			process.kill(-child.pid, 'SIGTERM');
		} catch {}
		const t = setTimeout(() => {
			try {
				process.kill(-child.pid, 'SIGKILL');
			} catch {}
		}, 10000);
		await gone;
		clearTimeout(t);
	}
	if (process.env.SCREENSHOT_KEEP) log('kept:', tempDirs.join(' '));
	else for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
}

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.unref();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

async function waitFor(what, fn, timeoutMs, everyMs = 500) {
	const until = Date.now() + timeoutMs;
	let last;
	while (Date.now() < until) {
		try {
			const v = await fn();
			if (v) return v;
		} catch (e) {
			last = e;
		}
		await sleep(everyMs);
	}
	throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

// --- n8n ---------------------------------------------------------------------------------------------
async function startN8n(tmp) {
	const port = await freePort();
	const brokerPort = await freePort();
	const home = path.join(tmp, 'n8n-home');
	const tmpdir = path.join(tmp, 'n8n-tmp');
	fs.mkdirSync(home, { recursive: true });
	fs.mkdirSync(tmpdir, { recursive: true });
	const logFile = path.join(tmp, 'n8n.log');
	const fd = fs.openSync(logFile, 'a');
	log(`starting n8n on port ${port} (log ${logFile})`);
	const child = startProcess('n8n', 'bash', [path.join(ROOT, 'scripts', 'dev.sh')], {
		cwd: ROOT,
		stdio: ['ignore', fd, fd],
		env: {
			...process.env,
			POSTAL_DEV_HOME: home,
			N8N_PORT: String(port),
			N8N_RUNNERS_BROKER_PORT: String(brokerPort),
			N8N_ENCRYPTION_KEY: 'postal-routes-screenshot-key',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_HIDE_USAGE_PAGE: 'true',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_DIAGNOSTICS_ENABLED: 'false',
			NODE_ENV: 'production',
			TMPDIR: tmpdir,
		},
	});
	const base = `http://localhost:${port}`;
	await waitFor(
		'n8n /healthz/readiness',
		async () => {
			if (child.exitCode !== null)
				throw new Error(`n8n exited (${child.exitCode}); see ${logFile}`);
			return (await fetch(`${base}/healthz/readiness`)).ok;
		},
		8 * 60 * 1000,
		1000,
	);
	log('n8n is up');
	return { base, logFile };
}

async function rest(base, method, route, body, cookie) {
	const res = await fetch(`${base}/rest${route}`, {
		method,
		headers: {
			'content-type': 'application/json',
			...(cookie ? { cookie } : {}),
			'browser-id': BROWSER_ID,
		},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	if (!res.ok) throw new Error(`${method} /rest${route}: ${res.status} ${text.slice(0, 500)}`);
	return { res, json: text ? JSON.parse(text) : undefined };
}

/** The panel's workflow: a Manual Trigger and one Load-Balanced Send node holding a credential. */
function sendPanelWorkflow(credential, redis) {
	return {
		name: 'Load-Balanced Send panel',
		nodes: [
			{
				id: 'start',
				name: 'Start',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'send',
				name: SEND_NODE,
				type: 'n8n-nodes-postal-routes.loadBalancedSend',
				typeVersion: SEND_VERSION,
				position: [260, 0],
				parameters: {
					provider: 'smtp',
					from: 'Shop <news@shop.example>',
					subject: 'Hello',
					text: 'Hi',
				},
				...(credential ? { credentials: { [SEND_CREDENTIAL]: credential } } : {}),
			},
			{
				id: 'classify',
				name: CLASSIFIER_NODE,
				type: 'n8n-nodes-postal-routes.domainGroupClassifier',
				typeVersion: SEND_VERSION,
				position: [260, 240],
				parameters: { stateStore: 'redis' },
				...(redis ? { credentials: { [REDIS_CREDENTIAL]: redis } } : {}),
			},
		],
		connections: {
			Start: {
				main: [
					[
						{ node: SEND_NODE, type: 'main', index: 0 },
						{ node: CLASSIFIER_NODE, type: 'main', index: 0 },
					],
				],
			},
		},
		settings: { executionOrder: 'v1' },
	};
}

/** A credential for the panel (its secrets are made up: nothing is sent). */
const PANEL_CREDENTIALS = {
	smtp: { host: 'smtp.shop.example', port: 587, secure: false, user: 'shop', password: 'x' },
	postalSmtp: { host: 'smtp.shop.example', security: 'starttls', user: 'shop', password: 'x' },
	redis: { host: 'redis.internal', port: 6379, password: 'x' },
	postalRedis: { mode: 'standalone', host: 'redis.internal', port: 6379, password: 'x' },
};
async function panelCredential(base, cookie, type, name) {
	const data = PANEL_CREDENTIALS[type] ?? {};
	try {
		const { json } = await rest(base, 'POST', '/credentials', { name, type, data }, cookie);
		return { id: json.data.id, name: json.data.name };
	} catch (e) {
		log(`no credential for the panel (${e.message.slice(0, 200)})`);
		return undefined;
	}
}

async function ownerAndWorkflow(base) {
	const { res } = await rest(base, 'POST', '/owner/setup', {
		email: 'owner@postal-routes.example',
		firstName: 'Postal',
		lastName: 'Routes',
		password: 'Screenshot-2025',
	});
	const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('n8n-auth='));
	if (!setCookie) throw new Error('owner set-up did not set the n8n-auth cookie');
	const token = setCookie.slice('n8n-auth='.length, setCookie.indexOf(';'));
	const cookie = `n8n-auth=${token}`;

	const example = SEND_PANEL
		? sendPanelWorkflow(
				await panelCredential(base, cookie, SEND_CREDENTIAL, 'Shop relay'),
				await panelCredential(base, cookie, REDIS_CREDENTIAL, 'Shared Redis'),
			)
		: JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
	const { json } = await rest(
		base,
		'POST',
		'/workflows',
		{
			name: example.name,
			nodes: example.nodes,
			connections: example.connections,
			settings: example.settings,
			pinData: example.pinData ?? {},
			active: false,
		},
		cookie,
	);
	const id = json.data.id;
	log(`workflow created: ${id}`);
	return { token, id, nodeCount: example.nodes.length };
}

// --- chromium over the DevTools protocol ------------------------------------------------------------
async function startChromium(tmp) {
	const profile = path.join(tmp, 'chromium-profile');
	fs.mkdirSync(profile, { recursive: true });
	const child = startProcess(
		'chromium',
		CHROMIUM,
		[
			'--headless',
			'--no-sandbox',
			'--disable-gpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
			'--hide-scrollbars',
			`--user-data-dir=${profile}`,
			'--remote-debugging-port=0',
			`--window-size=${WIDTH},${HEIGHT}`,
			'about:blank',
		],
		{ stdio: ['ignore', 'ignore', 'pipe'] },
	);
	let stderr = '';
	child.stderr.on('data', (d) => {
		stderr += d;
	});
	const wsUrl = await waitFor(
		'chromium DevTools endpoint',
		() => {
			if (child.exitCode !== null)
				throw new Error(`chromium exited (${child.exitCode}): ${stderr.slice(-1000)}`);
			return /DevTools listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
		},
		30000,
		200,
	);
	return new Cdp(wsUrl);
}

class Cdp {
	constructor(url) {
		this.nextId = 1;
		this.pending = new Map();
		this.listeners = [];
		this.ws = new WebSocket(url);
		this.open = new Promise((resolve, reject) => {
			this.ws.onopen = resolve;
			this.ws.onerror = (e) => reject(new Error(`DevTools WebSocket: ${e.message ?? 'error'}`));
		});
		this.ws.onmessage = (ev) => {
			const msg = JSON.parse(ev.data);
			if (msg.id && this.pending.has(msg.id)) {
				const { resolve, reject, method } = this.pending.get(msg.id);
				this.pending.delete(msg.id);
				if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
				else resolve(msg.result);
			} else if (msg.method) {
				for (const l of this.listeners) l(msg);
			}
		};
	}
	async send(method, params = {}, sessionId) {
		await this.open;
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			this.pending.set(id, { resolve, reject, method });
			this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
		});
	}
	close() {
		try {
			this.ws.close();
		} catch {}
	}
}

async function openPage(cdp) {
	const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
	const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
	const page = {
		send: (m, p) => cdp.send(m, p, sessionId),
		async eval(expression) {
			const r = await cdp.send(
				'Runtime.evaluate',
				{ expression, returnByValue: true, awaitPromise: true },
				sessionId,
			);
			if (r.exceptionDetails)
				throw new Error(
					`in page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`,
				);
			return r.result.value;
		},
		consoleErrors: [],
		failedRequests: [],
	};
	cdp.listeners.push((msg) => {
		if (msg.sessionId !== sessionId) return;
		if (msg.method === 'Runtime.exceptionThrown')
			page.consoleErrors.push(
				msg.params.exceptionDetails?.exception?.description ?? msg.params.exceptionDetails?.text,
			);
		if (msg.method === 'Log.entryAdded' && msg.params.entry.level === 'error')
			page.consoleErrors.push(`${msg.params.entry.text} ${msg.params.entry.url ?? ''}`);
		if (msg.method === 'Network.responseReceived' && msg.params.response.status >= 400)
			page.failedRequests.push(`${msg.params.response.status} ${msg.params.response.url}`);
		if (msg.method === 'Network.loadingFailed')
			page.failedRequests.push(`failed ${msg.params.errorText} (${msg.params.type})`);
	});
	await page.send('Page.enable');
	await page.send('Runtime.enable');
	await page.send('Log.enable');
	await page.send('Network.enable');
	await page.send('Emulation.setDeviceMetricsOverride', {
		width: WIDTH,
		height: HEIGHT,
		deviceScaleFactor: 1,
		mobile: false,
	});
	return page;
}

async function capture(page, file) {
	const { data } = await page.send('Page.captureScreenshot', {
		format: 'png',
		captureBeyondViewport: false,
	});
	fs.mkdirSync(path.dirname(file), { recursive: true });
	fs.writeFileSync(file, Buffer.from(data, 'base64'));
	log(`wrote ${path.relative(ROOT, file)}`);
}

// what the canvas shows, read from the DOM (for the log, and to wait until everything is drawn)
const CANVAS_STATE = `(() => {
	const nodes = [...document.querySelectorAll('[data-test-id="canvas-node"]')];
	const imgs = nodes.flatMap((n) => [...n.querySelectorAll('img')]);
	return {
		url: location.pathname,
		nodes: nodes.map((n) => n.getAttribute('data-node-name') || n.textContent.trim().slice(0, 40)),
		images: imgs.length,
		imagesLoaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
		brokenImages: imgs.filter((i) => i.complete && i.naturalWidth === 0).map((i) => i.src),
		outputLabels: [...document.querySelectorAll('[data-test-id="canvas-handle-label"], .canvas-node-handle-main-output [class*="label"]')].map((l) => l.textContent.trim()).filter(Boolean),
	};
})()`;

async function shootCanvas(page, base, token, id, nodeCount) {
	await page.send('Network.setCookie', {
		name: 'n8n-auth',
		value: token,
		url: base,
		httpOnly: true,
		sameSite: 'Lax',
	});
	await page.send('Page.addScriptToEvaluateOnNewDocument', {
		source: `try { localStorage.setItem('n8n-browserId', ${JSON.stringify(BROWSER_ID)}); ${
			process.env.SCREENSHOT_THEME
				? `localStorage.setItem('N8N_THEME', ${JSON.stringify(process.env.SCREENSHOT_THEME)});`
				: ''
		} } catch {}`,
	});
	await page.send('Page.navigate', { url: `${base}/workflow/${id}` });
	const state = await waitFor(
		'the canvas to draw every node with its icon',
		async () => {
			const s = await page.eval(CANVAS_STATE);
			if (s.url.includes('signin')) throw new Error('landed on the sign-in page');
			return s.nodes.length >= nodeCount &&
				s.images > 0 &&
				s.imagesLoaded + s.brokenImages.length === s.images
				? s
				: false;
		},
		60000,
	);
	// dismiss whatever a first visit may pop up (toasts, "what's new" and similar), then fit the view
	await page.eval(`(() => {
		document.querySelectorAll('.el-notification__closeBtn, .el-message-box__headerbtn, [data-test-id="close-button"]').forEach((b) => b.click());
	})()`);
	const fit = await page.eval(
		`(() => { const b = document.querySelector('[data-test-id="zoom-to-fit"]'); if (b) { b.click(); return true; } return false; })()`,
	);
	if (!fit) {
		// the canvas' keyboard shortcut for zoom to fit
		await page.send('Input.dispatchKeyEvent', {
			type: 'keyDown',
			key: '1',
			code: 'Digit1',
			text: '1',
		});
		await page.send('Input.dispatchKeyEvent', { type: 'keyUp', key: '1', code: 'Digit1' });
	}
	await sleep(1500); // the zoom animates
	const after = await page.eval(CANVAS_STATE);
	log('canvas:', JSON.stringify(after));
	if (after.brokenImages.length) log('BROKEN node icons:', after.brokenImages.join(' '));
	if (!SEND_PANEL) await capture(page, path.join(OUT, 'canvas.png'));
	return state;
}

/** Double-clicks the node on the canvas and waits for its panel; false when the node is not there. */
async function openPanel(page, nodeName) {
	const box = await page.eval(`(() => {
		const n = [...document.querySelectorAll('[data-test-id="canvas-node"]')].find((e) => e.getAttribute('data-node-name') === ${JSON.stringify(nodeName)});
		if (!n) return null;
		const r = n.getBoundingClientRect();
		return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
	})()`);
	if (!box) return false;
	for (const [type, clickCount] of [
		['mousePressed', 1],
		['mouseReleased', 1],
		['mousePressed', 2],
		['mouseReleased', 2],
	]) {
		await page.send('Input.dispatchMouseEvent', {
			type,
			x: box.x,
			y: box.y,
			button: 'left',
			clickCount,
		});
	}
	await waitFor(
		'the node panel (NDV)',
		() =>
			page.eval(
				`!!document.querySelector('[data-test-id="ndv"] [data-test-id="node-parameters"], [data-test-id="node-parameters"]')`,
			),
		20000,
	);
	await sleep(1500); // the panel slides in; its icons load
	return true;
}

async function shootPartitioner(page) {
	if (!(await openPanel(page, PARTITIONER_NODE))) {
		log(`node "${PARTITIONER_NODE}" not found on the canvas: no node-partitioner.png`);
		return;
	}
	const panel = await page.eval(`(() => ({
		parameters: [...document.querySelectorAll('[data-test-id="node-parameters"] [data-test-id="parameter-input-label"], [data-test-id="node-parameters"] .n8n-input-label')].map((e) => e.textContent.trim()).filter(Boolean).slice(0, 30),
	}))()`);
	log('node panel:', JSON.stringify(panel));
	await capture(page, path.join(OUT, 'node-partitioner.png'));
}

/**
 * The send node's panel: its text in reading order, where the credential selector and Provider
 * are in it, and the selected provider's name. Printed as `SEND_PANEL <json>` on stdout.
 */
async function shootSendPanel(page) {
	if (!(await openPanel(page, SEND_NODE))) throw new Error(`node "${SEND_NODE}" not on the canvas`);
	await waitFor(
		'the credential selector in the panel',
		() => page.eval(`!!document.querySelector('[data-test-id="node-credentials-select"]')`),
		20000,
	).catch(() => log('no credential selector found in the panel'));
	const panel = await page.eval(`(() => {
		const root = document.querySelector('[data-test-id="node-parameters"]');
		const text = root ? root.innerText : '';
		const labels = [...(root?.querySelectorAll('[data-test-id="parameter-input-label"], .n8n-input-label, label') ?? [])]
			.map((e) => e.textContent.trim()).filter(Boolean);
		const provider = [...(root?.querySelectorAll('[data-test-id="parameter-input-provider"] input, [data-test-id="parameter-input-provider"]') ?? [])]
			.map((e) => (e.value ?? e.textContent ?? '').trim()).filter(Boolean);
		return { text, labels, provider };
	})()`);
	const at = (needle) => panel.text.indexOf(needle);
	const result = {
		...panel,
		providerLabelAt: at('Provider'),
		credentialLabelAt: Math.min(
			...['Credential to connect with', 'Credential'].map(at).filter((i) => i >= 0),
			Number.MAX_SAFE_INTEGER,
		),
		smtpNameAt: at('SMTP (Relay or MTA Delivery Policy)'),
	};
	process.stdout.write(`SEND_PANEL ${JSON.stringify(result)}\n`);
	log('send panel:', JSON.stringify({ ...result, text: result.text.slice(0, 400) }));
	await capture(page, path.join(OUT, SEND_FILE));
}

/** The classifier on Redis: the panel's labels in reading order (State Store before its selector?). */
async function shootClassifierPanel(page) {
	// close the open panel first (its close button, else Escape)
	const closed = await page.eval(
		`(() => { const b = document.querySelector('[data-test-id="ndv"] [data-test-id="close-button"], [data-test-id="back-to-canvas"]'); if (b) { b.click(); return true; } return false; })()`,
	);
	if (!closed) {
		await page.send('Input.dispatchKeyEvent', { type: 'keyDown', key: 'Escape', code: 'Escape' });
		await page.send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Escape', code: 'Escape' });
	}
	await sleep(1000);
	if (!(await openPanel(page, CLASSIFIER_NODE)))
		throw new Error(`node "${CLASSIFIER_NODE}" not on the canvas`);
	const panel = await page.eval(`(() => {
		const root = document.querySelector('[data-test-id="node-parameters"]');
		const labels = [...(root?.querySelectorAll('[data-test-id="parameter-input-label"], .n8n-input-label, label') ?? [])]
			.map((e) => e.textContent.trim()).filter(Boolean);
		// scroll State Store into view for the screenshot
		const state = [...(root?.querySelectorAll('label, .n8n-input-label') ?? [])].find((e) => e.textContent.trim().startsWith('State Store'));
		state?.scrollIntoView({ block: 'center' });
		return { labels };
	})()`);
	await sleep(500);
	process.stdout.write(`CLASSIFIER_PANEL ${JSON.stringify(panel)}\n`);
	log('classifier panel:', JSON.stringify(panel));
	await capture(page, path.join(OUT, CLASSIFIER_FILE));
}

async function main() {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'postal-routes-screenshot-'));
	tempDirs.push(tmp);
	let cdp;
	let n8nLog;
	try {
		const { base, logFile } = await startN8n(tmp);
		n8nLog = logFile;
		const { token, id, nodeCount } = await ownerAndWorkflow(base);
		cdp = await startChromium(tmp);
		const page = await openPage(cdp);
		await shootCanvas(page, base, token, id, nodeCount);
		if (SEND_PANEL) {
			await shootSendPanel(page);
			await shootClassifierPanel(page);
		} else await shootPartitioner(page);
		if (page.consoleErrors.length)
			log('browser console errors:\n  ' + [...new Set(page.consoleErrors)].join('\n  '));
		if (page.failedRequests.length)
			log('failed requests:\n  ' + [...new Set(page.failedRequests)].join('\n  '));
		const n8nOut = fs.readFileSync(logFile, 'utf8');
		// (n8n's own log is noisy offline: it cannot reach api.n8n.io; only lines naming the package count)
		const ours = n8nOut
			.split('\n')
			.filter(
				(l) =>
					l.includes('n8n-nodes-postal-routes') && /error|warn|fail|could not|unknown/i.test(l),
			);
		if (ours.length) log("n8n's log about this package:\n  " + ours.join('\n  '));
		try {
			await cdp.send('Browser.close');
		} catch {}
	} catch (e) {
		if (n8nLog && fs.existsSync(n8nLog))
			log(
				`last lines of n8n's log:\n${fs.readFileSync(n8nLog, 'utf8').split('\n').slice(-30).join('\n')}`,
			);
		throw e;
	} finally {
		cdp?.close();
		await stopAll();
	}
}

// scripts/screenshot-panels.js drives the same n8n and chromium for its own shots
module.exports = {
	BROWSER_ID,
	capture,
	log,
	ownerAndWorkflow,
	openPage,
	rest,
	sleep,
	startChromium,
	startN8n,
	stopAll,
	tempDirs,
	waitFor,
};

if (require.main === module)
	main().catch((e) => {
		log('FAILED:', e.stack || e.message);
		process.exitCode = 1;
	});
