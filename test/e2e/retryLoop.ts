/**
 * The broadcast example's retry loop in a real n8n: Deferred → Count Try → Retries Left? → Wait
 * Until Retry Time → back into the Route Partitioner. The example runs as it is, on 20 recipients,
 * with daily caps of 7 (Relay A) and 3 (Relay B) and a sending day that ends 30–60 s after
 * `n8n execute` starts (Day Starts At read from the environment, so it is set at the last moment):
 * 10 recipients are deferred until the day ends, the Wait holds them in the process (under n8n's
 * 65 s), and the partitioner, on a new day with fresh caps, routes them. Checks that the sink got
 * every message exactly once, each deferred one after its retryAt, and that the one recipient the
 * sink refuses went to the Delivery Log without stopping the run.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSmtpSink } from '../helpers/smtpSink';
import { ownerRest, serverVars, startN8nServer, stopN8nServer } from './server';
import { Checks, extractRunJson, freePort, log, step, type RunItem } from './lib';
import { install, n8n, n8nEnv, type Env, type Packed } from './run';
import { smtpCredential } from './workflow';

const ID = 'wfPostalRetryLoop';
const ROUTER = 'Route by Domain Group';
const WAIT = 'Wait Until Retry Time';
const REFUSED = 'customer0@gmail.com';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString().slice(11, 23);

// example workflow JSON, patched node by node
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

function retryWorkflow(repo: string): Json {
	const wf = JSON.parse(
		readFileSync(join(repo, 'examples', 'broadcast-domain-groups.json'), 'utf8'),
	) as Json;
	wf.id = ID;
	wf.active = false;
	const node = (name: string) => {
		const n = (wf.nodes as Json[]).find((x) => x.name === name);
		if (!n) throw new Error(`the broadcast example has no node "${name}"`);
		return n;
	};
	const code = node('Sample Recipients').parameters;
	if (!code.jsCode.includes('length: 2000'))
		throw new Error('the broadcast example no longer makes 2000 sample recipients');
	code.jsCode = code.jsCode.replace('length: 2000', 'length: 20');
	const router = node(ROUTER).parameters;
	router.routes.values[0].dailyCap = 7;
	router.routes.values[1].dailyCap = 3;
	router.options = { dayStart: '={{ $env.POSTAL_E2E_DAY_START }}', timeZone: 'UTC' };
	return wf;
}

/** Runs the scenario; its failed checks go to `failures`, a line of figures to `summary`. */
export async function runRetryLoop(
	env: Env,
	packed: Packed,
	work: string,
	repo: string,
	failures: string[],
	summary: string[],
): Promise<void> {
	const c = new Checks('retry loop');
	const base = join(work, 'retry-loop');
	mkdirSync(base, { recursive: true });
	const inst = await step('[retry loop] install the tarball (GUI installer steps)', () =>
		install(env, 'gui', packed, base),
	);
	// when each recipient's message was taken by the sink (the final dot), by this process's clock
	const arrived = new Map<string, number[]>();
	const sink = await startSmtpSink({
		reply: ({ phase, rcpt }) =>
			phase === 'rcpt' && rcpt === REFUSED
				? { code: 550, message: '5.1.1 No such user' }
				: undefined,
		onEvent: (e) => {
			if (e.type === 'data')
				for (const r of e.rcpts ?? []) arrived.set(r, [...(arrived.get(r) ?? []), Date.now()]);
		},
	});
	try {
		const wf = retryWorkflow(repo);
		const creds = new Map<string, string>();
		for (const n of wf.nodes as Json[])
			if (n.credentials?.postalSmtp)
				creds.set(n.credentials.postalSmtp.id, n.credentials.postalSmtp.name);
		const vars = {
			...n8nEnv(env, inst, base, await freePort(), join(base, 'resolve-probe.jsonl')),
			// Day Starts At comes from the environment: the test sets it just before the run
			N8N_BLOCK_ENV_ACCESS_IN_NODE: 'false',
		};
		const n8nLog = join(base, 'n8n.log');
		const file = (name: string, data: unknown) => {
			const f = join(base, name);
			writeFileSync(f, JSON.stringify(data));
			return f;
		};
		await step('[retry loop] n8n import:credentials + import:workflow', async () => {
			const credsFile = file(
				'credentials.json',
				[...creds].map(([id, name]) => smtpCredential(id, name, sink.port, '', '')),
			);
			await n8n(env, ['import:credentials', `--input=${credsFile}`], vars, n8nLog);
			await n8n(env, ['import:workflow', `--input=${file('workflow.json', wf)}`], vars, n8nLog);
		});

		// the sending day ends at the first minute boundary 30–60 s from now: long enough for n8n to
		// start and defer, short enough for the Wait to stay in the process (under 65 s)
		const now = Date.now();
		const dayEnds = Math.ceil((now + 30_000) / 60_000) * 60_000;
		if (dayEnds - now > 60_000) await sleep(dayEnds - now - 60_000);
		const dayStart = new Date(dayEnds).toISOString().slice(11, 16);
		const started = Date.now();
		const exec = await step(
			`[retry loop] n8n execute (the sending day ends at ${dayStart} UTC)`,
			() =>
				n8n(
					env,
					['execute', `--id=${ID}`, '--rawOutput'],
					{ ...vars, POSTAL_E2E_DAY_START: dayStart },
					n8nLog,
					true,
				),
		);
		const runJson = extractRunJson(exec.stdout) ?? extractRunJson(exec.stderr);
		c.equal(exec.code, 0, 'exit code');
		c.ok(
			runJson && !runJson.data.resultData.error,
			`ran without a workflow error${runJson?.data.resultData.error ? `: ${runJson.data.resultData.error.message}` : ''}`,
		);
		const runData = runJson?.data.resultData.runData ?? {};
		const outs = (node: string, run: number) =>
			(runData[node]?.[run]?.data?.main ?? []).map((o) => (o ?? []) as RunItem[]);
		const recipient = (i: RunItem) => i.json.recipient as string;

		// first pass: 7 + 3 routed, 10 deferred until the day ends; then one Wait, and the partitioner
		// again with fresh caps
		const [a0 = [], b0 = [], deferred = []] = outs(ROUTER, 0);
		c.equal(
			[a0.length, b0.length, deferred.length],
			[7, 3, 10],
			'first pass: Relay A, Relay B, Deferred',
		);
		const retryAts = [...new Set(deferred.map((i) => (i.json.postalRoute as Json).retryAt))];
		c.equal(
			retryAts,
			[new Date(dayEnds).toISOString()],
			"the deferred items' retryAt: the end of the sending day",
		);
		c.equal(runData[WAIT]?.length ?? 0, 1, 'the Wait ran once');
		const [a1 = [], b1 = [], again = []] = outs(ROUTER, 1);
		c.equal(
			[a1.length, b1.length, again.length],
			[7, 3, 0],
			'after the Wait: Relay A, Relay B, Deferred',
		);

		// the sink: every recipient but the refused one exactly once, the deferred ones after retryAt
		const everyone = [...a0, ...b0, ...deferred].map(recipient);
		c.equal(new Set(everyone).size, 20, 'distinct recipients through the first pass');
		const twice = [...arrived].filter(([, t]) => t.length !== 1).map(([r]) => r);
		c.equal(twice, [], 'recipients the sink got more (or less) than once');
		c.equal(
			[...arrived.keys()].sort(),
			everyone.filter((r) => r !== REFUSED).sort(),
			'the sink got every recipient but the refused one',
		);
		const late = deferred.map((i) => arrived.get(recipient(i))?.[0] ?? NaN);
		c.ok(
			late.every((t) => t >= dayEnds),
			`every deferred message reached the sink after its retryAt (${iso(dayEnds)}): ${late.length ? `${iso(Math.min(...late))}–${iso(Math.max(...late))}` : 'none'}`,
		);
		const early = [...a0, ...b0]
			.filter((i) => recipient(i) !== REFUSED)
			.map((i) => arrived.get(recipient(i))?.[0] ?? NaN);
		c.ok(
			early.every((t) => t < dayEnds),
			'the first pass went before the day ended',
		);

		// the refused one: Failed → the Delivery Log. `n8n execute` does not start n8n's modules (its
		// command never calls initModules; start, worker and webhook do), so the data table is not there
		// and the node says so: its On Error (Continue) keeps the run going, the item carries the error
		const logRuns = runData['Delivery Log'] ?? [];
		const logged = logRuns.flatMap((r) => r.data?.main?.[0] ?? []);
		// n8n puts `{ error }` in place of a failed item's fields: who it was, by its paired item
		const source = (
			logRuns[0] as
				| {
						source?: Array<{
							previousNode: string;
							previousNodeOutput?: number;
							previousNodeRun?: number;
						}>;
				  }
				| undefined
		)?.source?.[0];
		const loggedRecipients = logged.map((i) => {
			const k = (i.pairedItem as { item?: number } | undefined)?.item ?? 0;
			const from =
				source &&
				outs(source.previousNode, source.previousNodeRun ?? 0)[source.previousNodeOutput ?? 0]?.[k];
			return from ? [recipient(from), (from.json.postalDelivery as Json).status] : [null, null];
		});
		c.equal(
			loggedRecipients,
			[[REFUSED, 'failed']],
			'the Delivery Log got the refused recipient: [recipient, status]',
		);
		const logError = JSON.stringify((logged[0] as { error?: unknown } | undefined)?.error ?? null);
		c.ok(
			(runData[WAIT]?.length ?? 0) === 1,
			`the Delivery Log's error stopped nothing (the Wait and the second pass ran); its error: ${logError.slice(0, 160)}`,
		);

		const partitionerAt = (runData[ROUTER]?.[0] as { startTime?: number } | undefined)?.startTime;
		const figures =
			`retry loop: ${deferred.length} deferred at ${partitionerAt ? iso(partitionerAt) : '?'} until ${iso(dayEnds)} ` +
			`(${((dayEnds - started) / 1000).toFixed(1)} s after n8n execute started); the sink got them ` +
			`${late.length ? `${((Math.min(...late) - dayEnds) / 1000).toFixed(2)}–${((Math.max(...late) - dayEnds) / 1000).toFixed(2)} s after retryAt` : 'never'}; ` +
			`${arrived.size} recipients at the sink, each once; ${logged.length} item(s) to the Delivery Log`;
		log(`  ${figures}`);
		summary.push(figures);
	} catch (error) {
		if (!c.failures.length)
			c.failures.push(`[retry loop] ${(error as Error).message.split('\n')[0]}`);
	} finally {
		await sink.stop();
	}
	failures.push(...c.failures);
	// the Delivery Log needs n8n's data-table module, which only a running n8n has
	failures.push(...(await runDeliveryLog(env, packed, work)));
}

/**
 * The Delivery Log in a running n8n (`n8n start`: its modules, the data table one included, are
 * up): the funnel example published, the owner creates the `delivery log` data table through
 * n8n's REST API as the editor does, and a sign-up whose address the sink refuses (550) is POSTed
 * to the example's webhook. Checks the row n8n wrote: recipient, outcome `failed`, the 550.
 */
export async function runDeliveryLog(env: Env, packed: Packed, work: string): Promise<string[]> {
	const c = new Checks('delivery log');
	const base = join(work, 'delivery-log');
	mkdirSync(base, { recursive: true });
	const inst = await step('[delivery log] install the tarball (GUI installer steps)', () =>
		install(env, 'gui', packed, base),
	);
	const refused = 'gone.signup@gmail.com';
	const sink = await startSmtpSink({
		reply: ({ phase, rcpt }) =>
			phase === 'rcpt' && rcpt === refused
				? { code: 550, message: '5.1.1 No such user' }
				: undefined,
	});
	const vars = serverVars(
		n8nEnv(env, inst, base, await freePort(), join(base, 'resolve-probe.jsonl')),
		await freePort(),
	);
	const n8nLog = join(base, 'n8n.log');
	let server: ChildProcess | undefined;
	try {
		const wf = JSON.parse(
			readFileSync(join(__dirname, '..', '..', 'examples', 'webhook-funnel-send.json'), 'utf8'),
		) as Json;
		wf.id = 'wfPostalFunnelLog';
		const creds = new Map<string, string>();
		for (const n of wf.nodes as Json[])
			if (n.credentials?.postalSmtp)
				creds.set(n.credentials.postalSmtp.id, n.credentials.postalSmtp.name);
		const credsFile = join(base, 'credentials.json');
		writeFileSync(
			credsFile,
			JSON.stringify([...creds].map(([id, name]) => smtpCredential(id, name, sink.port, '', ''))),
		);
		const wfFile = join(base, 'workflow.json');
		writeFileSync(wfFile, JSON.stringify([wf]));
		await step('[delivery log] n8n import + publish:workflow', async () => {
			await n8n(env, ['import:credentials', `--input=${credsFile}`], vars, n8nLog);
			await n8n(env, ['import:workflow', `--input=${wfFile}`], vars, n8nLog);
			await n8n(env, ['publish:workflow', `--id=${wf.id}`], vars, n8nLog);
		});
		let url: string;
		({ server, url } = await startN8nServer(env, inst.userFolder, vars, n8nLog, 'delivery log'));
		const owner = await ownerRest(url, 'Delivery-Log-2026');
		const rest = owner.call;
		// the table, as a user makes it once (Overview › Data tables), with the example's columns
		const project = await rest('/projects/personal');
		const logNode = (wf.nodes as Json[]).find((n) => n.name === 'Delivery Log')!;
		const table = await rest(`/projects/${project.id}/data-tables`, {
			name: logNode.parameters.dataTableId.value,
			columns: (logNode.parameters.columns.schema as Json[]).map((s) => ({
				name: s.id,
				type: s.type,
			})),
		});
		const hook = `${url}/webhook/${(wf.nodes as Json[]).find((n) => n.type === 'n8n-nodes-base.webhook')!.parameters.path}`;
		const posted = await step('[delivery log] POST a sign-up the sink refuses', () =>
			until(async () => {
				const r = await fetch(hook, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ email: refused, name: 'Gone' }),
				});
				return r.status === 404 ? undefined : r.status;
			}, 60_000),
		);
		c.equal(posted, 200, 'the webhook took the sign-up');
		const rows = await until(async () => {
			const data = await rest(`/projects/${project.id}/data-tables/${table.id}/rows`);
			return (data.data as Json[] | undefined)?.length ? (data.data as Json[]) : undefined;
		}, 60_000).catch(() => [] as Json[]);
		c.equal(
			rows.map((r) => [r.recipient, r.outcome, r.tries]),
			[[refused, 'failed', 0]],
			'a row in the real data table: [recipient, outcome, tries]',
		);
		c.ok(/550/.test(String(rows[0]?.detail)), `its detail has the 550: ${String(rows[0]?.detail)}`);
		c.equal(sink.messages.length, 0, 'messages at the sink');
	} catch (error) {
		c.ok(false, (error as Error).message.split('\n')[0]);
	} finally {
		await stopN8nServer(server);
		await sink.stop();
	}
	return c.failures;
}

async function until<T>(fn: () => Promise<T | undefined>, ms: number): Promise<T> {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v !== undefined) return v;
		if (Date.now() > end) throw new Error(`gave up after ${ms / 1000} s`);
		await sleep(500);
	}
}
