/**
 * kill -9 mid-send, re-run, count — on the embedded store where it is a SQLite file (node:sqlite,
 * Node ≥ 22.5: `npm run test:node24`; on Node 20 this suite skips, saying why). Every child of a
 * scenario has the same n8n folder (N8N_USER_FOLDER), so the re-runs open the file the killed one
 * wrote. ./killScenario.ts has the scenario, what "on the wire" means and the checks, the same as
 * for Redis. Needs `npm run build` (dist/).
 */
import { join } from 'node:path';
import { describeSqlite } from '../helpers/sqlite';
import { checkDurable, countsTable, requireDist, runScenario, type Outcome } from './killScenario';

beforeAll(() => requireDist());

afterAll(() => {
	const table = countsTable();
	if (table) console.log(table);
});

/** 1,000 recipients, Parallel Sends 10, killed at the 300th message; with a rate limit, 200/s */
const noRate = { total: 1000, killAfter: 300, concurrency: 10, durable: true } as const;
const rated = { ...noRate, rate: 200 } as const;

/** every run kept its state in the one file in the scenario's n8n folder */
function checkFile(o: Outcome): void {
	const file = join(o.userFolder, '.n8n', 'postal-routes-state.sqlite');
	for (const run of [o.rerun, o.skipRun, o.resendRun])
		expect(run?.embedded).toEqual({ kind: 'sqlite', file });
}

describeSqlite('kill -9 mid-send and re-run on the SQLite embedded store', () => {
	it('SQLite: never-delivered and delivered-twice only among the leases left', async () => {
		const o = await runScenario({ name: 'sqlite', store: 'embedded', ...noRate });
		checkFile(o);
		checkDurable(o);
	}, 90_000);

	it('SQLite, 200/s: the sends waiting for the rate hold no lease', async () => {
		const o = await runScenario({ name: 'sqlite · 200/s', store: 'embedded', ...rated });
		checkFile(o);
		checkDurable(o);
	}, 90_000);
});
