import { join } from 'node:path';

/** The embedded state file's name inside the n8n folder. */
export const EMBEDDED_STATE_FILE = 'postal-routes-state.sqlite';

/**
 * The n8n folder (`~/.n8n`), by n8n's own rule (`getN8nFolder` in @n8n/config, used for its
 * settings, nodes and database): N8N_USER_FOLDER if set (even empty), else the home folder, else
 * the working directory; then `.n8n` inside it. Followed exactly, so the state file sits beside
 * n8n's own in every set-up (Docker volumes, N8N_USER_FOLDER, a service user's home).
 */
export function n8nFolder(
	env: NodeJS.ProcessEnv = process.env,
	platform: NodeJS.Platform = process.platform,
	cwd: () => string = process.cwd,
): string {
	const homeVarName = platform === 'win32' ? 'USERPROFILE' : 'HOME';
	const userHome = env.N8N_USER_FOLDER ?? env[homeVarName] ?? cwd();
	return join(userHome, '.n8n');
}

/** Where the embedded store keeps its state: `<n8n folder>/postal-routes-state.sqlite`. */
export function embeddedStateFile(env: NodeJS.ProcessEnv = process.env): string {
	return join(n8nFolder(env), EMBEDDED_STATE_FILE);
}
