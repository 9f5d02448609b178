import type Redis from 'ioredis';
import { Partitioner } from '../lib/routing/partitioner';
import { parseRoutePlan } from '../lib/routing/plan';
import { MemoryStateStore } from '../lib/state/memory';
import { RedisStateStore } from '../lib/state/redis';
import type { StateStore } from '../lib/state/types';
import { recipients } from '../test/helpers/recipients';
import { startRedisServer } from '../test/helpers/redisServer';
import { measure, report } from './util';

const N = 200_000;
const BATCH = 1000;

/** Calls of each command, from INFO commandstats (commands run inside scripts count too). */
async function commandStats(redis: Redis): Promise<Record<string, number>> {
	const info = await redis.info('commandstats');
	const out: Record<string, number> = {};
	for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
	return out;
}

export async function benchRedis(): Promise<void> {
	const server = await startRedisServer();
	try {
		const people = recipients(N, 21).map((r) => ({ key: r.email, group: 'google' }));
		const plan = parseRoutePlan({
			mode: 'percentage',
			sticky: true,
			timeZone: 'UTC',
			routes: [
				{ name: 'SendGrid', percentage: 70 },
				{ name: 'SMTP relay', percentage: 30, dailyCap: 10_000_000 },
			],
		});
		const redisStore = new RedisStateStore({
			mode: 'standalone',
			host: '127.0.0.1',
			port: server.port,
			keyPrefix: 'bench:',
		});
		const admin = redisStore.redis as Redis;

		// every command the store sends is one round trip (no pipelining here): count them at the client
		let sent = 0;
		const original = admin.sendCommand.bind(admin);
		(admin as unknown as { sendCommand: typeof admin.sendCommand }).sendCommand = ((
			cmd: Parameters<typeof admin.sendCommand>[0],
		) => {
			sent++;
			return original(cmd);
		}) as typeof admin.sendCommand;

		let run = 0;
		const job = (store: StateStore) => async () => {
			const p = new Partitioner(plan, store, { campaign: `bench-${run++}`, partition: 'n1' });
			for (let i = 0; i < N; i += BATCH) await p.assign(people.slice(i, i + BATCH));
		};
		const onRedis = await measure(
			`Partitioner on Redis (loopback), batches of ${BATCH}`,
			N,
			job(redisStore),
			2,
		);
		const onMemory = await measure(
			`Partitioner on the memory store, batches of ${BATCH}`,
			N,
			job(new MemoryStateStore()),
			2,
		);
		report(
			`Route Partitioner on Redis vs memory, ${N.toLocaleString('en')} recipients (70/30, sticky)`,
			[onRedis, onMemory],
			// issue 14, "Fast at scale"
			{ perSecond: 300_000, label: '≥ 300k items/s on Redis' },
		);

		// round trips of one more full run, counted two ways
		const before = await commandStats(admin);
		sent = 0;
		await job(redisStore)();
		const clientSide = sent; // the INFO calls around the run are outside this count
		const after = await commandStats(admin);
		const batches = N / BATCH;
		const scripts =
			(after.evalsha ?? 0) - (before.evalsha ?? 0) + ((after.eval ?? 0) - (before.eval ?? 0));
		console.log(
			`  round trips per batch of ${BATCH}: ${(clientSide / batches).toFixed(3)} (commands sent by the client: ${clientSide} for ${batches} batches)`,
		);
		console.log(
			`  INFO commandstats: ${scripts} script calls (EVALSHA/EVAL) for ${batches} batches = ${(scripts / batches).toFixed(3)} per batch; target ≤ 1: ${clientSide / batches <= 1 ? 'MET' : 'MISSED'}`,
		);
		await redisStore.close();
	} finally {
		await server.stop();
	}
}
