/**
 * The SQLite embedded store across real OS processes: two processes hammering one file at once
 * (no lost update, no corruption), and a partitioner killed with SIGKILL mid-campaign and run
 * again (its warm-up cap and sticky assignments survive). Workers: ./sqliteWorker.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { capKeys } from '../../lib/state/keys';
import { SqliteStateStore } from '../../lib/state/sqlite';
import { VIA_STICKY } from '../../lib/state/types';
import { describeSqlite, openDatabase, tempFolders } from '../helpers/sqlite';
import {
	CYCLE,
	hammerRequest,
	type HammerJob,
	type HammerResult,
	type PartitionJob,
	today,
} from './sqliteWorker';

const ROOT = join(__dirname, '..', '..');
const WORKER = join(__dirname, 'sqliteWorker.ts');
const folders = tempFolders('postal-sqlite-procs-');
afterAll(() => folders.cleanup());

const children = new Set<ChildProcess>();
afterEach(async () => {
	for (const child of children)
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGKILL');
			await once(child, 'exit');
		}
	children.clear();
});

/** A worker process; `lines` gets each stdout line as it arrives. */
function startWorker(
	job: HammerJob | PartitionJob,
	env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; lines: string[]; next(): Promise<string>; done: Promise<number | null> } {
	const child = spawn(process.execPath, ['-r', 'ts-node/register', WORKER], {
		cwd: ROOT,
		env: { ...process.env, ...env, POSTAL_SQLITE_JOB: JSON.stringify(job) },
		stdio: ['pipe', 'pipe', 'pipe'],
	});
	children.add(child);
	const lines: string[] = [];
	const waiters: Array<() => void> = [];
	let buffered = '';
	let stderr = '';
	child.stdout!.on('data', (d: Buffer) => {
		buffered += d.toString();
		const parts = buffered.split('\n');
		buffered = parts.pop()!;
		lines.push(...parts);
		waiters.splice(0).forEach((w) => w());
	});
	child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
	const done = new Promise<number | null>((resolve, reject) =>
		child.once('exit', (code, signal) =>
			code === 0 || signal === 'SIGKILL'
				? resolve(code)
				: reject(new Error(`worker exited with ${code ?? signal}:\n${stderr}`)),
		),
	);
	let read = 0;
	const next = async (): Promise<string> => {
		while (read >= lines.length) {
			if (child.exitCode !== null) throw new Error(`worker ended early:\n${stderr}`);
			await new Promise<void>((r) => waiters.push(r));
		}
		return lines[read++];
	};
	return { child, lines, next, done };
}

describeSqlite('the SQLite state file shared by real processes', () => {
	it('two processes hammering one file lose no update: counters sum exactly, each marker is claimed once', async () => {
		const file = join(folders.make(), 'state.sqlite');
		const job = {
			kind: 'hammer',
			file,
			rounds: 300,
			batch: 20,
			capped: 2,
			cap: 700,
			markers: 10,
			burst: 150,
		} as const;
		const workers = [0, 1].map((id) => startWorker({ ...job, id }));
		for (const w of workers) expect(await w.next()).toBe('ready');
		for (const w of workers) w.child.stdin!.end('go\n');
		const results = await Promise.all(
			workers.map(async (w) => JSON.parse(await w.next()) as HammerResult),
		);
		await Promise.all(workers.map((w) => w.done));

		const [p, q] = results;
		expect([p.errors, q.errors]).toEqual([[], []]);
		// both opened (and made) the file at once: one secret
		expect(p.secret).toBe(q.secret);
		// they really ran at once
		expect(Math.max(p.startedAt, q.startedAt)).toBeLessThan(Math.min(p.endedAt, q.endedAt));
		const items = 2 * job.rounds * job.batch;
		const sequence = [...p.sequence, ...q.sequence];
		expect(sequence).toHaveLength(items);
		// every call took its own run of the one sequence: exactly 30/70 over 12,000 positions
		const a = sequence.filter(([, r]) => r === 'a').length;
		expect(a).toBe((items * CYCLE.filter((r) => r === 0).length) / CYCLE.length);
		expect(items - a).toBe(sequence.filter(([, r]) => r === 'b').length);
		// the capped route took exactly its cap between them
		expect(p.capped + q.capped).toBe(job.cap);
		expect(p.deferred + q.deferred).toBe(2 * job.rounds * job.capped - job.cap);
		// each marker claimed by exactly one process, the other found its lease
		const claimed = [...p.claimed, ...q.claimed];
		expect(claimed).toHaveLength(job.rounds * job.markers);
		expect(new Set(claimed).size).toBe(claimed.length);
		expect(p.leased + q.leased).toBe(job.rounds * job.markers);
		// one rate limit between them: the burst, once
		expect(p.allowed + q.allowed).toBe(job.burst);
		console.log(
			`two processes: ${items} sequence items (a ${a}, b ${items - a}), capped ${p.capped} + ${q.capped} = ${job.cap}, markers ${p.claimed.length} + ${q.claimed.length} = ${claimed.length}, rate ${p.allowed} + ${q.allowed} = ${job.burst}, ${p.endedAt - p.startedAt} / ${q.endedAt - q.startedAt} ms`,
		);

		// what the file holds: intact, the counter at the end of both runs, every sticky assignment
		const db = openDatabase(file);
		expect(db.prepare('PRAGMA integrity_check').get()?.integrity_check).toBe('ok');
		db.close();
		const store = new SqliteStateStore({ file });
		expect(await store.capUsage('hammer', ['d:1:c'])).toEqual([job.cap]);
		const again = await store.allocate(
			hammerRequest(
				job,
				[...sequence.map(([key]) => ({ cls: 0, key })), ...CYCLE.map(() => ({ cls: 0 }))],
				true,
			),
		);
		expect(again.via.slice(0, items).every((v) => v === VIA_STICKY)).toBe(true);
		expect(again.route.slice(0, items).map((r) => 'abc'[r])).toEqual(sequence.map(([, r]) => r));
		// position `items` (a multiple of the cycle) starts the cycle again
		expect(again.route.slice(items)).toEqual(CYCLE);
		await store.close();
	}, 120_000);

	type Row = [recipient: string, route: string, via: string];

	/**
	 * Runs the partitioner, kills it with SIGKILL once 20 batches are out, then runs it again to
	 * the end over the list in reverse. Counts the assignments that took room on route A (not
	 * sticky hits, which take none) and the recipients of the first run whose route changed.
	 */
	async function killAndRerun(memory: boolean) {
		const userFolder = folders.make();
		const env = { N8N_USER_FOLDER: userFolder };
		const job: PartitionJob = { kind: 'partition', total: 3000, batch: 10, cap: 300, memory };
		const parse = (line: string) => JSON.parse(line) as Row[];
		const kind = { store: memory ? 'memory' : 'sqlite' };

		const first = startWorker(job, env);
		expect(JSON.parse(await first.next())).toEqual(kind);
		for (let i = 0; i < 20; i++) await first.next();
		first.child.kill('SIGKILL');
		await first.done;
		// every batch it printed before the kill landed (it may have routed one more unprinted)
		const before = first.lines.slice(1).filter(Boolean).flatMap(parse);

		const second = startWorker({ ...job, reverse: true }, env);
		expect(JSON.parse(await second.next())).toEqual(kind);
		await second.done;
		const after = second.lines.slice(1).filter(Boolean).flatMap(parse);
		expect(after).toHaveLength(job.total);

		const tookRoomOnA = [...before, ...after].filter(([, r, via]) => r === 'A' && via !== 'sticky');
		const afterRoute = new Map(after.map(([key, route]) => [key, route]));
		const moved = before.filter(([key, route]) => afterRoute.get(key) !== route).length;
		return { job, before, after, userFolder, onA: tookRoomOnA.length, moved };
	}

	it('a partitioner killed with SIGKILL mid-campaign and run again keeps its warm-up cap and sticky routes', async () => {
		const { job, before, after, userFolder, onA, moved } = await killAndRerun(false);
		expect(before.length).toBeGreaterThanOrEqual(200);
		expect(before.length).toBeLessThan(job.total);
		// route A's first warm-up day allows 300 over both runs (a batch routed after the last line
		// printed is a sticky hit in the re-run, so up to one batch of them is not counted here)
		expect(onA).toBeLessThanOrEqual(job.cap);
		expect(onA).toBeGreaterThan(job.cap - job.batch);
		const store = new SqliteStateStore({
			file: join(userFolder, '.n8n', 'postal-routes-state.sqlite'),
		});
		expect(await store.capUsage('kill', [capKeys.daily(today(), 'A')])).toEqual([job.cap]);
		await store.close();
		// every recipient routed before the kill has the same route after, as a sticky hit
		expect(moved).toBe(0);
		const sticky = new Set(after.filter(([, , via]) => via === 'sticky').map(([key]) => key));
		expect(before.every(([key]) => sticky.has(key))).toBe(true);
		console.log(
			`kill -9: ${before.length} of ${job.total} routed before the kill; over both runs ${onA} took room on A (cap ${job.cap}, the file counts ${job.cap}), ${moved} of ${before.length} moved`,
		);
	}, 120_000);

	it('(the same kill on the memory store breaks both: what the file prevents)', async () => {
		const { job, before, onA, moved } = await killAndRerun(true);
		expect(onA).toBeGreaterThan(job.cap);
		expect(moved).toBeGreaterThan(0);
		console.log(
			`kill -9 on memory: ${onA} took room on A (cap ${job.cap}), ${moved} of ${before.length} moved`,
		);
	}, 120_000);
});
