/**
 * Run in a child Node process by test/contract/redisFaults.test.ts: calls a RedisStateStore whose
 * server is down for longer than every internal timeout, and prints what happened as JSON. A
 * child, because an unhandled rejection ends a plain Node process but not a Jest worker.
 */
import { RedisStateStore, StateUnavailableError } from '../../lib/state/redis';

const [port, runMs, afterCloseMs] = process.argv.slice(2).map(Number);
const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason)));

async function main() {
	const store = new RedisStateStore({
		mode: 'standalone',
		host: '127.0.0.1',
		port,
		keyPrefix: 'down:',
	});
	const outcomes = { calls: 0, stateUnavailable: 0, other: [] as string[] };
	const record = async (p: Promise<unknown>) => {
		outcomes.calls++;
		try {
			await p;
			outcomes.other.push('resolved');
		} catch (error) {
			if (error instanceof StateUnavailableError) outcomes.stateUnavailable++;
			else outcomes.other.push(String(error));
		}
	};
	const until = Date.now() + runMs;
	while (Date.now() < until) {
		// several calls at once: the later ones find the first one's connection attempt under way
		await Promise.all([
			record(store.ping()),
			record(store.now()),
			record(store.getCircuits(['a'])),
			record(store.hashSecret()),
		]);
		await new Promise((r) => setTimeout(r, 300));
	}
	await store.close();
	// a timer left behind by a connection attempt would reject now, with nobody waiting
	await new Promise((r) => setTimeout(r, afterCloseMs));
	process.stdout.write(JSON.stringify({ ...outcomes, unhandled }));
}

void main();
