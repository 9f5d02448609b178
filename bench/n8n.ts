/**
 * Real n8n, side by side: ONE workflow in n8n 2.40.7 (Node 24, the end-to-end test's cached
 * install) sends the same items through n8n's built-in Send Email (n8n-nodes-base.emailSend 2.1,
 * n8n's own `smtp` credential) and through Load-Balanced Send (our packed tarball, installed as
 * n8n's GUI installer does, a `postalSmtp` credential with its defaults), both to our raw SMTP sink
 * in its own process (it greets at once: see test/helpers/rawSmtpSink.ts). Each node's
 * `executionTime` comes from the execution's run data; the sink counts what each node delivered
 * (each sends with its own envelope sender).
 *
 * Reuses the end-to-end runner's set-up, pack, install and n8n helpers (test/e2e/run.ts, lib.ts).
 * Without the cached n8n it prints how to get it and the target as NOT RUN; it never downloads.
 * Env: BENCH_N8N_ITEMS (default 1000), BENCH_N8N_CPU_PROFILE=<dir> (CPU profiles of n8n's
 * processes there), POSTAL_E2E_CACHE, POSTAL_E2E_SKIP_BUILD=1, POSTAL_E2E_TGZ,
 * POSTAL_E2E_KEEP=1 (keep the work directory; it is kept anyway when the run fails).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractRunJson, freePort, killAll, outputItems, setupVars, tail } from '../test/e2e/lib';
import { buildAndPack, install, n8n, n8nEnv, type Env } from '../test/e2e/run';
import { PKG } from '../test/e2e/workflow';
import { startSink, type Sink } from './send';
import { fmt } from './util';

const WORKFLOW_ID = 'benchN8nSendSide'; // n8n wants at most 21 characters
const SEND_EMAIL = 'Send Email';
const OURS = 'Load-Balanced Send';
const FROM_SEND_EMAIL = 'send-email@shop.example';
const FROM_OURS = 'postal-routes@shop.example';
const TARGET = 'target: the real-n8n ratio against Send Email printed by the bench';

/** The versions setup.sh installs, read from it (one place). */
function cachePaths(): { cache: string; node: string; n8n: string; versions: string } {
	const setup = readFileSync(join(__dirname, '..', 'scripts', 'e2e', 'setup.sh'), 'utf8');
	const nodeVersion = /^NODE_VERSION=(\S+)/m.exec(setup)?.[1] ?? '?';
	const n8nVersion = /^N8N_VERSION=(\S+)/m.exec(setup)?.[1] ?? '?';
	const cache = process.env.POSTAL_E2E_CACHE ?? join(homedir(), '.cache', 'postal-routes-e2e');
	return {
		cache,
		node: join(cache, `node-v${nodeVersion}`),
		n8n: join(cache, `n8n-${n8nVersion}`),
		versions: `n8n ${n8nVersion}, Node ${nodeVersion}`,
	};
}

export function buildSideBySideWorkflow(items: number) {
	const jsCode = `return Array.from({ length: ${items} }, (_, i) => ({ json: { to: 'user' + i + '@gmail.com', subject: 'Hello ' + i, text: 'Hi there', html: '<p>Hi there</p>' } }));`;
	return {
		id: WORKFLOW_ID,
		name: 'Postal Routes bench: Send Email and Load-Balanced Send, the same items',
		active: false,
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
				id: 'items',
				name: 'Items',
				type: 'n8n-nodes-base.code',
				typeVersion: 2,
				position: [200, 0],
				parameters: { jsCode },
			},
			{
				id: 'send-email',
				name: SEND_EMAIL,
				type: 'n8n-nodes-base.emailSend',
				typeVersion: 2.1,
				position: [400, -100],
				parameters: {
					resource: 'email',
					operation: 'send',
					fromEmail: `Shop <${FROM_SEND_EMAIL}>`,
					toEmail: '={{ $json.to }}',
					subject: '={{ $json.subject }}',
					emailFormat: 'both',
					text: '={{ $json.text }}',
					html: '={{ $json.html }}',
					// the same message as the other node's: no "sent automatically with n8n" line
					options: { appendAttribution: false },
				},
				credentials: { smtp: { id: 'benchSmtp', name: 'Bench sink (smtp)' } },
			},
			{
				id: 'ours',
				name: OURS,
				type: `${PKG}.loadBalancedSend`,
				typeVersion: 1,
				position: [400, 100],
				parameters: {
					provider: 'smtp',
					from: `Shop <${FROM_OURS}>`,
					to: '={{ $json.to }}',
					subject: '={{ $json.subject }}',
					text: '={{ $json.text }}',
					html: '={{ $json.html }}',
					options: {},
				},
				credentials: { postalSmtp: { id: 'benchPostalSmtp', name: 'Bench sink (postalSmtp)' } },
			},
		],
		connections: {
			Start: { main: [[{ node: 'Items', type: 'main', index: 0 }]] },
			Items: {
				main: [
					[
						{ node: SEND_EMAIL, type: 'main', index: 0 },
						{ node: OURS, type: 'main', index: 0 },
					],
				],
			},
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

function credentials(port: number) {
	return [
		{
			// n8n's own SMTP credential: SSL/TLS off, STARTTLS disabled, no user
			id: 'benchSmtp',
			name: 'Bench sink (smtp)',
			type: 'smtp',
			data: {
				user: '',
				password: '',
				host: '127.0.0.1',
				port,
				secure: false,
				disableStartTls: true,
				hostName: '',
			},
		},
		{
			// ours with its defaults: pool of 5, 100 messages per connection, no rate limit
			id: 'benchPostalSmtp',
			name: 'Bench sink (postalSmtp)',
			type: 'postalSmtp',
			data: {
				host: '127.0.0.1',
				port,
				security: 'none',
				user: '',
				password: '',
				ehloName: '',
				allowUnauthorizedCerts: false,
				poolSize: 5,
				messagesPerConnection: 100,
				rateLimit: 0,
				rateLimitPer: 'second',
			},
		},
	];
}

/**
 * Runs fn with our stdout held back (the e2e helpers print the tarball's manifest as they pack):
 * shown only if fn fails.
 */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
	const write = process.stdout.write;
	const held: string[] = [];
	process.stdout.write = ((chunk: string | Uint8Array) => {
		held.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
		return true;
	}) as typeof process.stdout.write;
	try {
		return await fn();
	} catch (error) {
		process.stdout.write = write;
		process.stdout.write(held.join(''));
		throw error;
	} finally {
		process.stdout.write = write;
	}
}

export async function benchN8n(): Promise<void> {
	const items = Number(process.env.BENCH_N8N_ITEMS ?? 1000);
	const paths = cachePaths();
	console.log(
		`\n## Real ${paths.versions}: the same ${items.toLocaleString('en')} items through n8n's Send Email and Load-Balanced Send, one workflow, our raw sink (separate process)`,
	);
	if (![paths.node, paths.n8n].every((d) => existsSync(join(d, '.complete')))) {
		console.log(
			`  no cached ${paths.versions} under ${paths.cache}: \`npm run test:e2e\` (or \`bash scripts/e2e/setup.sh\`) installs it once (~4 min, ~3 GB, npm registry)`,
		);
		console.log(`  ${TARGET}: NOT RUN`);
		return;
	}

	const t0 = Date.now();
	const work = mkdtempSync(join(tmpdir(), 'postal-routes-bench-n8n-'));
	const phases: string[] = [];
	const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
		const t = Date.now();
		const result = await fn();
		phases.push(`${name} ${((Date.now() - t) / 1000).toFixed(1)} s`);
		return result;
	};
	// n8n and npm run in process groups of their own: a Ctrl-C must not leave them behind
	const onSignal = (signal: NodeJS.Signals) => {
		console.log(`\n${signal}: stopping n8n and the sink`);
		void killAll().finally(() => process.exit(130));
	};
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	let sink: Sink | undefined;
	let ok = false;
	try {
		const vars = await phase('set-up check', () => setupVars([], ''));
		const env: Env = {
			node24: vars.NODE24,
			npmCli: vars.NPM_CLI,
			n8nDir: vars.N8N_DIR,
			n8nBin: vars.N8N_BIN,
		};
		const packed = await phase('build + pack', () => quietly(() => buildAndPack(work)));
		const base = join(work, 'n8n');
		mkdirSync(base, { recursive: true });
		const inst = await phase('install (GUI installer steps)', () =>
			install(env, 'gui', packed, base),
		);
		sink = await startSink('raw');

		const n8nVars = n8nEnv(env, inst, base, await freePort(), join(base, 'probe.jsonl'));
		// not the e2e test's module-resolution probe; a CPU profile of n8n's processes if asked for
		delete n8nVars.NODE_OPTIONS;
		if (process.env.BENCH_N8N_CPU_PROFILE)
			n8nVars.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${process.env.BENCH_N8N_CPU_PROFILE}`;
		const log = join(base, 'n8n.log');
		const credsFile = join(base, 'credentials.json');
		const wfFile = join(base, 'workflow.json');
		writeFileSync(credsFile, JSON.stringify(credentials(sink.port)));
		writeFileSync(wfFile, JSON.stringify([buildSideBySideWorkflow(items)]));
		await phase('n8n import', async () => {
			await n8n(env, ['import:credentials', `--input=${credsFile}`], n8nVars, log);
			await n8n(env, ['import:workflow', `--input=${wfFile}`], n8nVars, log);
		});
		const exec = await phase('n8n execute', () =>
			n8n(env, ['execute', `--id=${WORKFLOW_ID}`, '--rawOutput'], n8nVars, log, true),
		);
		const runJson = extractRunJson(exec.stdout) ?? extractRunJson(exec.stderr);
		const stats = await sink.stats();
		if (!runJson || exec.code !== 0 || runJson.data.resultData.error)
			throw new Error(
				`n8n execute exited with ${exec.code}${runJson?.data.resultData.error ? `: ${runJson.data.resultData.error.message}` : ''}\n${tail(exec.stdout + '\n' + exec.stderr, 20)}`,
			);

		const runData = runJson.data.resultData.runData as Record<
			string,
			Array<{ executionTime?: number; startTime?: number }>
		>;
		const timeOf = (node: string) => {
			const r = runData[node]?.[0];
			if (!r || typeof r.executionTime !== 'number')
				throw new Error(`no executionTime for "${node}" in the run data`);
			return { ms: r.executionTime, start: r.startTime ?? 0 };
		};
		const theirs = timeOf(SEND_EMAIL);
		const ours = timeOf(OURS);
		const theirItems = outputItems(runJson, SEND_EMAIL).length;
		const ourSent = outputItems(runJson, OURS, 0);
		const ourSentOk = ourSent.filter(
			(i) => (i.json.postalDelivery as { status?: string } | undefined)?.status === 'sent',
		).length;
		const first = theirs.start <= ours.start ? SEND_EMAIL : OURS;
		const line = (name: string, detail: string, t: { ms: number }, n: number) =>
			console.log(
				`  ${name.padEnd(20)} ${detail.padEnd(44)} ${String(n).padStart(5)} items in ${String(t.ms).padStart(6)} ms  ${fmt((n * 1000) / t.ms).padStart(7)} msg/s  ${(t.ms / n).toFixed(2)} ms an item`,
			);
		line(SEND_EMAIL, 'n8n-nodes-base.emailSend 2.1, smtp credential', theirs, theirItems);
		line(OURS, `${PKG}, postalSmtp defaults`, ours, ourSentOk);
		const ratio = theirs.ms / ours.ms;
		console.log(
			`  ratio: Load-Balanced Send is ×${ratio.toFixed(1)} faster than Send Email (executionTime from the run data; ${first} ran first)`,
		);
		const fromEach = [stats.bySender[FROM_SEND_EMAIL] ?? 0, stats.bySender[FROM_OURS] ?? 0];
		console.log(
			`  sink received ${stats.count} messages over ${stats.connections} connections: ${fromEach[0]} from Send Email, ${fromEach[1]} from Load-Balanced Send`,
		);
		const complete =
			theirItems === items &&
			ourSentOk === items &&
			stats.count === 2 * items &&
			fromEach.every((n) => n === items);
		console.log(
			`  ${TARGET}: ${complete ? 'MET' : `MISSED (expected ${items} items and messages from each node)`}`,
		);
		ok = complete;
	} catch (error) {
		console.log(`  the run failed: ${(error as Error).message.split('\n').join('\n    ')}`);
		console.log(`  ${TARGET}: MISSED (no ratio)`);
	} finally {
		await killAll();
		await sink?.stop();
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
		const keep = !ok || process.env.POSTAL_E2E_KEEP;
		if (!keep) rmSync(work, { recursive: true, force: true });
		console.log(
			`  suite took ${((Date.now() - t0) / 1000).toFixed(1)} s (${phases.join(', ')})${keep ? `; work dir kept: ${work}` : ''}`,
		);
	}
}
