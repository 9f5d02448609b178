import { escapeHtml, renderReport } from '../../lib/operations/report';
import { reportFixture, statsRow } from '../fixtures/operations';

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
		expect(html.match(/<path d="M[^"]*Z" fill=/g)).toHaveLength(3);
		expect((html.match(/class="whisker"/g) ?? []).length).toBeGreaterThanOrEqual(4 * 8);
		expect(html.match(/<tr><td>/g)).toHaveLength(fixture.rows.length);
		// the axis labels and the legend
		expect(html).toContain('Time (UTC), per hour');
		expect(html).toContain('Messages sent per hour');
		expect(html.match(/<ul class="legend">/g)).toHaveLength(2);
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
		const page = renderReport({ rows: [row], series, generatedAt: XSS, title: XSS });
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
	});

	it('charts the first window and lists the others in the table', () => {
		const hour = { from: '2026-12-01T11:00:00.000Z', to: '2026-12-01T12:00:00.000Z', label: '1h' };
		const rows = [...fixture.rows, statsRow('Relay A', 'gmail', { sent: 5 }, { window: hour })];
		const page = renderReport({ ...fixture, rows });
		expect(page).toContain('Windows 24h, 1h; the charts show 24h.');
		expect(page.match(/<tr><td>/g)).toHaveLength(rows.length);
		expect(page).toContain('<th scope="col">Window</th>');
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
