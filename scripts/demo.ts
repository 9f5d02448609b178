/**
 * The main job on the embedded state: examples/broadcast-domain-groups.json run through the
 * real n8n engine against two local SMTP relays this script starts (in a process of their own,
 * scripts/demo-relays.ts), with a report: the groups, the routes, the deliveries, how many times
 * each node ran (from the run data), and the rate with what bounds it, as measured in this run.
 *
 * n8n-core runs the workflow; n8n's Code node is not part of n8n-core, so the example's
 * "Sample Recipients" JavaScript is run here and its items handed to the workflow in its place.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import type {
	IDataObject,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	INodeType,
} from 'n8n-workflow';
import { RATE_UNITS, type RateUnit } from '../lib/throttle/units';
import type { RelayStats } from './demo-relays';

// a fresh n8n folder: n8n-core writes its config there, and the embedded state file goes there
// too (with node:sqlite), so the demo neither meets nor changes the state of a real n8n
process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'postal-routes-demo-'));

const PACKAGE = 'n8n-nodes-postal-routes';
const SEND = `${PACKAGE}.loadBalancedSend`;

const pct = (n: number, total: number) =>
	`${total ? ((100 * n) / total).toFixed(1) : '0.0'}%`.padStart(6);
const num = (n: number, width = 5) => String(n).padStart(width);
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (n: number, ms: number) => (ms > 0 ? ((1000 * n) / ms).toFixed(0) : '–');
const count = <T>(list: T[], key: (t: T) => string) =>
	list.reduce<Record<string, number>>((acc, t) => {
		const k = key(t);
		acc[k] = (acc[k] ?? 0) + 1;
		return acc;
	}, {});
/** `a 3, b 1`: most first */
const listed = (counts: Record<string, number>) =>
	Object.entries(counts)
		.sort((x, y) => y[1] - x[1])
		.map(([k, n]) => `${k} ${n}`)
		.join(', ');

// ------------------------------------------------------------------------- what the run costs

/** The main thread's time on a CPU and waiting for one (Linux /proc), in ms; undefined elsewhere. */
function threadTimes(): { cpu: number; wait: number } | undefined {
	try {
		const [cpu, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
		return Number.isFinite(cpu) && Number.isFinite(wait)
			? { cpu: cpu / 1e6, wait: wait / 1e6 }
			: undefined;
	} catch {
		return undefined;
	}
}

interface Sample {
	at: number;
	thread?: { cpu: number; wait: number };
	processCpu: number;
}
const sample = (): Sample => {
	const c = process.cpuUsage();
	return { at: performance.now(), thread: threadTimes(), processCpu: (c.user + c.system) / 1000 };
};

interface NodeRun {
	node: string;
	start: Sample;
	end: Sample;
}

/** Our node classes, each execute() timed (wall, main thread, process CPU) once per run. */
function timedNodeTypes(runs: NodeRun[]): Record<string, INodeType> {
	/* eslint-disable @typescript-eslint/no-require-imports */
	const { DomainGroupClassifier } =
		require('../nodes/DomainGroupClassifier/DomainGroupClassifier.node') as typeof import('../nodes/DomainGroupClassifier/DomainGroupClassifier.node');
	const { RoutePartitioner } =
		require('../nodes/RoutePartitioner/RoutePartitioner.node') as typeof import('../nodes/RoutePartitioner/RoutePartitioner.node');
	const { LoadBalancedSend } =
		require('../nodes/LoadBalancedSend/LoadBalancedSend.node') as typeof import('../nodes/LoadBalancedSend/LoadBalancedSend.node');
	/* eslint-enable @typescript-eslint/no-require-imports */
	const timed = (type: INodeType): INodeType => {
		const execute = type.execute!;
		return Object.assign(Object.create(type) as INodeType, {
			async execute(this: IExecuteFunctions) {
				const start = sample();
				try {
					return await execute.call(this);
				} finally {
					runs.push({ node: this.getNode().name, start, end: sample() });
				}
			},
		});
	};
	return {
		domainGroupClassifier: timed(new DomainGroupClassifier()),
		routePartitioner: timed(new RoutePartitioner()),
		loadBalancedSend: timed(new LoadBalancedSend()),
	};
}

interface Evaluations {
	/** node name → expression → times evaluated */
	counts: Map<string, Map<string, number>>;
	/** time spent in them, ms */
	ms: number;
}

/**
 * Counts n8n's own expression evaluations by wrapping n8n-workflow's
 * WorkflowExpression.resolveSimpleParameterValue, where every `=…` parameter value a node reads
 * through getNodeParameter is evaluated. A value the node reads from the item itself (the nodes'
 * fast path for `{{ $json.a || $json.b }}`) never gets there.
 */
function countEvaluations(): Evaluations | undefined {
	/* eslint-disable-next-line @typescript-eslint/no-require-imports */
	const proto = (require('n8n-workflow') as typeof import('n8n-workflow')).WorkflowExpression
		?.prototype as unknown as Record<string, (...args: unknown[]) => unknown> | undefined;
	const original = proto?.resolveSimpleParameterValue;
	if (!proto || typeof original !== 'function') return undefined;
	const evaluations: Evaluations = { counts: new Map(), ms: 0 };
	proto.resolveSimpleParameterValue = function (this: unknown, ...args: unknown[]) {
		const [value, , , , , node] = args;
		if (typeof value !== 'string' || !value.startsWith('=')) return original.apply(this, args);
		const byExpression = evaluations.counts.get(String(node)) ?? new Map<string, number>();
		byExpression.set(value, (byExpression.get(value) ?? 0) + 1);
		evaluations.counts.set(String(node), byExpression);
		const t = performance.now();
		try {
			return original.apply(this, args);
		} finally {
			evaluations.ms += performance.now() - t;
		}
	};
	return evaluations;
}

// ------------------------------------------------------------------------------------ relays

interface Relays {
	ports: number[];
	stats(): Promise<{ relays: RelayStats[]; cpuMs: number }>;
	stop(): void;
}

async function startRelays(n: number): Promise<Relays> {
	const child = fork(join(__dirname, 'demo-relays.ts'), [String(n)], {
		execArgv: ['-r', 'ts-node/register'],
	});
	const ports = await new Promise<number[]>((resolve, reject) => {
		child.once('message', (m: { ports: number[] }) => resolve(m.ports));
		child.once('exit', (code) => reject(new Error(`the relays' process exited (${code})`)));
	});
	return {
		ports,
		stats: () =>
			new Promise((resolve) => {
				child.once('message', (m: { relays: RelayStats[]; cpuMs: number }) => resolve(m));
				child.send({ type: 'stats' });
			}),
		stop: () => child.kill(),
	};
}

// ------------------------------------------------------------------------------- the report

/** Every `=…` value in a node's parameters, by path; and the description's `=…` defaults the parameters leave as they are. */
function expressionParameters(node: INode, type: INodeType | undefined): Map<string, string> {
	const found = new Map<string, string>();
	const walk = (value: unknown, path: string) => {
		if (typeof value === 'string' && value.startsWith('=')) found.set(path, value);
		else if (value && typeof value === 'object')
			for (const [k, v] of Object.entries(value))
				walk(v, Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k);
	};
	walk(node.parameters, '');
	for (const p of type?.description.properties ?? [])
		if (typeof p.default === 'string' && p.default.startsWith('=') && !(p.name in node.parameters))
			found.set(p.name, p.default);
	return found;
}

interface Measured {
	wall: number;
	thread?: { cpu: number; wait: number };
}

/** The time of these node runs, and the main thread's in them (where the system tells it). */
function measured(runs: NodeRun[]): Measured {
	const wall = runs.reduce((a, r) => a + r.end.at - r.start.at, 0);
	if (!runs.length || !runs.every((r) => r.start.thread && r.end.thread)) return { wall };
	const thread = { cpu: 0, wait: 0 };
	for (const r of runs) {
		thread.cpu += r.end.thread!.cpu - r.start.thread!.cpu;
		thread.wait += r.end.thread!.wait - r.start.thread!.wait;
	}
	return { wall, thread };
}

// -------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
	const { runWorkflow, nodeTypesWith } = await import('../test/helpers/engine');
	const { closeSmtpTransports } = await import('../lib/transports/smtp');
	const { embeddedStateInfo } = await import('../lib/state/registry');

	const workflow = JSON.parse(
		readFileSync(join(__dirname, '..', 'examples', 'broadcast-domain-groups.json'), 'utf8'),
	) as { name: string; nodes: INode[]; connections: never };
	const byName = new Map(workflow.nodes.map((n) => [n.name, n]));
	const ofType = (type: string) =>
		workflow.nodes.filter((n) => n.type === `${PACKAGE}.${type}`).map((n) => n.name);
	const [classifier] = ofType('domainGroupClassifier');
	const [partitioner] = ofType('routePartitioner');
	const senders = ofType('loadBalancedSend');

	const sampleNode = byName.get('Sample Recipients')!;
	const recipients = (
		runInNewContext(`(() => { ${sampleNode.parameters.jsCode} })()`, {}) as INodeExecutionData[]
	).map((i) => i.json);
	recipients.push({ email: 'not an address', firstName: 'Typo' });
	sampleNode.type = 'test.injectedItems';
	sampleNode.parameters = {};

	// the relays' credentials: the Postal Routes SMTP credential's defaults but for where they are
	const relays = await startRelays(2);
	const credentials = {
		relayASmtp: { host: '127.0.0.1', port: relays.ports[0], security: 'none' },
		relayBSmtp: { host: '127.0.0.1', port: relays.ports[1], security: 'none' },
	};
	const { PostalSmtp } = await import('../credentials/PostalSmtp.credentials');
	const credentialDefault = (name: string) =>
		Number(new PostalSmtp().properties.find((p) => p.name === name)?.default);
	const poolSize = credentialDefault('poolSize');
	const perConnection = credentialDefault('messagesPerConnection');
	const relayIndex: Record<string, number> = { relayASmtp: 0, relayBSmtp: 1 };

	const nodeRuns: NodeRun[] = [];
	const ours = timedNodeTypes(nodeRuns);
	const nodeTypes = nodeTypesWith(ours);
	const evaluations = countEvaluations();
	const relaysBefore = await relays.stats();
	const t0 = performance.now();
	const run = await runWorkflow(
		workflow,
		{ 'Sample Recipients': recipients },
		{ credentials, nodeTypes },
	);
	const elapsed = performance.now() - t0;
	const relaysAfter = await relays.stats();
	if (run.error) throw run.error;
	const runData = run.run.data.resultData.runData;
	const [load] = loadavg();

	console.log(`Broadcast "${workflow.name}"`);
	console.log(
		`${recipients.length} recipients through the n8n engine in ${sec(elapsed)}; two local SMTP relays (a process of their own, accepting every message); embedded state in ${embeddedStateInfo().file ?? 'memory'}\n`,
	);

	// ----------------------------------------------------------------- groups and routes
	const [valid = [], invalid = []] = run.allOutputs(classifier);
	const groups = Object.entries(count(valid, (i) => String(i.json.domainGroup))).sort(
		(a, b) => b[1] - a[1],
	);
	console.log(`Recipients per domain group (${classifier})`);
	for (const [group, n] of groups)
		console.log(`  ${group.padEnd(10)} ${num(n, 6)} ${pct(n, recipients.length)}`);
	for (const i of invalid)
		console.log(
			`  ${'invalid'.padEnd(10)} ${num(1, 6)} ${pct(1, recipients.length)}  "${i.json.email}": ${i.json.invalidReason}; left on Invalid, not routed`,
		);

	const outputs = run.allOutputs(partitioner);
	const routeNames = (
		(byName.get(partitioner)!.parameters.routes as { values?: Array<{ name: string }> }).values ??
		[]
	).map((r) => r.name);
	const columns = [...routeNames, 'Deferred'];
	const routed = outputs.flatMap((items, column) =>
		items.map((i) => ({
			column,
			group: String(i.json.domainGroup),
			assignment: i.json.postalRoute as IDataObject,
		})),
	);
	const row = (list: typeof routed) =>
		columns.map((_, k) => num(list.filter((r) => r.column === k).length, 9)).join('');
	console.log(`\nRoutes chosen by ${partitioner}`);
	console.log(`  ${''.padEnd(10)} ${columns.map((c) => c.padStart(9)).join('')}  how`);
	for (const [group] of groups) {
		const list = routed.filter((r) => r.group === group);
		console.log(
			`  ${group.padEnd(10)} ${row(list)}  ${listed(count(list, (r) => String(r.assignment.via)))}`,
		);
	}
	console.log(`  ${'all'.padEnd(10)} ${row(routed)}`);
	console.log(
		'  how: sequence = its turn in the split, group-table = the Domain Group Routing table, spill = the route due was full (a cap or warm-up) or unhealthy, so another took it',
	);
	const deferred = outputs[routeNames.length] ?? [];
	if (deferred.length) {
		const a = deferred[0].json.postalRoute as IDataObject;
		console.log(`  deferred until ${a.retryAt}: ${a.reason}`);
	}

	// ----------------------------------------------------------------------- delivery
	console.log('\nDelivery');
	const relayStats = relaysAfter.relays.map((r, k) => ({
		...r,
		messages: r.messages - relaysBefore.relays[k].messages,
		connections: r.connections - relaysBefore.relays[k].connections,
	}));
	const relayOf = (node: string) =>
		relayIndex[String(byName.get(node)!.credentials?.postalSmtp?.id)] ?? -1;
	let sentAll = 0;
	const sentAt: number[] = [];
	const statuses: string[] = [];
	for (const node of senders) {
		const [sent = [], failed = [], fallback = [], skipped = []] = run.allOutputs(node);
		sentAll += sent.length;
		for (const outputItems of [sent, failed, fallback, skipped])
			for (const i of outputItems)
				statuses.push(String((i.json.postalDelivery as IDataObject).status));
		for (const i of sent)
			sentAt.push(Date.parse(String((i.json.postalDelivery as IDataObject).sentAt)));
		const relay = relayStats[relayOf(node)];
		console.log(
			`  ${node.padEnd(17)} sent ${num(sent.length)}, failed ${failed.length}, fallback ${fallback.length}, skipped ${skipped.length}; its relay received ${relay?.messages ?? '?'}${relay && Object.keys(relay.headers).length ? ` (${listed(relay.headers)})` : ''}`,
		);
	}
	const first = relayStats[0]?.first;
	if (first)
		console.log(
			`  relay A's first message: To ${first.to}, Subject "${first.subject}", text "${first.greeting ?? '?'}"`,
		);
	const accounted = sentAll + deferred.length + invalid.length;
	console.log(
		`  ${sentAll} sent + ${deferred.length} deferred + ${invalid.length} invalid = ${accounted} of ${recipients.length} items accounted for`,
	);

	// ---------------------------------------------------------------------- node runs
	console.log('\nNode runs (from the run data)');
	for (const node of [classifier, partitioner, ...senders]) {
		const tasks = runData[node] ?? [];
		const ms = tasks.reduce((a, t) => a + t.executionTime, 0);
		console.log(
			`  ${node.padEnd(22)} ${tasks.length} run${tasks.length === 1 ? ' ' : 's'} ${String(ms).padStart(6)} ms`,
		);
	}
	const sendRuns = senders.map((n) => (runData[n] ?? []).length);
	const once = sendRuns.every((n) => n === 1);
	console.log(
		`  send-node runs: ${sendRuns.reduce((a, b) => a + b, 0)} for ${senders.length} send nodes: ${
			once
				? 'each ran once'
				: `NOT once each (${senders.map((n, k) => `${n} ${sendRuns[k]}`).join(', ')}); a node fed by several connections runs once per connection that brings items`
		}`,
	);

	// --------------------------------------------------------------------------- rate
	const sendWindows = nodeRuns.filter((r) => byName.get(r.node)?.type === SEND);
	const send = measured(sendWindows);
	const span = Math.max(...sentAt) - Math.min(...sentAt);
	console.log(
		`\nRate: ${sentAll} messages in ${sec(send.wall)} of send-node time = ${rate(sentAll, send.wall)} msg/s; first message to last ${sec(span)} = ${rate(sentAll, span)} msg/s`,
	);
	let prepareAll = 0;
	let inFlight = 0;
	let connectionTime = 0;
	const rateBound: string[] = [];
	for (const node of senders) {
		const options = (byName.get(node)!.parameters.options ?? {}) as IDataObject;
		const connectionLimit = Number(options.rateLimit ?? 0);
		for (const task of runData[node] ?? []) {
			const items = (task.data?.main ?? []).flatMap((o) => o ?? []);
			const records = items.map((i) => i.json.postalDelivery as IDataObject);
			const sent = records.filter((r) => r.status === 'sent').length;
			// queuedAt: when the node had read every item, built every message and began to send
			const queuedAt = Math.min(...records.map((r) => Date.parse(String(r.queuedAt))));
			const end = task.startTime + task.executionTime;
			const prepare = Math.max(0, queuedAt - task.startTime);
			const sending = Math.max(1, end - queuedAt);
			prepareAll += prepare;
			inFlight += records.reduce((a, r) => a + Number(r.latencyMs ?? 0), 0);
			connectionTime += poolSize * sending;
			console.log(
				`  ${node.padEnd(17)} ${num(sent)} messages: ${sec(prepare)} reading the items and building the messages, then ${sec(sending)} sending = ${rate(sent, sending)} msg/s`,
			);
			// the limits on this run's messages, per second: the route's campaign share, the node's own
			const share = (items[0]?.json.postalRoute as IDataObject | undefined)?.rate as
				{ limit: number; per: RateUnit } | undefined;
			const limits = [
				...(share ? [(1000 * share.limit) / RATE_UNITS[share.per]] : []),
				...(connectionLimit > 0
					? [(1000 * connectionLimit) / RATE_UNITS[(options.rateLimitPer as RateUnit) ?? 'second']]
					: []),
			];
			if (limits.length && (1000 * sent) / sending >= 0.9 * Math.min(...limits))
				rateBound.push(`${node} at ${Math.min(...limits).toFixed(0)}/s`);
		}
	}

	console.log('What bounds it, as measured in this run:');
	const bounds: string[] = [];
	const relayCpu = relaysAfter.cpuMs - relaysBefore.cpuMs;
	const relayMessages = relayStats.reduce((a, s) => a + s.messages, 0);
	if (send.thread) {
		const { cpu, wait } = send.thread;
		const idle = Math.max(0, send.wall - cpu - wait);
		console.log(
			`  - CPU: in the send nodes this process's main thread ran ${pct(cpu, send.wall).trim()} of the time, waited for a CPU ${pct(wait, send.wall).trim()} (held by other processes; load average ${load.toFixed(1)} on ${cpus().length} CPUs), was idle ${pct(idle, send.wall).trim()}; the relays' process used ${sec(relayCpu)} of CPU for ${relayMessages} messages`,
		);
		if ((cpu + wait) / send.wall >= 0.75)
			bounds.push(
				`CPU: this process's one JavaScript thread (n8n's engine, the nodes, nodemailer) was busy ${pct(cpu + wait, send.wall).trim()} of the send time${wait / send.wall >= 0.1 ? `, ${pct(wait, send.wall).trim()} of it waiting for a CPU other processes held` : ''}`,
			);
	} else {
		const cpu = sendWindows.reduce((a, r) => a + r.end.processCpu - r.start.processCpu, 0);
		console.log(
			`  - CPU: this process used ${sec(cpu)} of CPU (all its threads) in ${sec(send.wall)} of send-node time; the relays' process used ${sec(relayCpu)} for ${relayMessages} messages`,
		);
		if (cpu / send.wall >= 0.75)
			bounds.push(
				`CPU: this process (n8n's engine, the nodes, nodemailer) used ${pct(cpu, send.wall).trim()} of a CPU in the send time`,
			);
	}

	if (evaluations) {
		const evaluated: string[] = [];
		const never = new Set<string>();
		for (const node of [classifier, partitioner, ...senders]) {
			const counts = evaluations.counts.get(node) ?? new Map<string, number>();
			const type = ours[byName.get(node)!.type.slice(PACKAGE.length + 1)];
			for (const [name, expression] of expressionParameters(byName.get(node)!, type)) {
				const n = counts.get(expression) ?? 0;
				if (n) for (let k = 0; k < n; k++) evaluated.push(name);
				else never.add(name);
			}
		}
		const total = [...evaluations.counts.values()].reduce(
			(a, m) => a + [...m.values()].reduce((x, y) => x + y, 0),
			0,
		);
		console.log(
			`  - expressions: n8n evaluated ${total} (${listed(count(evaluated, (name) => name))}) in ${sec(evaluations.ms)}, ${(total / Math.max(1, sentAll)).toFixed(1)} per message: most of the ${sec(prepareAll)} the send nodes took to read the items and build the messages. Never ${[...never].join(', ')}: the nodes read those $json paths from the items`,
		);
	}

	const utilization = connectionTime ? inFlight / connectionTime : 0;
	console.log(
		`  - connections: ${poolSize} per relay, ${perConnection} messages each (the credential's defaults); ${relayStats.map((s, k) => `relay ${'AB'[k]} opened ${s.connections}`).join(', ')}, each greeted after smtp-server's 100 ms; a message was in flight on them ${pct(inFlight, connectionTime).trim()} of the sending time`,
	);

	const shares = [
		...new Set(
			routed
				.map((r) => r.assignment.rate as IDataObject | undefined)
				.filter((r): r is IDataObject => !!r)
				.map((r) => `${r.limit}/${r.per}`),
		),
	];
	const connectionLimits = senders
		.map((n) => (byName.get(n)!.parameters.options ?? {}) as IDataObject)
		.filter((o) => Number(o.rateLimit) > 0)
		.map((o) => `${o.rateLimit}/${o.rateLimitPer ?? 'second'}`);
	const rateDeferred = statuses.filter((s) => s === 'rate-deferred').length;
	console.log(
		`  - rate limits: ${
			shares.length || connectionLimits.length
				? `campaign shares ${shares.join(', ') || 'none'}; connection limits ${connectionLimits.join(', ') || 'none'}${rateBound.length ? `; reached by ${rateBound.join(', ')}` : '; not reached'}`
				: 'none configured (no Campaign Rate, no Connection Rate Limit)'
		}${rateDeferred ? `; ${rateDeferred} messages deferred by one` : ''}`,
	);
	if (rateBound.length || rateDeferred) bounds.push('the rate limits configured');

	const sequential = sendWindows.every(
		(r, k) => k === 0 || r.start.at >= sendWindows[k - 1].end.at - 1,
	);
	if (sequential && sendWindows.length > 1)
		console.log(
			`  - n8n runs one node at a time: ${sendWindows.map((r) => r.node).join(', then ')}; the relays never sent at the same time`,
		);
	if (utilization >= 0.85)
		bounds.push(
			bounds.length
				? "for the rest of the time, the relays' answers (every connection had a message out)"
				: `the relays' answers: the ${poolSize} connections per relay had a message in flight ${pct(inFlight, connectionTime).trim()} of the time (a larger Pool Size would raise it)`,
		);
	console.log(`  → bounded by ${bounds.length ? bounds.join('; ') : 'none of these alone'}`);

	// -------------------------------------------------------------------------- again
	const again = await runWorkflow(
		workflow,
		{ 'Sample Recipients': recipients },
		{ credentials, nodeTypes },
	);
	const relaysAgain = await relays.stats();
	const skipped = senders
		.flatMap((n) => again.allOutputs(n)[3] ?? [])
		.filter((i) => (i.json.postalDelivery as IDataObject).status === 'skipped-duplicate').length;
	const more = relaysAgain.relays.reduce(
		(a, r, k) => a + r.messages - relaysAfter.relays[k].messages,
		0,
	);
	console.log(
		`\nRe-running the same campaign: the relays received ${more} more; ${skipped} items skipped as already sent.`,
	);

	closeSmtpTransports();
	relays.stop();
	// the send nodes running more than once is a regression of the example (see the report above)
	process.exit(once ? 0 : 1);
}

main().catch((error) => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
