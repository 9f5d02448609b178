import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The operations nodes from dist/ (runBundledOperations.ts, in a process of its own): the bundled
 * Postal Operations reads what the bundled Load-Balanced Send counted, and the bundled Postal Alert
 * Trigger emits the alert of the bundled operations node's suspension. Needs `npm run build` first.
 */
describe('bundled operations nodes', () => {
	it('the bundled Postal Operations and Postal Alert Trigger share the store the bundled send node writes', () => {
		const out = execFileSync(
			process.execPath,
			['-r', 'ts-node/register', join(__dirname, 'runBundledOperations.ts')],
			{ cwd: join(__dirname, '..', '..'), encoding: 'utf8', timeout: 60_000 },
		);
		const result = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
		expect(result.error).toBeUndefined();
		expect(result.sent).toEqual(['a@gmail.com', 'b@gmail.com', 'c@gmail.com']);
		// the stats row of what the bundled send node counted
		expect(result.rows).toEqual([['Relay A', 'google', 3]]);
		expect(result.report).toEqual({ mimeType: 'text/html', svg: true, namesRoute: true });
		// the suspension, its alert through the bundled trigger, and the sources' lib/ sees it
		expect(result.suspended).toBe('suspended');
		expect(result.timedOut).toBe(false);
		expect(result.alerts).toEqual([['route.suspended', 'Relay A', 'google']]);
		expect(result.sourcesSeeSuspension).toBe(true);
	});
});
