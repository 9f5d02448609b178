import type { DeliveryJob } from '../../lib/delivery/pipeline';
import { StateUnavailableError, type StateStore } from '../../lib/state/types';
import { routeLimitOf } from '../../lib/throttle/applicable';
import type { JobSettings } from './jobs';

/** How long a reported limit is kept after the node last ran for the route (Keep State's default). */
export const ROUTE_LIMIT_TTL_MS = 30 * 86_400_000;

/**
 * Reports this node's own limit (the tighter of its Connection Rate Limit and its SMTP
 * credential's, or none) for every route of every campaign in the batch, so a Route Partitioner
 * set to *Move the excess to routes with room* gives each route no more than it can send. One
 * store call per campaign. Best effort: a state store that cannot be reached is the send's to
 * report, not this note's.
 */
export async function publishRouteLimits(
	store: StateStore,
	jobs: readonly DeliveryJob[],
	settings: JobSettings,
): Promise<void> {
	const limit = routeLimitOf(settings.limits);
	const routes = new Map<string, Set<string>>();
	for (const job of jobs) {
		let set = routes.get(job.campaign);
		if (!set) routes.set(job.campaign, (set = new Set()));
		set.add(job.route);
	}
	try {
		await Promise.all(
			[...routes].map(([campaign, names]) =>
				store.setRouteLimits(
					campaign,
					[...names].map((route) => ({ route, limit })),
					ROUTE_LIMIT_TTL_MS,
				),
			),
		);
	} catch (error) {
		// only an outage is this note's to swallow; anything else is a bug and goes up unchanged
		// eslint-disable-next-line @n8n/community-nodes/require-node-api-error
		if (!(error instanceof StateUnavailableError)) throw error;
	}
}
