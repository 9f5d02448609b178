/**
 * The operations node's read-side resources, run once per execution (the first item's
 * parameters): Stats › Get Many and Compare Routes, Report › HTML Report and Prometheus Metrics.
 */
import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';
import {
	compareRoutes,
	DEFAULT_SLOWER_THAN_MS,
	type CompareMetric,
} from '../../lib/operations/compare';
import { settleCompareVerdict } from '../../lib/operations/control';
import { prometheusText, PROMETHEUS_CONTENT_TYPE } from '../../lib/operations/prometheus';
import { renderReport } from '../../lib/operations/report';
import { readReportInput } from '../../lib/operations/reportData';
import { readStats, resolveWindow, type StatsWindowChoice } from '../../lib/operations/stats';
import type { StateStore } from '../../lib/state/types';

const list = (text: unknown) =>
	String(text ?? '')
		.split(',')
		.map((s) => s.trim())
		.filter(Boolean);

function windowOf(ctx: IExecuteFunctions): StatsWindowChoice {
	const w = String(ctx.getNodeParameter('window', 0, '24h'));
	if (w !== 'since') return w as StatsWindowChoice;
	const since = String(ctx.getNodeParameter('since', 0, '') ?? '');
	if (!since || Number.isNaN(Date.parse(since)))
		throw new NodeOperationError(ctx.getNode(), 'Since is empty or not a date', {
			description: 'Pick the window’s start date, or another Window.',
		});
	return { since };
}

export async function readingOutput(
	ctx: IExecuteFunctions,
	store: StateStore,
	resource: string,
	operation: string,
	/** an alert (Compare Routes' verdict, an applied throttle) could not be published */
	onAlertError: (error: Error) => void = () => undefined,
): Promise<INodeExecutionData[]> {
	const window = windowOf(ctx);
	const routes = list(ctx.getNodeParameter('routes', 0, ''));
	const paired = { pairedItem: { item: 0 } };

	if (resource === 'stats' && operation === 'compare') {
		const group = String(ctx.getNodeParameter('compareGroup', 0, '') ?? '')
			.trim()
			.toLowerCase();
		if (!group)
			throw new NodeOperationError(ctx.getNode(), 'Domain Group is empty', {
				description: 'Name the group whose routes are compared, e.g. yahoo.',
			});
		const rows = await readStats(store, {
			window,
			groups: [group],
			...(routes.length ? { routes } : {}),
		});
		const metric = String(ctx.getNodeParameter('metric', 0, 'block')) as CompareMetric;
		const verdict = compareRoutes(
			rows.map((r) => ({ route: r.route, counts: r.counts })),
			{
				group,
				metric,
				minEffect: Number(ctx.getNodeParameter('minEffect', 0, 1)) / 100,
				...(metric === 'latency'
					? {
							slowerThanMs: Number(ctx.getNodeParameter('slowerThanMs', 0, DEFAULT_SLOWER_THAN_MS)),
						}
					: {}),
			},
		);
		const json: IDataObject = {
			...(verdict as unknown as IDataObject),
			window: rows[0]?.window ?? null,
		};
		const applied = await settleCompareVerdict(
			store,
			verdict,
			ctx.getNodeParameter('applyVerdict', 0, false)
				? Number(ctx.getNodeParameter('verdictHours', 0, 24))
				: undefined,
			onAlertError,
		);
		if (applied) json.applied = applied;
		return [{ json, ...paired }];
	}

	const groups = list(ctx.getNodeParameter('groups', 0, '')).map((g) => g.toLowerCase());
	const campaign =
		operation === 'prometheus'
			? ''
			: String(ctx.getNodeParameter('statsCampaign', 0, '') ?? '').trim();
	const options = {
		window,
		...(routes.length ? { routes } : {}),
		...(groups.length ? { groups } : {}),
		...(campaign ? { campaign } : {}),
	};
	if (operation === 'html') {
		const input = await readReportInput(store, options);
		const title = String(ctx.getNodeParameter('title', 0, '') ?? '').trim();
		const html = renderReport({
			...input,
			generatedAt: new Date().toISOString(),
			...(title ? { title } : {}),
		});
		const field = String(ctx.getNodeParameter('binaryPropertyName', 0, 'data') || 'data');
		const binary = await ctx.helpers.prepareBinaryData(
			Buffer.from(html, 'utf8'),
			'postal-routes-report.html',
			'text/html',
		);
		return [
			{
				// the window read, rows or none (a quiet day's report still says which day it covers)
				json: {
					html,
					rows: input.rows.length,
					window: input.rows[0]?.window ?? windowRead(window, await store.now()),
				},
				binary: { [field]: binary },
				...paired,
			},
		];
	}

	const rows = await readStats(store, options);
	if (resource === 'stats')
		return rows.map((r) => ({ json: r as unknown as IDataObject, ...paired }));

	if (operation === 'prometheus')
		return [
			{
				json: {
					metrics: prometheusText(rows),
					contentType: PROMETHEUS_CONTENT_TYPE,
					rows: rows.length,
				},
				...paired,
			},
		];
	return [];
}

/** The window a read covered, as the rows carry it, for a read that found no rows. */
function windowRead(choice: StatsWindowChoice, now: number): IDataObject {
	const { from, to, label } = resolveWindow(choice, now);
	return { from, to, label };
}
