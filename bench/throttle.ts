import { fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import { MemoryStateStore } from '../lib/state/memory';
import type { RateLimit } from '../lib/state/types';
import { acquire, gcraLimit } from '../lib/throttle/limits';
import { closeSmtpTransports, parseSmtpCredential, SmtpTransport } from '../lib/transports/smtp';
import { plainMessage } from '../test/helpers/messages';
import { startRedisServer } from '../test/helpers/redisServer';
import type { ContentionJob, Waits } from './contentionWorker';
import { pollingAcquire } from './polling';
import { achievedRate, ourNode, startSink } from './send';

/**
 * Pacing by reservation against polling (how acquire() paced before), side by side in one run:
 * (1) the achieved rate of a 200/s connection limit while another process keeps a core busy: the
 *     two algorithms on the same sending loop, and the send node through the engine; (2) how long messages wait behind one Redis limit shared by several
 *     processes, against the wait a first-come-first-served queue would give them.
 */
export async function benchThrottle(): Promise<void> {
	await achievedUnderLoad();
	await waitsUnderContention();
}

/**
 * `connections` senders on one SMTP pool, each pacing with `pace` then sending: the two pacing
 * algorithms on the same loop, side by side. Returns each message's send time.
 */
async function pacedSenders(
	port: number,
	messages: number,
	connections: number,
	limit: RateLimit,
	pace: typeof acquire,
): Promise<number[]> {
	const store = new MemoryStateStore();
	const transport = new SmtpTransport(
		parseSmtpCredential({
			host: '127.0.0.1',
			port,
			security: 'none',
			poolSize: connections,
			messagesPerConnection: 100_000,
		}),
	);
	const sentAt: number[] = [];
	let next = 0;
	const sender = async () => {
		for (let i = next++; i < messages; i = next++) {
			const slot = await pace(store, [limit], 1, { maxWaitMs: 60_000 });
			if (!slot.ok) throw new Error('a slot was refused');
			sentAt.push(Date.now());
			const outcome = await transport.send(plainMessage(`user${i}@gmail.com`));
			if (!outcome.ok) throw new Error(`send failed: ${outcome.message}`);
		}
	};
	await Promise.all(Array.from({ length: connections }, sender));
	transport.close();
	return sentAt;
}

async function achievedUnderLoad(): Promise<void> {
	const limit = 200;
	const messages = 1000;
	const connections = 5;
	const options = { rateLimit: limit, rateLimitPer: 'second', rateBurst: 2 };
	const gcra = gcraLimit('conn:bench', { limit, per: 'second', burst: 2 });
	const sink = await startSink();
	// a busy loop in its own process: on a 2-core machine it holds one core, and the engine, the
	// pipeline's timers and the SMTP sink share the other
	const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
	try {
		await ourNode(sink.port, 300, connections); // warm up the sink, the JIT and the engine
		const runs: Array<{ name: string; achieved: number; overall: number }> = [];
		for (let round = 0; round < 2; round++) {
			for (const [name, pace] of [
				['before (polling)', pollingAcquire],
				['after (reservation)', acquire],
			] as const) {
				const sentAt = await pacedSenders(sink.port, messages, connections, gcra, pace);
				runs.push({ name, ...achievedRate(sentAt) });
			}
			// the node itself: its reservations go inside its coalesced store steps
			const { sentAt } = await ourNode(sink.port, messages, connections, options);
			runs.push({ name: 'send node', ...achievedRate(sentAt) });
			closeSmtpTransports();
		}
		console.log(
			`\n## Throttle: rate limit ${limit}/s (burst 2), ${messages} messages, ${connections} senders on one SMTP pool, a CPU hog on the other core`,
		);
		for (const r of runs) {
			const error = (r.achieved - limit) / limit;
			console.log(
				`  ${r.name.padEnd(20)} achieved ${r.achieved.toFixed(1).padStart(6)}/s steady (${(error * 100).toFixed(2).padStart(6)}%; first to last ${r.overall.toFixed(1)}/s)`,
			);
		}
		const worst = (name: string) =>
			Math.max(
				...runs.filter((r) => r.name === name).map((r) => Math.abs(r.achieved - limit) / limit),
			);
		const after = worst('after (reservation)');
		const node = worst('send node');
		console.log(
			`  worst error: before ${(worst('before (polling)') * 100).toFixed(2)}%, after ${(after * 100).toFixed(2)}%, send node ${(node * 100).toFixed(2)}%  target after and send node within ±2%: ${Math.max(after, node) <= 0.02 ? 'MET' : 'MISSED'}`,
		);
	} finally {
		hog.kill('SIGKILL');
		await sink.stop();
	}
}

function percentile(values: number[], p: number): number {
	const v = values.slice().sort((a, b) => a - b);
	return v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))];
}

/** The waits a first-come-first-served queue on the same limit gives these asks (GCRA by reservation). */
function idealFifoWaits(asks: number[], intervalMs: number, burst: number): number[] {
	let tat = -Infinity;
	return asks
		.slice()
		.sort((a, b) => a - b)
		.map((a) => {
			const slot = Math.max(a, tat + intervalMs - burst * intervalMs);
			tat = Math.max(tat, slot) + intervalMs;
			return slot - a;
		});
}

async function runProcesses(jobs: ContentionJob[]): Promise<Waits> {
	const children = jobs.map((job) =>
		fork(join(__dirname, 'contentionWorker.ts'), [], {
			execArgv: ['-r', 'ts-node/register'],
			env: { ...process.env, POSTAL_BENCH_JOB: JSON.stringify(job) },
		}),
	);
	const done = children.map(
		(child) =>
			new Promise<Waits>((resolve, reject) => {
				child.on('message', (m: { waits?: Waits }) => m.waits && resolve(m.waits));
				child.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
			}),
	);
	await Promise.all(
		children.map(
			(child) =>
				new Promise<void>((resolve) =>
					child.on('message', (m: { ready?: boolean }) => m.ready && resolve()),
				),
		),
	);
	const startAt = Date.now() + 300;
	for (const child of children) child.send({ startAt });
	return (await Promise.all(done)).flat();
}

async function waitsUnderContention(): Promise<void> {
	const processes = 4;
	const lanes = 5;
	const messages = 12;
	const limit = gcraLimit('conn:smtp:shared', { limit: 10, per: 'second' });
	const server = await startRedisServer();
	try {
		console.log(
			`\n## Throttle: waits behind one Redis limit of 10/s (burst ${limit.burst}) shared by ${processes} processes × ${lanes} senders, ${processes * lanes * messages} messages`,
		);
		const rows: Array<{ name: string; ratio: number }> = [];
		for (const [name, mode] of [
			['before (polling)', 'poll'],
			['after (reservation)', 'reserve'],
		] as const) {
			const waits = await runProcesses(
				Array.from({ length: processes }, () => ({
					port: server.port,
					keyPrefix: `bench-${mode}:`,
					limit,
					lanes,
					messages,
					mode,
				})),
			);
			const actual = waits.map(([asked, went]) => went - asked);
			const ideal = idealFifoWaits(
				waits.map(([asked]) => asked),
				limit.intervalMs,
				limit.burst,
			);
			const [p50, p99] = [percentile(actual, 0.5), percentile(actual, 0.99)];
			const idealP99 = percentile(ideal, 0.99);
			const ratio = p99 / idealP99;
			rows.push({ name, ratio });
			console.log(
				`  ${name.padEnd(20)} wait p50 ${(p50 / 1000).toFixed(2)} s, p99 ${(p99 / 1000).toFixed(2)} s (p99/p50 ${(p99 / p50).toFixed(2)}); ideal FIFO p50 ${(percentile(ideal, 0.5) / 1000).toFixed(2)} s, p99 ${(idealP99 / 1000).toFixed(2)} s; p99 = ${ratio.toFixed(2)}× the ideal`,
			);
		}
		const after = rows.find((r) => r.name.startsWith('after'))!.ratio;
		console.log(
			`  target after: p99 ≤ 1.5× the ideal FIFO p99: ${after <= 1.5 ? 'MET' : 'MISSED'} (${after.toFixed(2)}×)`,
		);
	} finally {
		await server.stop();
	}
}
