/**
 * The Report operation's page (issue "Eyes and hands for operators" §1): one self-contained HTML
 * document from stats rows and series, to mail as a file or serve through Respond to Webhook.
 *
 * Self-contained means nothing is fetched: no script (the page has none, and its
 * Content-Security-Policy forbids any, so a name that slipped through escaping still could not run),
 * no external style, font or image; the charts are inline SVG drawn here. Every text that comes from
 * users or servers (route, group, rule, reason, title) goes through `escapeHtml`, the one place.
 *
 * Sections: headline figures; volume per route over time (stacked areas of `sent`); rates per
 * domain group (bars per route with their 95% Wilson intervals as whiskers); warm-up progress (per
 * warming route its day, cap and the cap used today, as the rows' states carry them with a
 * campaign); the route × group states (suspended, throttled, ramping, with until, rule and reason;
 * with a campaign each route's circuit); the state changes (the alert log's latest within the
 * window, on a time line per route, then as a list); every row as a table, with the accept
 * latency's mean and p50/p90 estimates. Laid out for 1200 px wide, light mode.
 */
import type { Alert } from '../state/alerts';
import type { OutcomeCounts } from '../state/outcomes';
import type {
	CircuitView,
	RateEstimate,
	RateName,
	RouteGroupState,
	StatsRow,
	StatsSeries,
	WarmupView,
} from './types';

export interface ReportInput {
	rows: StatsRow[];
	series: StatsSeries[];
	/** ISO time the report was made */
	generatedAt: string;
	title?: string;
	/**
	 * the alert log's latest (newest first, as recentAlerts gives them): those within the charted
	 * window are the state changes shown; absent: the log was not read (`alertsNote` says why)
	 */
	alerts?: Alert[];
	/** why there are no alerts to show, when they could not be read */
	alertsNote?: string;
}

/** The charts' width: 1200 px less the page's and a section's padding and border. */
const CONTENT_WIDTH = 1104;

/** Colour-blind-safe route colours (Okabe–Ito, then Tableau), cycled past ten routes. */
const PALETTE = [
	'#0072B2',
	'#E69F00',
	'#009E73',
	'#CC79A7',
	'#56B4E9',
	'#D55E00',
	'#6a3d9a',
	'#8c564b',
	'#7f7f7f',
	'#bcbd22',
];

const RATE_CHARTS: Array<{ rate: RateName; label: string }> = [
	{ rate: 'block', label: 'Block rate' },
	{ rate: 'deferral', label: 'Deferral rate' },
	{ rate: 'hardBounce', label: 'Hard bounce rate' },
	{ rate: 'complaint', label: 'Complaint rate' },
];

const STATE_LABEL: Record<RouteGroupState['reputation'], string> = {
	ok: 'OK',
	suspended: 'Suspended',
	throttled: 'Throttled',
	ramping: 'Ramping',
};

/** Text for HTML content and attribute values (also inside inline SVG). */
export function escapeHtml(text: string): string {
	return text
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;')
		.replace(/'/g, '&#39;');
}

const esc = escapeHtml;

// --- numbers and times, the same on every machine (no locale) --------------------------------------

function formatCount(n: number): string {
	const s = String(Math.round(n));
	return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function formatPercent(p: number): string {
	const v = p * 100;
	if (v === 0) return '0%';
	if (v < 0.1) return `${v.toFixed(3)}%`;
	if (v < 10) return `${v.toFixed(2)}%`;
	return `${v.toFixed(1)}%`;
}

function formatRate(r: RateEstimate): string {
	if (r.sample === 0) return '–';
	return formatPercent(r.value);
}

function formatInterval(r: RateEstimate): string {
	if (r.sample === 0) return 'no sample';
	return `${formatPercent(r.low).replace('%', '')}–${formatPercent(r.high)}`;
}

/** "96 ms", "1.3 s" */
function formatMs(ms: number | null): string {
	if (ms === null || !Number.isFinite(ms)) return '–';
	if (ms < 1000) return `${Math.round(ms)} ms`;
	return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-12-01 12:00 UTC" */
function formatTime(iso: string | number): string {
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return String(iso);
	return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(
		d.getUTCHours(),
	)}:${pad(d.getUTCMinutes())} UTC`;
}

function formatClock(ms: number): string {
	const d = new Date(ms);
	return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

function formatDay(ms: number): string {
	const d = new Date(ms);
	return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** Numbers in SVG attributes: short, never "NaN". */
function num(n: number): string {
	return Number.isFinite(n) ? String(Math.round(n * 10) / 10) : '0';
}

/** A "nice" axis top and step (1, 2, 2.5, 5 × 10^k) with about `ticks` steps. */
function niceScale(max: number, ticks = 5): { top: number; step: number } {
	if (!(max > 0)) return { top: 1, step: 0.2 };
	const raw = max / ticks;
	const mag = 10 ** Math.floor(Math.log10(raw));
	const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
	return { top: Math.ceil(max / step - 1e-9) * step, step };
}

// --- what the rows say -------------------------------------------------------------------------------

function routesOf(rows: StatsRow[], series: StatsSeries[]): string[] {
	const routes: string[] = [];
	for (const r of [...rows, ...series]) if (!routes.includes(r.route)) routes.push(r.route);
	return routes;
}

function groupsOf(rows: StatsRow[]): string[] {
	const groups: string[] = [];
	for (const r of rows) if (!groups.includes(r.group)) groups.push(r.group);
	return groups;
}

/** The window the charts show: the first row's (a page may carry rows for several windows). */
function chartRows(rows: StatsRow[]): StatsRow[] {
	if (!rows.length) return rows;
	const label = rows[0].window.label;
	return rows.filter((r) => r.window.label === label);
}

function groupLabel(group: string): string {
	return group === '' ? '(unknown group)' : group;
}

function colourOf(routes: string[]): (route: string) => string {
	return (route) => PALETTE[Math.max(0, routes.indexOf(route)) % PALETTE.length];
}

function legend(routes: string[], colour: (route: string) => string): string {
	return `<ul class="legend">${routes
		.map((r) => `<li><span class="swatch" style="background:${colour(r)}"></span>${esc(r)}</li>`)
		.join('')}</ul>`;
}

function emptyChart(width: number, height: number, what: string): string {
	return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(
		what,
	)}"><rect x="0.5" y="0.5" width="${width - 1}" height="${
		height - 1
	}" fill="#fafbfc" stroke="#e3e6ea"/><text x="${width / 2}" y="${
		height / 2
	}" text-anchor="middle" class="muted">No data in this window</text></svg>`;
}

// --- volume per route over time -------------------------------------------------------------------------

function volumeChart(
	series: StatsSeries[],
	routes: string[],
	colour: (r: string) => string,
): string {
	const width = CONTENT_WIDTH;
	const height = 320;
	const m = { left: 64, right: 16, top: 16, bottom: 44 };
	const starts = [...new Set(series.flatMap((s) => s.buckets.map((b) => b.start)))].sort(
		(a, b) => a - b,
	);
	const title = 'Messages sent per route over time';
	if (!starts.length) return emptyChart(width, height, title);
	const resolution = series[0].resolution;
	const bucketMs = resolution === 'minute' ? 60_000 : 3_600_000;
	const index = new Map(starts.map((s, i) => [s, i]));
	// sent per route per bucket, summed over the groups
	const volume = routes.map(() => starts.map(() => 0));
	for (const s of series)
		for (const b of s.buckets)
			volume[routes.indexOf(s.route)][index.get(b.start)!] += b.counts.sent ?? 0;
	const stacked = volume.map(() => starts.map(() => 0));
	starts.forEach((_, i) => {
		let sum = 0;
		routes.forEach((_, r) => {
			sum += volume[r][i];
			stacked[r][i] = sum;
		});
	});
	const peak = Math.max(0, ...stacked[stacked.length - 1]);
	const { top, step } = niceScale(peak);
	const plotW = width - m.left - m.right;
	const plotH = height - m.top - m.bottom;
	const first = starts[0];
	const span = Math.max(bucketMs, starts[starts.length - 1] - first);
	const x = (t: number) => m.left + ((t - first) / span) * plotW;
	const y = (v: number) => m.top + plotH - (v / top) * plotH;

	const parts: string[] = [];
	for (let v = 0; v <= top + 1e-9; v += step) {
		parts.push(
			`<line x1="${m.left}" x2="${width - m.right}" y1="${num(y(v))}" y2="${num(
				y(v),
			)}" class="grid"/><text x="${m.left - 8}" y="${num(
				y(v) + 4,
			)}" text-anchor="end" class="tick">${formatCount(v)}</text>`,
		);
	}
	// time ticks: about eight, on whole hours (or minutes), with the date where it changes
	const every = Math.max(1, Math.ceil(starts.length / 8));
	let lastDay = '';
	starts.forEach((t, i) => {
		if (i % every) return;
		const day = formatDay(t);
		const label = day !== lastDay ? `${formatClock(t)} · ${day.slice(5)}` : formatClock(t);
		lastDay = day;
		parts.push(
			`<line x1="${num(x(t))}" x2="${num(x(t))}" y1="${m.top + plotH}" y2="${
				m.top + plotH + 5
			}" class="axis"/><text x="${num(x(t))}" y="${
				m.top + plotH + 19
			}" text-anchor="middle" class="tick">${esc(label)}</text>`,
		);
	});
	// areas from the top route down, so each lies over the one below it
	for (let r = routes.length - 1; r >= 0; r--) {
		const upper = starts.map((t, i) => `${num(x(t))},${num(y(stacked[r][i]))}`);
		const lower = starts
			.map((t, i) => `${num(x(t))},${num(y(r ? stacked[r - 1][i] : 0))}`)
			.reverse();
		const total = volume[r].reduce((a, b) => a + b, 0);
		parts.push(
			`<path d="M${upper.join('L')}L${lower.join('L')}Z" fill="${colour(
				routes[r],
			)}" fill-opacity="0.78" stroke="${colour(routes[r])}" stroke-width="1.5"><title>${esc(
				routes[r],
			)}: ${formatCount(total)} sent</title></path>`,
		);
	}
	parts.push(
		`<line x1="${m.left}" x2="${width - m.right}" y1="${m.top + plotH}" y2="${
			m.top + plotH
		}" class="axis"/><line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${
			m.top + plotH
		}" class="axis"/>`,
		`<text x="${m.left + plotW / 2}" y="${height - 6}" text-anchor="middle" class="label">Time (UTC), ${
			resolution === 'minute' ? 'per minute' : 'per hour'
		}</text>`,
		`<text transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="label">Messages sent per ${resolution}</text>`,
	);
	return `<svg class="chart" id="chart-volume" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}">${parts.join(
		'',
	)}</svg>`;
}

// --- rates per group ------------------------------------------------------------------------------------

function rateChart(
	rows: StatsRow[],
	rate: RateName,
	label: string,
	routes: string[],
	groups: string[],
	colour: (r: string) => string,
): string {
	const width = (CONTENT_WIDTH - 24) / 2;
	const height = 260;
	const m = { left: 56, right: 12, top: 14, bottom: 40 };
	const title = `${label} per domain group and route, with 95% intervals`;
	const measured = rows.filter((r) => r.rates[rate].sample > 0);
	if (!measured.length || !groups.length) return emptyChart(width, height, title);
	const peak = Math.max(...measured.map((r) => r.rates[rate].high));
	const { top, step } = niceScale(peak > 0 ? peak : 0.01, 4);
	const plotW = width - m.left - m.right;
	const plotH = height - m.top - m.bottom;
	const y = (v: number) => m.top + plotH - (Math.min(v, top) / top) * plotH;
	const slot = plotW / groups.length;
	const barW = Math.min(34, (slot * 0.8) / Math.max(1, routes.length));
	const parts: string[] = [];
	for (let v = 0; v <= top + 1e-12; v += step)
		parts.push(
			`<line x1="${m.left}" x2="${width - m.right}" y1="${num(y(v))}" y2="${num(
				y(v),
			)}" class="grid"/><text x="${m.left - 6}" y="${num(
				y(v) + 4,
			)}" text-anchor="end" class="tick">${formatPercent(v)}</text>`,
		);
	groups.forEach((group, g) => {
		const centre = m.left + slot * (g + 0.5);
		const left = centre - (barW * routes.length) / 2;
		routes.forEach((route, r) => {
			const row = rows.find((x) => x.route === route && x.group === group);
			const est = row?.rates[rate];
			const bx = left + r * barW + 2;
			const w = barW - 4;
			if (!est || est.sample === 0) {
				parts.push(
					`<text x="${num(bx + w / 2)}" y="${num(y(0) - 4)}" text-anchor="middle" class="tick">–</text>`,
				);
				return;
			}
			const tip = `${esc(route)} · ${esc(groupLabel(group))}: ${formatPercent(
				est.value,
			)} (95% ${formatInterval(est)}), ${formatCount(est.count)} of ${formatCount(est.sample)}`;
			const mid = bx + w / 2;
			parts.push(
				`<g><title>${tip}</title><rect x="${num(bx)}" y="${num(y(est.value))}" width="${num(
					w,
				)}" height="${num(Math.max(0, y(0) - y(est.value)))}" fill="${colour(
					route,
				)}" rx="2"/><path d="M${num(mid)},${num(y(est.low))}V${num(y(est.high))}M${num(
					mid - 5,
				)},${num(y(est.low))}H${num(mid + 5)}M${num(mid - 5)},${num(y(est.high))}H${num(
					mid + 5,
				)}" class="whisker"/></g>`,
			);
		});
		parts.push(
			`<text x="${num(centre)}" y="${m.top + plotH + 18}" text-anchor="middle" class="tick">${esc(
				groupLabel(group),
			)}</text>`,
		);
	});
	parts.push(
		`<line x1="${m.left}" x2="${width - m.right}" y1="${m.top + plotH}" y2="${
			m.top + plotH
		}" class="axis"/><line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${
			m.top + plotH
		}" class="axis"/>`,
		`<text x="${m.left + plotW / 2}" y="${height - 4}" text-anchor="middle" class="label">Domain group</text>`,
		`<text transform="translate(12 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="label">${esc(
			label,
		)}</text>`,
	);
	return `<figure class="rate"><figcaption>${esc(
		label,
	)}</figcaption><svg class="chart" id="chart-rate-${rate}" width="${num(width)}" height="${height}" viewBox="0 0 ${num(
		width,
	)} ${height}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg></figure>`;
}

// --- states and the table -----------------------------------------------------------------------------------

function stateCell(state: RouteGroupState | undefined): string {
	if (!state) return '<td class="state none">–</td>';
	const lines = [`<span class="badge ${state.reputation}">${STATE_LABEL[state.reputation]}</span>`];
	if (state.reputation !== 'suspended' && state.share < 1)
		lines.push(`<span class="share">keeps ${Math.round(state.share * 100)}% of its share</span>`);
	if (state.until) lines.push(`<span class="detail">until ${esc(formatTime(state.until))}</span>`);
	if (state.rule) lines.push(`<span class="detail">rule <code>${esc(state.rule)}</code></span>`);
	if (state.reason) lines.push(`<span class="detail reason">${esc(state.reason)}</span>`);
	return `<td class="state ${state.reputation}">${lines.join('')}</td>`;
}

const CIRCUIT_LABEL: Record<CircuitView['state'], string> = {
	closed: 'Closed',
	open: 'Open',
	'half-open': 'Half-open',
};

function circuitCell(c: CircuitView | undefined): string {
	if (!c) return '<td class="circuit none">–</td>';
	const lines = [`<span class="badge circuit-${c.state}">${CIRCUIT_LABEL[c.state]}</span>`];
	if (c.until) lines.push(`<span class="detail">until ${esc(formatTime(c.until))}</span>`);
	if (c.state === 'half-open') lines.push('<span class="detail">its next send is the probe</span>');
	if (c.ejections)
		lines.push(
			`<span class="detail">${c.ejections} ejection${c.ejections === 1 ? '' : 's'}</span>`,
		);
	return `<td class="circuit ${c.state}">${lines.join('')}</td>`;
}

/** each route's state in the campaign (the same on all its rows): from its first row that has it */
function routeState(rows: StatsRow[], route: string): StatsRow['state'] | undefined {
	return rows.find((r) => r.route === route && r.state.campaign !== undefined)?.state;
}

function stateMatrix(rows: StatsRow[], routes: string[], groups: string[]): string {
	if (!rows.length) return '<p class="muted">No routes in this window.</p>';
	const campaign = rows.find((r) => r.state.campaign !== undefined)?.state.campaign;
	const head = groups.map((g) => `<th scope="col">${esc(groupLabel(g))}</th>`).join('');
	const circuitHead =
		campaign === undefined
			? ''
			: `<th scope="col">Circuit<small>campaign ${esc(campaign)}</small></th>`;
	const body = routes
		.map((route) => {
			const cells = groups
				.map((g) => stateCell(rows.find((r) => r.route === route && r.group === g)?.state))
				.join('');
			const circuit = campaign === undefined ? '' : circuitCell(routeState(rows, route)?.circuit);
			return `<tr><th scope="row">${esc(route)}</th>${circuit}${cells}</tr>`;
		})
		.join('');
	return `<table class="states"><thead><tr><th scope="col">Route</th>${circuitHead}${head}</tr></thead><tbody>${body}</tbody></table>`;
}

// --- warm-up progress -----------------------------------------------------------------------------------

function warmupSection(rows: StatsRow[], routes: string[], colour: (r: string) => string): string {
	const campaign = rows.find((r) => r.state.campaign !== undefined)?.state.campaign;
	if (campaign === undefined)
		return '<p class="muted">Give the report a Campaign ID to see its routes’ warm-up and circuits.</p>';
	const warming = routes
		.map((route) => ({ route, w: routeState(rows, route)?.warmup }))
		.filter((x): x is { route: string; w: WarmupView } => x.w !== undefined);
	if (!warming.length)
		return `<p class="muted">No route of campaign ${esc(campaign)} is warming up (or its Route Partitioner has not run since the warm-up was set).</p>`;
	const width = CONTENT_WIDTH;
	const rowH = 44;
	const m = { left: 180, right: 250, top: 8 };
	const height = m.top + warming.length * rowH + 8;
	const barW = width - m.left - m.right;
	const parts: string[] = [];
	warming.forEach(({ route, w }, i) => {
		const y = m.top + i * rowH;
		const share =
			w.sharePercent < 100 && w.cap !== null ? ` · ${w.sharePercent}% of its weight` : '';
		parts.push(
			`<text x="0" y="${y + 17}" class="label strong">${esc(route)}</text><text x="0" y="${
				y + 33
			}" class="tick">day ${w.day}${esc(share)}${w.current ? '' : ` · as of ${esc(w.date)}`}</text>`,
		);
		parts.push(
			`<rect x="${m.left}" y="${y + 8}" width="${barW}" height="20" rx="4" fill="#edf0f3"/>`,
		);
		let note: string;
		if (w.cap === null) {
			// a share schedule: the part of its weight the route has today, no cap to fill
			parts.push(
				`<rect x="${m.left}" y="${y + 8}" width="${num((barW * w.sharePercent) / 100)}" height="20" rx="4" fill="${colour(
					route,
				)}" fill-opacity="0.35"><title>${esc(route)}: ${w.sharePercent}% of its weight today</title></rect>`,
			);
			note = `no cap today · ${w.sharePercent}% of its weight`;
		} else if (w.used === null) note = `cap ${formatCount(w.cap)} (day over)`;
		else if (w.day < 1) note = 'its warm-up starts on a later day: nothing today';
		else {
			const used = w.cap > 0 ? Math.min(1, w.used / w.cap) : 1;
			parts.push(
				`<rect x="${m.left}" y="${y + 8}" width="${num(barW * used)}" height="20" rx="4" fill="${colour(
					route,
				)}"><title>${esc(route)}: ${formatCount(w.used)} of ${formatCount(w.cap)} today</title></rect>`,
			);
			note = `${formatCount(w.used)} of ${formatCount(w.cap)} used · ${formatCount(w.left ?? 0)} left`;
		}
		parts.push(`<text x="${m.left + barW + 12}" y="${y + 23}" class="label">${esc(note)}</text>`);
	});
	return `<svg class="chart" id="chart-warmup" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Warm-up progress per route: today's cap and how much of it is used">${parts.join(
		'',
	)}</svg>`;
}

// --- state changes ---------------------------------------------------------------------------------------

const ALERT_LABEL: Record<Alert['type'], string> = {
	'route.suspended': 'Suspended',
	'route.throttled': 'Throttled',
	'route.restored': 'Restored',
	'route.ejected': 'Ejected',
	'route.recovered': 'Recovered',
	'probe.down': 'Probe down',
	'probe.up': 'Probe up',
	'provider.enforcement': 'Enforcement',
	'threshold.warning': 'List quality',
	'warmup.cap-reached': 'Warm-up cap',
	'ab.verdict': 'A/B verdict',
};

const ALERT_COLOUR: Record<Alert['type'], string> = {
	'route.suspended': '#d93025',
	'route.throttled': '#f2a900',
	'route.restored': '#1e8e3e',
	'route.ejected': '#8e24aa',
	'route.recovered': '#1a73e8',
	'probe.down': '#b3261e',
	'probe.up': '#188038',
	'provider.enforcement': '#e37400',
	'threshold.warning': '#c5221f',
	'warmup.cap-reached': '#9334e6',
	'ab.verdict': '#12b5cb',
};

/** the row an alert goes on: its route, or for a campaign's own alert (list quality) the campaign */
const rowOf = (a: Alert): string => a.route ?? `campaign ${a.campaign ?? ''}`.trim();

function changesSection(
	order: string[],
	alerts: Alert[] | undefined,
	note: string | undefined,
	window: { fromMs: number; toMs: number } | undefined,
): string {
	if (!alerts) return `<p class="muted">${esc(note ?? 'The alert log was not read.')}</p>`;
	const inWindow = alerts
		.filter((a) => {
			const t = Date.parse(a.at);
			return !window || (t >= window.fromMs && t <= window.toMs);
		})
		.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
	if (!inWindow.length)
		return '<p class="muted">No alert in this window: no route was ejected, suspended, throttled, probed down or capped, and no campaign crossed a list-quality bar.</p>';
	// the report's routes in its order, then any other the log names
	const routes = order.filter((r) => inWindow.some((a) => rowOf(a) === r));
	for (const a of inWindow) if (!routes.includes(rowOf(a))) routes.push(rowOf(a));
	const width = CONTENT_WIDTH;
	const rowH = 30;
	const m = { left: 150, right: 16, top: 8, bottom: 34 };
	const height = m.top + routes.length * rowH + m.bottom;
	const from = window?.fromMs ?? Date.parse(inWindow[0].at);
	const to = window?.toMs ?? Date.parse(inWindow[inWindow.length - 1].at);
	const span = Math.max(60_000, to - from);
	const plotW = width - m.left - m.right;
	const x = (t: number) => m.left + ((Math.min(Math.max(t, from), to) - from) / span) * plotW;
	const parts: string[] = [];
	routes.forEach((route, i) => {
		const y = m.top + i * rowH + rowH / 2;
		parts.push(
			`<text x="${m.left - 10}" y="${y + 4}" text-anchor="end" class="label">${esc(route)}</text><line x1="${m.left}" x2="${
				width - m.right
			}" y1="${y}" y2="${y}" class="grid"/>`,
		);
	});
	// a state with an end: a band to its until (within the window)
	for (const a of inWindow) {
		const y = m.top + routes.indexOf(rowOf(a)) * rowH + rowH / 2;
		const t = Date.parse(a.at);
		const until = a.until ? Date.parse(a.until) : NaN;
		const what = `${ALERT_LABEL[a.type]} ${rowOf(a)}${a.group ? ` for ${a.group}` : ''} at ${formatTime(a.at)}${
			a.until ? ` until ${formatTime(a.until)}` : ''
		}: ${a.reason}`;
		if (Number.isFinite(until) && until > t)
			parts.push(
				`<rect x="${num(x(t))}" y="${y - 5}" width="${num(Math.max(2, x(until) - x(t)))}" height="10" rx="3" fill="${
					ALERT_COLOUR[a.type]
				}" fill-opacity="0.25"/>`,
			);
		parts.push(
			`<path d="M${num(x(t))},${y - 8}L${num(x(t) + 7)},${y}L${num(x(t))},${y + 8}L${num(
				x(t) - 7,
			)},${y}Z" fill="${ALERT_COLOUR[a.type]}" stroke="#fff" stroke-width="1"><title>${esc(what)}</title></path>`,
		);
	}
	const axisY = m.top + routes.length * rowH;
	parts.push(
		`<line x1="${m.left}" x2="${width - m.right}" y1="${axisY}" y2="${axisY}" class="axis"/>`,
	);
	for (let k = 0; k <= 6; k++) {
		const t = from + (span * k) / 6;
		parts.push(
			`<line x1="${num(x(t))}" x2="${num(x(t))}" y1="${axisY}" y2="${axisY + 5}" class="axis"/><text x="${num(
				x(t),
			)}" y="${axisY + 19}" text-anchor="middle" class="tick">${esc(
				`${formatClock(t)} · ${formatDay(t).slice(5)}`,
			)}</text>`,
		);
	}
	const types = [...new Set(inWindow.map((a) => a.type))];
	const legendHtml = `<ul class="legend">${types
		.map(
			(t) =>
				`<li><span class="swatch" style="background:${ALERT_COLOUR[t]}"></span>${ALERT_LABEL[t]}</li>`,
		)
		.join('')}</ul>`;
	const list = inWindow
		.slice()
		.reverse()
		.map(
			(a) =>
				`<tr><td>${esc(formatTime(a.at))}</td><td><span class="dot" style="background:${
					ALERT_COLOUR[a.type]
				}"></span>${ALERT_LABEL[a.type]}</td><td>${esc(rowOf(a))}</td><td>${esc(
					a.group === undefined ? '–' : groupLabel(a.group),
				)}</td><td>${a.until ? esc(formatTime(a.until)) : '–'}</td><td>${
					a.rule ? `<code>${esc(a.rule)}</code>` : '–'
				}</td><td class="reason">${esc(a.reason)}</td></tr>`,
		)
		.join('');
	return `${legendHtml}<svg class="chart" id="chart-changes" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="State changes per route over the window">${parts.join(
		'',
	)}</svg><div class="scroll"><table class="rows changes"><thead><tr><th scope="col">When</th><th scope="col">Change</th><th scope="col">Route</th><th scope="col">Group</th><th scope="col">Until</th><th scope="col">Rule</th><th scope="col">Reason</th></tr></thead><tbody>${list}</tbody></table></div>`;
}

function rateCell(r: RateEstimate): string {
	return `<td class="num" title="95% ${esc(formatInterval(r))}, ${formatCount(r.count)} of ${formatCount(
		r.sample,
	)}">${formatRate(r)}<small>${r.sample ? esc(formatInterval(r)) : ''}</small></td>`;
}

function rowsTable(rows: StatsRow[]): string {
	if (!rows.length) return '<p class="muted">No rows.</p>';
	const several = new Set(rows.map((r) => r.window.label)).size > 1;
	const counted: Array<[keyof OutcomeCounts, string]> = [
		['sent', 'Sent'],
		['delivered', 'Delivered'],
		['deferred', 'Deferred'],
		['blocked', 'Blocked'],
		['complained', 'Complaints'],
		['unsubscribed', 'Unsub.'],
		['suppressed', 'Suppressed'],
	];
	const rates: Array<[RateName, string]> = [
		['delivery', 'Delivery'],
		['block', 'Block'],
		['deferral', 'Deferral'],
		['complaint', 'Complaint'],
	];
	const head = [
		'<th scope="col">Route</th><th scope="col">Group</th>',
		several ? '<th scope="col">Window</th>' : '',
		...counted.map(([, l]) => `<th scope="col" class="num">${l}</th>`),
		'<th scope="col" class="num">Bounced<small>hard / soft</small></th>',
		...rates.map(([, l]) => `<th scope="col" class="num">${l}<small>rate, 95%</small></th>`),
		'<th scope="col" class="num">Accept<small>mean</small></th><th scope="col" class="num">p50<small>estimate</small></th><th scope="col" class="num">p90<small>estimate</small></th><th scope="col">State</th>',
	].join('');
	const body = rows
		.map((r) => {
			const latency = r.latency.meanMs === null ? '–' : `${formatCount(r.latency.meanMs)} ms`;
			const p50 = formatMs(r.latency.p50Ms);
			const p90 = formatMs(r.latency.p90Ms);
			const cells = [
				`<td>${esc(r.route)}</td><td>${esc(groupLabel(r.group))}</td>`,
				several ? `<td>${esc(r.window.label)}</td>` : '',
				...counted.map(([k]) => `<td class="num">${formatCount(r.counts[k] ?? 0)}</td>`),
				`<td class="num">${formatCount(r.counts.bounceHard)} / ${formatCount(r.counts.bounceSoft)}</td>`,
				...rates.map(([k]) => rateCell(r.rates[k])),
				`<td class="num">${latency}</td><td class="num">${p50}</td><td class="num">${p90}</td>`,
				`<td><span class="badge ${r.state.reputation}">${STATE_LABEL[r.state.reputation]}</span></td>`,
			];
			return `<tr>${cells.join('')}</tr>`;
		})
		.join('');
	return `<div class="scroll"><table class="rows"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** Headline counts (no rates here: a rate and its denominator are the stats module's to define). */
function headline(rows: StatsRow[]): string {
	const sum = (k: keyof OutcomeCounts) => rows.reduce((a, r) => a + (r.counts[k] ?? 0), 0);
	const held = rows.filter((r) => r.state.reputation !== 'ok').length;
	const tiles: Array<[string, string, string]> = [
		['Sent', formatCount(sum('sent')), `${formatCount(sum('suppressed'))} suppressed, not sent`],
		['Delivered', formatCount(sum('delivered')), 'reported by feedback'],
		['Deferred', formatCount(sum('deferred')), 'temporary refusals'],
		['Blocked', formatCount(sum('blocked')), 'refused for the sender'],
		[
			'Bounced',
			formatCount(sum('bounceHard') + sum('bounceSoft')),
			`${formatCount(sum('bounceHard'))} hard, ${formatCount(sum('bounceSoft'))} soft`,
		],
		[
			'Complaints',
			formatCount(sum('complained')),
			`${formatCount(sum('unsubscribed'))} unsubscribes`,
		],
		['Held back', String(held), held === 1 ? 'route × group not OK' : 'route × groups not OK'],
	];
	return `<div class="tiles">${tiles
		.map(
			([label, value, note]) =>
				`<div class="tile"><div class="tile-label">${label}</div><div class="tile-value">${value}</div><div class="tile-note">${note}</div></div>`,
		)
		.join('')}</div>`;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#f4f6f8;color:#1f2933;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:24px 32px 40px}
header h1{font-size:24px;margin:0 0 4px}
header p{margin:0;color:#52606d}
section{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:16px;margin-top:20px}
section>h2{font-size:17px;margin:0 0 4px}
section>p{margin:0 0 8px}
.muted,.tick{color:#7b8794;fill:#7b8794}
.tick{font-size:11px}
.label{font-size:12px;fill:#3e4c59}
.grid{stroke:#edf0f3}
.axis{stroke:#9aa5b1}
.whisker{stroke:#1f2933;stroke-width:1.5;fill:none}
.chart{display:block;overflow:visible}
.legend{list-style:none;padding:0;margin-top:4px;margin-bottom:8px;display:flex;gap:18px;flex-wrap:wrap}
.legend li{display:flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:3px}
.tiles{display:grid;grid-template-columns:repeat(7,1fr);gap:12px;margin-top:20px}
.tile{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:12px 14px}
.tile-label{color:#52606d;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.tile-value{font-size:24px;font-weight:600;margin:2px 0}
.tile-note{color:#7b8794;font-size:12px}
.rates-grid{display:grid;grid-template-columns:1fr 1fr;gap:8px 24px}
figure{margin:0}
figcaption{font-weight:600;margin:8px 0 2px}
table{border-collapse:collapse}
.states{width:100%}
.states th,.states td{border:1px solid #e3e6ea;padding:8px 10px;text-align:left;vertical-align:top}
.states thead th{background:#f7f8fa}
.state span{display:block}
.state .badge{display:inline-block;margin-bottom:4px}
.state.suspended{background:#fdecec}
.state.throttled{background:#fff6e0}
.state.ramping{background:#e8f1fb}
.detail{color:#52606d;font-size:12px}
.reason{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11px;word-break:break-word}
.share{font-size:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#e6f4ea;color:#1e6b34}
.badge.suspended{background:#d93025;color:#fff}
.badge.throttled{background:#f2a900;color:#1f2933}
.badge.ramping{background:#1a73e8;color:#fff}
.badge.circuit-closed{background:#e6f4ea;color:#1e6b34}
.badge.circuit-open{background:#8e24aa;color:#fff}
.badge.circuit-half-open{background:#f3e5f5;color:#6a1b9a}
.circuit span{display:block}
.circuit .badge{display:inline-block;margin-bottom:4px}
.circuit.open{background:#f8eefa}
.states th small{display:block;color:#7b8794;font-weight:400;font-size:11px}
.strong{font-weight:600;fill:#1f2933}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
.changes{margin-top:10px}
.changes td.reason{white-space:normal;max-width:420px}
.scroll{overflow-x:auto}
.rows{font-size:12px;width:100%}
.rows th,.rows td{border-bottom:1px solid #edf0f3;padding:5px 4px;white-space:nowrap}
.rows thead th{white-space:normal;vertical-align:bottom}
.rows thead th{text-align:left;color:#52606d;font-weight:600;border-bottom:1px solid #cbd2d9}
.rows .num{text-align:right;font-variant-numeric:tabular-nums}
.rows small{display:block;color:#9aa5b1;font-size:10px;font-weight:400}
footer{color:#7b8794;font-size:12px;margin-top:16px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
`;

/** The charted window in epoch ms (undefined without rows). */
function windowMs(rows: StatsRow[]): { fromMs: number; toMs: number } | undefined {
	if (!rows.length) return undefined;
	return { fromMs: Date.parse(rows[0].window.from), toMs: Date.parse(rows[0].window.to) };
}

/** The report as one HTML document. */
export function renderReport(input: ReportInput): string {
	const { rows, series, generatedAt } = input;
	const title = input.title ?? 'Postal routes report';
	const routes = routesOf(rows, series);
	const groups = groupsOf(rows);
	const colour = colourOf(routes);
	const shown = chartRows(rows);
	const windows = [...new Set(rows.map((r) => r.window.label))];
	const range = shown.length
		? `${formatTime(shown[0].window.from)} to ${formatTime(shown[0].window.to)}`
		: 'no rows';
	const rateFigures = RATE_CHARTS.map((c) =>
		rateChart(shown, c.rate, c.label, routes, groupsOf(shown), colour),
	).join('');
	return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${esc(title)}</h1>
<p>Window ${esc(shown[0]?.window.label ?? '–')}: ${esc(range)} · generated ${esc(
		formatTime(generatedAt),
	)} · ${routes.length} route${routes.length === 1 ? '' : 's'} × ${groups.length} domain group${
		groups.length === 1 ? '' : 's'
	}</p>
</header>
${headline(shown)}
<section id="volume">
<h2>Volume per route over time</h2>
<p class="muted">Messages accepted, stacked by route (every domain group).</p>
${legend(routes, colour)}
${volumeChart(series, routes, colour)}
</section>
<section id="rates">
<h2>Rates per domain group</h2>
<p class="muted">Bars are the rate over the window, whiskers its 95% Wilson interval; “–” where the route sent nothing to the group. Overlapping whiskers mean the difference may be chance.</p>
${legend(routes, colour)}
<div class="rates-grid">${rateFigures}</div>
</section>
<section id="warmup">
<h2>Warm-up progress</h2>
<p class="muted">Each warming route’s day and today’s cap (the warm-up’s, or the route’s Daily Cap when lower), and how much of it the Route Partitioner has given out today.</p>
${warmupSection(shown, routes, colour)}
</section>
<section id="states">
<h2>Route × domain group state</h2>
<p class="muted">What the reputation rules left: a suspended route gets none of the group's mail until the time shown, a throttled or ramping one keeps the share shown.</p>
${stateMatrix(shown, routes, groupsOf(shown))}
</section>
<section id="changes">
<h2>State changes</h2>
<p class="muted">The alert log’s changes within the window, newest last on the time line and first in the list: routes ejected and recovered (their circuits), suspended, throttled and restored (their reputation), taken out and brought back by probes, a provider’s enforcement status, warm-up caps reached, A/B verdicts, and a campaign’s list quality (on the campaign’s row). A band runs to the state’s end.</p>
${changesSection(routes, input.alerts, input.alertsNote, windowMs(shown))}
</section>
<section id="table">
<h2>All rows</h2>
<p class="muted">${windows.length > 1 ? `Windows ${windows.map(esc).join(', ')}; the charts show ${esc(windows[0])}. ` : ''}Rates with their 95% interval below; hover a rate for its counts.</p>
${rowsTable(rows)}
</section>
<footer>n8n-nodes-postal-routes · counts are the buckets read at ${esc(
		formatTime(generatedAt),
	)}; delivery and complaint rates depend on the feedback that has come back so far.</footer>
</main>
</body>
</html>
`;
}
