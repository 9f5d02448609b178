import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** n8n-core writes a config file into N8N_USER_FOLDER: keep it out of the home folder. */
export default function globalSetup(): void {
	process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'postal-routes-n8n-'));
	process.env.N8N_ENCRYPTION_KEY = 'postal-routes-tests-only';
}
