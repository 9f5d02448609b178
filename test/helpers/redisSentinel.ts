import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisCli, spawnRedis, waitFor, type RedisProcess } from './redisCluster';
import { freePort } from './redisServer';

export interface RedisSentinel {
	/** the master's client port */
	masterPort: number;
	/** the sentinel's port, for RedisConnection.nodes */
	sentinelPort: number;
	/** the monitored master's name (SENTINEL monitor <name>) */
	masterName: string;
	dir: string;
	stop(): Promise<void>;
}

/**
 * A real master redis-server and one Sentinel monitoring it (quorum 1), on free loopback ports, in
 * a temporary folder. Resolves once the Sentinel answers `SENTINEL get-master-addr-by-name` with
 * the master and reports it as a healthy master.
 */
export async function startRedisSentinel(
	options: { masterName?: string; timeoutMs?: number } = {},
): Promise<RedisSentinel> {
	for (const bin of ['redis-server', 'redis-cli']) {
		if (spawnSync(bin, ['--version']).status !== 0)
			throw new Error(
				`${bin} is not installed: run \`apt-get install -y redis-server\` (.ci/run does this)`,
			);
	}
	const masterName = options.masterName ?? 'mymaster';
	const timeoutMs = options.timeoutMs ?? 20_000;
	const dir = mkdtempSync(join(tmpdir(), 'postal-redis-sentinel-'));
	const procs: RedisProcess[] = [];
	let stopped = false;
	const stop = async () => {
		if (stopped) return;
		stopped = true;
		// the sentinel first, so it does not watch its master go down
		for (const p of [...procs].reverse()) await p.stop();
		rmSync(dir, { recursive: true, force: true });
	};

	/** ports are free when picked but could be taken before redis binds them: retry a few times */
	const withFreePort = async (
		start: (port: number) => Promise<RedisProcess>,
	): Promise<RedisProcess> => {
		for (let attempt = 1; ; attempt++) {
			const port = await freePort();
			if (procs.some((p) => p.port === port)) continue;
			try {
				return await start(port);
			} catch (error) {
				if (attempt >= 5) throw error;
			}
		}
	};

	try {
		const master = await withFreePort((port) => {
			const logFile = join(dir, `master-${port}.log`);
			const args = [
				'--port',
				String(port),
				'--bind',
				'127.0.0.1',
				'--dir',
				dir,
				'--appendonly',
				'no',
				'--save',
				'',
				'--daemonize',
				'no',
				'--logfile',
				logFile,
			];
			return spawnRedis('redis master', port, args, logFile);
		});
		procs.push(master);

		const sentinel = await withFreePort((port) => {
			const logFile = join(dir, `sentinel-${port}.log`);
			// Sentinel rewrites its config file (known replicas, epochs): it must be a writable file of its own
			const conf = join(dir, `sentinel-${port}.conf`);
			writeFileSync(
				conf,
				[
					`port ${port}`,
					'bind 127.0.0.1',
					`dir ${dir}`,
					`logfile ${logFile}`,
					'daemonize no',
					`sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1`,
					`sentinel down-after-milliseconds ${masterName} 1000`,
					'',
				].join('\n'),
			);
			return spawnRedis('redis sentinel', port, [conf, '--sentinel'], logFile);
		});
		procs.push(sentinel);

		await waitFor(
			`SENTINEL get-master-addr-by-name ${masterName} on 127.0.0.1:${sentinel.port}`,
			async () => {
				const addr = (
					await redisCli(sentinel.port, ['SENTINEL', 'get-master-addr-by-name', masterName], 2_000)
				)
					.trim()
					.split(/\s+/);
				if (addr[0] !== '127.0.0.1' || Number(addr[1]) !== master.port)
					return `answered ${JSON.stringify(addr)}`;
				// and the sentinel has reached the master and sees it up (not s_down / o_down)
				const lines = (await redisCli(sentinel.port, ['SENTINEL', 'master', masterName], 2_000))
					.trim()
					.split('\n');
				const fields: Record<string, string> = {};
				for (let i = 0; i + 1 < lines.length; i += 2) fields[lines[i].trim()] = lines[i + 1].trim();
				return (
					(fields.flags === 'master' && fields['role-reported'] === 'master') ||
					`flags=${fields.flags} role-reported=${fields['role-reported']}`
				);
			},
			timeoutMs,
		);

		return { masterPort: master.port, sentinelPort: sentinel.port, masterName, dir, stop };
	} catch (error) {
		await stop();
		throw error;
	}
}
