/**
 * kill -9 mid-send, re-run, count — on Redis (with and without a rate limit) and on the embedded
 * in-memory store; ./killScenario.ts has the scenario, what "on the wire" means and the checks.
 * Needs `npm run build` (dist/) and redis-server.
 */
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { hasSqlite } from '../helpers/sqlite';
import {
	checkDurable,
	countsOf,
	countsTable,
	neverIn,
	requireDist,
	runScenario,
	twiceIn,
	type Outcome,
	type Spec,
} from './killScenario';

let redis: RedisServer;

beforeAll(async () => {
	requireDist();
	redis = await startRedisServer();
});

afterAll(async () => {
	await redis?.stop();
	const table = countsTable();
	if (table) console.log(table);
});

/** 1,000 recipients, Parallel Sends 10, killed at the 300th message; with a rate limit, 200/s */
const noRate = { total: 1000, killAfter: 300, concurrency: 10, durable: true } as const;
const rated = { ...noRate, rate: 200 } as const;
const onRedis = (spec: Omit<Spec, 'store' | 'redisPort'>): Spec => ({
	...spec,
	store: 'redis',
	redisPort: redis.port,
});

describe('kill -9 mid-send and re-run, counted at the SMTP sink', () => {
	it('Redis: never-delivered and delivered-twice only among the leases left', async () => {
		checkDurable(await runScenario(onRedis({ name: 'redis', ...noRate })));
	}, 90_000);

	it('Redis, 200/s: the sends waiting for the rate hold no lease', async () => {
		checkDurable(await runScenario(onRedis({ name: 'redis · 200/s', ...rated })));
	}, 90_000);

	// where node:sqlite exists the embedded store is a file: ./killResendSqlite.test.ts kills that one
	(hasSqlite ? it.skip : it)(
		`embedded store in memory: it dies with the process, so the re-run sends everything again${hasSqlite ? ' [skipped: this Node has node:sqlite, so the embedded store is a file]' : ''}`,
		async () => {
			const o = await runScenario({ name: 'memory', store: 'embedded', ...noRate, durable: false });
			const [counts] = countsOf(o);
			expect(o.rerun.embedded?.kind).toBe('memory');
			expect(o.killed.signal).toBe('SIGKILL');
			expect(counts.sentBeforeKill).toBeGreaterThanOrEqual(300);
			// a fresh process has a fresh embedded store: no marker, no lease, nothing skipped
			expect(o.rerun.error).toBeUndefined();
			expect(o.rerun.outputs[0]).toHaveLength(1000);
			expect(o.rerun.outputs[3]).toEqual([]);
			// never-delivered = 0; delivered twice = exactly what went before the kill
			expect(neverIn(o.afterRerun)).toEqual([]);
			expect(new Set(twiceIn(o.afterRerun))).toEqual(new Set(o.wire.acceptedAt.keys()));
			expect(counts.deliveredTwice).toBe(counts.sentBeforeKill);
		},
		60_000,
	);

	describe('Redis, the SMTP credential’s default pool (5) under the default Parallel Sends (20)', () => {
		const pool = { name: 'redis · pool 5 < 20', ...noRate, concurrency: 20, poolSize: 5 };
		let outcome: Outcome | undefined;
		it('keeps the guarantees: never twice under Don’t Resend, never lost under Resend', async () => {
			outcome = await runScenario(onRedis(pool));
			checkDurable(outcome);
		}, 90_000);
		// No more messages can be on the wire than the pool has connections, so no more leases may be
		// left: before the send node capped its parallel sends at the pool size, Parallel Sends 20 over
		// 5 connections left ~15 leases on messages queued inside nodemailer's pool, never written to
		// any socket, each lost after a kill under "Don't Resend" although nothing was sent.
		it('leaves no more leases than the pool has connections', () => {
			expect(outcome).toBeDefined();
			expect(countsOf(outcome!)[0].inFlightSkips).toBeLessThanOrEqual(pool.poolSize);
		});
	});
});
