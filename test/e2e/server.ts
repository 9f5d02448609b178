/**
 * A running `n8n start` for the e2e scenarios that need one (a webhook, the REST API): start it in
 * its own process group, set up the owner for a session cookie, and stop the whole group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { step, waitFor } from './lib';
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

/** The variables a served n8n needs on top of n8nEnv's: loopback on `port`, plain-http cookies. */
export function serverVars(vars: NodeJS.ProcessEnv, port: number): NodeJS.ProcessEnv {
	return {
		...vars,
		N8N_PORT: String(port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_SECURE_COOKIE: 'false',
		NODE_ENV: 'production',
	};
}

/** `n8n start` (spawnN8nServer), waited for until /healthz/readiness answers, as a timed step. */
export async function startN8nServer(
	env: Env,
	cwd: string,
	vars: NodeJS.ProcessEnv,
	logFile: string,
	label: string,
): Promise<{ server: ChildProcess; url: string }> {
	const url = `http://127.0.0.1:${vars.N8N_PORT}`;
	const server = spawnN8nServer(env, cwd, vars, logFile);
	await step(`[${label}] n8n start, until /healthz/readiness`, () =>
		waitFor(
			'n8n to be ready',
			async () => {
				if (server.exitCode !== null) throw new Error(`n8n exited (${server.exitCode})`);
				return (await fetch(`${url}/healthz/readiness`)).ok ? true : undefined;
			},
			120_000,
		),
	);
	return { server, url };
}

/** The REST API as the owner (ownerSession's cookie): GET, or POST with a JSON body; `data` back. */
export interface OwnerRest {
	ok: boolean;
	cookie: string;
	call(path: string, body?: unknown): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function ownerRest(url: string, password: string): Promise<OwnerRest> {
	const { ok, cookie } = await ownerSession(url, password);
	return {
		ok,
		cookie,
		async call(path, body) {
			const r = await fetch(`${url}/rest${path}`, {
				method: body ? 'POST' : 'GET',
				headers: { cookie, 'content-type': 'application/json' },
				body: body ? JSON.stringify(body) : undefined,
			});
			if (!r.ok)
				throw new Error(`${body ? 'POST' : 'GET'} /rest${path}: ${r.status} ${await r.text()}`);
			return ((await r.json()) as { data: unknown }).data;
		},
	};
}

/** A workflow's executions (newest first) once there is one and none is running or new. */
export function finishedExecutions(
	rest: OwnerRest,
	workflowId: string,
	what: string,
	ms: number,
): Promise<Array<{ id: string; status: string }>> {
	return waitFor(
		what,
		async () => {
			const data = (await rest.call(
				`/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`,
			)) as { results: Array<{ id: string; status: string }> };
			return data.results.length &&
				data.results.every((e) => e.status !== 'running' && e.status !== 'new')
				? data.results
				: undefined;
		},
		ms,
	);
}

export type ServedRunData = Record<
	string,
	Array<{ data?: { main: Array<Array<{ json: Record<string, unknown> }> | null> } }>
>;

/** An execution's result data, read as the editor reads it (n8n keeps it "flatted": its own copy parses it). */
export async function executionResult(
	env: Env,
	rest: OwnerRest,
	id: string,
): Promise<{ runData: ServedRunData; error?: { message: string } }> {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const flatted = require(join(env.n8nDir, 'node_modules', 'flatted')) as {
		parse: (s: string) => { resultData: { runData: ServedRunData; error?: { message: string } } };
	};
	return flatted.parse(((await rest.call(`/executions/${id}`)) as { data: string }).data)
		.resultData;
}
