/**
 * One HTML page in headless Chromium (Debian's `chromium`), driven over the DevTools protocol as
 * scripts/screenshot.js drives it, but through `--remote-debugging-pipe` (JSON messages ending in
 * NUL on fds 3 and 4) instead of a WebSocket: Node 20 has no global WebSocket, and this needs no
 * dependency. For the report test and scripts/report-screenshot.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

/** The chromium binary ($CHROMIUM, else `chromium` on the PATH), or null when there is none. */
export function chromiumBinary(): string | null {
	const bin = process.env.CHROMIUM || 'chromium';
	const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
	return r.status === 0 ? bin : null;
}

export interface RenderedPage {
	/** console.error calls, uncaught exceptions, and the browser's own error log (CSP, loads) */
	errors: string[];
	/** alert/confirm/prompt dialogs the page opened */
	dialogs: string[];
	/** requests the page made beyond its own file */
	requests: string[];
	/** what `evaluate` returned */
	value: unknown;
	/** the page's full height at the given width */
	height: number;
}

/** the fields of the events read here (Runtime, Log, Network, Page) */
interface EventParams {
	exceptionDetails?: { exception?: { description?: string }; text?: string };
	type?: string;
	args?: Array<{ value?: unknown }>;
	entry?: { level: string; source: string; text: string };
	request?: { url: string };
	message?: string;
}

interface Message {
	id?: number;
	method?: string;
	params?: EventParams;
	result?: Record<string, unknown>;
	error?: { message: string };
	sessionId?: string;
}

/**
 * Loads `html` at `width` px, runs `evaluate` (an expression; its value by JSON), and with
 * `screenshot` writes a full-page PNG there.
 */
export async function renderInChromium(
	html: string,
	options: { width: number; evaluate?: string; screenshot?: string; timeoutMs?: number },
): Promise<RenderedPage> {
	const bin = chromiumBinary();
	if (!bin) throw new Error('chromium not found: apt-get install -y chromium, or set CHROMIUM');
	const dir = mkdtempSync(join(tmpdir(), 'postal-report-'));
	const file = join(dir, 'report.html');
	writeFileSync(file, html);
	const child = spawn(
		bin,
		[
			'--headless',
			'--no-sandbox',
			'--disable-gpu',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
			'--hide-scrollbars',
			'--force-color-profile=srgb',
			`--user-data-dir=${join(dir, 'profile')}`,
			'--remote-debugging-pipe',
			'about:blank',
		],
		{ stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
	);
	let stderr = '';
	child.stderr!.on('data', (d) => (stderr += d));
	const toBrowser = child.stdio[3] as Writable;
	const fromBrowser = child.stdio[4] as Readable;
	const pending = new Map<
		number,
		{ resolve: (r: Message['result']) => void; reject: (e: Error) => void }
	>();
	const listeners: Array<(m: Message) => void> = [];
	let buffer = '';
	fromBrowser.on('data', (chunk: Buffer) => {
		buffer += chunk.toString('utf8');
		let end: number;
		while ((end = buffer.indexOf('\0')) >= 0) {
			const msg = JSON.parse(buffer.slice(0, end)) as Message;
			buffer = buffer.slice(end + 1);
			const waiting = msg.id !== undefined ? pending.get(msg.id) : undefined;
			if (waiting) {
				pending.delete(msg.id!);
				if (msg.error) waiting.reject(new Error(msg.error.message));
				else waiting.resolve(msg.result);
			} else if (msg.method) for (const l of listeners) l(msg);
		}
	});
	const exited = new Promise<never>((_, reject) =>
		child.on('exit', (code) =>
			reject(new Error(`chromium exited (${code}): ${stderr.slice(-1000)}`)),
		),
	);
	exited.catch(() => undefined);
	let nextId = 1;
	const send = (method: string, params: object = {}, sessionId?: string) => {
		const id = nextId++;
		const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
			pending.set(id, {
				resolve: (r) => resolve(r ?? {}),
				reject: (e) => reject(new Error(`${method}: ${e.message}`)),
			});
		});
		toBrowser.write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
		return Promise.race([answer, exited]);
	};

	const timeoutMs = options.timeoutMs ?? 30_000;
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`chromium took over ${timeoutMs} ms`)), timeoutMs);
	});
	try {
		return await Promise.race([
			timeout,
			(async () => {
				const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
				const { sessionId } = (await send('Target.attachToTarget', {
					targetId,
					flatten: true,
				})) as { sessionId: string };
				const page = (method: string, params: object = {}) => send(method, params, sessionId);
				const result: RenderedPage = {
					errors: [],
					dialogs: [],
					requests: [],
					value: undefined,
					height: 0,
				};
				const fileUrl = pathToFileURL(file).href;
				let loaded: () => void = () => undefined;
				const load = new Promise<void>((resolve) => (loaded = resolve));
				listeners.push((msg) => {
					if (msg.sessionId !== sessionId) return;
					const p = msg.params ?? {};
					if (msg.method === 'Page.loadEventFired') loaded();
					if (msg.method === 'Runtime.exceptionThrown')
						result.errors.push(
							p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text ?? 'exception',
						);
					if (msg.method === 'Runtime.consoleAPICalled' && p.type === 'error')
						result.errors.push((p.args ?? []).map((a) => String(a.value)).join(' '));
					if (msg.method === 'Log.entryAdded' && p.entry?.level === 'error')
						result.errors.push(`${p.entry.source}: ${p.entry.text}`);
					if (msg.method === 'Network.requestWillBeSent' && p.request && p.request.url !== fileUrl)
						result.requests.push(p.request.url);
					if (msg.method === 'Page.javascriptDialogOpening') {
						result.dialogs.push(`${p.type}: ${p.message}`);
						void page('Page.handleJavaScriptDialog', { accept: false });
					}
				});
				await page('Page.enable');
				await page('Runtime.enable');
				await page('Log.enable');
				await page('Network.enable');
				const metrics = { width: options.width, deviceScaleFactor: 1, mobile: false };
				await page('Emulation.setDeviceMetricsOverride', { ...metrics, height: 800 });
				await page('Page.navigate', { url: fileUrl });
				await load;
				const evaluate = async (expression: string) => {
					const r = (await page('Runtime.evaluate', { expression, returnByValue: true })) as {
						result: { value: unknown };
						exceptionDetails?: { text: string };
					};
					if (r.exceptionDetails) throw new Error(`in page: ${r.exceptionDetails.text}`);
					return r.result.value;
				};
				result.height = Number(await evaluate('document.documentElement.scrollHeight'));
				if (options.evaluate) result.value = await evaluate(options.evaluate);
				if (options.screenshot) {
					await page('Emulation.setDeviceMetricsOverride', { ...metrics, height: result.height });
					const shot = (await page('Page.captureScreenshot', { format: 'png' })) as {
						data: string;
					};
					writeFileSync(options.screenshot, Buffer.from(shot.data, 'base64'));
				}
				return result;
			})(),
		]);
	} finally {
		clearTimeout(timer);
		// Browser.close lets chromium stop its own helper processes; SIGKILL only if it hangs
		const gone = new Promise((r) =>
			child.exitCode !== null || child.signalCode ? r(null) : child.once('exit', r),
		);
		if (child.exitCode === null && !child.signalCode) {
			toBrowser.write(`${JSON.stringify({ id: nextId++, method: 'Browser.close' })}\0`);
			const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
			await gone;
			clearTimeout(kill);
		}
		rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
	}
}
