/**
 * A running `n8n start` for the e2e scenarios that need one (a webhook, the REST API): start it in
 * its own process group, set up the owner for a session cookie, and stop the whole group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import type { Env } from './run';

/** `n8n start` in `cwd` (the n8n user folder), its output appended to `logFile`. */
export function spawnN8nServer(
	env: Env,
	cwd: string,
	vars: NodeJS.ProcessEnv,
	logFile: string,
): ChildProcess {
	return spawn(env.node24, [env.n8nBin, 'start'], {
		cwd,
		env: vars,
		detached: true,
		stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')],
	});
}

/** Stops the server's process group: SIGTERM, then SIGKILL after 10 s. */
export async function stopN8nServer(server: ChildProcess | undefined): Promise<void> {
	if (!server?.pid || server.exitCode !== null) return;
	const gone = new Promise((r) => server.once('exit', r));
	process.kill(-server.pid, 'SIGTERM');
	const t = setTimeout(() => server.pid && process.kill(-server.pid, 'SIGKILL'), 10_000);
	await gone;
	clearTimeout(t);
}

/** The owner set-up (POST /rest/owner/setup): its answer, and the n8n-auth cookie it set. */
export async function ownerSession(
	url: string,
	password: string,
): Promise<{ ok: boolean; cookie: string }> {
	const setup = await fetch(`${url}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({
			email: 'owner@postal-routes.example',
			firstName: 'Postal',
			lastName: 'Routes',
			password,
		}),
	});
	const cookie = (setup.headers.getSetCookie().find((s) => s.startsWith('n8n-auth=')) ?? '').split(
		';',
	)[0];
	return { ok: setup.ok, cookie };
}
