import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countEvents } from '../../lib/feedback/counts';
import { readReport } from '../../lib/feedback/reports';
import type { FeedbackEvent } from '../../lib/feedback/types';
import { eventSignals, reputationFromEvents } from '../../lib/reputation/events';
import { DEFAULT_RULES } from '../../lib/reputation/rules';
import { MemoryStateStore } from '../../lib/state/memory';

const fixture = (name: string) =>
	readFileSync(join(__dirname, '..', 'fixtures', 'reports', `${name}.eml`));

describe('feedback events into route reputation', () => {
	it('a returned TSS04 deferral suspends its route for its group; the others stay as they were', async () => {
		const now = Date.parse('2026-11-05T13:00:00Z');
		const store = new MemoryStateStore({ clock: () => now });
		// Relay A / yahoo (ENVID): a TSS04 deferral, a 5.7.9 policy block, a full mailbox
		const events = readReport(fixture('postfix-yahoo-deferred-and-blocked')).events;
		expect(eventSignals(events).map((s) => s.route + '/' + s.group)).toEqual([
			'Relay A/yahoo',
			'Relay A/yahoo',
			'Relay A/yahoo',
		]);
		await countEvents(store, events);
		const notices = await reputationFromEvents(store, events, DEFAULT_RULES);
		expect(notices).toEqual([
			expect.objectContaining({
				route: 'Relay A',
				group: 'yahoo',
				what: 'suspended',
				rule: 'yahoo-tss04',
				until: now + 2 * 3_600_000,
			}),
		]);
		const [yahoo, google] = await store.getReputation([
			{ route: 'Relay A', group: 'yahoo' },
			{ route: 'Relay A', group: 'google' },
		]);
		expect(yahoo).toMatchObject({ suspendedUntil: now + 2 * 3_600_000, evaluatedAt: now });
		expect(google).toBeNull();
	});

	it('an event with no route or no group changes nothing', async () => {
		const store = new MemoryStateStore();
		const events = readReport(fixture('rfc3464-simple')).events;
		const untied = events.map((e): FeedbackEvent => ({ ...e, diagnostic: '421 [TSS04] deferred' }));
		expect(eventSignals(untied)).toEqual([]);
		expect(await reputationFromEvents(store, untied, DEFAULT_RULES)).toEqual([]);
	});
});
