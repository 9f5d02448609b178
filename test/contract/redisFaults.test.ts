/**
 * Redis failing in the ways it fails in production: down for longer than every timeout, stopped
 * (SIGSTOP: the socket stays open, nothing answers), and refusing the credential's password.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ICredentialTestFunctions, ICredentialsDecrypted } from 'n8n-workflow';
import { testRedisCredential } from '../../nodes/shared/state';
import { parseRedisCredential } from '../../lib/state/connection';
import { RedisStateStore, StateUnavailableError } from '../../lib/state/redis';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';

const CHILD = join(__dirname, '../helpers/redisDownChild.ts');

function runChild(
	args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(
			process.execPath,
			['-r', 'ts-node/register/transpile-only', CHILD, ...args],
			{
				stdio: ['ignore', 'pipe', 'pipe'],
			},
		);
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d) => (stdout += d));
		child.stderr.on('data', (d) => (stderr += d));
		child.on('error', reject);
		child.on('exit', (code) => resolve({ code, stdout, stderr }));
	});
}

describe('Redis down for longer than every timeout', () => {
	it('rejects every call with StateUnavailableError and leaves no unhandled rejection', async () => {
		// a real port that had a server: stopped, so connections are refused
		const server = await startRedisServer();
		await server.stop();
		// past the 5 s connect timeout, the ready wait (connect + command timeout) and many retries;
		// then 11 s after close, past any timer an attempt left behind
		const { code, stdout, stderr } = await runChild([String(server.port), '12000', '11000']);
		expect(stderr).toBe('');
		expect(code).toBe(0);
		const result = JSON.parse(stdout) as {
			calls: number;
			stateUnavailable: number;
			other: string[];
			unhandled: string[];
		};
		expect(result.unhandled).toEqual([]);
		expect(result.other).toEqual([]);
		expect(result.calls).toBeGreaterThan(20);
		expect(result.stateUnavailable).toBe(result.calls);
	}, 45_000);
});

describe('Redis stopped (SIGSTOP): the command timeout', () => {
	let server: RedisServer;
	beforeAll(async () => {
		server = await startRedisServer();
	});
	afterAll(async () => {
		if (server.pid) process.kill(server.pid, 'SIGCONT');
		await server.stop();
	});

	const store = (keyPrefix: string) =>
		new RedisStateStore({
			mode: 'standalone',
			host: '127.0.0.1',
			port: server.port,
			keyPrefix,
			commandTimeoutMs: 1000,
		});

	async function whileStopped<T>(fn: () => Promise<T>): Promise<T> {
		const pid = server.pid!;
		process.kill(pid, 'SIGSTOP');
		try {
			return await fn();
		} finally {
			process.kill(pid, 'SIGCONT');
		}
	}

	async function failure(p: Promise<unknown>): Promise<{ error: Error; ms: number }> {
		const t0 = Date.now();
		const error = await p.then(
			() => new Error('resolved'),
			(e: Error) => e,
		);
		return { error, ms: Date.now() - t0 };
	}

	it('fails a call on a connected store within the timeout, naming the server and the timeout', async () => {
		const s = store('stop1:');
		await s.ping();
		const { error, ms } = await whileStopped(() => failure(s.getCircuits(['a'])));
		expect(error).toBeInstanceOf(StateUnavailableError);
		expect(error.message).toContain(`127.0.0.1:${server.port}`);
		expect(error.message).toContain('no answer within 1000 ms');
		expect(ms).toBeLessThan(1000 + 1500);
		// and it works again once Redis answers
		await expect(s.getCircuits(['a'])).resolves.toEqual([null]);
		await s.close();
	});

	it('fails the first call of a store that never connected within timeout + margin', async () => {
		const s = store('stop2:');
		const { error, ms } = await whileStopped(() => failure(s.ping()));
		expect(error).toBeInstanceOf(StateUnavailableError);
		expect(error.message).toContain(`127.0.0.1:${server.port}`);
		// the TCP handshake completes (the kernel answers it): only the command timeout can fire
		expect(ms).toBeLessThan(1000 + 1500);
		await s.close();
	});
});

describe('Redis refusing the credential', () => {
	const PASSWORD = 'right-horse-battery';
	const WRONG = 'wrong-staple-9f3k';
	let server: RedisServer;
	beforeAll(async () => {
		server = await startRedisServer({ password: PASSWORD });
	});
	afterAll(async () => {
		await server.stop();
	});

	const credential = (password: string) => ({
		mode: 'standalone',
		host: '127.0.0.1',
		port: server.port,
		password,
		prefix: 'auth:',
	});

	it('names a wrong password as such on a call, without the password', async () => {
		const s = new RedisStateStore(parseRedisCredential(credential(WRONG)));
		const error = await s.ping().then(
			() => new Error('resolved'),
			(e: Error) => e,
		);
		await s.close();
		expect(error).toBeInstanceOf(StateUnavailableError);
		expect(error.message).toContain(
			`Redis at 127.0.0.1:${server.port} refused the credential's user/password`,
		);
		expect(error.message).toMatch(/WRONGPASS|invalid password/);
		expect(error.message).not.toContain(WRONG);
		expect(error.message).not.toContain(PASSWORD);
	});

	it('names a missing password as such', async () => {
		const s = new RedisStateStore(parseRedisCredential(credential('')));
		const error = await s.getCircuits(['a']).then(
			() => new Error('resolved'),
			(e: Error) => e,
		);
		await s.close();
		expect(error).toBeInstanceOf(StateUnavailableError);
		expect(error.message).toContain("refused the credential's user/password");
		expect(error.message).toContain('NOAUTH');
	});

	it('names a wrong password in the credential test, without the password', async () => {
		const test = (password: string) =>
			testRedisCredential.call(
				{} as ICredentialTestFunctions,
				{
					data: credential(password),
				} as unknown as ICredentialsDecrypted,
			);
		const wrong = await test(WRONG);
		expect(wrong.status).toBe('Error');
		expect(wrong.message).toContain("refused the credential's user/password");
		expect(wrong.message).not.toContain(WRONG);
		expect(await test(PASSWORD)).toEqual({
			status: 'OK',
			message: 'Connected: Redis answered PING',
		});
	});
});
