import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { deliver, type DeliveryJob } from '../../lib/delivery/pipeline';
import { Partitioner } from '../../lib/routing/partitioner';
import { parseRoutePlan } from '../../lib/routing/plan';
import { SqliteStateStore } from '../../lib/state/sqlite';
import {
	StateUnavailableError,
	VIA_STICKY,
	type AllocateRequest,
	type StateStore,
} from '../../lib/state/types';
import type { Transport } from '../../lib/transports/types';
import { plainMessage } from '../helpers/messages';
import { describeSqlite, openDatabase, tempFolders } from '../helpers/sqlite';
import { describeKeyIsolationContract } from './keyIsolation.contract';
import {
	describeHealthContract,
	describeRateAndOnceContract,
	describeStateStoreContract,
} from './stateStore.contract';

const folders = tempFolders();
afterAll(() => folders.cleanup());
const newFile = () => join(folders.make(), 'state.sqlite');

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describeSqlite('SqliteStateStore', () => {
	const create = async () => new SqliteStateStore({ file: newFile() });
	const destroy = (s: StateStore) => s.close();
	describeStateStoreContract('sqlite', create, destroy);
	describeRateAndOnceContract('sqlite', create, destroy);
	describeHealthContract('sqlite', create, destroy);
	describeKeyIsolationContract('sqlite', create, destroy);

	/** a sticky 50/50 allocation with a cap of `cap` on route a */
	const request = (items: string[], cap = 3): AllocateRequest => ({
		scope: 'camp',
		stickyKey: 'p1',
		routes: [
			{
				name: 'a',
				circuit: 'camp:a',
				caps: [{ key: 'd:1:a', limit: cap, resetAt: Date.now() + DAY }],
			},
			{ name: 'b', circuit: 'camp:b', caps: [] },
		],
		classes: [
			{
				counterKey: 'p1:c',
				cycle: [0, 1],
				repeat: 1,
				candidates: [0, 1],
				weights: [1, 1],
				spill: 'weights',
			},
		],
		items: items.map((key) => ({ cls: 0, key })),
		ttlMs: DAY,
	});
	const claim = (store: StateStore, keys: string[], token: string) =>
		store.claimOnce('camp', {
			keys,
			token,
			owner: `run ${token}`,
			leaseMs: HOUR,
			ttlMs: DAY,
			takeExpired: false,
		});

	describe('a restart (close, then open the same file)', () => {
		it('keeps markers, caps, sticky assignments, counters, circuits, rates, route limits, the MX cache and the hashing secret', async () => {
			const file = newFile();
			const first = new SqliteStateStore({ file });
			const secret = await first.hashSecret();
			const routed = await first.allocate(request(['u1', 'u2', 'u3', 'u4']));
			expect(routed.route).toEqual([0, 1, 0, 1]);
			await claim(first, ['sent-one', 'leased-one'], 't1');
			await first.settleOnce('camp', [{ key: 'sent-one', token: 't1', outcome: 'sent' }], DAY);
			const policy = {
				failureThreshold: 1,
				baseEjectionMs: HOUR,
				maxEjectionMs: HOUR,
				backoff: 1,
				jitter: 1,
			};
			const opened = await first.recordHealth('camp:x', false, policy);
			expect(opened.opened).toBe(true);
			const limit = { key: 'conn:smtp:n1', intervalMs: HOUR, burst: 1 };
			expect((await first.reserveRate([limit], 1, 0)).granted).toBe(true);
			await first.setMx([{ domain: 'x.example', value: { hosts: ['mx.x.example'] } }], DAY);
			const routeLimit = { limit: 60, per: 'minute', kind: 'connection' } as const;
			await first.setRouteLimits('camp', [{ route: 'a', limit: routeLimit }], DAY);
			await first.close();

			const second = new SqliteStateStore({ file });
			expect(await second.hashSecret()).toBe(secret);
			// the same recipients keep their routes; the cap still counts the 2 taken on a; the
			// sequence goes on from position 4 (a new recipient takes cycle[0] = a, the last room)
			const again = await second.allocate(request(['u4', 'u3', 'u2', 'u1', 'u5', 'u6']));
			expect(again.route.slice(0, 4)).toEqual([1, 0, 1, 0]);
			expect(again.via.slice(0, 4)).toEqual([VIA_STICKY, VIA_STICKY, VIA_STICKY, VIA_STICKY]);
			expect(again.route.slice(4)).toEqual([0, 1]);
			expect(await second.capUsage('camp', ['d:1:a'])).toEqual([3]);
			const claims = await claim(second, ['sent-one', 'leased-one'], 't2');
			expect(claims.map((c) => c.state)).toEqual(['sent', 'leased']);
			expect(claims[1].owner).toBe('run t1');
			expect((await second.getCircuits(['camp:x']))[0]).toEqual(opened.state);
			// the limit's one slot an hour is taken: the next is an hour away
			const next = await second.reserveRate([limit], 1, 0);
			expect(next.granted).toBe(false);
			expect(next.waitMs).toBeGreaterThan(HOUR - 60_000);
			expect(await second.getMx(['x.example'])).toEqual([{ hosts: ['mx.x.example'] }]);
			expect(await second.getRouteLimits('camp', ['a', 'b'])).toEqual([routeLimit, null]);
			await second.close();
		});

		it('gives every store on one file the same secret, and another file its own', async () => {
			const file = newFile();
			const [a, b, c] = [file, file, newFile()].map((f) => new SqliteStateStore({ file: f }));
			const secrets = await Promise.all([a, b, c].map((s) => s.hashSecret()));
			expect(secrets[0]).toHaveLength(43);
			expect(secrets[1]).toBe(secrets[0]);
			expect(secrets[2]).not.toBe(secrets[0]);
			await Promise.all([a, b, c].map((s) => s.close()));
		});
	});

	describe('the file', () => {
		it('is made with its folder, in WAL mode, readable by its owner only', async () => {
			const file = join(folders.make(), 'not', 'yet', 'there', 'state.sqlite');
			const store = new SqliteStateStore({ file });
			await store.allocate(request(['u1']));
			const db = openDatabase(file);
			expect(db.prepare('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
			db.close();
			for (const f of [file, `${file}-wal`, `${file}-shm`]) {
				expect(existsSync(f)).toBe(true);
				expect((statSync(f).mode & 0o777).toString(8)).toBe('600');
			}
			await store.close();
		});

		it('drops expired entries from the file once a minute, and never the secret or circuits', async () => {
			let now = Date.now();
			const file = newFile();
			const store = new SqliteStateStore({ file, clock: () => now });
			const rows = () => {
				const db = openDatabase(file);
				const count = (t: string) => Number(db.prepare(`SELECT count(*) AS n FROM ${t}`).get()?.n);
				const out = { entries: count('entries'), fields: count('fields') };
				db.close();
				return out;
			};
			await store.allocate({ ...request(['u1', 'u2']), ttlMs: 1000 });
			await claim(store, ['m1'], 't1');
			await store.setMx([{ domain: 'x.example', value: { hosts: [] } }], 1000);
			await store.setCircuit('camp:a', { openUntil: 0, ejections: 1 });
			// secret, ctr and spill and sticky headers, the cap, the marker, the MX entry
			expect(rows().entries).toBe(7);
			// a counter, a spill, two sticky assignments, a circuit
			expect(rows().fields).toBe(5);

			now += DAY + 60_000; // the cap window and the marker have ended too
			await store.setCircuit('camp:b', null);
			expect(rows()).toEqual({ entries: 1, fields: 1 });
			expect(await store.getCircuits(['camp:a'])).toEqual([{ openUntil: 0, ejections: 1 }]);
			await store.close();
		});

		it('keeps no recipient address in the file after routing and sending', async () => {
			const file = newFile();
			const store = new SqliteStateStore({ file });
			const recipients = Array.from(
				{ length: 20 },
				(_, i) => `Person.${i}+tag@Mailbox-${i}.example`,
			);
			const plan = parseRoutePlan({
				mode: 'percentage',
				sticky: true,
				timeZone: 'UTC',
				routes: [
					{ name: 'a', percentage: 50 },
					{ name: 'b', percentage: 50 },
				],
			});
			const assigned = await new Partitioner(plan, store, { campaign: 'c', partition: 'p' }).assign(
				recipients.map((r) => ({ key: r.toLowerCase() })),
			);
			const ok: Transport = { provider: 'smtp', send: async () => ({ ok: true, messageId: 'm' }) };
			const jobs: DeliveryJob[] = recipients.map((r, i) => ({
				index: i,
				message: plainMessage(r),
				route: assigned[i].route!,
				campaign: 'c',
				idempotencyKey: JSON.stringify([[r.toLowerCase()], '']),
				limits: [],
			}));
			const sent = await deliver(jobs, {
				transport: ok,
				store,
				concurrency: 4,
				retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
				health: {
					failureThreshold: 5,
					baseEjectionMs: 1000,
					maxEjectionMs: 1000,
					backoff: 2,
					jitterRatio: 0,
				},
				duplicates: { ttlMs: DAY, leaseMs: 600_000, resendInDoubt: true, owner: 'test' },
				maxRateWaitMs: 1000,
			});
			expect(sent.every((r) => r.record.status === 'sent')).toBe(true);
			await store.close();

			const db = openDatabase(file);
			const dump = JSON.stringify([
				db.prepare('SELECT * FROM entries').all(),
				db.prepare('SELECT * FROM fields').all(),
			]).toLowerCase();
			db.close();
			expect(dump).toContain(':once:');
			expect(dump).toContain(':sticky:');
			for (const r of recipients) expect(dump).not.toContain(r.split('@')[0].toLowerCase());
		});

		it('refuses a file written by a newer version, saying so', () => {
			const file = newFile();
			void new SqliteStateStore({ file }).close();
			const db = openDatabase(file);
			db.exec('PRAGMA user_version = 99');
			db.close();
			expect(() => new SqliteStateStore({ file })).toThrow(
				/could not be used: it was written by a newer n8n-nodes-postal-routes \(schema 99/,
			);
		});

		it('refuses a file that is not a database, naming it', () => {
			const file = newFile();
			writeFileSync(file, 'not a database '.repeat(100));
			expect(() => new SqliteStateStore({ file })).toThrow(
				`${file} could not be used: file is not a database`,
			);
		});
	});

	describe('another process holding the file', () => {
		let holder: ChildProcess | undefined;
		afterEach(async () => {
			if (holder && holder.exitCode === null && holder.signalCode === null) {
				holder.kill('SIGKILL');
				await once(holder, 'exit');
			}
			holder = undefined;
		});

		/** A real second process that takes the write lock and holds it for `ms` (or until killed). */
		async function holdLock(
			file: string,
			ms: number,
		): Promise<{ child: ChildProcess; at: number }> {
			const script = `
				const { DatabaseSync } = require('node:sqlite');
				const db = new DatabaseSync(process.argv[1]);
				db.exec('BEGIN IMMEDIATE');
				process.stdout.write(Date.now() + '\\n');
				setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, Number(process.argv[2]));
			`;
			const child = spawn(process.execPath, ['-e', script, file, String(ms)], {
				stdio: ['ignore', 'pipe', 'inherit'],
			});
			const [line] = (await once(child.stdout!, 'data')) as [Buffer];
			// when it took the lock, by its clock (the machine's): it lets go `ms` later
			return { child, at: Number(line.toString()) };
		}

		it('waits for its transaction within the busy timeout', async () => {
			const file = newFile();
			const store = new SqliteStateStore({ file, busyTimeoutMs: 5000 });
			const lock = await holdLock(file, 400);
			holder = lock.child;
			const routed = await store.allocate(request(['u1']));
			expect(routed.route).toEqual([0]);
			// it got the lock only once the other process let go
			expect(Date.now()).toBeGreaterThanOrEqual(lock.at + 400);
			await store.close();
		});

		it('fails after the busy timeout with an error that says to use Redis, then works again', async () => {
			const file = newFile();
			const store = new SqliteStateStore({ file, busyTimeoutMs: 300 });
			holder = (await holdLock(file, 60_000)).child;
			const t0 = Date.now();
			const error = await store.allocate(request(['u1'])).catch((e: Error) => e);
			expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
			expect(error).toBeInstanceOf(StateUnavailableError);
			expect((error as StateUnavailableError).store).toBe('sqlite');
			expect((error as Error).message).toBe(
				`The embedded state file ${file} stayed locked by another process for 300 ms (routing): several n8n processes share this n8n user folder. The embedded state store is for one n8n process; for several, set State Store to Redis (with a Postal Routes Redis credential) on every Postal Routes node.`,
			);
			// nothing of the failed call was written
			holder.kill('SIGKILL');
			await once(holder, 'exit');
			expect(await store.capUsage('camp', ['d:1:a'])).toEqual([0]);
			expect((await store.allocate(request(['u1']))).route).toEqual([0]);
			await store.close();
		});

		it('names the store as closed after close() (once or twice)', async () => {
			const store = new SqliteStateStore({ file: newFile() });
			await store.close();
			await store.close();
			await expect(store.capUsage('camp', ['d:1:a'])).rejects.toThrow(
				/^The embedded state file .* failed \(reading caps\): the store was closed\.$/,
			);
		});
	});
});
