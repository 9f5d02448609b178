/**
 * kill -9 mid-send, re-run, count: the scenario and its checks, for ./killResend.test.ts (Redis,
 * memory) and ./killResendSqlite.test.ts (the SQLite embedded store, on Node 24). A child process
 * (./sendChild.ts: Recipients → Load-Balanced Send through the n8n engine, with the bundled node
 * classes from dist/) sends a campaign to a real SMTP sink that lives in this process, like the
 * Redis server; when the sink's reply hook sees the `killAfter`-th message, this process SIGKILLs
 * the child. A fresh child then runs the same campaign at once (same store), and, once the leases
 * the killed run left have run out, again with "Don't Resend" (at most once) and then with "Resend"
 * (at least once: the README's recovery of in-doubt messages). The sink counts who got the message
 * twice and who never got it.
 *
 * "On the wire at the kill", precisely: the messages the killed child had claimed and not settled,
 * i.e. the leases it left in the store. The immediate re-run reports exactly these as
 * skipped-in-flight (`inFlightSkips`); there are at most Parallel Sends of them. The sink sees
 * them as
 *  - transactions open at the kill instant: MAIL FROM handled, the final reply to DATA not yet sent
 *    (`openAtKill`; it includes the message the kill came at, accepted just after it);
 *  - transactions it handled only after the kill instant: bytes the child wrote before it died,
 *    read afterwards (`startedAfterKill`);
 *  - messages it accepted (250 sent) shortly before the kill whose reply the child had not read,
 *    or whose settlement had not reached the store: `leasesAnswered`, the oldest
 *    `oldestLeaseReplyMs` before the kill, bounded by counting every 250 of the last 20 ms
 *    (`repliedLast20ms`);
 *  - not at all (`leasesUnseen`): the child had claimed the message and died before its MAIL FROM
 *    and RCPT TO reached the socket (a claim is a store round trip and nodemailer's preparation
 *    before the first byte), or — the known bug below — the message waited in nodemailer's pool for
 *    a connection.
 * `onTheWire` = openAtKill + startedAfterKill + repliedLast20ms bounds the doubled ones; the lost
 * ones (under "Don't Resend") are bounded by the leases, which may include unseen ones.
 *
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recipients } from '../helpers/recipients';
import { startSmtpSink, type SinkEvent } from '../helpers/smtpSink';
import type { ChildMessage, Go, ItemResult, ParentMessage, SendJob, SendResult } from './sendChild';

const ROOT = join(__dirname, '..', '..');
const CHILD = join(__dirname, 'sendChild.ts');
const LEASE_SECONDS = 5;
/** a 250 sent this shortly before the kill may not have been read (or settled) by the child */
const REPLY_WINDOW_MS = 20;
const SEND = 'Send';

/** every scenario's rows, for the table at the end */
const rows: Counts[] = [];

/** The counts of every scenario run so far, as a table. */
export function countsTable(): string {
	return rows.length ? table(rows) : '';
}

/** The suites run the bundled node classes: say how to get them instead of failing obscurely. */
export function requireDist(): void {
	if (!existsSync(join(ROOT, 'dist', 'nodes', 'LoadBalancedSend', 'LoadBalancedSend.node.js')))
		throw new Error('run `npm run build` first: these tests run the bundled node classes in dist/');
}

// ---------------------------------------------------------------------------------------------
// children
// ---------------------------------------------------------------------------------------------

interface Child {
	proc: ChildProcess;
	ready: Promise<void>;
	/** runs one execution; rejects if the child ends without its result */
	run(go: Go): Promise<SendResult>;
	/** starts one execution and does not wait (the one that is killed) */
	start(go: Go): void;
	exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnChild(job: SendJob, node: string): Child {
	const proc = spawn(node, ['-r', 'ts-node/register', CHILD], {
		cwd: ROOT,
		env: { ...process.env, POSTAL_SEND_JOB: JSON.stringify(job) },
		stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
	});
	const err: Buffer[] = [];
	proc.stderr!.on('data', (d: Buffer) => err.push(d));
	const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
		proc.once('exit', (code, signal) => resolve({ code, signal })),
	);
	let onReady: () => void;
	const ready = new Promise<void>((resolve) => (onReady = resolve));
	const waiting: Array<{ resolve: (r: SendResult) => void; reject: (e: Error) => void }> = [];
	let ended: Error | undefined;
	const fail = (e: Error) => {
		ended ??= e;
		for (const w of waiting.splice(0)) w.reject(e);
	};
	proc.on('message', (m: ChildMessage) => {
		if ('ready' in m) onReady();
		else if ('result' in m) waiting.shift()?.resolve(m.result);
		else fail(new Error(`the child failed: ${m.failed}`));
	});
	void exited.then(({ code, signal }) =>
		fail(new Error(`the child ended (${code ?? signal}):\n${Buffer.concat(err)}`)),
	);
	const start = (go: Go) => proc.send({ go } satisfies ParentMessage);
	return {
		proc,
		ready,
		exited,
		start,
		run: (go) =>
			new Promise<SendResult>((resolve, reject) => {
				if (ended) return reject(ended);
				waiting.push({ resolve, reject });
				start(go);
			}),
	};
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout;
	return Promise.race([
		promise.finally(() => clearTimeout(timer)),
		new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
		}),
	]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// what the sink saw of the killed run
// ---------------------------------------------------------------------------------------------

/** The killed run as the sink saw it, event by event, and a snapshot at the kill instant. */
class Wire {
	/** sessions with an open transaction: MAIL FROM handled, no final reply yet, connection open */
	readonly open = new Set<string>();
	/** first RCPT TO per recipient, and the 250 to its DATA, in the killed run */
	readonly seenAt = new Map<string, number>();
	readonly acceptedAt = new Map<string, number>();
	/** whole messages received whose final reply is not sent yet */
	pending = 0;
	killAt = Infinity;
	/** the message whose end of DATA the kill came at: accepted after it, its 250 never read */
	killedRcpt?: string;
	atKill = { open: 0, repliedLast20ms: 0 };
	startedAfterKill = 0;
	private recording = true;

	on(e: SinkEvent): void {
		if (e.type === 'data') this.pending++;
		if (e.type === 'reply') this.pending--;
		if (!this.recording) return;
		if (e.type === 'mail') {
			this.open.add(e.session);
			if (e.at > this.killAt) this.startedAfterKill++;
		} else if (e.type === 'rcpt') {
			for (const r of e.rcpts!) if (!this.seenAt.has(r)) this.seenAt.set(r, e.at);
		} else if (e.type === 'reply') {
			this.open.delete(e.session);
			if (e.code === 250) for (const r of e.rcpts!) this.acceptedAt.set(r, e.at);
		} else if (e.type === 'close') this.open.delete(e.session);
	}

	/** at the kill instant: nothing the sink handles later changes this */
	snapshot(rcpt: string): void {
		this.killAt = performance.now();
		this.killedRcpt = rcpt;
		this.atKill = {
			open: this.open.size,
			repliedLast20ms: [...this.acceptedAt.values()].filter(
				(t) => t > this.killAt - REPLY_WINDOW_MS,
			).length,
		};
	}

	/** the re-runs are not the killed run */
	stop(): void {
		this.recording = false;
	}
}

// ---------------------------------------------------------------------------------------------
// one scenario
// ---------------------------------------------------------------------------------------------

export interface Spec {
	name: string;
	store: SendJob['store'];
	/** the Redis server's port, for the Redis store */
	redisPort?: number;
	/** the Connection Rate Limit, per second (none when absent) */
	rate?: number;
	total: number;
	/** SIGKILL the child when the sink's reply hook sees this many messages */
	killAfter: number;
	concurrency: number;
	/** the SMTP credential's pool size; default = Parallel Sends */
	poolSize?: number;
	/** the store outlives the child: re-run after the lease too, under both policies */
	durable: boolean;
}

/** One row of the table: a scenario, counted after a policy's re-run. */
export interface Counts {
	scenario: string;
	/** messages the sink accepted from the killed child (also those it finished after the kill instant) */
	sentBeforeKill: number;
	/** at the kill instant: open transactions, and replies (250) sent in the last REPLY_WINDOW_MS */
	openAtKill: number;
	repliedLast20ms: number;
	/** transactions the sink handled only after the kill instant (written before the child died) */
	startedAfterKill: number;
	/** what the sink can see of "on the wire": open + started after + replied in the last 20 ms */
	onTheWire: number;
	/** the leases left: skipped-in-flight on the immediate re-run */
	inFlightSkips: number;
	/** leases whose 250 the sink had sent before the kill instant, and how long before the oldest */
	leasesAnswered: number;
	oldestLeaseReplyMs: number;
	/** leases whose recipient the sink never saw (no RCPT TO) in the killed run */
	leasesUnseen: number;
	/** the run after the lease: sent again (resentAfter), left as in-doubt */
	resent: number;
	inDoubtSkips: number;
	deliveredTwice: number;
	neverDelivered: number;
	/** run times, ms: the immediate re-run, and this policy's run after the lease */
	rerunMs: number;
	afterLeaseMs: number;
}

/** Deliveries per recipient at the sink, now. */
export type Tally = Map<string, number>;

export interface Outcome {
	spec: Spec;
	/** the n8n folder every child of the scenario had (removed at the end) */
	userFolder: string;
	people: string[];
	killedExecution: string;
	wire: Wire;
	killed: { code: number | null; signal: NodeJS.Signals | null };
	/** Date.now() at the kill, and when the immediate re-run was told to start */
	killWall: number;
	rerunWall: number;
	rerun: SendResult;
	/** the tally after the immediate re-run */
	afterRerun: Tally;
	/** durable stores: after the lease, "Don't Resend" first (it changes no marker), then "Resend" */
	skipRun?: SendResult;
	afterSkip?: Tally;
	resendRun?: SendResult;
	afterResend?: Tally;
	/** what each part took, ms */
	phases: Record<string, number>;
}

let scenarioNo = 0;

/**
 * Runs a campaign in a child, kills it at the `killAfter`-th message, re-runs it at once in a fresh
 * child; on a durable store, after the lease too: with "Don't Resend" (at most once), and then —
 * the README's recovery of in-doubt messages — with "Resend" (at least once). "Don't Resend" reads
 * an in-doubt marker without changing it, so the "Resend" run meets exactly what it would have met
 * straight after the lease.
 */
export async function runScenario(spec: Spec): Promise<Outcome> {
	const n = ++scenarioNo;
	const people = recipients(spec.total, 1000 + n).map((r) => r.email);
	const wire = new Wire();
	let received = 0;
	let killed: ((at: number) => void) | undefined;
	const killedAt = new Promise<number>((resolve) => (killed = resolve));
	let victim: Child | undefined;
	const sink = await startSmtpSink({
		onEvent: (e) => wire.on(e),
		reply: (ctx) => {
			if (ctx.phase === 'data' && victim && ++received === spec.killAfter) {
				wire.snapshot(ctx.rcpt);
				victim.proc.kill('SIGKILL');
				killed!(Date.now());
			}
			return undefined; // accept: the message the kill cut off is delivered, its 250 never read
		},
	});
	const tally = (): Tally => {
		const t = new Map(people.map((p) => [p, 0]));
		for (const m of sink.messages) for (const r of m.rcpts) t.set(r, (t.get(r) ?? 0) + 1);
		return t;
	};
	// one n8n folder for every child of the scenario: the SQLite store's file lives there
	const userFolder = mkdtempSync(join(tmpdir(), 'postal-kill-'));
	const job: SendJob = {
		workflowId: `wfKill${n}`,
		total: spec.total,
		seed: 1000 + n,
		smtpPort: sink.port,
		poolSize: spec.poolSize ?? spec.concurrency,
		// no connection is recycled mid-run (a claimed message would wait for the next one's handshake)
		messagesPerConnection: 100_000,
		store: spec.store,
		...(spec.store === 'redis' ? { redis: { port: spec.redisPort!, keyPrefix: `kill${n}:` } } : {}),
		userFolder,
		options: {
			concurrency: spec.concurrency,
			leaseSeconds: LEASE_SECONDS,
			...(spec.rate ? { rateLimit: spec.rate, rateLimitPer: 'second', rateBurst: 1 } : {}),
		},
	};
	// this Node: the embedded store is a SQLite file where it has node:sqlite (npm run test:node24)
	const node = process.execPath;
	const ids = [1, 2, 3, 4].map((k) => `${n}0${k}`);
	// both load before the first starts, so the re-run begins the moment it is told to; the second
	// process also runs the campaign after the lease
	const t0 = Date.now();
	const children = [spawnChild(job, node), spawnChild(job, node)];
	const [first, second] = children;
	const phases: Record<string, number> = {};
	const lap = (name: string, since: number) => (phases[name] = Date.now() - since);
	try {
		await within(Promise.all(children.map((c) => c.ready)), 40_000, 'the children loading');
		lap('load', t0);
		victim = first;
		const goWall = Date.now();
		first.start({ executionId: ids[0], inDoubt: 'skip' });
		const killWall = await within(killedAt, 30_000, `${spec.killAfter} messages at the sink`);
		lap('kill', goWall);
		const exit = await within(first.exited, 5_000, 'the killed child exiting');
		// what the child wrote before it died is still read and answered: wait until the sink is done
		for (let i = 0; sink.openConnections() > 0 || wire.pending > 0; i++) {
			if (i > 500) throw new Error('the sink still has the killed child’s connections after 5 s');
			await sleep(10);
		}
		wire.stop();
		lap('drain', killWall);

		const rerunWall = Date.now();
		const rerun = await within(
			second.run({ executionId: ids[1], inDoubt: 'skip' }),
			60_000,
			'the immediate re-run',
		);
		const outcome: Outcome = {
			spec,
			userFolder,
			people,
			killedExecution: ids[0],
			wire,
			killed: exit,
			killWall,
			rerunWall,
			rerun,
			afterRerun: tally(),
			phases,
		};
		if (spec.durable) {
			// until every lease the killed run left has run out (the immediate re-run's records say when)
			const until = rerun.outputs[3].map((i) => Date.parse(i.skip?.leaseUntil ?? '0'));
			await sleep(
				Math.max(0, Math.max(rerunWall + LEASE_SECONDS * 1000, ...until) + 200 - Date.now()),
			);
			outcome.skipRun = await within(
				second.run({ executionId: ids[2], inDoubt: 'skip' }),
				60_000,
				'the "Don\'t Resend" re-run',
			);
			outcome.afterSkip = tally();
			outcome.resendRun = await within(
				second.run({ executionId: ids[3], inDoubt: 'resend' }),
				60_000,
				'the "Resend" re-run',
			);
			outcome.afterResend = tally();
		}
		lap('total', t0);
		for (const row of countsOf(outcome)) {
			rows.push(row);
			console.log(
				`${row.scenario}: ${JSON.stringify(row)} · phases (ms) ${JSON.stringify(phases)}`,
			);
		}
		return outcome;
	} finally {
		for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
		await Promise.all(children.map((c) => c.exited));
		await sink.stop();
		rmSync(userFolder, { recursive: true, force: true });
	}
}

export const inFlightOf = (o: Outcome) =>
	o.rerun.outputs[3].filter((i) => i.status === 'skipped-in-flight');
export const twiceIn = (t: Tally) => [...t].filter(([, c]) => c >= 2).map(([p]) => p);
export const neverIn = (t: Tally) => [...t].filter(([, c]) => c === 0).map(([p]) => p);

/** The table's rows for a scenario: one per policy run after the lease (one for the memory store). */
export function countsOf(o: Outcome): Counts[] {
	const { wire } = o;
	const leased = rcpts(inFlightOf(o));
	const leaseReplies = leased
		.map((r) => wire.acceptedAt.get(r))
		.filter((t): t is number => t !== undefined && t <= wire.killAt);
	const common = {
		sentBeforeKill: wire.acceptedAt.size,
		openAtKill: wire.atKill.open,
		repliedLast20ms: wire.atKill.repliedLast20ms,
		startedAfterKill: wire.startedAfterKill,
		onTheWire: wire.atKill.open + wire.startedAfterKill + wire.atKill.repliedLast20ms,
		inFlightSkips: leased.length,
		leasesAnswered: leaseReplies.length,
		oldestLeaseReplyMs: leaseReplies.length
			? +(wire.killAt - Math.min(...leaseReplies)).toFixed(2)
			: 0,
		leasesUnseen: leased.filter((r) => !wire.seenAt.has(r)).length,
		rerunMs: o.rerun.ms,
	};
	const row = (policy: string, run: SendResult | undefined, t: Tally): Counts => ({
		scenario: `${o.spec.name}${policy}`,
		...common,
		resent: run?.outputs[0].filter((i) => i.resentAfter).length ?? 0,
		inDoubtSkips: run?.outputs[3].filter((i) => i.status === 'in-doubt').length ?? 0,
		deliveredTwice: twiceIn(t).length,
		neverDelivered: neverIn(t).length,
		afterLeaseMs: run?.ms ?? 0,
	});
	if (!o.spec.durable) return [row('', undefined, o.afterRerun)];
	return [
		row(' · skip', o.skipRun, o.afterSkip!),
		row(' · then resend', o.resendRun, o.afterResend!),
	];
}

function table(list: Counts[]): string {
	const keys = Object.keys(list[0]) as Array<keyof Counts>;
	const cells = [keys.map(String), ...list.map((r) => keys.map((k) => String(r[k])))];
	const widths = keys.map((_, k) => Math.max(...cells.map((row) => row[k].length)));
	return cells.map((row) => row.map((c, k) => c.padEnd(widths[k])).join(' | ')).join('\n');
}

// ---------------------------------------------------------------------------------------------
// the checks
// ---------------------------------------------------------------------------------------------

const by = (o: Outcome) => `execution ${o.killedExecution} · ${SEND}`;
export const rcpts = (items: ItemResult[]) => items.map((i) => i.rcpt);

/** The killed run, the immediate re-run and the runs after the lease, on a store that outlives the child. */
export function checkDurable(o: Outcome): void {
	const { spec, wire, rerun } = o;
	const [counts] = countsOf(o);
	expect(o.killed.signal).toBe('SIGKILL');
	expect(counts.sentBeforeKill).toBeGreaterThanOrEqual(spec.killAfter);
	expect(counts.sentBeforeKill).toBeLessThan(spec.total);

	// the immediate re-run: the leases left are skipped as in flight, named after the killed run;
	// what the killed child settled is skipped as sent; the rest is sent; nothing doubled
	expect(rerun.error).toBeUndefined();
	const [sent, failed, fallback, skipped] = rerun.outputs;
	expect(failed).toEqual([]);
	expect(fallback).toEqual([]);
	expect(sent.length + skipped.length).toBe(spec.total);
	expect(sent.filter((i) => i.resentAfter)).toEqual([]);
	const inFlight = inFlightOf(o);
	expect(
		skipped.filter((i) => i.status !== 'skipped-in-flight' && i.status !== 'skipped-duplicate'),
	).toEqual([]);
	for (const i of inFlight) {
		expect(i.skip).toMatchObject({ reason: 'in-flight', by: by(o) });
		// a claim the child wrote just before it died may land in the store just after: before the re-run
		expect(Date.parse(i.skip!.since!)).toBeLessThan(o.rerunWall);
		expect(Date.parse(i.skip!.leaseUntil!)).toBe(Date.parse(i.skip!.since!) + LEASE_SECONDS * 1000);
	}
	expect(twiceIn(o.afterRerun)).toEqual([]);
	const leased = new Set(rcpts(inFlight));
	const accepted = new Set(wire.acceptedAt.keys());
	// the message the kill cut off (accepted after the kill, its 250 never read) holds a lease for sure
	expect(leased.has(wire.killedRcpt!)).toBe(true);
	expect(leased.size).toBeLessThanOrEqual(spec.concurrency);
	// with a rate limit, the sends waiting for it hold nothing: the pipeline that claimed before the
	// wait left every one of the Parallel Sends leased, most of them never seen by the sink; now only
	// those that had their turn are, and a send that had its turn goes on the wire at once. Counted
	// by what the sink never saw, not by the leases: on a machine slow enough that each send takes
	// longer than Parallel Sends turns of the rate (10 × 5 ms at 200/s), all ten are on the wire,
	// leased, and rightly so (a CI run under load saw 10, every one at the sink)
	if (spec.rate)
		expect([...leased].filter((r) => !wire.seenAt.has(r)).length).toBeLessThanOrEqual(
			spec.concurrency / 2,
		);
	// settled by the killed child = accepted without a lease: skipped as sent, not sent again
	expect(new Set(rcpts(skipped.filter((i) => i.status === 'skipped-duplicate')))).toEqual(
		new Set([...accepted].filter((r) => !leased.has(r))),
	);
	expect(rcpts(sent).filter((r) => accepted.has(r) || leased.has(r))).toEqual([]);

	// after the lease, "Don't Resend": every lease is in doubt, on Skipped, named after the killed
	// run; nothing is sent; nobody has it twice; the lost ones are exactly the leases that had not
	// gone through
	const skipRun = o.skipRun!;
	expect(skipRun.error).toBeUndefined();
	expect(skipRun.outputs.slice(0, 3)).toEqual([[], [], []]);
	const doubt = skipRun.outputs[3].filter((i) => i.status === 'in-doubt');
	expect(new Set(rcpts(doubt))).toEqual(leased);
	expect(skipRun.outputs[3].filter((i) => i.status !== 'in-doubt').length).toBe(
		spec.total - leased.size,
	);
	for (const i of doubt) {
		expect(i.skip).toMatchObject({ reason: 'in-doubt', by: by(o) });
		expect(Date.parse(i.skip!.since!)).toBeLessThan(o.rerunWall);
	}
	const lost = neverIn(o.afterSkip!);
	expect(twiceIn(o.afterSkip!)).toEqual([]);
	expect(new Set(lost)).toEqual(new Set([...leased].filter((r) => !accepted.has(r))));
	expect(lost.length).toBeLessThanOrEqual(leased.size);

	// then "Resend": exactly the leases go again, with resentAfter naming the killed run; nobody is
	// left without it; the doubled ones are exactly the leases whose message had gone through
	const resendRun = o.resendRun!;
	expect(resendRun.error).toBeUndefined();
	const [sent3, failed3, fallback3, skipped3] = resendRun.outputs;
	expect(failed3).toEqual([]);
	expect(fallback3).toEqual([]);
	expect(new Set(rcpts(sent3))).toEqual(leased);
	expect(skipped3.filter((i) => i.status !== 'skipped-duplicate')).toEqual([]);
	for (const i of sent3) {
		expect(i.resentAfter).toMatchObject({ by: by(o) });
		expect(Date.parse(i.resentAfter!.since)).toBeLessThan(o.rerunWall);
	}
	const twice = twiceIn(o.afterResend!);
	expect(neverIn(o.afterResend!)).toEqual([]);
	expect([...o.afterResend!.values()].filter((c) => c > 2)).toEqual([]);
	expect(new Set(twice)).toEqual(new Set([...leased].filter((r) => accepted.has(r))));
	expect(twice).toContain(wire.killedRcpt);
	// a lease the sink had answered before the kill was answered within the window counted on the
	// wire, so the doubled ones are within what the sink saw on the wire
	expect(counts.oldestLeaseReplyMs).toBeLessThan(REPLY_WINDOW_MS);
	expect(twice.length).toBeLessThanOrEqual(counts.onTheWire);
}
