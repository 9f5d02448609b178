import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Redis store's Lua scripts, by command: the one list of them. Under ts-node and jest they
 * are read from lua/ here; `npm run build` replaces this module with their sources inlined
 * (scripts/build.js, built from this very list and loadLuaScript), so the bundle reads no file.
 */
export const SCRIPTS = {
	allocate: 'allocate.lua',
	reserveRate: 'reserve_rate.lua',
	claimOnce: 'claim_once.lua',
	settleOnce: 'settle_once.lua',
	deliveryStep: 'delivery_step.lua',
	recordHealth: 'record_health.lua',
	suppress: 'suppress.lua',
	ledgerPut: 'ledger_put.lua',
	countOutcomes: 'count_outcomes.lua',
	reputationCas: 'reputation_cas.lua',
	publishAlerts: 'alerts_publish.lua',
	readAlerts: 'alerts_read.lua',
	releaseOnce: 'release_once.lua',
} as const;

const LUA_DIR = join(__dirname, 'lua');

/**
 * A script's source with its includes in place: a line `-- @include <file>` stands for that file
 * of the same folder (shared rules, e.g. the marker rules that claim, settle and step all run).
 */
export function loadLuaScript(file: string): string {
	return readFileSync(join(LUA_DIR, file), 'utf8').replace(
		/^-- @include (\S+)$/gm,
		(_, name: string) => readFileSync(join(LUA_DIR, name), 'utf8'),
	);
}
