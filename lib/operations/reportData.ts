/**
 * What the Report operation reads for its page (./report.ts renders it): the stats rows (with a
 * campaign, each route's circuit and warm-up), their series, and the alert log's latest alerts as
 * the state changes — looked at, never consumed (StateStore.recentAlerts). An alert log that
 * cannot be read leaves the section with a note; the rest of the page stands.
 */
import type { Alert } from '../state/alerts';
import type { StateStore } from '../state/types';
import type { ReportInput } from './report';
import { readSeries, readStats, type ReadStatsOptions } from './stats';

/** how many of the log's latest alerts a report looks at */
export const REPORT_ALERTS = 200;

/** The alerts the report's filters keep: its routes and groups, and its campaign (or none named). */
export function alertsFor(
	alerts: readonly Alert[],
	options: Pick<ReadStatsOptions, 'routes' | 'groups' | 'campaign'>,
): Alert[] {
	const routes = options.routes?.length ? new Set(options.routes) : undefined;
	const groups = options.groups?.length ? new Set(options.groups) : undefined;
	return alerts.filter(
		(a) =>
			// a campaign's own alert (list quality) names no route: a routes filter leaves it out, as the
			// trigger's does
			(!routes || (a.route !== undefined && routes.has(a.route))) &&
			// a route's circuit has no group: it belongs to every group's report
			(!groups || a.group === undefined || groups.has(a.group)) &&
			(options.campaign === undefined ||
				a.campaign === undefined ||
				a.campaign === options.campaign),
	);
}

export async function readReportInput(
	store: StateStore,
	options: ReadStatsOptions,
): Promise<Omit<ReportInput, 'generatedAt' | 'title'>> {
	const now = options.now ?? (await store.now());
	const [rows, alerts] = await Promise.all([
		readStats(store, { ...options, now }),
		store.recentAlerts(REPORT_ALERTS).then(
			(a) => ({ ok: true as const, alerts: alertsFor(a, options) }),
			(error: Error) => ({ ok: false as const, error }),
		),
	]);
	const series = await readSeries(store, {
		window: options.window,
		pairs: rows.map((r) => ({ route: r.route, group: r.group })),
		now,
	});
	return alerts.ok
		? { rows, series, alerts: alerts.alerts }
		: { rows, series, alertsNote: `The alert log could not be read (${alerts.error.message}).` };
}
