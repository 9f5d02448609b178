/**
 * The Postal Alert Trigger's trigger() in n8n-core's own TriggerContext, on a real Redis: alerts
 * published by another process (./alertChild.ts) start the workflow once, filtered; one read but
 * not acknowledged before a "restart" is emitted by the next activation; and on the embedded store.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { IDataObject, INode, WorkflowExecuteMode } from 'n8n-workflow';
import { PostalAlertTrigger } from '../../nodes/PostalAlertTrigger/PostalAlertTrigger.node';
import { closeRedisStateStores } from '../../lib/state/connection';
import { RedisStateStore } from '../../lib/state/redis';
import { embeddedStateStore } from '../../lib/state/registry';
import { alertScope } from '../../lib/state/alerts';
import { seenKeys } from '../../lib/state/keys';
import { PACKAGE } from '../helpers/engine';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { activateTrigger, until, type Activation } from '../helpers/trigger';

const nodeType = new PostalAlertTrigger();

/** Activates the trigger as n8n does: its node in a workflow, trigger() in a TriggerContext. */
function activate(
	parameters: IDataObject,
	credentials: Record<string, IDataObject>,
	mode: WorkflowExecuteMode = 'trigger',
	nodeId = 'alert-node-1',
): Promise<Activation> {
	return activateTrigger(
		nodeType,
		{
			id: nodeId,
			name: 'Postal Alert Trigger',
			type: `${PACKAGE}.postalAlertTrigger`,
			parameters: parameters as INode['parameters'],
			credentials:
				parameters.stateStore === 'redis' ? { postalRedis: { id: 'r1', name: 'Redis' } } : {},
		},
		credentials,
		mode,
		'alertWorkflow',
	);
}

function runChild(job: { port: number; keyPrefix: string; tag: string }) {
	return new Promise<{ errors: string[] }>((resolve, reject) => {
		const child = spawn(
			process.execPath,
			['-r', 'ts-node/register', join(__dirname, 'alertChild.ts')],
			{
				cwd: join(__dirname, '..', '..'),
				env: { ...process.env, POSTAL_ALERT_JOB: JSON.stringify(job), TS_NODE_TRANSPILE_ONLY: '1' },
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
				.find((l) => l.startsWith('{"alertChild":'));
			if (code !== 0 || !line)
				return reject(new Error(`child exited ${code}:\n${Buffer.concat(err).toString()}`));
			resolve((JSON.parse(line) as { alertChild: { errors: string[] } }).alertChild);
		});
	});
}

describe('Postal Alert Trigger on Redis', () => {
	let server: RedisServer;
	const keyPrefix = `alerts${Date.now()}:`;
	const credentials = () => ({
		postalRedis: { mode: 'standalone', host: '127.0.0.1', port: server.port, keyPrefix },
	});
	const parameters = {
		stateStore: 'redis',
		redisCredentialType: 'postalRoutes',
		minimumSeverity: 'warning',
		pollSeconds: 1,
	};
	const group = 'alertWorkflow:alert-node-1';

	beforeAll(async () => {
		server = await startRedisServer();
	});
	afterAll(async () => {
		await closeRedisStateStores();
		await server.stop();
	});

	it('fires once for alerts published in another process, and loses none across a restart', async () => {
		const first = await activate(parameters, credentials());
		const child = await runChild({ port: server.port, keyPrefix, tag: 'one' });
		expect(child.errors).toEqual([]);
		await until(() => first.emitted.flat().length >= 2);
		// two more polls: nothing again
		await new Promise((r) => setTimeout(r, 2300));
		const items = first.emitted.flat().map((i) => i.json);
		expect(items.map((a) => [a.type, a.severity, a.route, a.group])).toEqual([
			['route.ejected', 'critical', 'Relay one', undefined],
			['route.suspended', 'critical', 'Backup one', 'yahoo'],
		]);
		expect(items[0]).toMatchObject({
			campaign: 'promo',
			reason: '535 5.7.8 Authentication credentials invalid',
			id: expect.stringMatching(/^0-\d+$/),
		});
		// the info alert (restored) was read and acknowledged, not emitted
		const inspect = new RedisStateStore({
			mode: 'standalone',
			host: '127.0.0.1',
			port: server.port,
			keyPrefix,
		});
		const closing: Array<() => Promise<void>> = [first.response.closeFunction!];
		try {
			await inspect.now(); // connects: the raw client below is the store's
			const pending = (await inspect.redis.xpending(`${keyPrefix}{alerts}:log`, group)) as [number];
			expect(pending[0]).toBe(0);
			await first.response.closeFunction!();

			// the process dies between reading and acknowledging: the group holds the alert as pending
			await runChild({ port: server.port, keyPrefix, tag: 'two' });
			const taken = await inspect.readAlerts(group, group, { count: 10 });
			expect(taken.map((a) => a.route)).toEqual(['Relay two', 'Backup two', 'Backup two']);

			// the next activation (n8n restarted) emits them first, once
			const second = await activate(parameters, credentials());
			closing.push(second.response.closeFunction!);
			await until(() => second.emitted.flat().length >= 2);
			await new Promise((r) => setTimeout(r, 2300));
			expect(second.emitted.flat().map((i) => [i.json.type, i.json.route])).toEqual([
				['route.ejected', 'Relay two'],
				['route.suspended', 'Backup two'],
			]);
			await second.response.closeFunction!();
			expect(
				((await inspect.redis.xpending(`${keyPrefix}{alerts}:log`, group)) as [number])[0],
			).toBe(0);
		} finally {
			for (const close of closing) await close();
			await inspect.close();
		}
	}, 40_000);

	it('with a cooldown, two mains running the trigger emit the same alert once per cooldown, the marks in Redis', async () => {
		const cooling = { ...parameters, cooldownMinutes: 0.1 }; // 6 s
		const nodeId = 'alert-node-cool';
		const coolGroup = `alertWorkflow:${nodeId}`;
		const inspect = new RedisStateStore({
			mode: 'standalone',
			host: '127.0.0.1',
			port: server.port,
			keyPrefix,
		});
		// two n8n mains with the workflow active: two activations, one consumer group
		const mains = [
			await activate(cooling, credentials(), 'trigger', nodeId),
			await activate(cooling, credentials(), 'trigger', nodeId),
		];
		const emitted = () =>
			mains.flatMap((m) => m.emitted.flat().map((i) => [i.json.route, i.json.rule, i.json.id]));
		const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
		try {
			const at = new Date().toISOString();
			const flap = {
				type: 'route.throttled' as const,
				severity: 'warning' as const,
				route: 'Relay F',
				group: 'gmail',
				rule: 'gmail-rate',
				reason: 'deferral rate',
				at,
			};
			// a flapping route: three of the same (the store's own cooldown off), and another route
			const publishedAt = Date.now();
			const ids = await inspect.publishAlerts([flap, flap, flap, { ...flap, route: 'Relay G' }], 0);
			await until(() => emitted().length >= 2);
			await sleep(2300);
			expect(emitted()).toEqual(
				expect.arrayContaining([
					['Relay F', 'gmail-rate', ids[0]],
					['Relay G', 'gmail-rate', ids[3]],
				]),
			);
			expect(emitted()).toHaveLength(2);
			// the mark is the store's, living for the cooldown
			const ttl = await inspect.redis.pttl(
				`${keyPrefix}{seen}:${seenKeys.alert(coolGroup, alertScope(flap))}`,
			);
			expect(ttl).toBeGreaterThan(0);
			expect(ttl).toBeLessThanOrEqual(6000);
			// inside the cooldown: read, acknowledged, dropped
			await inspect.publishAlerts([flap], 0);
			await sleep(2300);
			expect(emitted()).toHaveLength(2);
			expect(
				((await inspect.redis.xpending(`${keyPrefix}{alerts}:log`, coolGroup)) as [number])[0],
			).toBe(0);
			// after it: emitted again, once
			await sleep(Math.max(0, publishedAt + 7500 - Date.now()));
			const [later] = await inspect.publishAlerts([flap], 0);
			await until(() => emitted().length >= 3);
			await sleep(1500);
			expect(emitted().slice(2)).toEqual([['Relay F', 'gmail-rate', later]]);
		} finally {
			for (const m of mains) await m.response.closeFunction!();
			await inspect.close();
		}
	}, 40_000);
});

describe('Postal Alert Trigger on the embedded store', () => {
	it('emits what the filter keeps, one item per alert, and a test run waits for the next alert', async () => {
		const store = embeddedStateStore();
		const parameters = {
			stateStore: 'memory',
			types: ['route.throttled', 'route.suspended'],
			groups: 'gmail, yahoo',
			pollSeconds: 1,
		};
		const active = await activate(parameters, {});
		const at = new Date().toISOString();
		const base = { severity: 'warning' as const, reason: 'r', at };
		await store.publishAlerts(
			[
				{ ...base, type: 'route.throttled', route: 'A', group: 'gmail' },
				{ ...base, type: 'route.throttled', route: 'A', group: 'hotmail' },
				{ ...base, type: 'route.ejected', route: 'A', severity: 'critical' },
				{ ...base, type: 'route.suspended', route: 'B', group: 'yahoo', severity: 'critical' },
			],
			0,
		);
		await until(() => active.emitted.length > 0);
		expect(active.emitted).toHaveLength(1);
		expect(active.emitted[0].map((i) => [i.json.route, i.json.group])).toEqual([
			['A', 'gmail'],
			['B', 'yahoo'],
		]);
		await active.response.closeFunction!();

		const test = await activate(parameters, {}, 'manual');
		const waiting = test.response.manualTriggerFunction!();
		await store.publishAlerts(
			[{ ...base, type: 'route.throttled', route: 'C', group: 'gmail' }],
			0,
		);
		await waiting;
		expect(test.emitted.flat().map((i) => i.json.route)).toEqual(['C']);
		await test.response.closeFunction!();
	}, 20_000);
});
