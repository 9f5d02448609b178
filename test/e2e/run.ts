/**
 * End-to-end test: our PACKED tarball inside a real n8n 2.40.7 (Node 24), in both ways a community
 * package gets installed:
 *   npm — `npm install <tgz> --omit=dev --ignore-scripts` in <N8N_USER_FOLDER>/.n8n/nodes
 *   gui — what n8n's own installer does (Settings › Community nodes): unpack the tarball into
 *         .n8n/nodes/node_modules/<pkg>, strip dev/peer/optional dependencies from its package.json,
 *         `npm install` inside that folder (see downloadPackage in n8n's community-packages.service)
 * Then, per mode, in a fresh user folder: two SMTP sinks on loopback, two postalSmtp credentials and a
 * workflow imported with the n8n CLI, `n8n execute --id … --rawOutput`, and checks on what the sinks
 * received and what the run JSON says. Also runs examples/*.json when there are any.
 *
 * Run: npm run test:e2e  (setup of Node 24 + n8n is cached: see test/e2e/README.md)
 * Env: POSTAL_E2E_CACHE (cache dir), POSTAL_E2E_MODES=npm,gui, POSTAL_E2E_KEEP=1 (keep the work dir),
 *      POSTAL_E2E_SKIP_BUILD=1 (pack without `npm run build`), POSTAL_E2E_TGZ=<file> (test that tarball,
 *      no build), POSTAL_E2E_EXAMPLES_DIR (default examples/),
 *      POSTAL_E2E_ALLOW_SECOND_WORKFLOW_COPY=1 (a second n8n-workflow copy is a warning, not a failure),
 *      POSTAL_E2E_ONLY=feedback,operations,examples,retry,editor (run only these parts after the install
 *      modes; with POSTAL_E2E_MODES= none of the modes either — for working on one part, never for CI).
 */
import { randomBytes } from 'node:crypto';
import {
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	statSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../helpers/smtpSink';
import { runFeedbackTrigger } from './feedbackTrigger';
import { OPERATIONS_EXAMPLES, runOperations } from './operations';
import { runRetryLoop } from './retryLoop';
import {
	Checks,
	cleanNpmEnv,
	extractRunJson,
	freePort,
	killAll,
	log,
	outputItems,
	printTimings,
	run,
	setupVars,
	step,
	tail,
	type RunItem,
	type RunJson,
} from './lib';
import {
	buildErrorWorkflow,
	buildN8nSmtpWorkflow,
	buildWorkflow,
	CRED_A,
	CRED_B,
	ERROR_WORKFLOW_ID,
	FROM,
	FROM_NAME,
	INVALID_ADDRESS,
	N8N_SMTP_RECIPIENTS,
	N8N_SMTP_WORKFLOW_ID,
	n8nSmtpCredential,
	PKG,
	RECIPIENTS,
	smtpCredential,
	subjectFor,
	WORKFLOW_ID,
} from './workflow';

const REPO = resolve(__dirname, '..', '..');
const ENCRYPTION_KEY = 'postal-routes-e2e-fixed-encryption-key';
const PROBE = join(__dirname, 'resolve-probe.js');
export type Mode = 'npm' | 'gui';
/** whether a part runs (all of them unless POSTAL_E2E_ONLY names some) */
const only = (process.env.POSTAL_E2E_ONLY ?? '').split(',').filter(Boolean);
const part = (name: string) => !only.length || only.includes(name);
const MODES = (process.env.POSTAL_E2E_MODES ?? 'npm,gui')
	.split(',')
	.map((m) => m.trim())
	.filter((m) => m && m !== 'none') as Mode[];
for (const m of MODES)
	if (m !== 'npm' && m !== 'gui')
		throw new Error(`POSTAL_E2E_MODES: unknown mode "${m}" (npm, gui or none)`);

export interface Env {
	node24: string;
	npmCli: string;
	n8nDir: string;
	n8nBin: string;
}

const failures: string[] = [];
const warnings: string[] = [];
const secrets: string[] = [];
const summary: string[] = [];
let interrupted: string | undefined;

// ------------------------------------------------------------------------------------------ setup

export async function setup(): Promise<Env> {
	const vars = await setupVars();
	for (const k of ['NODE24', 'NPM_CLI', 'N8N_DIR', 'N8N_BIN'])
		if (!vars[k]) throw new Error(`setup.sh did not print ${k}=`);
	return { node24: vars.NODE24, npmCli: vars.NPM_CLI, n8nDir: vars.N8N_DIR, n8nBin: vars.N8N_BIN };
}

/** npm's environment for installing into n8n's folders: Node 24 first on PATH, no project config of ours. */
function npmEnv(env: Env): NodeJS.ProcessEnv {
	const clean = Object.fromEntries(
		Object.entries(cleanNpmEnv()).filter(([k]) => !k.startsWith('N8N_')),
	);
	return { ...clean, PATH: `${dirname(env.node24)}:${process.env.PATH}` };
}

const npm24 = (env: Env, args: string[], cwd: string, logFile: string) =>
	run(env.node24, [env.npmCli, ...args], {
		cwd,
		env: npmEnv(env),
		logFile,
		timeoutMs: 10 * 60_000,
	});

// ------------------------------------------------------------------------------------ build, pack

export interface Packed {
	tgz: string;
	// the packed package.json, read as JSON and probed field by field
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	manifest: Record<string, any>;
	files: string[];
}

export async function buildAndPack(work: string): Promise<Packed> {
	const packDir = join(work, 'pack');
	mkdirSync(packDir, { recursive: true });
	let tgz: string;
	let files: string[];
	if (process.env.POSTAL_E2E_TGZ) {
		// a given tarball (experiments: another package.json, an older release)
		tgz = resolve(process.env.POSTAL_E2E_TGZ);
		files = (await run('tar', ['-tzf', tgz])).stdout
			.split('\n')
			.filter(Boolean)
			.map((f) => f.replace(/^package\//, ''));
		log(`  using POSTAL_E2E_TGZ=${tgz} (no build)`);
	} else {
		// the repo's own npm (Node 20): `npm run build` and `npm pack` exactly as a maintainer would
		const repoEnv = cleanNpmEnv();
		if (!process.env.POSTAL_E2E_SKIP_BUILD) {
			await run('npm', ['run', 'build'], {
				cwd: REPO,
				env: repoEnv,
				logFile: join(work, 'build.log'),
				timeoutMs: 10 * 60_000,
			});
		}
		const packed = await run('npm', ['pack', '--pack-destination', packDir, '--json'], {
			cwd: REPO,
			env: repoEnv,
			logFile: join(work, 'build.log'),
		});
		const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{
			filename: string;
			files: Array<{ path: string }>;
			size: number;
			unpackedSize: number;
		}>;
		tgz = join(packDir, basename(info[0].filename));
		files = info[0].files.map((f) => f.path);
		log(
			`  ${basename(tgz)}: ${(info[0].size / 1024).toFixed(0)} kB packed, ${(info[0].unpackedSize / 1024).toFixed(0)} kB unpacked, ${files.length} files`,
		);
	}
	if (!existsSync(tgz)) throw new Error(`npm pack did not produce ${tgz}`);
	const manifest = JSON.parse((await run('tar', ['-xzOf', tgz, 'package/package.json'])).stdout);
	log(`  dependencies: ${JSON.stringify(manifest.dependencies ?? {})}`);
	log(
		`  bundleDependencies: ${JSON.stringify(manifest.bundleDependencies ?? manifest.bundledDependencies ?? [])}`,
	);
	log(
		`  peerDependencies: ${JSON.stringify(manifest.peerDependencies ?? {})} meta: ${JSON.stringify(manifest.peerDependenciesMeta ?? {})}`,
	);
	log(`  n8n.nodes: ${JSON.stringify(manifest.n8n?.nodes ?? [])}`);
	log(`  n8n.credentials: ${JSON.stringify(manifest.n8n?.credentials ?? [])}`);
	return { tgz, manifest, files };
}

function checkManifest(packed: Packed): void {
	const c = new Checks('tarball');
	const nodes: string[] = packed.manifest.n8n?.nodes ?? [];
	const creds: string[] = packed.manifest.n8n?.credentials ?? [];
	c.equal(packed.manifest.name, PKG, 'package name');
	for (const n of ['DomainGroupClassifier', 'RoutePartitioner', 'LoadBalancedSend']) {
		const entry = nodes.find((p) => p.includes(`${n}.node.js`));
		c.ok(
			entry && packed.files.includes(entry),
			`n8n.nodes lists ${n} and the file is in the tarball${entry ? ` (${entry})` : ''}`,
		);
	}
	const smtp = creds.find((p) => p.includes('PostalSmtp.credentials.js'));
	c.ok(
		smtp && packed.files.includes(smtp),
		`n8n.credentials lists PostalSmtp and the file is in the tarball${smtp ? ` (${smtp})` : ''}`,
	);
	failures.push(...c.failures);
}

// ---------------------------------------------------------------------------------------- install

export interface Installed {
	userFolder: string;
	nodesDir: string;
	pkgDir: string;
}

export async function install(
	env: Env,
	mode: Mode,
	packed: Packed,
	base: string,
): Promise<Installed> {
	const userFolder = join(base, 'user');
	const nodesDir = join(userFolder, '.n8n', 'nodes');
	const pkgDir = join(nodesDir, 'node_modules', PKG);
	mkdirSync(nodesDir, { recursive: true });
	// the package.json n8n's installer keeps in the nodes folder (ensurePackageJson)
	writeFileSync(
		join(nodesDir, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2),
	);
	const logFile = join(base, 'npm-install.log');
	if (mode === 'npm') {
		await npm24(
			env,
			['install', packed.tgz, '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'],
			nodesDir,
			logFile,
		);
	} else {
		// n8n: mkdir <pkgDir>; tar -xzf <tgz> -C <pkgDir> --strip-components=1; strip devDependencies,
		// peerDependencies, optionalDependencies; npm install with these flags inside <pkgDir>;
		// then record the package in the nodes folder's package.json
		mkdirSync(pkgDir, { recursive: true });
		await run('tar', ['-xzf', packed.tgz, '-C', pkgDir, '--strip-components=1']);
		const pj = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
		const { devDependencies: _d, peerDependencies: _p, optionalDependencies: _o, ...stripped } = pj;
		writeFileSync(join(pkgDir, 'package.json'), JSON.stringify(stripped, null, 2));
		const registry =
			(
				await run(env.node24, [env.npmCli, 'config', 'get', 'registry'], {
					cwd: pkgDir,
					env: npmEnv(env),
				})
			).stdout.trim() || 'https://registry.npmjs.org/';
		await npm24(
			env,
			[
				'install',
				'--audit=false',
				'--fund=false',
				'--bin-links=false',
				'--install-strategy=shallow',
				'--ignore-scripts=true',
				'--package-lock=false',
				`--registry=${registry}`,
			],
			pkgDir,
			logFile,
		);
		const nodesPj = JSON.parse(readFileSync(join(nodesDir, 'package.json'), 'utf8'));
		nodesPj.dependencies[PKG] = stripped.version;
		writeFileSync(join(nodesDir, 'package.json'), JSON.stringify(nodesPj, null, 2));
	}
	if (!existsSync(join(pkgDir, 'package.json')))
		throw new Error(`${PKG} is not in ${pkgDir} after the install`);
	return { userFolder, nodesDir, pkgDir };
}

/** Every n8n-workflow under the nodes folder, with its version. */
function findWorkflowCopies(root: string): Array<{ path: string; version: string }> {
	const found: Array<{ path: string; version: string }> = [];
	const walk = (dir: string, depth: number) => {
		if (depth > 8) return;
		let entries: string[];
		try {
			entries = readdirSync(dir);
		} catch {
			return;
		}
		for (const e of entries) {
			const p = join(dir, e);
			if (e === 'n8n-workflow' && basename(dir) === 'node_modules') {
				try {
					found.push({
						path: p,
						version: JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')).version,
					});
				} catch {
					// no package.json
				}
			}
			try {
				if (statSync(p).isDirectory() && !statSync(p).isSymbolicLink()) walk(p, depth + 1);
			} catch {
				// vanished
			}
		}
	};
	walk(root, 0);
	return found;
}

const du = async (dir: string) =>
	(await run('du', ['-sh', dir], { allowFailure: true })).stdout.split('\t')[0] || '?';

// -------------------------------------------------------------------------------------------- n8n

export function n8nEnv(
	env: Env,
	inst: Installed,
	base: string,
	brokerPort: number,
	probeFile: string,
): NodeJS.ProcessEnv {
	const tmp = join(base, 'tmp');
	mkdirSync(tmp, { recursive: true });
	return {
		PATH: `${dirname(env.node24)}:${process.env.PATH}`,
		HOME: process.env.HOME,
		LANG: process.env.LANG ?? 'C.UTF-8',
		TZ: 'UTC',
		GENERIC_TIMEZONE: 'UTC',
		TMPDIR: tmp,
		N8N_USER_FOLDER: inst.userFolder,
		N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_RUNNERS_BROKER_PORT: String(brokerPort),
		// the test certificate, trusted as an operator trusts a private CA: the n8n-SMTP sink's STARTTLS
		NODE_EXTRA_CA_CERTS: join(REPO, 'test', 'fixtures', 'tls', 'cert.pem'),
		N8N_LOG_LEVEL: 'info',
		N8N_LOG_OUTPUT: 'console',
		NODE_OPTIONS: `--require ${PROBE}`,
		POSTAL_E2E_PROBE_FILE: probeFile,
		POSTAL_E2E_PROBE_PACKAGE: PKG,
	};
}

export async function n8n(
	env: Env,
	args: string[],
	n8nEnvVars: NodeJS.ProcessEnv,
	logFile: string,
	allowFailure = false,
) {
	return run(env.node24, [env.n8nBin, ...args], {
		cwd: n8nEnvVars.N8N_USER_FOLDER,
		env: n8nEnvVars,
		logFile,
		allowFailure,
		timeoutMs: 5 * 60_000,
	});
}

function assertNoSecrets(c: Checks, what: string, text: string): void {
	const leaked = secrets.filter((s) => text.includes(s));
	c.ok(
		leaked.length === 0,
		`no SMTP password in ${what}${leaked.length ? ` (LEAKED ${leaked.length})` : ''}`,
	);
}

// ---------------------------------------------------------------------------------------- one mode

async function runMode(env: Env, mode: Mode, packed: Packed, work: string): Promise<void> {
	const base = join(work, mode);
	mkdirSync(base, { recursive: true });
	const c = new Checks(mode);
	const n8nLog = join(base, 'n8n.log');

	const inst = await step(
		`[${mode}] install the tarball (${mode === 'npm' ? 'npm install <tgz> --omit=dev' : "n8n's GUI installer steps"})`,
		() => install(env, mode, packed, base),
	);
	const copies = findWorkflowCopies(inst.nodesDir);
	log(
		`  nodes folder: ${await du(inst.nodesDir)}; n8n-workflow copies under it: ${copies.length ? copies.map((x) => `${x.path.slice(inst.nodesDir.length + 1)}@${x.version}`).join(', ') : 'none'}`,
	);

	const sinks: SmtpSink[] = [];
	try {
		const users = ['relay-a', 'relay-b'];
		const passwords = [
			`pw-A-${randomBytes(12).toString('hex')}`,
			`pw-B-${randomBytes(12).toString('hex')}`,
		];
		secrets.push(...passwords);
		for (let i = 0; i < 2; i++)
			sinks.push(await startSmtpSink({ auth: { user: users[i], pass: passwords[i] } }));
		// the sink of the workflow on n8n's own smtp credential: STARTTLS, then AUTH
		const n8nSmtpPassword = `pw-N-${randomBytes(12).toString('hex')}`;
		secrets.push(n8nSmtpPassword);
		const n8nSink = await startSmtpSink({
			auth: { user: 'n8n-smtp', pass: n8nSmtpPassword },
			tls: 'starttls',
		});
		sinks.push(n8nSink);
		log(
			`  SMTP sinks on 127.0.0.1:${sinks[0].port} (relay A) and 127.0.0.1:${sinks[1].port} (relay B), both with AUTH; 127.0.0.1:${n8nSink.port} (n8n's smtp credential) with STARTTLS and AUTH`,
		);

		const probeFile = join(base, 'resolve-probe.jsonl');
		const vars = n8nEnv(env, inst, base, await freePort(), probeFile);
		const credsFile = join(base, 'credentials.json');
		const wfFile = join(base, 'workflow.json');
		writeFileSync(
			credsFile,
			JSON.stringify(
				[
					smtpCredential(CRED_A.id, CRED_A.name, sinks[0].port, users[0], passwords[0]),
					smtpCredential(CRED_B.id, CRED_B.name, sinks[1].port, users[1], passwords[1]),
					n8nSmtpCredential(n8nSink.port, 'n8n-smtp', n8nSmtpPassword),
				],
				null,
				2,
			),
		);
		writeFileSync(
			wfFile,
			JSON.stringify([buildWorkflow(), buildErrorWorkflow(), buildN8nSmtpWorkflow()], null, 2),
		);

		const outputs: string[] = [];
		await step(`[${mode}] n8n import:credentials + import:workflow`, async () => {
			const a = await n8n(env, ['import:credentials', `--input=${credsFile}`], vars, n8nLog);
			const b = await n8n(env, ['import:workflow', `--input=${wfFile}`], vars, n8nLog);
			outputs.push(a.stdout, a.stderr, b.stdout, b.stderr);
			if (!/Successfully imported 3 credentials/.test(a.stdout + a.stderr))
				throw new Error(
					`import:credentials did not report 3 credentials:\n${tail(a.stdout + a.stderr)}`,
				);
			if (!/Successfully imported 3 workflows/.test(b.stdout + b.stderr))
				throw new Error(
					`import:workflow did not report 3 workflows:\n${tail(b.stdout + b.stderr)}`,
				);
		});
		// the import wrote the credentials file to disk in clear: remove it now that n8n has them encrypted
		rmSync(credsFile);

		const exec = await step(`[${mode}] n8n execute --id=${WORKFLOW_ID} --rawOutput`, () =>
			n8n(env, ['execute', `--id=${WORKFLOW_ID}`, '--rawOutput'], vars, n8nLog, true),
		);
		outputs.push(exec.stdout, exec.stderr);
		log(`  n8n exit code ${exec.code}; log: ${n8nLog}`);
		const runJson = extractRunJson(exec.stdout) ?? extractRunJson(exec.stderr);
		if (runJson) writeFileSync(join(base, 'run.json'), JSON.stringify(runJson, null, 2));

		log(`  checks [${mode}]:`);
		c.equal(exec.code, 0, 'n8n execute exit code');
		const problems = (exec.stdout + exec.stderr)
			.split('\n')
			.filter((l) =>
				/Unrecognized node type|Cannot find module|Failed to load package|is not known|Error:/i.test(
					l,
				),
			);
		c.ok(
			problems.length === 0,
			`no load errors in n8n's output${problems.length ? `: ${problems.slice(0, 5).join(' | ')}` : ''}`,
		);
		if (!c.ok(runJson, 'run JSON in the output')) {
			log(tail(exec.stdout + '\n' + exec.stderr, 30).replace(/^/gm, '      '));
		}
		if (runJson) checkRun(c, runJson, sinks);
		await checkEmbeddedState(c, env, inst, runJson);

		// a new send node on n8n's own SMTP credential (imported with import:credentials) delivers
		const n8nExec = await step(
			`[${mode}] n8n execute --id=${N8N_SMTP_WORKFLOW_ID} --rawOutput`,
			() =>
				n8n(env, ['execute', `--id=${N8N_SMTP_WORKFLOW_ID}`, '--rawOutput'], vars, n8nLog, true),
		);
		outputs.push(n8nExec.stdout, n8nExec.stderr);
		checkN8nSmtpRun(c, n8nExec.code, n8nExec.stdout + n8nExec.stderr, n8nSink);

		assertNoSecrets(c, "n8n's output (imports and execute)", outputs.join('\n'));
		assertNoSecrets(c, 'the n8n log file', readFileSync(n8nLog, 'utf8'));

		// a NodeOperationError thrown by our node: a failed run, and n8n must treat it as one of its own errors
		const errExec = await step(
			`[${mode}] n8n execute --id=${ERROR_WORKFLOW_ID} (must fail in our node)`,
			() => n8n(env, ['execute', `--id=${ERROR_WORKFLOW_ID}`, '--rawOutput'], vars, n8nLog, true),
		);
		checkErrorRun(c, errExec.code, errExec.combined);
		outputs.push(errExec.stdout, errExec.stderr);

		reportResolution(c, mode, probeFile, env);
	} finally {
		await Promise.all(sinks.map((s) => s.stop()));
	}
	failures.push(...c.failures);
	summary.push(`${mode}: ${c.failures.length ? `FAILED (${c.failures.length} checks)` : 'passed'}`);
}

/**
 * The embedded store kept its state in a SQLite file in n8n's own folder (node:sqlite on n8n's
 * Node 24): one duplicate marker per message sent, and no memory-only warning on any run.
 */
async function checkEmbeddedState(
	c: Checks,
	env: Env,
	inst: Installed,
	runJson: RunJson | undefined,
): Promise<void> {
	const file = join(inst.userFolder, '.n8n', 'postal-routes-state.sqlite');
	if (!c.ok(existsSync(file), `the embedded state file is ${file}`)) return;
	const query = `const { DatabaseSync } = require('node:sqlite');
		const db = new DatabaseSync(process.argv[1], { readOnly: true });
		console.log(db.prepare("SELECT count(*) AS n FROM entries WHERE key LIKE '%:once:%'").get().n);`;
	const markers = await run(env.node24, ['-e', query, file], { allowFailure: true });
	c.equal(markers.stdout.trim(), String(RECIPIENTS.length), 'duplicate markers in the state file');
	const hints = Object.values(runJson?.data.resultData.runData ?? {}).flatMap((runs) =>
		runs.flatMap((r) => r.hints ?? []),
	);
	c.equal(
		hints.map((h) => h.message),
		[],
		'no memory-only warning on the runs',
	);
}

function checkRun(c: Checks, runJson: RunJson, sinks: SmtpSink[]): void {
	const err = runJson.data.resultData.error;
	c.ok(
		!err,
		`no workflow error${err ? `: ${err.message} ${err.description ?? ''} (node ${err.node?.name ?? '?'})` : ''}`,
	);
	for (const [name, runs] of Object.entries(runJson.data.resultData.runData)) {
		const e = runs[0]?.error;
		if (e) c.ok(false, `node "${name}" error: ${e.message} ${e.description ?? ''}`);
	}

	const classified = outputItems(runJson, 'Classify Domains');
	c.equal(classified.length, RECIPIENTS.length, 'Classify Domains: items out');
	const wrongGroup = classified.filter((it) => {
		const email = String(it.json.email);
		return it.json.domainGroup !== (email.endsWith('@gmail.com') ? 'google' : 'microsoft');
	});
	c.ok(
		classified.length > 0 && wrongGroup.length === 0,
		`domainGroup is google for gmail.com and microsoft for outlook.com${wrongGroup.length ? ` (wrong: ${wrongGroup.map((i) => `${i.json.email}=${i.json.domainGroup}`).join(', ')})` : ''}`,
	);

	const routeA = outputItems(runJson, 'Split 70/30', 0);
	const routeB = outputItems(runJson, 'Split 70/30', 1);
	const deferred = outputItems(runJson, 'Split 70/30', 2);
	const expectA = Math.round((RECIPIENTS.length * 70) / 100);
	const expectB = RECIPIENTS.length - expectA;
	c.equal(
		[routeA.length, routeB.length, deferred.length],
		[expectA, expectB, 0],
		'Split 70/30: items on Relay A / Relay B / Deferred',
	);
	const routeOf = (it: RunItem) => (it.json.postalRoute as { route?: string } | undefined)?.route;
	c.ok(
		routeA.every((it) => routeOf(it) === 'Relay A') &&
			routeB.every((it) => routeOf(it) === 'Relay B'),
		'each routed item carries postalRoute.route of its output',
	);

	const sends: Array<[string, RunItem[], SmtpSink, string]> = [
		['Send A', routeA, sinks[0], 'Relay A'],
		['Send B', routeB, sinks[1], 'Relay B'],
	];
	const allIds: string[] = [];
	for (const [node, routed, sink, route] of sends) {
		const sent = outputItems(runJson, node, 0);
		const failed = outputItems(runJson, node, 1);
		const fallback = outputItems(runJson, node, 2);
		c.equal(
			[sent.length, failed.length, fallback.length],
			[routed.length, 0, 0],
			`${node}: items on Sent / Failed / Fallback`,
		);
		const deliveries = sent.map(
			(it) => it.json.postalDelivery as Record<string, unknown> | undefined,
		);
		const bad = deliveries.filter(
			(d) =>
				!d ||
				d.status !== 'sent' ||
				typeof d.messageId !== 'string' ||
				!d.messageId ||
				d.route !== route ||
				d.provider !== 'smtp',
		);
		c.ok(
			sent.length > 0 && bad.length === 0,
			`${node}: every item has postalDelivery {status 'sent', messageId, route '${route}', provider 'smtp'}${bad.length ? ` (bad: ${JSON.stringify(bad.slice(0, 2))})` : ''}`,
		);
		for (const d of deliveries) if (d && typeof d.messageId === 'string') allIds.push(d.messageId);
		if (failed.length || fallback.length) {
			log(
				`      ${node} failed/fallback: ${JSON.stringify([...failed, ...fallback].slice(0, 3).map((i) => i.json.postalDelivery))}`,
			);
		}

		// what the sink received
		c.equal(sink.messages.length, routed.length, `${route} sink: messages received`);
		const expectedRcpts = routed.map((it) => String(it.json.email)).sort();
		const gotRcpts = sink.messages.flatMap((m: SinkMessage) => m.rcpts).sort();
		c.equal(
			gotRcpts,
			expectedRcpts,
			`${route} sink: envelope recipients are exactly the items routed to ${route}`,
		);
		const wrong = sink.messages.filter((m) => {
			const to = m.rcpts[0];
			const from = m.parsed.from?.value[0];
			return (
				m.parsed.subject !== subjectFor(to) ||
				from?.address !== FROM ||
				from?.name !== FROM_NAME ||
				m.mailFrom !== FROM ||
				m.parsed.headers.get('x-campaign') !== 'e2e' ||
				!String(m.parsed.text ?? '').includes(`through route ${route}`)
			);
		});
		c.ok(
			sink.messages.length > 0 && wrong.length === 0,
			`${route} sink: subject, From, envelope sender, X-Campaign header and body are right${
				wrong.length
					? ` (wrong: ${wrong
							.slice(0, 2)
							.map((m) => `${m.parsed.subject} from ${m.mailFrom}`)
							.join('; ')})`
					: ''
			}`,
		);
		// the delivery's messageId should be what the relay answered ("queued as sink-N") or the Message-ID sent
		const known = new Set<string>();
		sink.messages.forEach((m, i) => {
			known.add(`sink-${i + 1}`);
			if (m.parsed.messageId) {
				known.add(m.parsed.messageId);
				known.add(m.parsed.messageId.replace(/^<|>$/g, ''));
			}
		});
		const unknown = deliveries.filter((d) => d && !known.has(String(d.messageId)));
		c.ok(
			unknown.length === 0,
			`${node}: every messageId is one the ${route} sink gave or received${
				unknown.length
					? ` (unknown: ${unknown
							.slice(0, 3)
							.map((d) => d?.messageId)
							.join(', ')})`
					: ''
			}`,
		);
	}
	c.equal(new Set(allIds).size === allIds.length, true, 'messageIds are unique within each relay');
	assertNoSecrets(c, 'the run JSON', JSON.stringify(runJson));
}

/** The workflow on n8n's smtp credential: every item on Sent, the sink got them over STARTTLS after AUTH. */
function checkN8nSmtpRun(c: Checks, code: number | null, output: string, sink: SmtpSink): void {
	const what = "n8n's smtp credential";
	c.equal(code, 0, `${what}: n8n execute exit code`);
	const runJson = extractRunJson(output);
	if (!c.ok(runJson && !runJson.data.resultData.error, `${what}: a run JSON without errors`)) {
		log(tail(output, 30).replace(/^/gm, '      '));
		return;
	}
	const node = 'Send via n8n SMTP';
	const outs = [0, 1, 2, 3].map((k) => outputItems(runJson!, node, k).length);
	c.equal(
		outs,
		[N8N_SMTP_RECIPIENTS.length, 0, 0, 0],
		`${what}: items on Sent / Failed / Fallback / Skipped`,
	);
	const statuses = outputItems(runJson!, node, 0).map(
		(it) => (it.json.postalDelivery as { status?: string; provider?: string } | undefined)?.status,
	);
	c.equal(
		statuses,
		N8N_SMTP_RECIPIENTS.map(() => 'sent'),
		`${what}: postalDelivery.status`,
	);
	c.equal(
		sink.messages.flatMap((m) => m.rcpts).sort(),
		[...N8N_SMTP_RECIPIENTS].sort(),
		`${what}: the sink got exactly the recipients`,
	);
	c.ok(
		sink.messages.length > 0 &&
			sink.messages.every((m) => m.secure && m.ehlo === 'e2e-n8n.postal-routes.example'),
		`${what}: every message over STARTTLS, announced with the credential's Client Host Name`,
	);
	c.equal(sink.authFailures, 0, `${what}: no refused login at the sink`);
	assertNoSecrets(c, `the run JSON of ${what}`, JSON.stringify(runJson));
}

function checkErrorRun(c: Checks, code: number | null, output: string): void {
	c.equal(code, 1, 'error run: n8n exit code');
	const runJson = extractRunJson(output);
	const err = runJson?.data.resultData.error as
		{ name?: string; message?: string; node?: { name?: string } } | undefined;
	c.ok(
		err?.name === 'NodeOperationError' &&
			String(err.message).includes(`"${INVALID_ADDRESS}" is not a valid email address`) &&
			err.node?.name === 'Classify Strictly',
		`error run: the run JSON carries our NodeOperationError naming the item and the node${err ? ` (${err.name}: ${err.message})` : ' (none)'}`,
	);
	// n8n-core's ErrorReporter logs an n8n error (instanceof BaseError) of level "warning" as its message alone;
	// anything else (e.g. a NodeOperationError from a second copy of n8n-workflow) with its stack
	const before = output.slice(0, Math.max(0, output.indexOf('\n{\n')) || output.length);
	const stackLines = before.split('\n').filter((l) => /^\s+at .*n8n-nodes-postal-routes/.test(l));
	const message = `error run: n8n logs our NodeOperationError as its own error class (message, no stack dump)${stackLines.length ? ` — it logged a stack: ${before.split('\n').find((l) => /NodeOperationError/.test(l)) ?? ''} ${stackLines[0].trim()}` : ''}`;
	if (stackLines.length && process.env.POSTAL_E2E_ALLOW_SECOND_WORKFLOW_COPY) {
		log(`    ⚠ ${message}`);
		warnings.push(message);
	} else c.ok(stackLines.length === 0, message);
}

/** What the probe saw: which n8n-workflow (and other bare modules) our package got, vs n8n's own. */
function reportResolution(c: Checks, mode: Mode, probeFile: string, env: Env): void {
	if (!existsSync(probeFile)) {
		c.ok(false, 'resolution probe wrote nothing (did our package load at all?)');
		return;
	}
	const records = readFileSync(probeFile, 'utf8')
		.split('\n')
		.filter(Boolean)
		.map(
			(l) =>
				JSON.parse(l) as {
					pid: number;
					who: string;
					request: string;
					resolved: string;
					pkg?: string;
					pkgDir?: string;
					nodePath?: string;
				},
		);
	const show = (p?: string) =>
		p ? p.replace(env.n8nDir, '<n8n>').replace(/^.*\/\.n8n\/nodes/, '<nodes>') : '?';
	const n8nOwn = [
		...new Set(
			records
				.filter((r) => r.who !== 'package' && r.request === 'n8n-workflow')
				.map((r) => `${show(r.pkgDir)} (${r.pkg})`),
		),
	];
	const ours = records.filter((r) => r.who === 'package');
	const byRequest = new Map<string, Set<string>>();
	for (const r of ours) {
		const set = byRequest.get(r.request) ?? new Set<string>();
		set.add(`${show(r.pkgDir)} (${r.pkg})`);
		byRequest.set(r.request, set);
	}
	log(`  module resolution [${mode}]:`);
	log(`    n8n's own n8n-workflow: ${n8nOwn.join(', ') || '?'}`);
	for (const [request, where] of byRequest)
		log(`    ${PKG} require('${request}') → ${[...where].join(', ')}`);
	const oursWf = [...(byRequest.get('n8n-workflow') ?? [])];
	const n8nDirs = new Set(
		records.filter((r) => r.who !== 'package' && r.request === 'n8n-workflow').map((r) => r.pkgDir),
	);
	const oursDirs = new Set(ours.filter((r) => r.request === 'n8n-workflow').map((r) => r.pkgDir));
	if (oursDirs.size === 0) {
		log(`    (${PKG} did not require n8n-workflow at run time)`);
		return;
	}
	const same = [...oursDirs].every((d) => n8nDirs.has(d));
	const message = `${PKG} uses n8n's own n8n-workflow${same ? '' : ` — it got ${oursWf.join(', ')} instead of ${n8nOwn.join(', ')}`}`;
	if (same || !process.env.POSTAL_E2E_ALLOW_SECOND_WORKFLOW_COPY) c.ok(same, message);
	else {
		log(`    ⚠ ${message}`);
		warnings.push(`[${mode}] ${message}`);
	}
}

// ------------------------------------------------------------------------------------- examples

/** examples/*.json: import each with its postalSmtp credentials pointed at a sink, run it, expect no error. */
async function runExamples(env: Env, packed: Packed, work: string): Promise<void> {
	const dir = process.env.POSTAL_E2E_EXAMPLES_DIR ?? join(REPO, 'examples');
	const files = existsSync(dir)
		? readdirSync(dir)
				.filter((f) => f.endsWith('.json'))
				.sort()
		: [];
	if (!files.length) {
		log(`\n(no example workflows in ${dir}: skipped)`);
		summary.push('examples: none found, skipped');
		return;
	}
	const base = join(work, 'examples');
	mkdirSync(base, { recursive: true });
	const inst = await step('[examples] install the tarball (GUI installer steps)', () =>
		install(env, 'gui', packed, base),
	);
	const sink = await startSmtpSink();
	const results: string[] = [];
	try {
		const vars = n8nEnv(env, inst, base, await freePort(), join(base, 'resolve-probe.jsonl'));
		const n8nLog = join(base, 'n8n.log');
		for (const file of files) {
			const c = new Checks(`example ${file}`);
			const label = `[examples] ${file}`;
			try {
				await step(label, async () => {
					const wf = JSON.parse(readFileSync(join(dir, file), 'utf8'));
					const id = `ex${file.replace(/\.json$/, '').replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 21);
					wf.id = id;
					wf.active = false;
					// example workflow JSON, rewritten in place node by node
					// eslint-disable-next-line @typescript-eslint/no-explicit-any
					const nodes: Array<Record<string, any>> = wf.nodes ?? [];
					// `n8n execute` starts at a Manual Trigger: a Webhook trigger becomes a Code node of the same
					// name that emits one sample sign-up request, behind a Manual Trigger
					let note = '';
					const hooks = nodes.filter((n) => n.type === 'n8n-nodes-base.webhook');
					if (!nodes.some((n) => n.type === 'n8n-nodes-base.manualTrigger') && hooks.length === 1) {
						const hook = hooks[0];
						const sample = {
							headers: { 'content-type': 'application/json' },
							params: {},
							query: {},
							body: { email: 'e2e.signup@gmail.com', name: 'Sam', firstName: 'Sam' },
						};
						Object.assign(hook, {
							type: 'n8n-nodes-base.code',
							typeVersion: 2,
							parameters: { jsCode: `return [{ json: ${JSON.stringify(sample)} }];` },
						});
						delete hook.webhookId;
						nodes.push({
							id: 'e2e-start',
							name: 'E2E Manual Start',
							type: 'n8n-nodes-base.manualTrigger',
							typeVersion: 1,
							position: [-200, 0],
							parameters: {},
						});
						wf.connections['E2E Manual Start'] = {
							main: [[{ node: hook.name, type: 'main', index: 0 }]],
						};
						note = ' (its Webhook trigger replaced by a Manual Trigger + a sample request)';
					}
					// a Schedule Trigger waits for its time: a Manual Trigger of the same name starts the run now
					for (const n of nodes)
						if (n.type === 'n8n-nodes-base.scheduleTrigger') {
							Object.assign(n, {
								type: 'n8n-nodes-base.manualTrigger',
								typeVersion: 1,
								parameters: {},
							});
							note = ' (its Schedule Trigger replaced by a Manual Trigger)';
						}
					// an Email Trigger (IMAP) needs a mailbox: a Code node of the same name emits what it emits
					// in Format Raw (the message's TEXT part in `raw`) for a real bounce, behind a Manual Trigger
					const imap = nodes.filter((n) => n.type === 'n8n-nodes-base.emailReadImap');
					if (!nodes.some((n) => n.type === 'n8n-nodes-base.manualTrigger') && imap.length === 1) {
						const whole = readFileSync(
							join(REPO, 'test', 'fixtures', 'reports', 'gmail-address-not-found.eml'),
							'latin1',
						);
						const sample = { raw: whole.slice(whole.indexOf('\n\n') + 2) };
						Object.assign(imap[0], {
							type: 'n8n-nodes-base.code',
							typeVersion: 2,
							parameters: { jsCode: `return [{ json: ${JSON.stringify(sample)} }];` },
						});
						delete imap[0].credentials;
						nodes.push({
							id: 'e2e-start',
							name: 'E2E Manual Start',
							type: 'n8n-nodes-base.manualTrigger',
							typeVersion: 1,
							position: [-200, 0],
							parameters: {},
						});
						wf.connections['E2E Manual Start'] = {
							main: [[{ node: imap[0].name, type: 'main', index: 0 }]],
						};
						note =
							' (its Email Trigger (IMAP) replaced by a Manual Trigger + a bounce in the IMAP Raw shape)';
					}
					// the Feedback Trigger is the part to test: runFeedbackTrigger publishes this example on a
					// running n8n and calls its webhook with a signed batch (feedbackTrigger.ts)
					if (nodes.some((n) => n.type === `${PKG}.postalFeedbackTrigger`)) {
						results.push(
							`${file}: run by the feedback-trigger scenario (published on n8n start, its webhook called)`,
						);
						return;
					}
					// the alert trigger and the metrics webhook need a running n8n: the operations scenario
					// publishes them and fires them (operations.ts)
					if (OPERATIONS_EXAMPLES.includes(file)) {
						results.push(`${file}: run by the operations scenario (published on n8n start, fired)`);
						return;
					}
					if (!nodes.some((n) => n.type === 'n8n-nodes-base.manualTrigger')) {
						results.push(`${file}: skipped (no Manual Trigger start node)`);
						return;
					}
					// every postalSmtp credential of the example points at the sink (no AUTH); other credential types cannot be faked
					const creds = new Map<string, { id: string; name: string }>();
					const other = new Set<string>();
					for (const n of nodes) {
						for (const [type, ref] of Object.entries<{ id?: string; name?: string }>(
							n.credentials ?? {},
						)) {
							if (type !== 'postalSmtp') {
								other.add(type);
								continue;
							}
							const credId = (
								ref.id ?? `exSmtp${(ref.name ?? '').replace(/[^A-Za-z0-9]/g, '')}`
							).slice(0, 21);
							creds.set(credId, { id: credId, name: ref.name ?? credId });
							n.credentials[type] = { id: credId, name: ref.name ?? credId };
						}
					}
					if (other.size) {
						results.push(
							`${file}: skipped (needs credentials the test cannot fake: ${[...other].join(', ')})`,
						);
						return;
					}
					const before = sink.messages.length;
					const credsFile = join(base, `${id}-credentials.json`);
					writeFileSync(
						credsFile,
						JSON.stringify(
							[...creds.values()].map((cr) => smtpCredential(cr.id, cr.name, sink.port, '', '')),
						),
					);
					const wfFile = join(base, `${id}.json`);
					writeFileSync(wfFile, JSON.stringify(wf));
					if (creds.size)
						await n8n(env, ['import:credentials', `--input=${credsFile}`], vars, n8nLog);
					await n8n(env, ['import:workflow', `--input=${wfFile}`], vars, n8nLog);
					const exec = await n8n(env, ['execute', `--id=${id}`, '--rawOutput'], vars, n8nLog, true);
					const runJson = extractRunJson(exec.stdout) ?? extractRunJson(exec.stderr);
					c.equal(exec.code, 0, `${file}: exit code`);
					c.ok(
						runJson && !runJson.data.resultData.error,
						`${file}: ran without a workflow error${runJson?.data.resultData.error ? `: ${runJson.data.resultData.error.message}` : ''}`,
					);
					// every run of every send node (a send node fed by several partitioners runs once per input)
					const statuses: Record<string, number> = {};
					for (const [name, runs] of Object.entries(runJson?.data.resultData.runData ?? {})) {
						if (nodes.find((n) => n.name === name)?.type !== `${PKG}.loadBalancedSend`) continue;
						for (const r of runs) {
							for (const out of r.data?.main ?? []) {
								for (const it of out ?? []) {
									const st =
										(it.json.postalDelivery as { status?: string } | undefined)?.status ?? 'none';
									statuses[st] = (statuses[st] ?? 0) + 1;
								}
							}
						}
					}
					const received = sink.messages.length - before;
					const parsers = nodes.filter((n) => n.type === `${PKG}.postalBounceParser`);
					const probes = nodes.filter(
						(n) => n.type === `${PKG}.loadBalancedSend` && n.parameters?.operation === 'probe',
					);
					if (probes.length) {
						// a probe sends nothing: each probe passed against the sink and left on Sent
						const passed = runJson
							? probes.map((n) => outputItems(runJson, n.name, 0).map((it) => it.json.ok))
							: [];
						c.equal(
							passed,
							probes.map(() => [true]),
							`${file}: each probe passed against the sink, one item on Sent`,
						);
						c.equal(received, 0, `${file}: the probes sent no mail`);
						results.push(
							`${file}${note}: exit ${exec.code}, probes on Sent ${JSON.stringify(passed)}`,
						);
					} else if (nodes.some((n) => n.type === `${PKG}.loadBalancedSend`) || !parsers.length) {
						c.ok(
							received > 0 && received === (statuses.sent ?? 0),
							`${file}: messages at the sink (${received}) = deliveries with status 'sent' (${statuses.sent ?? 0})`,
						);
						c.ok(!statuses.failed, `${file}: no 'failed' deliveries`);
						results.push(
							`${file}${note}: exit ${exec.code}, ${received} messages at the sink, send-node items by status ${JSON.stringify(statuses)}`,
						);
					} else {
						// a feedback example sends nothing: its Bounce Parser read the sample bounce into events
						const events = runJson ? parsers.flatMap((n) => outputItems(runJson, n.name, 0)) : [];
						const types = events.map(
							(it) => (it.json.postalEvent as { type?: string } | undefined)?.type,
						);
						c.ok(
							types.includes('bounced'),
							`${file}: the Bounce Parser read the sample bounce into events (${JSON.stringify(types)})`,
						);
						results.push(
							`${file}${note}: exit ${exec.code}, parser events ${JSON.stringify(types)}`,
						);
					}
					if (c.failures.length) throw new Error(c.failures.join('; '));
				});
			} catch (error) {
				if (!c.failures.length)
					c.failures.push(`[example ${file}] ${(error as Error).message.split('\n')[0]}`);
			}
			failures.push(...c.failures);
		}
	} finally {
		await sink.stop();
	}
	for (const r of results) log(`  ${r}`);
	summary.push(`examples: ${results.length} of ${files.length} handled — ${results.join('; ')}`);
}

// ---------------------------------------------------------------------------- the editor's panel

/**
 * The Load-Balanced Send panel in the real editor (scripts/screenshot.js --send-panel: n8n started
 * on this build's dist/, an owner, a workflow with one new send node on an n8n SMTP credential,
 * headless chromium): the provider's name is in the panel, under the credential selector.
 */
async function checkSendPanel(env: Env, work: string): Promise<void> {
	const c = new Checks('send panel');
	const out = join(work, 'screenshots');
	const shot = await run(env.node24, [join(REPO, 'scripts', 'screenshot.js'), '--send-panel'], {
		cwd: REPO,
		env: { ...cleanNpmEnv(), SCREENSHOT_OUT: out, POSTAL_DEV_SKIP_BUILD: '1' },
		logFile: join(work, 'screenshot.log'),
		allowFailure: true,
		timeoutMs: 10 * 60_000,
	});
	c.equal(shot.code, 0, 'send panel: scripts/screenshot.js --send-panel exit code');
	const line = shot.stdout.split('\n').find((l) => l.startsWith('SEND_PANEL '));
	const panel = line
		? (JSON.parse(line.slice('SEND_PANEL '.length)) as {
				labels: string[];
				provider: string[];
				providerLabelAt: number;
				credentialLabelAt: number;
			})
		: undefined;
	if (c.ok(panel, 'send panel: the panel was read')) {
		log(
			`  panel labels: ${panel!.labels.slice(0, 6).join(' | ')} …; provider: ${panel!.provider.join(', ')}`,
		);
		c.ok(panel!.labels.includes('Provider'), 'send panel: a "Provider" parameter is in the panel');
		c.ok(
			panel!.provider.includes('SMTP (Relay or MTA Delivery Policy)'),
			'send panel: the provider’s name "SMTP (Relay or MTA Delivery Policy)" is shown in it',
		);
		c.ok(
			panel!.credentialLabelAt >= 0 && panel!.credentialLabelAt < panel!.providerLabelAt,
			'send panel: the credential selector comes first, above Provider',
		);
	} else log(tail(shot.stderr, 20).replace(/^/gm, '      '));
	c.ok(
		existsSync(join(out, 'node-send.png')),
		`send panel: screenshot ${join(out, 'node-send.png')}`,
	);
	// the same run: a Domain Group Classifier on Redis draws its credential selector under State Store
	const classifierLine = shot.stdout.split('\n').find((l) => l.startsWith('CLASSIFIER_PANEL '));
	const labels = classifierLine
		? (JSON.parse(classifierLine.slice('CLASSIFIER_PANEL '.length)) as { labels: string[] }).labels
		: [];
	const at = (label: string) => labels.indexOf(label);
	c.ok(
		at('State Store') >= 0 &&
			at('State Store') < at('Redis Credential Type') &&
			at('Redis Credential Type') < at('Credential'),
		`classifier panel: State Store, then Redis Credential Type, then the credential selector (${labels.slice(3, 8).join(' | ')})`,
	);
	failures.push(...c.failures);
	summary.push(
		`send panel: ${c.failures.length ? `FAILED (${c.failures.length} checks)` : 'passed'}`,
	);
}

// ----------------------------------------------------------------------------------------- main

async function main(): Promise<number> {
	const t0 = Date.now();
	const work = mkdtempSync(join(tmpdir(), 'postal-routes-e2e-'));
	log(`Postal Routes end-to-end test in a real n8n 2.40.7 — work dir ${work}`);
	let ok = false;
	try {
		const env = await step('setup: Node 24 + n8n 2.40.7 (cached)', setup);
		const packed = await step('build and pack the package', () => buildAndPack(work));
		checkManifest(packed);
		for (const mode of MODES) {
			if (interrupted) break;
			try {
				await runMode(env, mode, packed, work);
			} catch (error) {
				failures.push(`[${mode}] ${(error as Error).message}`);
				summary.push(`${mode}: FAILED before its checks`);
				log(`  ${(error as Error).message}`);
			}
		}
		if (!interrupted && part('feedback'))
			failures.push(...(await runFeedbackTrigger(env, packed, work)));
		if (!interrupted && part('operations'))
			failures.push(
				...(await step('[operations] stats, report, probe, alert, metrics', () =>
					runOperations(env, packed, work),
				)),
			);
		try {
			if (!interrupted && part('examples')) await runExamples(env, packed, work);
		} catch (error) {
			failures.push(`[examples] ${(error as Error).message}`);
		}
		if (!interrupted && part('retry'))
			await runRetryLoop(env, packed, work, REPO, failures, summary);
		try {
			if (!interrupted && part('editor'))
				await step('[editor] the Load-Balanced Send panel', () => checkSendPanel(env, work));
		} catch (error) {
			failures.push(`[editor] ${(error as Error).message}`);
		}
		if (interrupted) failures.push(`interrupted by ${interrupted}`);
		ok = failures.length === 0;
	} catch (error) {
		failures.push((error as Error).message);
	} finally {
		await killAll();
		printTimings();
		log(`\nTotal ${((Date.now() - t0) / 1000).toFixed(1)} s`);
		for (const s of summary) log(`  ${s}`);
		for (const w of warnings) log(`  ⚠ ${w}`);
		if (failures.length) {
			log(`\nFAILED — ${failures.length} problem(s):`);
			for (const f of failures) log(`  - ${f.split('\n').join('\n    ')}`);
		} else log('\nPASSED');
		if (ok && !process.env.POSTAL_E2E_KEEP) rmSync(work, { recursive: true, force: true });
		else log(`(work dir kept: ${work})`);
	}
	return ok ? 0 : 1;
}

// the bench (bench/n8n.ts) imports the set-up, pack, install and n8n helpers above without running the test
if (require.main === module) {
	for (const signal of ['SIGINT', 'SIGTERM'] as const) {
		process.on(signal, () => {
			log(`\n${signal}: stopping child processes (n8n, npm) and the SMTP sinks, exiting`);
			interrupted = signal;
			void killAll().finally(() => process.exit(130));
		});
	}

	main().then(
		(code) => process.exit(code),
		async (error) => {
			console.error(error);
			await killAll();
			process.exit(1);
		},
	);
}
