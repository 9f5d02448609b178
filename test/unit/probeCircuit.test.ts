import { probePolicy, probeRoute, type ProbeSettings } from '../../lib/delivery/probe';
import { ALERT_TYPES } from '../../lib/state/alerts';
import { alertTriggerProperties } from '../../nodes/PostalAlertTrigger/description';
import { circuitName } from '../../lib/state/keys';
import { MemoryStateStore } from '../../lib/state/memory';
import type { ProbeOptions, ProbeResult } from '../../lib/transports/probe';

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
		rise: 1,
		probeEveryMs: 60_000,
		updateCircuit: true,
		skipIfSentWithinMs: 0,
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

/** Rise, the skip on recent traffic, the enforcement status and the probe's alerts (memory store). */
describe('a probe’s rise, skip, enforcement status and alerts', () => {
	let now = 1_700_000_000_000;
	let store: MemoryStateStore;
	const circuit = circuitName('winter', 'Relay B');
	const base: ProbeSettings = {
		campaign: 'winter',
		route: 'Relay B',
		timeoutMs: 1000,
		fall: 1,
		rise: 3,
		probeEveryMs: 60_000,
		updateCircuit: true,
		skipIfSentWithinMs: 0,
	};
	/** a probe that answers `ok` (and details), counting its calls and the options it was given */
	const answering = (ok: boolean, details?: ProbeResult['details']) => {
		const calls: Array<ProbeOptions | undefined> = [];
		return {
			calls,
			probe: async (_timeoutMs: number, options?: ProbeOptions): Promise<ProbeResult> => {
				calls.push(options);
				return {
					ok,
					steps: [],
					latencyMs: 1,
					...(ok ? {} : { error: 'AUTH refused' }),
					...(details ? { details } : {}),
				};
			},
		};
	};
	const pass = answering(true);
	const fail = answering(false);
	const read = () => store.readAlerts('ops', 'test', { count: 100 });
	/** past the store's alert cooldown (15 min), so what is not published was not raised */
	const later = () => (now += 20 * 60_000);

	beforeEach(async () => {
		store = new MemoryStateStore({ clock: () => now });
		await read();
	});

	it('Rise 3: out on a failure; two passes keep it out (its end moved on each), the third brings it back', async () => {
		const down = await probeRoute(fail, store, base);
		expect(down).toMatchObject({
			skipped: false,
			circuit: { open: true, openUntil: now + 120_000 },
		});
		now += 60_000;
		const first = await probeRoute(pass, store, base);
		expect(first.circuit).toEqual({ open: true, openUntil: now + 120_000, passes: 1 });
		now += 60_000;
		const second = await probeRoute(pass, store, base);
		expect(second.circuit).toEqual({ open: true, openUntil: now + 120_000, passes: 2 });
		expect((await store.getCircuits([circuit]))[0]).toMatchObject({
			probePasses: 2,
			openUntil: now + 120_000,
		});
		now += 60_000;
		const third = await probeRoute(pass, store, base);
		expect(third.circuit).toEqual({ open: false });
		const [state] = await store.getCircuits([circuit]);
		expect(state).toMatchObject({ openUntil: now, probing: true, failures: 0 });
		expect(state).not.toHaveProperty('probePasses');
		const alerts = await read();
		expect(alerts.map((a) => [a.type, a.severity, a.route, a.campaign])).toEqual([
			['probe.down', 'critical', 'Relay B', 'winter'],
			['probe.up', 'info', 'Relay B', 'winter'],
		]);
		expect(alerts[0].reason).toMatch(/AUTH refused/);
		expect(alerts[0].until).toBe(new Date(1_700_000_000_000 + 120_000).toISOString());
		expect(alerts[1].reason).toMatch(/^3 probes in a row passed/);
		if ('alerts' in third) expect(third.alerts.map((a) => a.type)).toEqual(['probe.up']);
	});

	it('a failed probe between passes starts the count again', async () => {
		await probeRoute(fail, store, base);
		now += 60_000;
		await probeRoute(pass, store, base);
		await probeRoute(pass, store, base);
		const failed = await probeRoute(fail, store, base);
		// the ejection stands (still open), the count is gone
		expect(failed.circuit.open).toBe(true);
		expect(failed.circuit.passes).toBeUndefined();
		expect((await store.getCircuits([circuit]))[0]).not.toHaveProperty('probePasses');
		expect((await probeRoute(pass, store, base)).circuit).toMatchObject({ open: true, passes: 1 });
		expect((await probeRoute(pass, store, base)).circuit).toMatchObject({ open: true, passes: 2 });
		expect((await probeRoute(pass, store, base)).circuit).toEqual({ open: false });
	});

	it('Rise 1 closes on the first pass, as before', async () => {
		await probeRoute(fail, store, { ...base, rise: 1 });
		expect((await probeRoute(pass, store, { ...base, rise: 1 })).circuit).toEqual({ open: false });
		expect((await read()).map((a) => a.type)).toEqual(['probe.down', 'probe.up']);
	});

	describe('Skip If Sent Within', () => {
		const sent = (route: string, at: number, group = 'gmail', n = 4) =>
			store.countOutcomes([{ route, group, counts: { sent: n, acceptMsSum: 40, acceptN: n }, at }]);
		const skip = { ...base, skipIfSentWithinMs: 5 * 60_000 };

		it('skips a closed route that sent within the window, without probing, and says why', async () => {
			await sent('Relay B', now - 2 * 60_000);
			await sent('Relay B', now - 60_000, 'yahoo', 1);
			const probe = answering(true);
			const result = await probeRoute(probe, store, skip);
			expect(probe.calls).toHaveLength(0);
			expect(result).toEqual({
				skipped: true,
				sent: 5,
				reason: expect.stringMatching(
					/^5 messages were sent through the route in the last 5 minutes/,
				),
				circuit: { open: false },
			});
		});

		it('probes when the sends are older than the window, are another route’s, or were only deferred', async () => {
			await sent('Relay B', now - 10 * 60_000);
			await sent('Relay A', now - 60_000);
			await store.countOutcomes([
				{ route: 'Relay B', group: 'gmail', counts: { deferred: 3 }, at: now - 60_000 },
			]);
			const probe = answering(true);
			expect((await probeRoute(probe, store, skip)).skipped).toBe(false);
			expect(probe.calls).toHaveLength(1);
		});

		it('always probes a route taken out, whatever it sent', async () => {
			await probeRoute(fail, store, skip);
			await sent('Relay B', now - 60_000);
			const probe = answering(true);
			const result = await probeRoute(probe, store, skip);
			expect(probe.calls).toHaveLength(1);
			expect(result).toMatchObject({ skipped: false, circuit: { open: true, passes: 1 } });
		});

		it('0 always probes', async () => {
			await sent('Relay B', now - 60_000);
			const probe = answering(true);
			await probeRoute(probe, store, base);
			expect(probe.calls).toHaveLength(1);
		});
	});

	describe('enforcement status (SES)', () => {
		const ses = (ok: boolean, status: string) =>
			answering(ok, { enforcementStatus: status, sendingEnabled: status !== 'SHUTDOWN' });

		it('alerts on each change, not on a repeat, and keeps the last status in the circuit', async () => {
			// first seen HEALTHY: no news, nothing written
			await probeRoute(ses(true, 'HEALTHY'), store, base);
			expect(await store.getCircuits([circuit])).toEqual([null]);
			later();
			await probeRoute(ses(true, 'PROBATION'), store, base);
			expect((await store.getCircuits([circuit]))[0]).toMatchObject({
				enforcement: 'PROBATION',
				openUntil: 0,
			});
			later();
			await probeRoute(ses(true, 'PROBATION'), store, base);
			later();
			// SES's probe fails a SHUTDOWN account: the route goes out and both alerts are raised
			// probing every 30 min: the ejection (1 h) outlasts the alert cooldown (15 min)
			const slow = { ...base, rise: 1, probeEveryMs: 30 * 60_000 };
			const shut = await probeRoute(ses(false, 'SHUTDOWN'), store, slow);
			expect(shut.circuit.open).toBe(true);
			expect((await store.getCircuits([circuit]))[0]).toMatchObject({ enforcement: 'SHUTDOWN' });
			later();
			const back = await probeRoute(ses(true, 'HEALTHY'), store, slow);
			expect(back.circuit).toEqual({ open: false });
			expect((await store.getCircuits([circuit]))[0]).toMatchObject({
				enforcement: 'HEALTHY',
				probing: true,
			});
			const alerts = await read();
			expect(alerts.map((a) => [a.type, a.severity])).toEqual([
				['provider.enforcement', 'warning'],
				['probe.down', 'critical'],
				['provider.enforcement', 'critical'],
				['probe.up', 'info'],
				['provider.enforcement', 'info'],
			]);
			expect(alerts[0].reason).toMatch(/^enforcement status PROBATION: /);
			expect(alerts[2].reason).toMatch(/^enforcement status SHUTDOWN \(was PROBATION\)/);
			expect(alerts[4].reason).toMatch(/^enforcement status HEALTHY \(was SHUTDOWN\)/);
		});

		it('Update Circuit off: reports only, writes and publishes nothing', async () => {
			const result = await probeRoute(ses(false, 'SHUTDOWN'), store, {
				...base,
				updateCircuit: false,
			});
			expect(result).toMatchObject({ ok: false, circuit: { open: false }, alerts: [] });
			expect(await store.getCircuits([circuit])).toEqual([null]);
			expect(await read()).toEqual([]);
		});
	});

	it('a failure to publish is returned, never thrown: the probe’s outcome stands', async () => {
		store.publishAlerts = async () => {
			throw new Error('alert log unavailable');
		};
		const result = await probeRoute(fail, store, base);
		expect(result).toMatchObject({ ok: false, circuit: { open: true } });
		if (result.skipped) throw new Error('not skipped');
		expect(result.alertError?.message).toBe('alert log unavailable');
		expect(result.alerts.map((a) => a.type)).toEqual(['probe.down']);
	});

	it('hands the transport its probe options (the SMTP envelope)', async () => {
		const probe = answering(true);
		const envelope = { from: '', to: 'seed@example.com' };
		await probeRoute(probe, store, { ...base, probe: { envelope } });
		expect(probe.calls).toEqual([{ envelope }]);
	});
});

it('the Postal Alert Trigger offers every alert type, the probe’s included', () => {
	const types = alertTriggerProperties.find((p) => p.name === 'types')!;
	const values = (types.options as Array<{ value: string }>).map((o) => o.value);
	expect([...values].sort()).toEqual([...ALERT_TYPES].sort());
	expect(values).toEqual(
		expect.arrayContaining(['probe.down', 'probe.up', 'provider.enforcement']),
	);
});
