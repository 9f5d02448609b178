import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDataObject, NodeExecutionHint } from 'n8n-workflow';
import { resetEmbeddedStateStore } from '../../lib/state/registry';
import { SqliteStateStore } from '../../lib/state/sqlite';
import { loadWorkflow, runWorkflow, type RunResult } from '../helpers/engine';
import { recipients } from '../helpers/recipients';
import { describeSqlite, hasSqlite, tempFolders } from '../helpers/sqlite';

/**
 * The Route Partitioner on the embedded store, through the n8n engine: the run says when the state
 * file could not be used (state only in memory), and a state file held by another process stops
 * the node with what to do.
 */
const workflow = loadWorkflow('split-70-30');
const NODE = 'Split 70/30';
const people = recipients(50, 3, ['gmail.com']);
const folders = tempFolders('postal-wf-embedded-');
const savedFolder = process.env.N8N_USER_FOLDER;
let userFolder: string;

beforeEach(() => {
	userFolder = folders.make();
	process.env.N8N_USER_FOLDER = userFolder;
	resetEmbeddedStateStore();
});
afterEach(() => resetEmbeddedStateStore());
afterAll(() => {
	process.env.N8N_USER_FOLDER = savedFolder;
	folders.cleanup();
});

const hints = (run: RunResult): NodeExecutionHint[] =>
	run.run.data.resultData.runData[NODE]?.[0]?.hints ?? [];
const routes = (run: RunResult) =>
	run
		.outputs(NODE)
		.flat()
		.map((i) => [i.json.email, (i.json.postalRoute as IDataObject).route]);

const memoryOnly = {
	type: 'warning',
	location: 'outputPane',
	message: expect.stringMatching(
		/^Embedded state store: .* State is kept in memory and lost when n8n restarts\.$/,
	),
};

(hasSqlite ? it.skip : it)(
	`on a Node without node:sqlite the run carries no warning: nothing in the set-up to fix${hasSqlite ? ' [skipped: this Node has node:sqlite]' : ''}`,
	async () => {
		const run = await runWorkflow(workflow, { Recipients: people });
		expect(run.error).toBeUndefined();
		expect(run.outputs(NODE).flat()).toHaveLength(people.length);
		expect(hints(run)).toEqual([]);
	},
);

describeSqlite('the Route Partitioner on the embedded SQLite store', () => {
	let holder: ChildProcess | undefined;
	afterEach(async () => {
		if (holder && holder.exitCode === null && holder.signalCode === null) {
			holder.kill('SIGKILL');
			await once(holder, 'exit');
		}
		holder = undefined;
	});

	it('keeps sticky routes across a restart, with no hint on the run', async () => {
		const first = await runWorkflow(workflow, { Recipients: people });
		expect(first.error).toBeUndefined();
		expect(hints(first)).toEqual([]);
		resetEmbeddedStateStore(); // n8n restarts
		const second = await runWorkflow(workflow, { Recipients: [...people].reverse() });
		expect(new Map(routes(second) as Array<[string, string]>)).toEqual(
			new Map(routes(first) as Array<[string, string]>),
		);
		expect(
			second
				.outputs(NODE)
				.flat()
				.every((i) => (i.json.postalRoute as IDataObject).via === 'sticky'),
		).toBe(true);
	});

	it('says on the run when the state file cannot be used, and routes on memory', async () => {
		writeFileSync(join(userFolder, '.n8n'), 'a file where the n8n folder should be');
		const run = await runWorkflow(workflow, { Recipients: people });
		expect(run.error).toBeUndefined();
		expect(run.outputs(NODE).flat()).toHaveLength(people.length);
		expect(hints(run)).toEqual([memoryOnly]);
		expect(hints(run)[0].message).toContain(join(userFolder, '.n8n', 'postal-routes-state.sqlite'));
	});

	it("stops with the embedded store's own advice when another process holds the file", async () => {
		const file = join(userFolder, '.n8n', 'postal-routes-state.sqlite');
		resetEmbeddedStateStore(new SqliteStateStore({ file, busyTimeoutMs: 200 }));
		const script = `
			const { DatabaseSync } = require('node:sqlite');
			const db = new DatabaseSync(process.argv[1]);
			db.exec('BEGIN IMMEDIATE');
			process.stdout.write('locked\\n');
			setInterval(() => {}, 1000);
		`;
		holder = spawn(process.execPath, ['-e', script, file], {
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		await once(holder.stdout!, 'data');
		const run = await runWorkflow(workflow, { Recipients: people });
		expect(run.error?.message).toBe(
			`The embedded state file ${file} stayed locked by another process for 200 ms (routing): several n8n processes share this n8n user folder. The embedded state store is for one n8n process; for several, set State Store to Redis (with a Postal Routes Redis credential) on every Postal Routes node. Nothing was routed in this batch: routing without the shared state could send more than a split or cap allows.`,
		);
	});
});
