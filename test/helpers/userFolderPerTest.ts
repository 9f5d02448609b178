import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resetEmbeddedStateStore } from '../../lib/state/registry';

/**
 * Every test gets an n8n user folder of its own (jest setupFilesAfterEnv). Where node:sqlite
 * exists (Node 22.5+) the embedded state store is a file in that folder, so a test that starts
 * with resetEmbeddedStateStore() starts on fresh state, as it does in memory, and never meets
 * another test's (or a real n8n's) state; a reset within a test reopens the same file, as a
 * restart of n8n does. Folders are made on use (the store makes its own) and removed per file.
 */
const base = mkdtempSync(join(tmpdir(), 'postal-routes-test-'));
let n = 0;

beforeEach(() => {
	process.env.N8N_USER_FOLDER = join(base, String(++n));
});

afterAll(() => {
	resetEmbeddedStateStore();
	rmSync(base, { recursive: true, force: true });
});
