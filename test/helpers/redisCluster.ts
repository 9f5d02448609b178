import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redisServer';

/**
 * Helpers shared by the Redis Cluster and Sentinel test fixtures: spawn a real redis-server (the
 * Debian package) and talk to it with redis-cli, always with a time limit and an error that says
 * what went wrong (with the tail of the server's log).
 */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function requireBinaries(): void {
	for (const bin of ['redis-server', 'redis-cli']) {
		if (spawnSync(bin, ['--version']).status !== 0) {
			throw new Error(
				`${bin} is not installed: run \`apt-get install -y redis-server\` (.ci/run does this)`,
			);
		}
	}
}

/** Runs redis-cli against 127.0.0.1:port; resolves with stdout, rejects with a clear message. */
export function redisCli(port: number, args: string[], timeoutMs = 5_000): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile(
			'redis-cli',
			['-h', '127.0.0.1', '-p', String(port), ...args],
			{ timeout: timeoutMs, killSignal: 'SIGKILL' },
			(error, stdout, stderr) => {
				if (error) {
					const why = error.killed ? `timed out after ${timeoutMs} ms` : `exit ${error.code}`;
					reject(
						new Error(
							`redis-cli -p ${port} ${args.join(' ')} failed (${why}): ${`${stdout}${stderr}`.trim()}`,
						),
					);
					return;
				}
				resolve(stdout);
			},
		);
	});
}

function logTail(file: string, lines = 15): string {
	try {
		return existsSync(file)
			? readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n')
			: '(no log)';
	} catch {
		return '(log unreadable)';
	}
}

export interface RedisProcess {
	port: number;
	child: ChildProcess;
	logFile: string;
	stop(): Promise<void>;
}

/** Children still running, killed if the test process exits without calling stop(). */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
	running.add(child);
	child.once('exit', () => running.delete(child));
	if (!exitHookInstalled) {
		exitHookInstalled = true;
		process.once('exit', () => {
			for (const c of running) c.kill('SIGKILL');
		});
	}
}

/**
 * Spawns `redis-server <args>` (args must set the port, on the command line or in the conf) and
 * waits until it answers there — INFO's process_id must be this child's pid, not another server's.
 * Rejects with the log tail if the process exits early (e.g. the port was taken in the meantime)
 * or does not answer within `timeoutMs`.
 */
export async function spawnRedis(
	label: string,
	port: number,
	args: string[],
	logFile: string,
	timeoutMs = 10_000,
): Promise<RedisProcess> {
	const child = spawn('redis-server', args, { stdio: 'ignore' });
	track(child);
	let exited: string | undefined;
	child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
	child.once('error', (e) => (exited = `could not be started: ${e.message}`));

	const stop = async () => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		await new Promise<void>((resolve) => {
			const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
			child.once('exit', () => {
				clearTimeout(kill);
				resolve();
			});
			child.kill('SIGTERM');
		});
	};

	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (exited) throw new Error(`${label} on port ${port} ${exited}:\n${logTail(logFile)}`);
		// the answer must come from this very process, not from another server that took the port
		const info = parseInfo(await redisCli(port, ['INFO', 'server'], 1_000).catch(() => ''));
		if (info.process_id && Number(info.process_id) === child.pid)
			return { port, child, logFile, stop };
		if (Date.now() > deadline) {
			await stop();
			throw new Error(
				`${label} on port ${port} did not answer within ${timeoutMs} ms:\n${logTail(logFile)}`,
			);
		}
		await sleep(50);
	}
}

/** Polls `check` until it returns true; on timeout throws with the last reason it gave. */
export async function waitFor(
	what: string,
	check: () => Promise<true | string>,
	timeoutMs: number,
	everyMs = 100,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	for (;;) {
		try {
			const r = await check();
			if (r === true) return;
			last = r;
		} catch (e) {
			last = (e as Error).message;
		}
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${last}`);
		await sleep(everyMs);
	}
}

export function parseInfo(text: string): Record<string, string> {
	const out: Record<string, string> = {};
	for (const line of text.split(/\r?\n/)) {
		const i = line.indexOf(':');
		if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
	}
	return out;
}

export interface RedisCluster {
	/** client ports of the masters, in creation order */
	ports: number[];
	/** `127.0.0.1:port` per master, for RedisConnection.nodes */
	nodes: string[];
	dir: string;
	/** the hash slot of a key (CLUSTER KEYSLOT) */
	keySlot(key: string): Promise<number>;
	/** the client port of the master that serves a slot (CLUSTER SLOTS) */
	portForSlot(slot: number): Promise<number>;
	stop(): Promise<void>;
}

const MASTERS = 3;

/**
 * A real 3-master Redis Cluster (no replicas) on free loopback ports, in a temporary folder. The
 * cluster bus ports are chosen explicitly (--cluster-port) so that a high client port never pushes
 * the default port+10000 past 65535.
 */
export async function startRedisCluster(
	options: { timeoutMs?: number } = {},
): Promise<RedisCluster> {
	requireBinaries();
	const timeoutMs = options.timeoutMs ?? 30_000;
	const dir = mkdtempSync(join(tmpdir(), 'postal-redis-cluster-'));
	const procs: RedisProcess[] = [];
	let stopped = false;

	const stop = async () => {
		if (stopped) return;
		stopped = true;
		await Promise.all(procs.map((p) => p.stop()));
		rmSync(dir, { recursive: true, force: true });
	};

	try {
		// ports are free when picked but could be taken before redis binds them: retry a few times
		for (let n = 0; procs.length < MASTERS; n++) {
			const port = await freePort();
			const busPort = await freePort();
			if (port === busPort || procs.some((p) => p.port === port || p.port === busPort)) continue;
			const logFile = join(dir, `redis-${port}.log`);
			const args = [
				'--port',
				String(port),
				'--cluster-enabled',
				'yes',
				'--cluster-port',
				String(busPort),
				'--cluster-config-file',
				join(dir, `nodes-${port}.conf`),
				'--cluster-node-timeout',
				'5000',
				'--appendonly',
				'no',
				'--save',
				'',
				'--bind',
				'127.0.0.1',
				'--dir',
				dir,
				'--daemonize',
				'no',
				'--logfile',
				logFile,
				'--loglevel',
				'notice',
			];
			try {
				procs.push(await spawnRedis('cluster node', port, args, logFile));
			} catch (error) {
				if (n >= 5) throw error;
			}
		}
		const ports = procs.map((p) => p.port);
		const nodes = ports.map((p) => `127.0.0.1:${p}`);

		await redisCli(
			ports[0],
			['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'],
			timeoutMs,
		).catch((error: Error) => {
			throw new Error(
				`redis-cli --cluster create failed: ${error.message}\n${procs.map((p) => `--- ${p.logFile}\n${logTail(p.logFile, 8)}`).join('\n')}`,
			);
		});

		// every node must see the whole cluster: all slots served, all masters known, state ok
		await Promise.all(
			ports.map((port) =>
				waitFor(
					`cluster_state:ok on 127.0.0.1:${port}`,
					async () => {
						const info = parseInfo(await redisCli(port, ['CLUSTER', 'INFO'], 2_000));
						const ok =
							info.cluster_state === 'ok' &&
							info.cluster_slots_assigned === '16384' &&
							info.cluster_slots_ok === '16384' &&
							Number(info.cluster_known_nodes) === MASTERS;
						return (
							ok ||
							`state=${info.cluster_state} slots_assigned=${info.cluster_slots_assigned} slots_ok=${info.cluster_slots_ok} known_nodes=${info.cluster_known_nodes}`
						);
					},
					timeoutMs,
				),
			),
		);

		const keySlot = async (key: string) => {
			const out = (await redisCli(ports[0], ['CLUSTER', 'KEYSLOT', key])).trim();
			const slot = Number(out);
			if (!Number.isInteger(slot)) throw new Error(`CLUSTER KEYSLOT ${key} answered ${out}`);
			return slot;
		};
		// CLUSTER NODES: `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot or range>...`
		const portForSlot = async (slot: number) => {
			const text = await redisCli(ports[0], ['CLUSTER', 'NODES']);
			for (const line of text.split('\n')) {
				const f = line.trim().split(' ');
				if (f.length < 9 || !f[2].split(',').includes('master')) continue;
				const port = Number(/:(\d+)@/.exec(f[1])?.[1]);
				for (const range of f.slice(8)) {
					if (range.startsWith('[')) continue; // a slot being migrated or imported
					const [a, b = a] = range.split('-').map(Number);
					if (slot >= a && slot <= b) return port;
				}
			}
			throw new Error(`no master serves slot ${slot}:\n${text}`);
		};

		return { ports, nodes, dir, keySlot, portForSlot, stop };
	} catch (error) {
		await stop();
		throw error;
	}
}
