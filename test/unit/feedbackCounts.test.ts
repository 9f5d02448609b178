import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countEvents, eventCounts } from '../../lib/feedback/counts';
import { readReport } from '../../lib/feedback/reports';
import { MemoryStateStore } from '../../lib/state/memory';

const fixture = (name: string) =>
	readFileSync(join(__dirname, '..', 'fixtures', 'reports', `${name}.eml`));

describe('feedback events in the outcome counters', () => {
	it('map each type to its counter', () => {
		expect(eventCounts({ type: 'bounced', bounce: 'hard' })).toEqual({ bounceHard: 1 });
		expect(eventCounts({ type: 'bounced', bounce: 'soft' })).toEqual({ bounceSoft: 1 });
		expect(eventCounts({ type: 'blocked' })).toEqual({ blocked: 1 });
		expect(eventCounts({ type: 'complained' })).toEqual({ complained: 1 });
		expect(eventCounts({ type: 'other' })).toBeUndefined();
	});

	it('count what a report tied to its route, in the bucket of when it happened', async () => {
		const store = new MemoryStateStore({ clock: () => Date.parse('2026-11-05T13:00:00Z') });
		// Relay A / yahoo by ENVID: a deferral, a block, a soft bounce; the RFC example: no route
		const events = [
			...readReport(fixture('postfix-yahoo-deferred-and-blocked')).events,
			...readReport(fixture('rfc3464-simple')).events,
		];
		expect(await countEvents(store, events)).toBe(3);
		const hours = await store.readOutcomes(
			'Relay A',
			'yahoo',
			'hour',
			Date.parse('2026-11-05T00:00:00Z'),
			Date.parse('2026-11-05T13:00:00Z'),
		);
		// no Last-Attempt-Date: the DSN's Arrival-Date, 08:29
		expect(hours).toEqual([
			{
				start: Date.parse('2026-11-05T08:00:00Z'),
				counts: { deferred: 1, blocked: 1, bounceSoft: 1 },
			},
		]);
	});
});
