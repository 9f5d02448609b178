/**
 * One "n8n worker" for test/integration/multiProcess.test.ts: a separate OS process that runs
 * workflow executions through the real n8n engine (or reserves rate slots in the Redis store
 * directly, for the GCRA part) against the Redis server the test started, and prints its result as
 * one JSON line.
 *
 * Run as `node -r ts-node/register test/integration/worker.ts` with the job as JSON in the
 * POSTAL_WORKER_JOB environment variable (the job is small: every worker rebuilds the same
 * recipient list from a seed and takes its own share of it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

interface JobBase {
	/** 0-based worker number and how many workers run the scenario */
	worker: number;
	workers: number;
	port: number;
	keyPrefix: string;
	/** a Redis key every worker increments once it is loaded and connected; all start once it reaches `workers` */
	barrier: string;
}

/** Engine scenarios: the recipient list is `shuffled(recipients(total, seed), shuffleSeed)`, dealt out by `layout`. */
interface EngineJob extends JobBase {
	seed: number;
	total: number;
	shuffleSeed: number;
	/** modulo: item i goes to worker i % workers; blocks: worker w takes items cuts[w] .. cuts[w + 1] - 1 */
	layout: 'modulo' | 'blocks';
	/** for blocks: workers + 1 item indices, from 0 to total (default: equal blocks) */
	cuts?: number[];
	/** executions take between minBatch and maxBatch items (seeded per worker) */
	minBatch: number;
	maxBatch: number;
}

export type WorkerJob =
	| (EngineJob & { kind: 'split' })
	| (EngineJob & { kind: 'roundRobin'; perTurn: number })
	| (EngineJob & { kind: 'warmup'; today: string; cap: number })
	| (JobBase & {
			kind: 'gcra';
			key: string;
			intervalMs: number;
			burst: number;
			windowMs: number;
			leadMs: number;
			/** reservations each worker keeps open at once (send lanes) */
			lanes: number;
	  });

export interface Execution {
	/** local wall clock (ms) around the execution */
	start: number;
	end: number;
	items: number;
}

/** [email, output index, route field, via field] per routed item */
export type AssignmentRow = [string, number, string | null, string | null];

/** split and warmup: what every routed item got */
export interface RowsResult {
	kind: 'split' | 'warmup';
	worker: number;
	executions: Execution[];
	rows: AssignmentRow[];
}

/** roundRobin: per execution, the output index of each input item, in input order */
export interface RoundRobinResult {
	kind: 'roundRobin';
	worker: number;
	executions: Array<Execution & { stream: number[] }>;
}

export interface GcraResult {
	kind: 'gcra';
	worker: number;
	calls: number;
	/** reserved slots inside the window */
	allowed: number;
	/** per reservation: the server clock when the call ran, and the slot it got (now + waitMs) */
	reservations: Array<[number, number]>;
	/** the common start and this worker's local stop time */
	startAt: number;
	stoppedAt: number;
}

export type WorkerResult = RowsResult | RoundRobinResult | GcraResult;

/** Marks the result line among anything else a library might print. */
export const RESULT_TAG = 'postalWorkerResult';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
	const job = JSON.parse(process.env.POSTAL_WORKER_JOB ?? '') as WorkerJob;

	// n8n-core writes a config file into N8N_USER_FOLDER when it loads: a fresh folder per worker
	const userFolder = mkdtempSync(join(tmpdir(), 'postal-routes-worker-'));
	process.env.N8N_USER_FOLDER = userFolder;
	process.env.N8N_ENCRYPTION_KEY ??= 'postal-routes-tests-only';

	// only now load n8n-core (through the engine harness) and the store
	const { default: Redis } = await import('ioredis');
	const { closeRedisStateStores, parseRedisCredential, redisStateStoreFor } =
		await import('../../lib/state/connection');
	const { RedisStateStore } = await import('../../lib/state/redis');
	const engine = await import('../helpers/engine');
	const { recipients, seededRandom, shuffled } = await import('../helpers/recipients');

	const control = new Redis({
		host: '127.0.0.1',
		port: job.port,
		lazyConnect: true,
		maxRetriesPerRequest: 1,
	});
	await control.connect();

	/** Waits until every worker has arrived; the last one to arrive fixes a common start time. */
	async function barrier(leadMs: number): Promise<number> {
		const arrived = await control.incr(job.barrier);
		if (arrived === job.workers) {
			const [sec, usec] = await control.time();
			await control.set(
				`${job.barrier}:start`,
				String(Number(sec) * 1000 + Math.floor(Number(usec) / 1000) + leadMs),
			);
		}
		const deadline = Date.now() + 30_000;
		for (;;) {
			const start = await control.get(`${job.barrier}:start`);
			if (start !== null) return Number(start);
			if (Date.now() > deadline)
				throw new Error(`worker ${job.worker}: the other workers did not arrive within 30 s`);
			await sleep(2);
		}
	}

	let result: WorkerResult;
	const credentials = {
		postalRedis: {
			mode: 'standalone',
			host: '127.0.0.1',
			port: job.port,
			keyPrefix: job.keyPrefix,
		},
	};

	if (job.kind === 'gcra') {
		const { acquire } = await import('../../lib/throttle/limits');
		const store = new RedisStateStore({
			mode: 'standalone',
			host: '127.0.0.1',
			port: job.port,
			keyPrefix: job.keyPrefix,
		});
		await store.now(); // connect before the start line
		const startAt = await barrier(job.leadMs);
		const limit = [{ key: job.key, intervalMs: job.intervalMs, burst: job.burst }];
		// the host clock: Redis runs on this machine, so TIME and Date.now() read the same clock
		while (Date.now() < startAt) await sleep(Math.min(5, Math.max(0, startAt - Date.now())));
		const stopAt = startAt + job.windowMs;
		let calls = 0;
		const reservations: Array<[number, number]> = [];
		// the store as the send pipeline sees it, with each reservation written down
		const recording = Object.create(store) as typeof store;
		recording.reserveRate = async (limits, cost, maxWaitMs) => {
			const r = await store.reserveRate(limits, cost, maxWaitMs);
			calls++;
			reservations.push([r.now, r.now + r.waitMs]);
			return r;
		};
		// each lane reserves its slot (one store call), waits for it, and asks again: no polling
		const lane = async () => {
			for (;;) {
				const got = await acquire(recording, limit, 1, { maxWaitMs: job.windowMs });
				if (!got.ok || reservations[reservations.length - 1][1] >= stopAt) return;
			}
		};
		await Promise.all(Array.from({ length: job.lanes }, lane));
		await store.close();
		result = {
			kind: 'gcra',
			worker: job.worker,
			calls,
			allowed: reservations.filter(([, slot]) => slot >= startAt && slot < stopAt).length,
			reservations,
			startAt,
			stoppedAt: Date.now(),
		};
	} else {
		const all = shuffled(recipients(job.total, job.seed), job.shuffleSeed);
		const share =
			job.layout === 'modulo'
				? all.filter((_, i) => i % job.workers === job.worker)
				: job.cuts
					? all.slice(job.cuts[job.worker], job.cuts[job.worker + 1])
					: all.slice(
							Math.floor((job.worker * all.length) / job.workers),
							Math.floor(((job.worker + 1) * all.length) / job.workers),
						);
		const rnd = seededRandom(job.seed * 1000 + job.shuffleSeed * 10 + job.worker);
		const batches: Array<Array<{ email: string }>> = [];
		for (let i = 0; i < share.length;) {
			const n = job.minBatch + Math.floor(rnd() * (job.maxBatch - job.minBatch + 1));
			batches.push(share.slice(i, i + n));
			i += n;
		}

		let workflow: ReturnType<typeof engine.loadWorkflow>;
		let node: string;
		if (job.kind === 'split') {
			node = 'Split 70/30';
			workflow = engine.withRedisState(engine.loadWorkflow('split-70-30'), node);
		} else if (job.kind === 'roundRobin') {
			node = 'Rotate';
			workflow = engine.withRedisState(
				engine.withParameters(engine.loadWorkflow('round-robin'), node, {
					roundRobinBatch: job.perTurn,
				}),
				node,
			);
		} else {
			node = 'Warm-up Split';
			workflow = engine.withRedisState(
				engine.withParameters(engine.loadWorkflow('warmup'), node, {
					routes: {
						values: [
							{
								name: 'New IP',
								percentage: 50,
								warmup: 'table',
								warmupStartDate: job.today,
								warmupTable: `1:${job.cap}`,
							},
							{ name: 'Warm IP', percentage: 50 },
						],
					},
				}),
				node,
			);
		}

		// connect this process's shared store (the one the node uses) before the start line
		await redisStateStoreFor(parseRedisCredential(credentials.postalRedis)).now();
		await barrier(0);

		const executions: Array<Execution & { stream?: number[] }> = [];
		const rows: AssignmentRow[] = [];
		for (const batch of batches) {
			const start = Date.now();
			const run = await engine.runWorkflow(workflow, { Recipients: batch }, { credentials });
			const end = Date.now();
			if (run.error)
				throw new Error(`worker ${job.worker}: execution failed: ${run.error.message}`);
			const outputs: INodeExecutionData[][] = run.outputs(node);
			const byInput: number[] = new Array(batch.length).fill(-1);
			outputs.forEach((items, o) =>
				items.forEach((item) => {
					const k = (item.pairedItem as { item: number }).item;
					if (byInput[k] !== -1)
						throw new Error(`worker ${job.worker}: input item ${k} left on two outputs`);
					byInput[k] = o;
					const rec = (item.json.postalRoute ?? {}) as IDataObject;
					rows.push([
						item.json.email as string,
						o,
						(rec.route as string | undefined) ?? null,
						(rec.via as string | undefined) ?? null,
					]);
				}),
			);
			executions.push(
				job.kind === 'roundRobin'
					? { start, end, items: batch.length, stream: byInput }
					: { start, end, items: batch.length },
			);
		}
		result =
			job.kind === 'roundRobin'
				? {
						kind: 'roundRobin',
						worker: job.worker,
						executions: executions as Array<Execution & { stream: number[] }>,
					}
				: { kind: job.kind, worker: job.worker, executions, rows };
	}

	await closeRedisStateStores();
	control.disconnect();
	rmSync(userFolder, { recursive: true, force: true });
	process.stdout.write(`${JSON.stringify({ [RESULT_TAG]: result })}\n`);
}

if (require.main === module) {
	main().then(
		() => {
			// everything is closed: the process ends by itself; if something still holds it open, say so
			setTimeout(() => {
				process.stderr.write(
					'worker: still running 5 s after finishing: an open handle keeps it alive\n',
				);
				process.exit(3);
			}, 5000).unref();
		},
		(error) => {
			process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
			process.exit(1);
		},
	);
}
