import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
	port: number;
	dir: string;
	/** the running redis-server's process id (to SIGSTOP it), undefined while stopped */
	readonly pid: number | undefined;
	stop(): Promise<void>;
	/** starts it again on the same port and data folder */
	start(): Promise<void>;
}

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address() as { port: number };
			srv.close(() => resolve(port));
		});
	});
}

function ping(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const s = new Socket();
		const done = (ok: boolean) => {
			s.destroy();
			resolve(ok);
		};
		s.setTimeout(500, () => done(false));
		s.once('error', () => done(false));
		s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
		// with --requirepass an unauthenticated PING gets NOAUTH: the server is up all the same
		s.once('data', (d) => done(/^(\+PONG|-NOAUTH)/.test(d.toString())));
	});
}

/**
 * A real redis-server (the Debian package) on a free loopback port, for the tests. `persistent`
 * turns on an fsync-always append-only file, so a restart keeps what was written.
 */
export async function startRedisServer(
	options: { persistent?: boolean; password?: string } = {},
): Promise<RedisServer> {
	if (spawnSync('redis-server', ['--version']).status !== 0) {
		throw new Error(
			'redis-server is not installed: run `apt-get install -y redis-server` (.ci/run does this)',
		);
	}
	const port = await freePort();
	const dir = mkdtempSync(join(tmpdir(), 'postal-redis-'));
	let child: ChildProcess | undefined;
	const args = [
		'--port',
		String(port),
		'--bind',
		'127.0.0.1',
		'--dir',
		dir,
		'--save',
		'',
		'--daemonize',
		'no',
		'--protected-mode',
		'yes',
		'--loglevel',
		'warning',
	];
	args.push('--appendonly', options.persistent ? 'yes' : 'no');
	if (options.persistent) args.push('--appendfsync', 'always');
	if (options.password) args.push('--requirepass', options.password);

	const start = async () => {
		child = spawn('redis-server', args, { stdio: 'ignore' });
		for (let i = 0; i < 100; i++) {
			if (await ping(port)) return;
			await new Promise((r) => setTimeout(r, 50));
		}
		throw new Error(`redis-server did not start on port ${port}`);
	};
	const stop = async () => {
		const c = child;
		if (!c || c.exitCode !== null) return;
		await new Promise<void>((resolve) => {
			c.once('exit', () => resolve());
			c.kill('SIGTERM');
		});
	};
	await start();
	return {
		port,
		dir,
		get pid() {
			return child && child.exitCode === null ? child.pid : undefined;
		},
		stop,
		start,
	};
}
