import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { closeRedisStateStores } from '../../lib/state/connection';
import { startDnsServer } from '../helpers/dnsServer';
import { loadWorkflow, runWorkflow, withParameters, withRedisState } from '../helpers/engine';
import { recipients } from '../helpers/recipients';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';

const route = (item: INodeExecutionData) => (item.json.postalRoute as IDataObject).route as string;

describe('Route Partitioner on the Redis state store', () => {
	let server: RedisServer;
	let prefix = 0;
	const credentials = () => ({
		postalRedis: {
			mode: 'standalone',
			host: '127.0.0.1',
			port: server.port,
			password: 's3cret-never-shown',
			keyPrefix: `wf${prefix}:`,
		},
	});

	beforeAll(async () => {
		server = await startRedisServer({ persistent: true });
	});
	beforeEach(() => {
		prefix++;
	});
	afterAll(async () => {
		await closeRedisStateStores();
		await server.stop();
	});

	it('keeps the round-robin cursor in Redis across executions', async () => {
		const wf = withRedisState(loadWorkflow('round-robin'), 'Rotate');
		const names = ['Relay A', 'Relay B', 'Relay C'];
		const stream: string[] = [];
		for (const part of [recipients(250, 1), recipients(250, 2)]) {
			const r = await runWorkflow(wf, { Recipients: part }, { credentials: credentials() });
			expect(r.error).toBeUndefined();
			r.outputs('Rotate').forEach((items, o) =>
				items.forEach((i) => (stream[stream.length] = names[o] ?? route(i))),
			);
		}
		const counts = names.map((n) => stream.filter((s) => s === n).length);
		// positions 0..499 in turns of 100: A 0-99, 300-399; B 100-199, 400-499; C 200-299
		expect(counts).toEqual([200, 200, 100]);
	});

	it('fails with a clear error when Redis is down, never showing the password, and routes nothing', async () => {
		const wf = withRedisState(loadWorkflow('round-robin'), 'Rotate');
		const dead = { postalRedis: { ...credentials().postalRedis, port: 1 } };
		const r = await runWorkflow(wf, { Recipients: recipients(10, 3) }, { credentials: dead });
		expect(r.error?.message).toMatch(
			/^Could not reach Redis at 127\.0\.0\.1:1: .*Nothing was routed in this batch.*Continue on Local State if Redis Is Down/,
		);
		expect(JSON.stringify(r.run)).not.toContain('s3cret-never-shown');
	});

	it('continues on local state when asked, and says so on each item', async () => {
		const wf = withRedisState(loadWorkflow('round-robin'), 'Rotate', {
			continueOnLocalState: true,
		});
		const dead = { postalRedis: { ...credentials().postalRedis, port: 1 } };
		const r = await runWorkflow(wf, { Recipients: recipients(10, 4) }, { credentials: dead });
		expect(r.error).toBeUndefined();
		const items = r.outputs('Rotate').flat();
		expect(items).toHaveLength(10);
		expect(
			items.every((i) =>
				String((i.json.postalRoute as IDataObject).stateFallback).startsWith(
					'Redis was unreachable',
				),
			),
		).toBe(true);
	});

	it('the classifier on local state marks the items its MX lookups classified', async () => {
		const dns = await startDnsServer({
			'corp.example': { mx: [{ exchange: 'aspmx.l.google.com', priority: 1 }] },
		});
		try {
			const wf = withRedisState(
				withParameters(loadWorkflow('classify'), 'Classify Domains', {
					options: { mxDetection: true, dnsServers: dns.address },
				}),
				'Classify Domains',
				{ continueOnLocalState: true },
			);
			const dead = { postalRedis: { ...credentials().postalRedis, port: 1 } };
			const people = [{ email: 'ann@corp.example' }, { email: 'bob@gmail.com' }];
			const r = await runWorkflow(wf, { Recipients: people }, { credentials: dead });
			expect(r.error).toBeUndefined();
			const items = r.outputs('Classify Domains').flat();
			const byEmail = new Map(items.map((i) => [i.json.email as string, i.json]));
			expect(byEmail.get('ann@corp.example')).toMatchObject({
				domainGroup: 'google',
				classifiedBy: 'mx',
				stateFallback: expect.stringMatching(/^Redis was unreachable/),
			});
			// a catalog match used no state: no mark
			expect(byEmail.get('bob@gmail.com')!.stateFallback).toBeUndefined();
		} finally {
			await dns.close();
		}
	});

	it('survives a Redis restart: a re-run assigns nobody twice and loses nobody', async () => {
		const wf = withRedisState(loadWorkflow('broadcast-split'), 'Gmail Split');
		const people = recipients(3000, 9);
		const first = await runWorkflow(
			wf,
			{ Recipients: people.slice(0, 1500) },
			{ credentials: credentials() },
		);
		expect(first.error).toBeUndefined();
		const before = new Map(
			first
				.outputs('Gmail Split')
				.slice(0, 2)
				.flat()
				.map((i) => [i.json.email as string, route(i)]),
		);

		await server.stop();
		const during = await runWorkflow(
			wf,
			{ Recipients: people.slice(1500) },
			{ credentials: credentials() },
		);
		expect(during.error?.message).toMatch(/Redis at 127\.0\.0\.1:\d+|Could not reach Redis/);
		expect(during.outputs('Gmail Split').flat()).toHaveLength(0); // the partitioner let nothing through

		await server.start();
		const rerun = await runWorkflow(wf, { Recipients: people }, { credentials: credentials() });
		expect(rerun.error).toBeUndefined();
		const gmail = rerun.outputs('Classify Domains')[0];
		const split = rerun.outputs('Gmail Split');
		const after = split.slice(0, 2).flat();
		expect(after).toHaveLength(gmail.length); // nothing lost
		expect(new Set(after.map((i) => i.json.email)).size).toBe(after.length); // nobody twice
		for (const item of after)
			if (before.has(item.json.email as string))
				expect(route(item)).toBe(before.get(item.json.email as string));
		expect(Math.abs(split[0].length - 0.7 * gmail.length)).toBeLessThan(1);
	});
});
