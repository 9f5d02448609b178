/**
 * Helpers for the end-to-end runner: timed steps, child processes that are always cleaned up,
 * free ports, and the run JSON out of `n8n execute --rawOutput`.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

// ---------------------------------------------------------------- timings and reporting

export const timings: Array<{ name: string; seconds: number; ok: boolean }> = [];

const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function log(message: string): void {
	process.stdout.write(`${message}\n`);
}

/** Runs fn as a named step: prints its start and end with the time it took, records the timing. */
export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
	const t0 = Date.now();
	log(`\n▶ ${name}`);
	try {
		const result = await fn();
		timings.push({ name, seconds: (Date.now() - t0) / 1000, ok: true });
		log(`✔ ${name} (${fmt(Date.now() - t0)})`);
		return result;
	} catch (error) {
		timings.push({ name, seconds: (Date.now() - t0) / 1000, ok: false });
		log(`✘ ${name} (${fmt(Date.now() - t0)})`);
		throw error;
	}
}

export function printTimings(): void {
	log('\nStep timings:');
	for (const t of timings)
		log(`  ${t.ok ? '✔' : '✘'} ${t.seconds.toFixed(1).padStart(7)} s  ${t.name}`);
}

export class AssertionFailure extends Error {}

/** Collects failed checks instead of stopping at the first, so one run reports everything wrong. */
export class Checks {
	readonly failures: string[] = [];
	constructor(private readonly label: string) {}
	ok(condition: unknown, message: string): boolean {
		if (condition) {
			log(`    ✔ ${message}`);
			return true;
		}
		log(`    ✘ ${message}`);
		this.failures.push(`[${this.label}] ${message}`);
		return false;
	}
	equal<T>(actual: T, expected: T, message: string): boolean {
		const same = JSON.stringify(actual) === JSON.stringify(expected);
		return this.ok(
			same,
			same
				? `${message}: ${JSON.stringify(actual)}`
				: `${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
		);
	}
}

// ---------------------------------------------------------------- child processes

const children = new Set<ChildProcess>();

/** Kills every child still running (its whole process group): n8n's task runner and npm's children too. */
export async function killAll(): Promise<void> {
	const alive = [...children].filter((c) => c.exitCode === null && c.signalCode === null && c.pid);
	for (const child of alive) signalGroup(child, 'SIGTERM');
	const deadline = Date.now() + 5000;
	while (Date.now() < deadline && alive.some((c) => c.exitCode === null && c.signalCode === null)) {
		await new Promise((r) => setTimeout(r, 100));
	}
	for (const child of alive)
		if (child.exitCode === null && child.signalCode === null) signalGroup(child, 'SIGKILL');
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	try {
		process.kill(-(child.pid as number), signal);
	} catch {
		try {
			child.kill(signal);
		} catch {
			// already gone
		}
	}
}

export interface RunResult {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	/** stdout and stderr interleaved in arrival order */
	combined: string;
	ms: number;
}

export interface RunOptions extends SpawnOptions {
	/** kill the process (group) after this long */
	timeoutMs?: number;
	/** append stdout and stderr here as they arrive */
	logFile?: string;
	/** do not throw on a non-zero exit */
	allowFailure?: boolean;
	/** echo output lines to our stdout with this prefix */
	echo?: string;
}

/** Spawns a command in its own process group, collects its output, and throws on failure unless allowFailure. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
	const { timeoutMs = 10 * 60_000, logFile, allowFailure, echo, ...spawnOptions } = options;
	const t0 = Date.now();
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, {
			...spawnOptions,
			detached: true,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		children.add(child);
		let logStream: WriteStream | undefined;
		if (logFile) {
			logStream = createWriteStream(logFile, { flags: 'a' });
			logStream.write(`\n$ ${command} ${args.join(' ')}\n`);
		}
		const out: Buffer[] = [];
		const err: Buffer[] = [];
		const both: Buffer[] = [];
		const tee = (chunks: Buffer[]) => (chunk: Buffer) => {
			chunks.push(chunk);
			both.push(chunk);
			logStream?.write(chunk);
			if (echo) {
				for (const line of chunk.toString('utf8').split('\n'))
					if (line.trim()) process.stdout.write(`${echo}${line}\n`);
			}
		};
		child.stdout?.on('data', tee(out));
		child.stderr?.on('data', tee(err));
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			signalGroup(child, 'SIGKILL');
		}, timeoutMs);
		child.on('error', (error) => {
			clearTimeout(timer);
			children.delete(child);
			reject(error);
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			children.delete(child);
			logStream?.end();
			const result: RunResult = {
				code,
				signal,
				stdout: Buffer.concat(out).toString('utf8'),
				stderr: Buffer.concat(err).toString('utf8'),
				combined: Buffer.concat(both).toString('utf8'),
				ms: Date.now() - t0,
			};
			if (timedOut) {
				return reject(
					new Error(
						`${command} ${args.join(' ')} timed out after ${fmt(timeoutMs)}\n${tail(result.stdout + result.stderr)}`,
					),
				);
			}
			if (code !== 0 && !allowFailure) {
				return reject(
					new Error(
						`${command} ${args.join(' ')} exited with ${code ?? signal}\n${tail(result.stdout + '\n' + result.stderr)}`,
					),
				);
			}
			resolve(result);
		});
	});
}

/**
 * The environment without what `npm run` adds (npm_config_ignore_scripts=true and nodedir=/usr from this
 * repo's and the user's config, npm_config_local_prefix=<repo>, npm_package_*, …), so npm commands in
 * n8n's folders behave as if typed there. Registry, cache, TLS and proxy settings are kept.
 */
export function cleanNpmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
	const keep =
		/^npm_config_(cache|registry|userconfig|globalconfig|cafile|proxy|https_proxy|noproxy|strict_ssl)$/i;
	const env = Object.fromEntries(
		Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keep.test(k)),
	);
	return { ...env, ...extra };
}

/**
 * Runs scripts/e2e/setup.sh (cached Node 24, and n8n unless `--node-only`) and returns the
 * KEY=value lines it prints (NODE24, NPM_CLI, N8N_DIR, N8N_BIN).
 */
export async function setupVars(args: string[] = [], echo = '  '): Promise<Record<string, string>> {
	const repo = join(__dirname, '..', '..');
	const result = await run('bash', [join(repo, 'scripts', 'e2e', 'setup.sh'), ...args], {
		cwd: repo,
		env: cleanNpmEnv(),
		echo,
		timeoutMs: 25 * 60_000,
	});
	return Object.fromEntries(
		result.stdout
			.split('\n')
			.map((l) => l.match(/^([A-Z0-9_]+)=(.*)$/))
			.filter((m): m is RegExpMatchArray => !!m)
			.map((m) => [m[1], m[2]]),
	);
}

export const tail = (text: string, lines = 40): string =>
	text.trimEnd().split('\n').slice(-lines).join('\n');

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

// ---------------------------------------------------------------- n8n output

/**
 * `n8n execute --rawOutput` prints log lines, then the run as `JSON.stringify(run, null, 2)`; on a failed
 * run the same JSON goes through the logger. The run JSON is the last block that starts with a line
 * `{` and ends with a line `}` and parses with a `data.resultData` inside.
 */
export function extractRunJson(text: string): RunJson | undefined {
	const lines = text.split('\n');
	for (let start = lines.length - 1; start >= 0; start--) {
		if (lines[start].trimEnd() !== '{') continue;
		for (let end = start + 1; end < lines.length; end++) {
			if (lines[end].trimEnd() !== '}') continue;
			try {
				const parsed = JSON.parse(lines.slice(start, end + 1).join('\n')) as RunJson;
				if (parsed && typeof parsed === 'object' && parsed.data?.resultData) return parsed;
			} catch {
				// not this block
			}
			break;
		}
	}
	return undefined;
}

export interface RunItem {
	json: Record<string, unknown>;
	pairedItem?: unknown;
}

export interface NodeRun {
	executionStatus?: string;
	hints?: Array<{ message: string }>;
	error?: { message?: string; description?: string };
	data?: { main?: Array<RunItem[] | null> };
}

export interface RunJson {
	status?: string;
	finished?: boolean;
	data: {
		resultData: {
			runData: Record<string, NodeRun[]>;
			error?: { message?: string; description?: string; node?: { name?: string } };
			lastNodeExecuted?: string;
		};
	};
}

/** The items a node put on one of its outputs in its first run. */
export function outputItems(runJson: RunJson, node: string, output = 0): RunItem[] {
	const runs = runJson.data.resultData.runData[node];
	if (!runs?.length) return [];
	return runs[0].data?.main?.[output] ?? [];
}

/** Calls `fn` every 500 ms until it gives a value (an error counts as not yet), for at most `ms`. */
export async function waitFor<T>(
	what: string,
	fn: () => Promise<T | undefined>,
	ms: number,
): Promise<T> {
	const until = Date.now() + ms;
	let last: unknown;
	while (Date.now() < until) {
		try {
			const v = await fn();
			if (v !== undefined) return v;
		} catch (error) {
			last = error;
		}
		await new Promise((r) => setTimeout(r, 500));
	}
	throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
