/**
 * Another n8n process of the alert scenario (./alertTrigger.test.ts): on the shared Redis, a
 * route's login is refused, its circuit opens (RouteHealth.record, as the send pipeline does) and
 * an operator suspends another route for Yahoo; prints what it published as one tagged JSON line.
 */
import { RouteHealth } from '../../lib/delivery/health';
import type { DeliveryJob } from '../../lib/delivery/types';
import { resumeRoutes, suspendRoutes } from '../../lib/operations/control';
import { RedisStateStore } from '../../lib/state/redis';
import type { SendFailure } from '../../lib/transports/types';

async function main(): Promise<void> {
	const job = JSON.parse(process.env.POSTAL_ALERT_JOB ?? '') as {
		port: number;
		keyPrefix: string;
		tag: string;
	};
	const store = new RedisStateStore({
		mode: 'standalone',
		host: '127.0.0.1',
		port: job.port,
		keyPrefix: job.keyPrefix,
	});
	const sendJob = { campaign: 'promo', route: `Relay ${job.tag}` } as DeliveryJob;
	const health = await RouteHealth.load([sendJob], {
		store,
		policy: {
			failureThreshold: 3,
			baseEjectionMs: 60_000,
			maxEjectionMs: 600_000,
			backoff: 2,
			jitterRatio: 0,
		},
		random: () => 0.5,
		clock: Date.now,
	});
	await health.record(sendJob, {
		ok: false,
		kind: 'permanent',
		scope: 'route',
		message: '535 5.7.8 Authentication credentials invalid',
		opensCircuit: true,
	} as SendFailure);
	const pair = { route: `Backup ${job.tag}`, group: 'yahoo' };
	const errors: string[] = [];
	await suspendRoutes(store, [{ ...pair, durationMs: 3_600_000, reason: 'blocked' }], (e) =>
		errors.push(e.message),
	);
	// info: a trigger with Minimum Severity Warning acknowledges it without emitting
	await resumeRoutes(store, [pair], (e) => errors.push(e.message));
	if (health.alertError) errors.push(health.alertError.message);
	await store.close();
	console.log(JSON.stringify({ alertChild: { errors } }));
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
