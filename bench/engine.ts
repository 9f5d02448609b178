/**
 * Items per second through the real n8n engine (n8n-core's WorkflowExecute): Classifier →
 * Partitioner → Load-Balanced Send with the package defaults, dry run, side by side with the same
 * workflow on the old parameter reader and with three pass-through nodes. Each variant runs in its
 * own process, so each has its own peak RSS (the memory target takes each variant's highest over
 * the rounds; every round's is printed). BENCH_ENGINE_BREAKDOWN=1 adds the Classifier alone and
 * Classifier → Partitioner, to see which node the memory goes to.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { promisify } from 'node:util';
import type { IDataObject, INode } from 'n8n-workflow';
import type { WorkflowJson } from '../test/helpers/engine';
import { fmt, measure, report } from './util';

/** BENCH_ENGINE_ITEMS overrides the count (e.g. a smaller run to profile) */
const N = Number(process.env.BENCH_ENGINE_ITEMS) || 100_000;
const WARM_UP = 2_000;

const VARIANTS = {
	ours: 'Classifier → Partitioner → Send (dry run)',
	'old reader': 'the same, old parameter reader',
	'pass-through': 'anchor: three pass-through nodes',
	classifier: 'Classifier alone',
	'classifier+partitioner': 'Classifier → Partitioner (dry run)',
} as const;
type Variant = keyof typeof VARIANTS;

/** BENCH_ENGINE_BREAKDOWN=1: also the first node, and the first two, each in its own process (where the memory goes) */
const BREAKDOWN = Boolean(process.env.BENCH_ENGINE_BREAKDOWN);

interface ChildResult {
	variant: Variant;
	items: number;
	ms: number;
	/** peak resident set size of the child process, bytes */
	peakRss: number;
	/** items on the last node's first output */
	out: number;
	/** CPU time of the measured run (user + system), ms: less disturbed by other processes than the clock */
	cpuMs: number;
}

const P = 'n8n-nodes-postal-routes';

function node(id: string, name: string, type: string, parameters: IDataObject, x: number): INode {
	return {
		id,
		name,
		type,
		typeVersion: 1,
		position: [x, 0],
		parameters: parameters as INode['parameters'],
	};
}

function chain(nodes: INode[]): WorkflowJson {
	const connections: WorkflowJson['connections'] = {};
	for (let k = 0; k < nodes.length - 1; k++)
		connections[nodes[k].name] = {
			main: [[{ node: nodes[k + 1].name, type: 'main', index: 0 }]],
		};
	return { id: 'benchEngine', name: 'Engine benchmark', nodes, connections };
}

/** The nodes' own defaults for everything the issue measured: Recipient, Campaign ID, To. */
function sendWorkflow(): WorkflowJson {
	const send = node(
		's',
		'Send',
		`${P}.loadBalancedSend`,
		{
			provider: 'smtp',
			from: 'Shop <news@shop.example>',
			subject: 'Hello',
			text: 'Hi there',
			dryRun: true,
		},
		800,
	);
	send.credentials = { postalSmtp: { id: 'bench-smtp', name: 'Sink' } };
	return chain([
		node('t', 'Manual Trigger', 'n8n-nodes-base.manualTrigger', {}, 0),
		node('r', 'Recipients', 'test.injectedItems', {}, 200),
		node('c', 'Classify', `${P}.domainGroupClassifier`, {}, 400),
		node(
			'p',
			'Split',
			`${P}.routePartitioner`,
			{
				mode: 'percentage',
				outputMode: 'fields',
				dryRun: true,
				routes: {
					values: [
						{ name: 'Relay A', percentage: 70 },
						{ name: 'Relay B', percentage: 30 },
					],
				},
			},
			600,
		),
		send,
	]);
}

/** The send workflow up to (and with) its first `count` nodes of ours. */
function prefixWorkflow(count: number): WorkflowJson {
	const full = sendWorkflow();
	return chain(full.nodes.slice(0, 2 + count));
}

function passThroughWorkflow(): WorkflowJson {
	return chain([
		node('t', 'Manual Trigger', 'n8n-nodes-base.manualTrigger', {}, 0),
		node('r', 'Recipients', 'test.injectedItems', {}, 200),
		node('a', 'Pass A', 'n8n-nodes-base.noOp', {}, 400),
		node('b', 'Pass B', 'n8n-nodes-base.noOp', {}, 600),
		node('c', 'Pass C', 'n8n-nodes-base.noOp', {}, 800),
	]);
}

/** BENCH_CPU_PROFILE=<path prefix>: a CPU profile of each measured run (not of loading or warming up). */
async function startProfile(): Promise<Session> {
	const session = new Session();
	session.connect();
	const post = promisify(session.post.bind(session)) as (method: string) => Promise<unknown>;
	await post('Profiler.enable');
	await post('Profiler.start');
	return session;
}

async function stopProfile(session: Session, file: string): Promise<void> {
	const post = promisify(session.post.bind(session)) as (
		method: string,
	) => Promise<{ profile: object }>;
	const { profile } = await post('Profiler.stop');
	writeFileSync(file, JSON.stringify(profile));
	session.disconnect();
}

/** In the child: one variant, a warm-up run, then the measured run. */
async function child(variant: Variant, n: number): Promise<void> {
	const { runWorkflow } = await import('../test/helpers/engine');
	const { recipients } = await import('../test/helpers/recipients');
	const { resetEmbeddedStateStore } = await import('../lib/state/registry');
	const { ParameterReader } = await import('../nodes/shared/itemValues');
	ParameterReader.oldReader = variant === 'old reader';
	const json =
		variant === 'pass-through'
			? passThroughWorkflow()
			: variant === 'classifier'
				? prefixWorkflow(1)
				: variant === 'classifier+partitioner'
					? prefixWorkflow(2)
					: sendWorkflow();
	const last = json.nodes[json.nodes.length - 1].name;
	const credentials = { 'bench-smtp': { host: '127.0.0.1', port: 2525, security: 'none' } };
	const once = async (count: number) => {
		resetEmbeddedStateStore();
		const items = recipients(count, 31);
		const cpu0 = process.cpuUsage();
		const t0 = process.hrtime.bigint();
		const run = await runWorkflow(json, { Recipients: items }, { credentials });
		const ms = Number(process.hrtime.bigint() - t0) / 1e6;
		const cpu = process.cpuUsage(cpu0);
		if (run.error) throw run.error;
		return { ms, cpuMs: (cpu.user + cpu.system) / 1000, out: run.outputs(last)[0].length };
	};
	await once(WARM_UP);
	const profile = process.env.BENCH_CPU_PROFILE;
	const session = profile ? await startProfile() : undefined;
	const { ms, cpuMs, out } = await once(n);
	if (session) await stopProfile(session, `${profile}.${variant.replace(/\W+/g, '-')}.cpuprofile`);
	const result: ChildResult = {
		variant,
		items: n,
		ms,
		peakRss: process.resourceUsage().maxRSS * 1024,
		out,
		cpuMs,
	};
	process.send!(result);
}

function runChild(variant: Variant, n: number): Promise<ChildResult> {
	return new Promise((resolve, reject) => {
		const proc = fork(__filename, ['--child', variant, String(n)], {
			execArgv: process.execArgv.includes('ts-node/register')
				? process.execArgv
				: ['-r', 'ts-node/register', ...process.execArgv],
		});
		let result: ChildResult | undefined;
		proc.once('message', (m: ChildResult) => (result = m));
		proc.once('error', reject);
		proc.once('exit', (code) =>
			result ? resolve(result) : reject(new Error(`${variant}: child exited with ${code}`)),
		);
	});
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const rate = (r: ChildResult) => (r.items * 1000) / r.ms;

/** BENCH_ENGINE_ROUNDS: rounds of the three variants, interleaved; each keeps its fastest run */
const ROUNDS = Number(process.env.BENCH_ENGINE_ROUNDS) || 3;

export async function benchEngine(): Promise<void> {
	const variants = (Object.keys(VARIANTS) as Variant[]).filter(
		(v) => BREAKDOWN || (v !== 'classifier' && v !== 'classifier+partitioner'),
	);
	const best = {} as Record<Variant, ChildResult>;
	/** every round's peak RSS: the target takes the highest of each variant */
	const peaks = {} as Record<Variant, number[]>;
	for (let round = 0; round < ROUNDS; round++)
		for (const variant of variants) {
			const r = await runChild(variant, N);
			if (r.out !== N) throw new Error(`${variant}: ${r.out} of ${N} items came out`);
			if (!best[variant] || r.ms < best[variant].ms) best[variant] = r;
			(peaks[variant] ??= []).push(r.peakRss);
		}
	const peakRss = (v: Variant) => Math.max(...peaks[v]);
	const base = best['pass-through'];

	console.log(
		`\n## Through the n8n engine (WorkflowExecute), ${N.toLocaleString('en')} items, package defaults, dry run; each variant in its own process, fastest of ${ROUNDS} interleaved rounds`,
	);
	for (const variant of variants) {
		const r = best[variant];
		const ratio = r === base ? '' : `  ×${(rate(r) / rate(base)).toFixed(3)} vs pass-through`;
		const sorted = [...peaks[variant]].sort((a, b) => a - b);
		const range = sorted.length > 1 ? `; rounds ${sorted.map(mb).join(', ')}` : '';
		console.log(
			`  ${VARIANTS[variant].padEnd(46)} ${fmt(rate(r)).padStart(8)} items/s  (${r.items} in ${r.ms.toFixed(0)} ms, ${fmt((r.items * 1000) / r.cpuMs)} items per CPU-second, peak RSS ${mb(peakRss(variant))}${range})${ratio}`,
		);
	}
	const ours = best.ours;
	const old = best['old reader'];
	console.log(
		`  new reader / old reader: ×${(rate(ours) / rate(old)).toFixed(2)} items/s, ×${(old.cpuMs / ours.cpuMs).toFixed(2)} per CPU-second`,
	);
	const speed = rate(ours) / 20_000;
	console.log(
		`  target ≥ 20,000 items/s: ratio ${speed.toFixed(2)} ${speed >= 1 ? 'MET' : 'MISSED'}`,
	);
	const memory = peakRss('ours') / peakRss('pass-through');
	console.log(
		`  target peak RSS ≤ 1.5× pass-through: ×${memory.toFixed(2)} ${memory <= 1.5 ? 'MET' : 'MISSED'}`,
	);

	// the sender of every item is the same text: parsed once per run (the memo) or per item
	const { buildMessage } = await import('../lib/delivery/message');
	const { recipients } = await import('../test/helpers/recipients');
	const inputs = recipients(N, 32).map((r) => ({
		from: 'Shop <news@shop.example>',
		to: r.email,
		replyTo: 'Help <help@shop.example>',
		subject: 'Hello',
		text: 'Hi there',
	}));
	let sink = 0;
	const memoized = await measure('buildMessage, From and Reply-To parsed once', N, () => {
		const memo = {};
		for (const input of inputs) sink += buildMessage(input, memo).ok ? 1 : 0;
	});
	const perItem = await measure('anchor: From and Reply-To parsed per item', N, () => {
		for (const input of inputs) sink += buildMessage(input).ok ? 1 : 0;
	});
	report(`Building ${N.toLocaleString('en')} messages with one sender`, [memoized, perItem]);
	if (sink === 42) console.log('');
}

if (process.argv[2] === '--child') {
	child(process.argv[3] as Variant, Number(process.argv[4]))
		.then(() => process.exit(0))
		.catch((error) => {
			console.error(error);
			process.exit(1);
		});
}
