import { escapeHtml, renderReport } from '../../lib/operations/report';
import { alertsFor, readReportInput } from '../../lib/operations/reportData';
import type { Alert } from '../../lib/state/alerts';
import { MemoryStateStore } from '../../lib/state/memory';
import { reportFixture, statsRow } from '../fixtures/operations';

/** the text of the element with this id up to its closing tag (sections and charts do not nest their own kind) */
function part(html: string, id: string, tag: 'section' | 'svg'): string {
	const start = html.indexOf(`id="${id}"`);
	if (start === -1) throw new Error(`no #${id}`);
	return html.slice(start, html.indexOf(`</${tag}>`, start));
}

const XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>\'';

describe('renderReport', () => {
	const fixture = reportFixture();
	const html = renderReport(fixture);

	it('is one page that loads nothing: no script, no external style, font or image', () => {
		expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
		expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=|href=/i);
		expect(html).toContain(
			`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`,
		);
	});

	it('draws the volume chart, four rate charts, the state matrix and every row', () => {
		expect(html).toContain('id="chart-volume"');
		for (const rate of ['block', 'deferral', 'hardBounce', 'complaint'])
			expect(html).toContain(`id="chart-rate-${rate}"`);
		// a stacked area per route, a bar with a whisker per route × group with a sample
		expect(part(html, 'chart-volume', 'svg').match(/<path d="M[^"]*Z" fill=/g)).toHaveLength(3);
		expect((html.match(/class="whisker"/g) ?? []).length).toBeGreaterThanOrEqual(4 * 8);
		expect(part(html, 'table', 'section').match(/<tr><td>/g)).toHaveLength(fixture.rows.length);
		// the axis labels and the legend
		expect(html).toContain('Time (UTC), per hour');
		expect(html).toContain('Messages sent per hour');
		// the routes' legend over the volume and the rates, the changes' over their time line
		expect(html.match(/<ul class="legend">/g)).toHaveLength(3);
		for (const route of ['Relay A', 'Relay B', 'SES EU'])
			expect(html).toContain(`</span>${route}</li>`);
	});

	it('shows the suspension with its until, rule and reason, and the ramp with its share', () => {
		expect(html).toContain('<span class="badge suspended">Suspended</span>');
		expect(html).toContain('rule <code>yahoo-tss04</code>');
		expect(html).toContain('[TSS04] Messages from 192.0.2.10 temporarily deferred');
		expect(html).toContain('until 2026-12-02 06:00 UTC');
		expect(html).toContain('keeps 50% of its share');
	});

	it('gives a rate with its Wilson interval in the table and the bar tooltip', () => {
		const yahooA = fixture.rows.find((r) => r.route === 'Relay A' && r.group === 'yahoo')!;
		const b = yahooA.rates.block;
		const pct = (v: number) => `${(v * 100).toFixed(2)}`;
		expect(html).toContain(`${pct(b.value)}%<small>${pct(b.low)}–${pct(b.high)}%</small>`);
		expect(html).toContain(
			`<title>Relay A · yahoo: ${pct(b.value)}% (95% ${pct(b.low)}–${pct(b.high)}%), ${b.count} of ${b.sample.toLocaleString('en-US')}</title>`,
		);
	});

	it('escapes a script in a route, group, rule, reason and title', () => {
		const row = statsRow(
			XSS,
			XSS,
			{ sent: 10, blocked: 1 },
			{
				state: { reputation: 'throttled', share: 0.5, rule: XSS, reason: XSS, until: XSS },
			},
		);
		const series = [
			{
				route: XSS,
				group: XSS,
				resolution: 'hour' as const,
				buckets: [{ start: 0, counts: { sent: 10 } }],
			},
		];
		const alerts: Alert[] = [
			{
				id: '0-1',
				type: 'route.suspended',
				severity: 'warning',
				route: XSS,
				group: XSS,
				rule: XSS,
				reason: XSS,
				at: '2026-12-01T11:00:00.000Z',
				until: '2026-12-01T11:30:00.000Z',
			},
		];
		row.state.campaign = XSS;
		row.state.circuit = { state: 'open', until: XSS, ejections: 1, failures: 0 };
		const page = renderReport({ rows: [row], series, generatedAt: XSS, title: XSS, alerts });
		// the alert is within the row's window, so its route, rule and reason are on the page
		expect(page).toContain('id="chart-changes"');
		expect(page).not.toMatch(/<script|<img|onerror=alert\(2\)>/i);
		expect(page).toContain(escapeHtml(XSS));
		expect(escapeHtml(XSS)).toBe(
			'&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&#39;',
		);
		// every < on the page opens one of the page's own tags
		const tags = new Set(
			[...page.matchAll(/<\/?([a-zA-Z!][\w-]*)/g)].map((m) => m[1].toLowerCase()),
		);
		expect([...tags].filter((t) => !ALLOWED_TAGS.includes(t))).toEqual([]);
	});

	it('says there is no data instead of drawing empty axes', () => {
		const page = renderReport({ rows: [], series: [], generatedAt: '2026-12-01T12:00:00.000Z' });
		expect(page.match(/No data in this window/g)).toHaveLength(5);
		expect(page).toContain('No routes in this window.');
		expect(page).toContain('No rows.');
		expect(page).toContain('Give the report a Campaign ID');
		expect(page).toContain('The alert log was not read.');
	});

	it('charts the first window and lists the others in the table', () => {
		const hour = { from: '2026-12-01T11:00:00.000Z', to: '2026-12-01T12:00:00.000Z', label: '1h' };
		const rows = [...fixture.rows, statsRow('Relay A', 'gmail', { sent: 5 }, { window: hour })];
		const page = renderReport({ ...fixture, rows });
		expect(page).toContain('Windows 24h, 1h; the charts show 24h.');
		expect(part(page, 'table', 'section').match(/<tr><td>/g)).toHaveLength(rows.length);
		expect(page).toContain('<th scope="col">Window</th>');
	});
});

describe('the report: latency, warm-up and state changes', () => {
	const fixture = reportFixture();
	const html = renderReport(fixture);

	it('gives each row its accept latency: the mean and the p50 / p90 estimates', () => {
		// 100 timed: ≤100 10, ≤250 30, ≤500 40, ≤1000 15, ≤2500 4, over 10 s 1; sum 45,000 ms.
		// mean 450 ms; p50 rank 50 in (250, 500]: 250 + 250·10/40 = 312.5 → "313 ms";
		// p90 rank 90 in (500, 1000]: 500 + 500·10/15 = 833.3 → "833 ms"
		const timed = statsRow('R', 'g', {
			sent: 100,
			acceptN: 100,
			acceptMsSum: 45_000,
			acceptLe100: 10,
			acceptLe250: 30,
			acceptLe500: 40,
			acceptLe1000: 15,
			acceptLe2500: 4,
			acceptOver10000: 1,
		});
		// 4 in (1000, 2500]: p50 1000 + 1500·2/4 = 1750 → "1.8 s"; p90 1000 + 1500·3.6/4 = 2350 → "2.4 s"
		const slow = statsRow('S', 'g', { sent: 4, acceptN: 4, acceptMsSum: 7000, acceptLe2500: 4 });
		// timed before the histogram: a mean, no estimates
		const old = statsRow('T', 'g', { sent: 2, acceptN: 2, acceptMsSum: 200 });
		const page = renderReport({
			rows: [timed, slow, old],
			series: [],
			generatedAt: fixture.generatedAt,
		});
		const table = part(page, 'table', 'section');
		expect(table).toContain('<th scope="col" class="num">p50<small>estimate</small></th>');
		expect(table).toContain(
			'<td class="num">450 ms</td><td class="num">313 ms</td><td class="num">833 ms</td>',
		);
		expect(table).toContain(
			'<td class="num">1,750 ms</td><td class="num">1.8 s</td><td class="num">2.4 s</td>',
		);
		expect(table).toContain(
			'<td class="num">100 ms</td><td class="num">–</td><td class="num">–</td>',
		);
	});

	it("draws each warming route's day, cap and what is used of it", () => {
		const warmup = part(html, 'chart-warmup', 'svg');
		expect(warmup).toContain('612 of 800 used · 188 left');
		expect(warmup).toContain('>day 5<');
		// the bar is 1104 − 180 − 250 = 674 px: 612/800 of it is 515.61, drawn 515.6
		expect(warmup).toContain('width="515.6" height="20"');
		// Relay B: a share schedule at 75%, no cap: 0.75 · 674 = 505.5
		expect(warmup).toContain('no cap today · 75% of its weight');
		expect(warmup).toContain('width="505.5" height="20"');
		// Relay A is not warming up
		expect(warmup).not.toContain('Relay A');
		// before its start date a route has a cap of 0: said so, no bar drawn full
		const early = fixture.rows.map((r) =>
			r.route === 'SES EU'
				? {
						...r,
						state: { ...r.state, warmup: { ...r.state.warmup!, day: 0, cap: 0, used: 0, left: 0 } },
					}
				: r,
		);
		const before = part(renderReport({ ...fixture, rows: early }), 'chart-warmup', 'svg');
		expect(before).toContain('its warm-up starts on a later day: nothing today');
		expect(before).not.toContain('fill="#009E73"><title>');
		// with no campaign's state in the rows, the report says what it needs
		const plain = renderReport({
			...fixture,
			rows: fixture.rows.map((r) => ({
				...r,
				state: { reputation: r.state.reputation, share: r.state.share },
			})),
		});
		expect(part(plain, 'warmup', 'section')).toContain('Give the report a Campaign ID');
		expect(plain).not.toContain('id="chart-warmup"');
		expect(plain).not.toContain('Circuit<small>');
	});

	it("shows each route's circuit in the campaign beside its groups' states", () => {
		const states = part(html, 'states', 'section');
		expect(states).toContain('Circuit<small>campaign spring</small>');
		expect(states).toContain(
			'<span class="badge circuit-closed">Closed</span><span class="detail">1 ejection</span>',
		);
		const open = fixture.rows.map((r) =>
			r.route === 'Relay A'
				? {
						...r,
						state: {
							...r.state,
							circuit: {
								state: 'open' as const,
								until: '2026-12-01T12:20:00.000Z',
								ejections: 2,
								failures: 0,
							},
						},
					}
				: r,
		);
		const page = part(renderReport({ ...fixture, rows: open }), 'states', 'section');
		expect(page).toContain(
			'<td class="circuit open"><span class="badge circuit-open">Open</span><span class="detail">until 2026-12-01 12:20 UTC</span><span class="detail">2 ejections</span></td>',
		);
	});

	it('puts the alert log’s changes within the window on a time line per route, and lists them newest first', () => {
		const changes = part(html, 'changes', 'section');
		const chart = part(html, 'chart-changes', 'svg');
		// one diamond per change, routes in the report's order
		expect(chart.match(/<path d="M[^"]*Z" fill="#/g)).toHaveLength(5);
		expect(chart.indexOf('>Relay A</text>')).toBeLessThan(chart.indexOf('>SES EU</text>'));
		// the plot is 1104 − 150 − 16 = 938 px over 24 h: Relay A's suspension 18 h in is at
		// 150 + 938·18/24 = 853.5; its band runs to the window's end (1088)
		expect(chart).toContain('<path d="M853.5,');
		expect(chart).toContain('<rect x="853.5" y="');
		expect(chart).toContain('width="234.5" height="10"');
		const list = changes.slice(changes.indexOf('<table'));
		const order = [
			'Restored',
			'Suspended</td><td>Relay A',
			'Recovered',
			'Ejected',
			'Suspended</td><td>SES EU',
		];
		const at = order.map((t) => list.indexOf(t));
		expect(at.every((x) => x > 0)).toBe(true);
		expect([...at].sort((a, b) => a - b)).toEqual(at);
		expect(list).toContain('<code>yahoo-tss04</code>');

		// outside the window: not shown; none left: said so; unread: the note
		const early: Alert = { ...fixture.alerts[0], id: '0-9', at: '2026-11-30T11:00:00.000Z' };
		const only = renderReport({ ...fixture, alerts: [early] });
		expect(part(only, 'changes', 'section')).toContain('No alert in this window');
		const unread = renderReport({
			...fixture,
			alerts: undefined,
			alertsNote: 'The alert log could not be read (<down>).',
		});
		expect(part(unread, 'changes', 'section')).toContain(
			'The alert log could not be read (&lt;down&gt;).',
		);
	});

	it('puts a campaign’s own alert (list quality, no route) on its campaign’s row', () => {
		const { route: _route, ...base } = fixture.alerts[0];
		const listQuality: Alert = {
			...base,
			id: '0-10',
			type: 'threshold.warning',
			severity: 'critical',
			group: undefined,
			campaign: 'winter',
			rule: 'hard-bounce-rate',
			reason: 'hard bounces 5.4% (lower bound) over the critical bar 5%',
		};
		const changes = part(renderReport({ ...fixture, alerts: [listQuality] }), 'changes', 'section');
		expect(changes).toContain('class="label">campaign winter</text>');
		expect(changes).toContain('List quality</td><td>campaign winter</td>');
	});
});

describe('readReportInput', () => {
	const t = Date.UTC(2026, 11, 1, 12, 0, 30);
	const alert = (route: string, extra: Partial<Alert> = {}) => ({
		type: 'route.ejected' as const,
		severity: 'critical' as const,
		route,
		reason: 'failures',
		at: new Date(t - 60_000).toISOString(),
		...extra,
	});

	it('reads the rows, their series and the latest alerts, consuming none', async () => {
		const store = new MemoryStateStore({ clock: () => t });
		await store.countOutcomes([{ route: 'A', group: 'gmail', counts: { sent: 3 }, at: t }]);
		await store.readAlerts('trigger', 'c', { count: 10 });
		await store.publishAlerts(
			[
				alert('A', { campaign: 'spring' }),
				alert('A', { campaign: 'autumn' }),
				alert('B'),
				alert('A', { type: 'route.suspended', severity: 'warning', group: 'yahoo' }),
			],
			0,
		);
		const input = await readReportInput(store, {
			window: '1h',
			routes: ['A'],
			groups: ['gmail'],
			campaign: 'spring',
		});
		expect(input.rows.map((r) => [r.route, r.group, r.counts.sent])).toEqual([['A', 'gmail', 3]]);
		expect(input.series).toHaveLength(1);
		// A's ejection in spring only: not autumn's, not B's, not A's suspension for yahoo
		expect(input.alerts!.map((a) => a.id)).toEqual(['0-1']);
		// the trigger's group still gets every one
		expect(await store.readAlerts('trigger', 'c', { count: 10 })).toHaveLength(4);
		expect(alertsFor(await store.recentAlerts(10), {}).map((a) => a.id)).toEqual([
			'0-4',
			'0-3',
			'0-2',
			'0-1',
		]);
	});

	it('leaves a note where the alert log cannot be read, and the rows stand', async () => {
		const store = new MemoryStateStore({ clock: () => t });
		await store.countOutcomes([{ route: 'A', group: 'gmail', counts: { sent: 3 }, at: t }]);
		jest.spyOn(store, 'recentAlerts').mockRejectedValue(new Error('Redis is down'));
		const input = await readReportInput(store, { window: '1h' });
		expect(input.rows).toHaveLength(1);
		expect(input.alerts).toBeUndefined();
		expect(input.alertsNote).toBe('The alert log could not be read (Redis is down).');
	});
});

const ALLOWED_TAGS = [
	'!doctype',
	'html',
	'head',
	'meta',
	'title',
	'style',
	'body',
	'main',
	'header',
	'h1',
	'h2',
	'p',
	'div',
	'section',
	'ul',
	'li',
	'span',
	'svg',
	'line',
	'text',
	'path',
	'rect',
	'g',
	'figure',
	'figcaption',
	'table',
	'thead',
	'tbody',
	'tr',
	'th',
	'td',
	'small',
	'code',
	'footer',
];
