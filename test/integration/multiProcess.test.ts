/**
 * The routing guarantees across several OS processes sharing one real Redis — n8n queue mode
 * with several workers. Each scenario spawns 4 worker processes (./worker.ts) that load the real
 * n8n engine with our nodes and run many executions each, all at once, against one redis-server;
 * the test then checks the union of what they routed, and what Redis stored.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Redis from 'ioredis';
import { recipients } from '../helpers/recipients';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import {
	RESULT_TAG,
	type AssignmentRow,
	type Execution,
	type GcraResult,
	type RoundRobinResult,
	type RowsResult,
	type WorkerJob,
	type WorkerResult,
} from './worker';

const ROOT = join(__dirname, '..', '..');
const WORKER = join(__dirname, 'worker.ts');
const WORKERS = 4;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type JobSpec = DistributiveOmit<WorkerJob, 'worker' | 'workers' | 'port' | 'barrier'>;

let server: RedisServer;
let redis: Redis;
let round = 0;

beforeAll(async () => {
	server = await startRedisServer();
	redis = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
	await redis.connect();
});

afterAll(async () => {
	redis?.disconnect();
	await server?.stop();
});

/** Runs one worker process to its end; resolves with its result line, rejects on a non-zero exit. */
function runWorker(job: WorkerJob): Promise<WorkerResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, ['-r', 'ts-node/register', WORKER], {
			cwd: ROOT,
			env: { ...process.env, POSTAL_WORKER_JOB: JSON.stringify(job) },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const out: Buffer[] = [];
		const err: Buffer[] = [];
		child.stdout.on('data', (d: Buffer) => out.push(d));
		child.stderr.on('data', (d: Buffer) => err.push(d));
		child.once('error', reject);
		child.once('close', (code, signal) => {
			const stderr = Buffer.concat(err).toString();
			if (code !== 0)
				return reject(
					new Error(`worker ${job.worker} (${job.kind}) exited with ${code ?? signal}:\n${stderr}`),
				);
			const line = Buffer.concat(out)
				.toString()
				.split('\n')
				.find((l) => l.startsWith(`{"${RESULT_TAG}":`));
			if (!line)
				return reject(
					new Error(`worker ${job.worker} (${job.kind}) printed no result line:\n${stderr}`),
				);
			resolve((JSON.parse(line) as Record<string, WorkerResult>)[RESULT_TAG]);
		});
	});
}

/** Starts the 4 workers together and waits for all of them. */
async function runWorkers<R extends WorkerResult>(spec: JobSpec): Promise<R[]> {
	const barrier = `barrier:${++round}`;
	const jobs = Array.from(
		{ length: WORKERS },
		(_, worker) => ({ ...spec, worker, workers: WORKERS, port: server.port, barrier }) as WorkerJob,
	);
	return (await Promise.all(jobs.map(runWorker))) as R[];
}

/** For each worker, how many of its executions overlapped in time with an execution of another worker. */
function overlapping(results: Array<{ executions: Execution[] }>): number[] {
	return results.map(
		(mine, w) =>
			mine.executions.filter((a) =>
				results.some(
					(other, v) => v !== w && other.executions.some((b) => a.start < b.end && b.start < a.end),
				),
			).length,
	);
}

function rowsOf(results: Array<{ rows: AssignmentRow[] }>): AssignmentRow[] {
	return results.flatMap((r) => r.rows);
}

function report(title: string, numbers: Record<string, unknown>): void {
	console.log(
		`${title}\n${Object.entries(numbers)
			.map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
			.join('\n')}`,
	);
}

describe('4 worker processes sharing one Redis', () => {
	it('split one campaign 70/30 exactly: every recipient once, and a re-run keeps every route (sticky)', async () => {
		const total = 20_000;
		const seed = 2026;
		const keyPrefix = 'mp-split:';
		const names = ['SendGrid', 'SMTP relay'];
		const people = new Set(recipients(total, seed).map((r) => r.email));
		expect(people.size).toBe(total);

		// run 1: the shuffled list cut into 4 uneven blocks (4,321 / 5,555 / 5,127 / 4,997: no share is a
		// whole number of 70/30 cycles, so per-process counters would miss 14,000), executions of 250–500 items
		const cuts = [0, 4321, 9876, 15003, total];
		const t0 = Date.now();
		const first = await runWorkers<RowsResult>({
			kind: 'split',
			keyPrefix,
			seed,
			total,
			shuffleSeed: 1,
			layout: 'blocks',
			cuts,
			minBatch: 250,
			maxBatch: 500,
		});
		const firstMs = Date.now() - t0;
		expect(first.map((r) => r.rows.length)).toEqual([4321, 5555, 5127, 4997]);
		const rows = rowsOf(first);
		const assigned = new Map<string, string>();
		const duplicates: string[] = [];
		const bad = rows.filter(
			([, output, route, via]) => output > 1 || route !== names[output] || via !== 'sequence',
		); // not Deferred; nobody assigned before
		for (const [email, , route] of rows) {
			if (assigned.has(email)) duplicates.push(email);
			assigned.set(email, route!);
		}
		expect(bad).toEqual([]);
		expect(duplicates).toEqual([]); // nobody twice, across all processes
		expect([...people].filter((e) => !assigned.has(e))).toEqual([]); // nobody missing
		expect(rows).toHaveLength(total);
		const sendGrid = [...assigned.values()].filter((r) => r === 'SendGrid').length;
		expect(Math.abs(sendGrid - 0.7 * total)).toBeLessThan(1);

		// what Redis holds: one sequence counter at 20,000, one sticky entry per recipient
		const ctr = await redis.hgetall(`${keyPrefix}{wfSplit7030}:ctr`);
		expect(Object.values(ctr)).toEqual([String(total)]);
		expect(await redis.hlen(`${keyPrefix}{wfSplit7030}:sticky:split-70-30`)).toBe(total);

		const firstOverlap = overlapping(first);
		for (const n of firstOverlap) expect(n).toBeGreaterThan(0); // the processes really ran side by side

		// run 2: reshuffled and dealt round the workers, other batch sizes — every route comes back via sticky
		const t1 = Date.now();
		const second = await runWorkers<RowsResult>({
			kind: 'split',
			keyPrefix,
			seed,
			total,
			shuffleSeed: 2,
			layout: 'modulo',
			minBatch: 300,
			maxBatch: 450,
		});
		const secondMs = Date.now() - t1;
		const again = rowsOf(second);
		expect(
			again.filter(([, output, route, via]) => route !== names[output] || via !== 'sticky'),
		).toEqual([]);
		const changed = again
			.filter(([email, , route]) => assigned.get(email) !== route)
			.map(([email]) => email);
		expect(changed).toEqual([]);
		expect(new Set(again.map((r) => r[0])).size).toBe(total);
		expect(again).toHaveLength(total);
		expect(again.filter((r) => r[2] === 'SendGrid')).toHaveLength(sendGrid);
		// sticky items take no sequence position
		expect(Object.values(await redis.hgetall(`${keyPrefix}{wfSplit7030}:ctr`))).toEqual([
			String(total),
		]);

		report('split 70/30 across 4 processes', {
			recipients: total,
			SendGrid: sendGrid,
			'SMTP relay': total - sendGrid,
			'executions per worker (run 1)': first.map((r) => r.executions.length),
			'executions overlapping another worker (run 1)': firstOverlap,
			'run 1 ms (spawn to exit)': firstMs,
			'run 2 routes changed': changed.length,
			'executions per worker (run 2)': second.map((r) => r.executions.length),
			'executions overlapping another worker (run 2)': overlapping(second),
			'run 2 ms': secondMs,
		});
	}, 120_000);

	it('round robin (7 per turn, 3 routes) shares one cursor: totals are exactly those of positions 0..2999', async () => {
		const total = 3000;
		const perTurn = 7;
		const keyPrefix = 'mp-rr:';
		const results = await runWorkers<RoundRobinResult>({
			kind: 'roundRobin',
			perTurn,
			keyPrefix,
			seed: 77,
			total,
			shuffleSeed: 3,
			layout: 'modulo',
			minBatch: 50,
			maxBatch: 150,
		});
		const at = (p: number) => Math.floor(p / perTurn) % 3;

		const expected = [0, 0, 0];
		for (let p = 0; p < total; p++) expected[at(p)]++;
		const counts = [0, 0, 0];
		let items = 0;
		for (const r of results) {
			for (const e of r.executions) {
				items += e.items;
				expect(e.stream).toHaveLength(e.items);
				for (const o of e.stream) {
					expect(o).toBeGreaterThanOrEqual(0);
					expect(o).toBeLessThan(3); // nothing deferred
					counts[o]++;
				}
				// one execution = one atomic allocate: its items took consecutive positions of the shared sequence
				const starts = Array.from({ length: 3 * perTurn }, (_, p0) => p0).filter((p0) =>
					e.stream.every((o, k) => o === at(p0 + k)),
				);
				expect(starts.length).toBeGreaterThan(0);
			}
		}
		expect(items).toBe(total);
		expect(counts).toEqual(expected); // [1001, 1001, 998] for 7 per turn

		const ctr = await redis.hgetall(`${keyPrefix}{wfRoundRobin}:ctr`);
		expect(Object.keys(ctr)).toHaveLength(1);
		expect(Object.values(ctr)).toEqual([String(total)]);
		const overlap = overlapping(results);
		for (const n of overlap) expect(n).toBeGreaterThan(0);

		report('round robin across 4 processes', {
			'counts (Relay A, B, C)': counts,
			expected,
			'stored counter': ctr,
			'executions per worker': results.map((r) => r.executions.length),
			'executions overlapping another worker': overlap,
		});
	}, 120_000);

	it('a warm-up cap of 500 for today is never exceeded by 4 processes routing 4,000 items at once', async () => {
		// the day must not change under the test (the cap is per sending day, UTC here)
		const msToMidnight = 86_400_000 - (Date.now() % 86_400_000);
		if (msToMidnight < 60_000) await new Promise((r) => setTimeout(r, msToMidnight + 1000));
		const today = new Date().toISOString().slice(0, 10);
		const total = 4000;
		const cap = 500;
		const keyPrefix = 'mp-warm:';
		const results = await runWorkers<RowsResult>({
			kind: 'warmup',
			today,
			cap,
			keyPrefix,
			seed: 500,
			total,
			shuffleSeed: 4,
			layout: 'modulo',
			minBatch: 50,
			maxBatch: 150,
		});

		const rows = rowsOf(results);
		expect(rows).toHaveLength(total);
		expect(new Set(rows.map((r) => r[0])).size).toBe(total); // nobody twice, nobody lost
		const byOutput = [0, 0, 0];
		const via: Record<string, number> = {};
		for (const [, output, route, v] of rows) {
			byOutput[output]++;
			expect(route).toBe(['New IP', 'Warm IP'][output]);
			via[`${route}/${v}`] = (via[`${route}/${v}`] ?? 0) + 1;
		}
		expect(byOutput).toEqual([cap, total - cap, 0]); // New IP exactly 500, the rest on Warm IP, nothing deferred
		// 50/50 over 4,000 positions: 2,000 sequence slots each; the New IP slots past its cap spill to Warm IP
		expect(via).toEqual({
			'New IP/sequence': cap,
			'Warm IP/sequence': total / 2,
			'Warm IP/spill': total / 2 - cap,
		});
		expect(await redis.get(`${keyPrefix}{wfWarmup}:cap:d:${today}:New IP`)).toBe(String(cap));
		const overlap = overlapping(results);
		for (const n of overlap) expect(n).toBeGreaterThan(0);

		report('warm-up cap across 4 processes', {
			'New IP / Warm IP / Deferred': byOutput,
			via,
			'executions per worker': results.map((r) => r.executions.length),
			'executions overlapping another worker': overlap,
		});
	}, 120_000);

	it('a GCRA limit (1 per 5 ms, burst 20) shared by 4 processes reserves burst + window / interval slots in a 3 s window, first come first served', async () => {
		const intervalMs = 5;
		const burst = 20;
		const windowMs = 3000;
		const results = await runWorkers<GcraResult>({
			kind: 'gcra',
			keyPrefix: 'mp-rate:',
			key: 'shared-limit',
			intervalMs,
			burst,
			windowMs,
			leadMs: 300,
			lanes: 3,
		});

		const allowed = results.reduce((a, r) => a + r.allowed, 0);
		const calls = results.reduce((a, r) => a + r.calls, 0);
		for (const r of results) expect(r.allowed).toBeGreaterThan(0); // every process got a part of the one limit

		// nominal: the burst at the start, then one per interval for the window
		const nominal = burst + windowMs / intervalMs; // 620
		expect(Math.abs(allowed - nominal)).toBeLessThanOrEqual(0.02 * nominal);

		// exact GCRA bound over the slots the server gave: n slots need burst − 1 + n − burst
		// intervals, so n ≤ burst + span / interval (+1 for the 3-decimal rounding of stored times)
		const all = results.flatMap((r) => r.reservations).sort((x, y) => x[0] - y[0]);
		const { startAt } = results[0];
		const inWindow = all.filter(([, slot]) => slot >= startAt && slot < startAt + windowMs);
		const first = Math.min(...inWindow.map(([, slot]) => slot));
		const last = Math.max(...inWindow.map(([, slot]) => slot));
		const bound = burst + Math.floor((last - first) / intervalMs);
		expect(inWindow.length).toBeLessThanOrEqual(bound + 1);
		// first come, first served across the processes: in the order Redis ran the calls, every
		// slot is at or after the one before
		let outOfOrder = 0;
		for (let k = 1; k < all.length; k++) if (all[k][1] < all[k - 1][1] - 0.01) outOfOrder++;
		expect(outOfOrder).toBe(0);
		// one store call per message: no polling
		expect(calls).toBe(all.length);

		report('GCRA reservations shared by 4 processes × 3 lanes', {
			'slots in the window (per worker)': results.map((r) => r.allowed),
			allowed,
			'nominal expected (burst + window/interval)': nominal,
			'server span first→last slot (ms)': +(last - first).toFixed(3),
			'GCRA bound for that span (burst + floor(span/interval))': bound,
			'store calls (one per reservation)': calls,
			'slots out of call order': outOfOrder,
		});
	}, 120_000);
});
