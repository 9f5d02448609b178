import { probePolicy, probeRoute, type ProbeSettings } from '../../lib/delivery/probe';
import { circuitName } from '../../lib/state/keys';
import { MemoryStateStore } from '../../lib/state/memory';
import type { ProbeResult } from '../../lib/transports/probe';

/** probeRoute's circuit rules on the memory store, with a probe that answers what the test says */
describe('a probe’s outcome in the route’s circuit', () => {
	let now = 1_700_000_000_000;
	const store = new MemoryStateStore({ clock: () => now });
	const circuit = circuitName('winter', 'Relay B');
	const settings: ProbeSettings = {
		campaign: 'winter',
		route: 'Relay B',
		timeoutMs: 1000,
		fall: 2,
		probeEveryMs: 60_000,
		updateCircuit: true,
	};
	const answer = (ok: boolean): { probe: () => Promise<ProbeResult> } => ({
		probe: async () => ({ ok, steps: [], latencyMs: 1, ...(ok ? {} : { error: 'down' }) }),
	});
	/** the send node's own policy: 5 failures, 30 s, doubling */
	const sendPolicy = {
		failureThreshold: 5,
		baseEjectionMs: 30_000,
		maxEjectionMs: 300_000,
		backoff: 2,
		jitter: 1,
	};

	it('opens after Fall failures for exactly twice the interval; a failure while open does not extend it', async () => {
		expect((await probeRoute(answer(false), store, settings)).circuit).toEqual({ open: false });
		const opened = await probeRoute(answer(false), store, settings);
		expect(opened.circuit).toEqual({ open: true, openUntil: now + 120_000 });
		now += 60_000;
		expect((await probeRoute(answer(false), store, settings)).circuit.openUntil).toBe(now + 60_000);
	});

	it('a pass closes it half-open: the next failed send re-opens it at once', async () => {
		expect((await probeRoute(answer(true), store, settings)).circuit).toEqual({ open: false });
		const [state] = await store.getCircuits([circuit]);
		expect(state).toMatchObject({ openUntil: now, probing: true, failures: 0, ejections: 1 });
		const { opened } = await store.recordHealth(circuit, false, sendPolicy);
		expect(opened).toBe(true);
	});

	it('a pass on a closed circuit clears the failures counted toward Fall', async () => {
		now += 10 * 60_000;
		await probeRoute(answer(true), store, settings); // ends the half-open state
		await probeRoute(answer(false), store, settings);
		expect((await store.getCircuits([circuit]))[0]?.failures).toBe(1);
		await probeRoute(answer(true), store, settings);
		expect((await store.getCircuits([circuit]))[0]).toMatchObject({ failures: 0, probing: false });
		// so one more failure does not reach Fall 2
		expect((await probeRoute(answer(false), store, settings)).circuit.open).toBe(false);
	});

	it('writes nothing for a pass on a route it never saw', async () => {
		await probeRoute(answer(true), store, { ...settings, route: 'Relay C' });
		expect(await store.getCircuits([circuitName('winter', 'Relay C')])).toEqual([null]);
	});

	it('the policy: Fall as the threshold, no backoff, no jitter', () => {
		expect(probePolicy({ fall: 3, probeEveryMs: 60_000 })).toEqual({
			failureThreshold: 3,
			baseEjectionMs: 120_000,
			maxEjectionMs: 120_000,
			backoff: 1,
			jitter: 1,
		});
	});
});
