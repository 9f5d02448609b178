/**
 * One process for test/integration/sqliteProcesses.test.ts, sharing the SQLite state file with
 * others (or killed and run again). Run as `node -r ts-node/register test/integration/sqliteWorker.ts`
 * on a Node with node:sqlite, the job as JSON in POSTAL_SQLITE_JOB.
 *
 * - hammer: opens the file, prints `ready`, waits for `go` on stdin (so every process starts at
 *   once), then runs `rounds` rounds of allocate + claimOnce + reserveRate as fast as it can, and
 *   prints one result line.
 * - partition: routes `total` recipients in batches through lib/routing/partitioner.ts on the
 *   embedded store (the SQLite file in N8N_USER_FOLDER, or memory with `memory`), printing each
 *   batch's [recipient, route, via] as a line as soon as it is routed: the test kills it
 *   mid-campaign, then runs it again over the list in reverse (a re-run of a re-sorted list).
 */
import { createHash } from 'node:crypto';
import { MemoryStateStore } from '../../lib/state/memory';
import { Partitioner } from '../../lib/routing/partitioner';
import { parseRoutePlan } from '../../lib/routing/plan';
import { embeddedStateStore, resetEmbeddedStateStore } from '../../lib/state/registry';
import { SqliteStateStore } from '../../lib/state/sqlite';
import type { AllocateRequest } from '../../lib/state/types';

export interface HammerJob {
	kind: 'hammer';
	id: number;
	file: string;
	rounds: number;
	/** sequence items per round, each with its own sticky key */
	batch: number;
	/** capped items per round (route "c", cap `cap` for everyone) */
	capped: number;
	cap: number;
	/** marker keys per round; every process claims all rounds × markers keys, in its own order */
	markers: number;
	/** burst of the one rate limit every process draws from */
	burst: number;
}

export interface HammerResult {
	id: number;
	/** route name per sequence item, in order, and their sticky keys */
	sequence: Array<[string, string]>;
	capped: number;
	deferred: number;
	claimed: string[];
	leased: number;
	allowed: number;
	errors: string[];
	/** a hash of the file's hashing secret as this process read it */
	secret: string;
	startedAt: number;
	endedAt: number;
}

export interface PartitionJob {
	kind: 'partition';
	total: number;
	batch: number;
	/** warm-up cap of route A on its first day */
	cap: number;
	reverse?: boolean;
	memory?: boolean;
}

/** the day of the warm-up's start, and of its cap window: today in UTC */
export const today = () => new Date().toISOString().slice(0, 10);

/** the 30/70 cycle of the hammered class (route a = 0, b = 1) */
export const CYCLE = [0, 1, 1, 0, 1, 1, 1, 0, 1, 1];
const DAY = 86_400_000;

export function hammerRequest(
	job: Pick<HammerJob, 'cap'>,
	items: AllocateRequest['items'],
	dryRun = false,
): AllocateRequest {
	return {
		scope: 'hammer',
		stickyKey: 'p',
		routes: [
			{ name: 'a', circuit: 'hammer:a', caps: [] },
			{ name: 'b', circuit: 'hammer:b', caps: [] },
			{
				name: 'c',
				circuit: 'hammer:c',
				caps: [{ key: 'd:1:c', limit: job.cap, resetAt: Date.now() + DAY }],
			},
		],
		classes: [
			{
				counterKey: 'p:seq',
				cycle: CYCLE,
				repeat: 1,
				candidates: [0, 1],
				weights: [3, 7],
				spill: 'weights',
			},
			{
				counterKey: 'p:cap',
				cycle: [2],
				repeat: 1,
				candidates: [2],
				weights: [1],
				spill: 'priority',
			},
		],
		items,
		dryRun,
		ttlMs: DAY,
	};
}

async function hammer(job: HammerJob): Promise<HammerResult> {
	const store = new SqliteStateStore({ file: job.file });
	process.stdout.write('ready\n');
	await new Promise((resolve) => process.stdin.once('data', resolve));
	const result: HammerResult = {
		id: job.id,
		sequence: [],
		capped: 0,
		deferred: 0,
		claimed: [],
		leased: 0,
		allowed: 0,
		errors: [],
		secret: createHash('sha256')
			.update(await store.hashSecret())
			.digest('hex'),
		startedAt: Date.now(),
		endedAt: 0,
	};
	const names = ['a', 'b', 'c'];
	const limit = { key: 'conn:smtp:shared', intervalMs: DAY, burst: job.burst };
	for (let round = 0; round < job.rounds; round++) {
		try {
			const keys = Array.from({ length: job.batch }, (_, j) => `w${job.id}-${round}-${j}`);
			const items = [
				...keys.map((key) => ({ cls: 0, key })),
				...Array.from({ length: job.capped }, () => ({ cls: 1 })),
			];
			const routed = await store.allocate(hammerRequest(job, items));
			keys.forEach((key, j) => result.sequence.push([key, names[routed.route[j]]]));
			for (const r of routed.route.slice(job.batch)) {
				if (r === 2) result.capped++;
				else result.deferred++;
			}
			// both claim every key, one from the first, the other from the last: they meet midway
			const total = job.rounds * job.markers;
			const markers = Array.from({ length: job.markers }, (_, j) => {
				const n = round * job.markers + j;
				return `m${job.id % 2 ? total - 1 - n : n}`;
			});
			const claims = await store.claimOnce('hammer', {
				keys: markers,
				token: `t${job.id}`,
				owner: `process ${job.id}`,
				leaseMs: DAY,
				ttlMs: DAY,
				takeExpired: false,
			});
			claims.forEach((c, j) => {
				if (c.state === 'claimed') result.claimed.push(markers[j]);
				else if (c.state === 'leased') result.leased++;
			});
			if ((await store.reserveRate([limit], 1, 0)).granted) result.allowed++;
		} catch (error) {
			result.errors.push((error as Error).message);
		}
	}
	result.endedAt = Date.now();
	await store.close();
	return result;
}

async function partition(job: PartitionJob): Promise<void> {
	if (job.memory) resetEmbeddedStateStore(new MemoryStateStore());
	const store = embeddedStateStore();
	const plan = parseRoutePlan({
		mode: 'percentage',
		sticky: true,
		timeZone: 'UTC',
		routes: [
			{
				name: 'A',
				percentage: 50,
				warmup: { kind: 'ramp', startDate: today(), startCap: job.cap, growth: 1 },
			},
			{ name: 'B', percentage: 50 },
		],
	});
	const partitioner = new Partitioner(plan, store, { campaign: 'kill', partition: 'p' });
	process.stdout.write(`${JSON.stringify({ store: store.kind })}\n`);
	const list = Array.from({ length: job.total }, (_, i) => `r${i}@x.example`);
	if (job.reverse) list.reverse();
	for (let start = 0; start < job.total; start += job.batch) {
		const keys = list.slice(start, start + job.batch);
		const assigned = await partitioner.assign(keys.map((key) => ({ key })));
		const rows = keys.map((k, j) => [k, assigned[j].route ?? '', assigned[j].via]);
		process.stdout.write(`${JSON.stringify(rows)}\n`);
	}
}

async function main(): Promise<void> {
	const job = JSON.parse(process.env.POSTAL_SQLITE_JOB ?? '{}') as HammerJob | PartitionJob;
	if (job.kind === 'hammer') process.stdout.write(`${JSON.stringify(await hammer(job))}\n`);
	else if (job.kind === 'partition') await partition(job);
	else throw new Error(`unknown job ${JSON.stringify(job)}`);
	// stdout to a pipe is written asynchronously: exit only once every line is out (a faster
	// partitioner left lines in the buffer, and the parent read 1,600 of 3,000)
	await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
	process.exit(0);
}

if (require.main === module)
	main().catch((error) => {
		process.stderr.write(`${(error as Error).stack}\n`);
		process.exit(1);
	});
