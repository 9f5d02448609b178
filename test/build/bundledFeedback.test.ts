import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The feedback nodes from dist/ (runBundledFeedback.ts, in a process of its own): what the bundled
 * Bounce Parser and Feedback Trigger record lands in the one embedded store the bundled
 * Load-Balanced Send reads. Needs `npm run build` first.
 */
describe('bundled feedback nodes', () => {
	it('the bundled Bounce Parser and Feedback Trigger suppress into the store the bundled send node reads', () => {
		const out = execFileSync(
			process.execPath,
			['-r', 'ts-node/register', join(__dirname, 'runBundledFeedback.ts')],
			{ cwd: join(__dirname, '..', '..'), encoding: 'utf8', timeout: 60_000 },
		);
		const result = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
		expect(result.error).toBeUndefined();
		// the DSN: one event, tied to its route by the bounce address, the address suppressed
		expect(result.events).toEqual([
			{
				recipient: 'no.such.user@gmail.com',
				type: 'bounced',
				reference: { route: 'Relay A', group: 'yahoo', campaign: 'spring-sale' },
				suppression: { suppressed: 'hard-bounce' },
			},
		]);
		// the webhook: accepted, its bounce suppressed
		expect(result.webhook).toEqual({ status: 200, items: [{ suppressed: 'hard-bounce' }] });
		// read from the sources' own copy of lib/: the same store holds both, and the DSN's count
		expect(result.onList).toEqual(['hard-bounce/dsn', 'hard-bounce/sendgrid', null]);
		expect(result.counted).toEqual([{ bounceHard: 1 }]);
		// the bundled send node skipped both bounced addresses and sent only the third
		expect(result.skipped).toEqual([
			['no.such.user@gmail.com', 'suppressed'],
			['bounced.user@gmail.com', 'suppressed'],
		]);
		expect(result.sent).toEqual(['ok@gmail.com']);
		expect(result.received).toEqual([['ok@gmail.com']]);
		// the bundled parser's TSS04 suspended Relay A for yahoo; the bundled partitioner saw it
		expect(result.reputation).toEqual({
			noted: ['yahoo-tss04'],
			onA: 0,
			viaOnB: ['reputation', 'sequence', 'reputation', 'sequence', 'reputation', 'sequence'],
		});
	});
});
