import type { INodeExecutionData } from 'n8n-workflow';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { closeRedisStateStores } from '../../lib/state/connection';
import { embeddedStateStore, resetEmbeddedStateStore } from '../../lib/state/registry';
import { closeSmtpTransports } from '../../lib/transports/smtp';
import { runWorkflow } from '../helpers/engine';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import type { SmtpSink } from '../helpers/smtpSink';
import {
	assigned,
	delivery,
	isYahoo,
	people,
	reputationWorkflow,
	smtpCredential,
	startSinks,
} from './reputationWorkflow';

/**
 * The end-to-end reputation scenario, through n8n's engine with the real nodes and real
 * SMTP sinks: a campaign over Relay A and Relay B, 50/50, where Relay A's sink answers Yahoo
 * recipients with Yahoo's TSS04 deferral. Relay A is suspended for yahoo only; Gmail keeps
 * flowing on A; the next run sends every Yahoo recipient through B; after the suspension A
 * starts again at a quarter of its share. Then the same on Redis, the runs in separate processes.
 */

const rcptsOf = (sink: SmtpSink) => sink.messages.flatMap((m) => m.rcpts);
const yahooIn = (rcpts: string[]) => rcpts.filter((r) => r.includes('@yahoo.')).length;
const gmailIn = (rcpts: string[]) => rcpts.filter((r) => r.includes('@gmail.')).length;

/** a short suspension (1.2 s) so the test sees it end; the default is 2 hours */
const SHORT = JSON.stringify([{ rule: 'yahoo-tss04', durationMinutes: 0.02 }]);

function summary(outputs: (node: string) => INodeExecutionData[][]) {
	const [a, b] = outputs('Split');
	const sentA = outputs('Send A')[0];
	const heldA = outputs('Send A')[2];
	return { a, b, sentA, heldA };
}

describe('reputation: TSS04 on Relay A suspends it for Yahoo only (embedded store)', () => {
	const flag = { yahooDeferred: true };
	let sinks: SmtpSink[] = [];
	beforeEach(async () => {
		resetEmbeddedStateStore();
		flag.yahooDeferred = true;
		sinks = await startSinks(flag);
	});
	afterEach(async () => {
		await closeSmtpTransports();
		await Promise.all(sinks.map((s) => s.close()));
	});

	it('suspends A × yahoo, moves Yahoo to B exactly, keeps Gmail on A, then ramps A back', async () => {
		const [sinkA, sinkB] = sinks;
		const credentials = {
			'smtp-a': smtpCredential(sinkA.port),
			'smtp-b': smtpCredential(sinkB.port),
		};
		const wf = reputationWorkflow({ reputationRules: SHORT });

		// run 1: A meets TSS04 for its first Yahoo recipient
		const t0 = Date.now();
		const one = await runWorkflow(wf, { Recipients: people(20, 'r1') }, { credentials });
		expect(one.error).toBeUndefined();
		const r1 = summary((n) => one.outputs(n));
		const yahooOnA = r1.a.filter(isYahoo).length;
		expect(yahooOnA).toBe(10);
		// Gmail on A all went out; no Yahoo recipient on A was delivered
		expect(r1.sentA.filter((i) => !isYahoo(i))).toHaveLength(10);
		expect(r1.sentA.filter(isYahoo)).toHaveLength(0);
		expect(yahooIn(rcptsOf(sinkA))).toBe(0);
		// one (or the few in flight with it) met the reply; the rest were held without a try
		const blocked = r1.heldA.filter((i) => delivery(i).status === 'blocked');
		const held = r1.heldA.filter((i) => delivery(i).status === 'route-suspended');
		expect(blocked.length).toBeGreaterThanOrEqual(1);
		expect(blocked.length + held.length).toBe(10);
		expect(held.length).toBeGreaterThan(0);
		expect(delivery(blocked[0]).reputation).toEqual([
			expect.objectContaining({ what: 'suspended', rule: 'yahoo-tss04', group: 'yahoo' }),
		]);
		expect(String(delivery(held[0]).error)).toMatch(
			/^route "Relay A" is suspended for the domain group "yahoo" until .*rule yahoo-tss04/,
		);
		// RCPT attempts at A for Yahoo: the messages that were on the wire before the suspension
		expect(sinkA.attempts.rcpt - 10).toBe(blocked.length);

		// run 2, still suspended: every Yahoo recipient to B (A's turns spill, via reputation); Gmail 50/50
		const two = await runWorkflow(wf, { Recipients: people(20, 'r2') }, { credentials });
		expect(two.error).toBeUndefined();
		const r2 = summary((n) => two.outputs(n));
		expect(r2.a.filter(isYahoo)).toHaveLength(0);
		expect(r2.b.filter(isYahoo)).toHaveLength(20);
		const moved = r2.b.filter((i) => assigned(i).via === 'reputation');
		expect(moved).toHaveLength(10);
		expect(String(assigned(moved[0]).reason)).toMatch(
			/^Relay A: suspended for yahoo until .* \(yahoo-tss04: Yahoo \/ AOL deferred/,
		);
		expect(r2.a.filter((i) => !isYahoo(i))).toHaveLength(10);
		expect(r2.sentA).toHaveLength(10);
		const suspendedFor =
			Date.parse(String((delivery(blocked[0]).reputation as Array<{ until: string }>)[0].until)) -
			t0;
		expect(suspendedFor).toBeGreaterThan(1000);
		expect(suspendedFor).toBeLessThan(1200 + 5000);

		// after the suspension: Yahoo accepts again, and A starts at a quarter of its share
		flag.yahooDeferred = false;
		const until = Date.parse(
			String((delivery(blocked[0]).reputation as Array<{ until: string }>)[0].until),
		);
		await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 50));
		const three = await runWorkflow(wf, { Recipients: people(200, 'r3') }, { credentials });
		expect(three.error).toBeUndefined();
		const r3 = summary((n) => three.outputs(n));
		const yahooA = r3.a.filter(isYahoo).length;
		// the sequence names A for 100 of the 200; at a share of 0.25 (+ a few ms of ramp) it keeps ~25
		expect(yahooA).toBeGreaterThanOrEqual(20);
		expect(yahooA).toBeLessThanOrEqual(30);
		expect(r3.a.filter((i) => !isYahoo(i))).toHaveLength(100);
		expect(r3.sentA.filter(isYahoo)).toHaveLength(yahooA);
		const slow = r3.b.filter((i) => assigned(i).via === 'reputation');
		expect(slow).toHaveLength(100 - yahooA);
		expect(String(assigned(slow[0]).reason)).toMatch(
			/^Relay A: starting again after a suspension for yahoo, at 25% of its share/,
		);
		// Gmail went through A in every run
		expect(gmailIn(rcptsOf(sinkA))).toBe(120);
		console.log(
			`reputation (embedded): run 1 ${blocked.length} TSS04 replies, ${held.length} held; suspended ${suspendedFor} ms; run 2 moved ${moved.length} Yahoo items to B (Yahoo A/B 0/20, Gmail A/B 10/10); run 3 Yahoo on A ${yahooA} of 200 (slow start), Gmail A 100/200`,
		);
	});
});

describe('list quality: a campaign whose hard bounces pass the critical bar is paused, not re-routed', () => {
	const flag = { yahooDeferred: false };
	let sinks: SmtpSink[] = [];
	beforeEach(async () => {
		resetEmbeddedStateStore();
		sinks = await startSinks(flag);
	});
	afterEach(async () => {
		await closeSmtpTransports();
		await Promise.all(sinks.map((s) => s.close()));
	});

	it('warns without the option; with it the next run holds every message of the campaign; a resume sends again', async () => {
		const [sinkA, sinkB] = sinks;
		const credentials = {
			'smtp-a': smtpCredential(sinkA.port),
			'smtp-b': smtpCredential(sinkB.port),
		};
		// what the feedback of the last day said of campaign "winter": 40 hard bounces of 600 sent
		// (6.7%; the lower end of its 90% Wilson interval 5.48% ≥ the 5% critical bar)
		await embeddedStateStore().countOutcomes([
			{
				route: '',
				group: 'winter',
				counts: { sent: 600, bounceHard: 40 },
				at: Date.now() - 3_600_000,
			},
		]);
		const warnOnly = await runWorkflow(
			reputationWorkflow(),
			{ Recipients: people(5, 'lq0') },
			{ credentials },
		);
		expect(warnOnly.error).toBeUndefined();
		expect(warnOnly.outputs('Send A')[0]).toHaveLength(5);

		const wf = reputationWorkflow({ sendOptions: { pauseCampaign: true, campaignPauseHours: 6 } });
		// list quality is read at most every 30 s per campaign in a process: a fresh clock for this run
		const one = await runWorkflow(
			wf,
			{ Recipients: people(5, 'lq1') },
			{ credentials, executionId: 'lq1' },
		);
		expect(one.error).toBeUndefined();
		const [pause] = await embeddedStateStore().getCampaignPauses(['winter']);
		expect(pause).toMatchObject({ rule: 'hard-bounce-rate' });
		expect(pause!.reason).toMatch(
			/^hard bounces of the campaign in the last 24 hours: 40 of 6[01]\d \(6\.\d\d%, at least 5\.\d\d% at 90% confidence\) ≥ 5\.00%$/,
		);
		const two = await runWorkflow(wf, { Recipients: people(5, 'lq2') }, { credentials });
		const held = [...two.outputs('Send A')[2], ...two.outputs('Send B')[2]];
		expect(held).toHaveLength(10);
		expect(held.every((i) => delivery(i).status === 'campaign-paused')).toBe(true);
		expect(String(delivery(held[0]).error)).toMatch(
			/^campaign "winter" is paused until .*rule hard-bounce-rate/,
		);
		// both routes kept their share: a list problem moves no traffic
		expect(two.outputs('Split')[0]).toHaveLength(5);
		const before = sinkA.messages.length + sinkB.messages.length;

		const resumed = await runWorkflow({
			nodes: [
				{
					id: 't',
					name: 'Manual Trigger',
					type: 'n8n-nodes-base.manualTrigger',
					typeVersion: 1,
					position: [0, 0],
					parameters: {},
				},
				{
					id: 'o',
					name: 'Ops',
					type: 'n8n-nodes-postal-routes.postalOperations',
					typeVersion: 1,
					position: [200, 0],
					parameters: { resource: 'campaign', operation: 'resume', campaign: 'winter' },
				},
			],
			connections: { 'Manual Trigger': { main: [[{ node: 'Ops', type: 'main', index: 0 }]] } },
		} as unknown as Parameters<typeof runWorkflow>[0]);
		expect(resumed.outputs('Ops')[0][0].json).toEqual({ campaign: 'winter', paused: false });
		const three = await runWorkflow(
			reputationWorkflow(),
			{ Recipients: people(5, 'lq3') },
			{ credentials },
		);
		expect(three.outputs('Send A')[0].length + three.outputs('Send B')[0].length).toBe(10);
		expect(sinkA.messages.length + sinkB.messages.length - before).toBe(10);
	});
});

describe('reputation on Redis: the suspension one process makes holds in another', () => {
	let redis: RedisServer;
	const flag = { yahooDeferred: true };
	let sinks: SmtpSink[] = [];
	beforeAll(async () => {
		redis = await startRedisServer();
		sinks = await startSinks(flag);
	});
	afterAll(async () => {
		await closeSmtpTransports();
		await closeRedisStateStores();
		await Promise.all(sinks.map((s) => s.close()));
		await redis.stop();
	});

	it('two worker processes meet TSS04 together; a third routes all Yahoo to B; Gmail on A throughout', async () => {
		const [sinkA, sinkB] = sinks;
		const job = (tag: string) => ({
			tag,
			redisPort: redis.port,
			portA: sinkA.port,
			portB: sinkB.port,
		});
		// two processes at once, sharing Redis (queue mode's workers)
		const [w1, w2] = await Promise.all([runChild(job('w1')), runChild(job('w2'))]);
		for (const w of [w1, w2]) {
			expect(w.error).toBeUndefined();
			expect(w.yahooSentA).toBe(0);
			expect(w.gmailSentA).toBe(w.gmailOnA);
		}
		// the first TSS04 in either process suspended A × yahoo for both: far fewer tries than Yahoo items on A
		const tries = w1.yahooBlockedA + w2.yahooBlockedA;
		expect(tries).toBeGreaterThanOrEqual(1);
		expect(tries + w1.yahooHeldA + w2.yahooHeldA).toBe(w1.yahooOnA + w2.yahooOnA);
		expect(tries).toBeLessThan(w1.yahooOnA + w2.yahooOnA);
		expect(yahooIn(rcptsOf(sinkA))).toBe(0);

		// a third process, later: no Yahoo recipient routed to A at all
		const w3 = await runChild(job('w3'));
		expect(w3.error).toBeUndefined();
		expect(w3.yahooOnA).toBe(0);
		expect(w3.yahooOnB).toBe(20);
		expect(w3.movedByReputation).toBe(10);
		expect(w3.gmailOnA).toBe(10);
		console.log(
			`reputation (Redis, 3 processes): ${tries} TSS04 tries, ${w1.yahooHeldA + w2.yahooHeldA} held; process 3 moved ${w3.movedByReputation} Yahoo items to B, Gmail A/B ${w3.gmailOnA}/${20 - w3.gmailOnA}`,
		);
	});
});

interface ChildResult {
	error?: string;
	yahooOnA: number;
	yahooOnB: number;
	gmailOnA: number;
	yahooSentA: number;
	gmailSentA: number;
	yahooBlockedA: number;
	yahooHeldA: number;
	movedByReputation: number;
}

function runChild(job: { tag: string; redisPort: number; portA: number; portB: number }) {
	return new Promise<ChildResult>((resolve, reject) => {
		const child = spawn(
			process.execPath,
			['-r', 'ts-node/register', join(__dirname, 'reputationChild.ts')],
			{
				cwd: join(__dirname, '..', '..'),
				env: {
					...process.env,
					POSTAL_REPUTATION_JOB: JSON.stringify(job),
					TS_NODE_TRANSPILE_ONLY: '1',
				},
				stdio: ['ignore', 'pipe', 'pipe'],
			},
		);
		const out: Buffer[] = [];
		const err: Buffer[] = [];
		child.stdout.on('data', (d: Buffer) => out.push(d));
		child.stderr.on('data', (d: Buffer) => err.push(d));
		child.once('error', reject);
		child.once('close', (code) => {
			const line = Buffer.concat(out)
				.toString()
				.split('\n')
				.find((l) => l.startsWith('{"reputationChild":'));
			if (code !== 0 || !line)
				return reject(
					new Error(`child ${job.tag} exited ${code}:\n${Buffer.concat(err).toString()}`),
				);
			resolve((JSON.parse(line) as { reputationChild: ChildResult }).reputationChild);
		});
	});
}
