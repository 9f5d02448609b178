import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReport } from '../../lib/operations/report';
import { reportFixture, statsRow } from '../fixtures/operations';
import { chromiumBinary, renderInChromium } from '../helpers/chromium';

const hasChromium = chromiumBinary() !== null;
const suite = hasChromium ? describe : describe.skip;
const name = hasChromium
	? 'the report in headless Chromium'
	: 'the report in headless Chromium [skipped: no chromium binary; apt-get install -y chromium or set CHROMIUM]';

interface Measured {
	overflow: number;
	charts: Array<{ id: string; width: number; height: number; marks: number; drawn: number }>;
	scripts: number;
	images: number;
	text: string;
}

// what the page looks like to a reader: each chart's box and how many of its marks have a size
const MEASURE = `(() => ({
	overflow: document.documentElement.scrollWidth - window.innerWidth,
	charts: [...document.querySelectorAll('svg.chart')].map((svg) => {
		const box = svg.getBoundingClientRect();
		const marks = [...svg.querySelectorAll('path, rect')];
		return {
			id: svg.id,
			width: box.width,
			height: box.height,
			marks: marks.length,
			drawn: marks.filter((m) => { const b = m.getBBox(); return b.width > 0 || b.height > 0; }).length,
		};
	}),
	scripts: document.querySelectorAll('script').length,
	images: document.querySelectorAll('img, iframe, object, embed').length,
	text: document.body.innerText,
}))()`;

suite(name, () => {
	it('renders the day at 1200 px without errors, requests or overflow, every chart drawn', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'postal-report-shot-'));
		try {
			const shot = join(dir, 'report.png');
			const page = await renderInChromium(renderReport(reportFixture()), {
				width: 1200,
				evaluate: MEASURE,
				screenshot: shot,
			});
			expect(page.errors).toEqual([]);
			expect(page.dialogs).toEqual([]);
			expect(page.requests).toEqual([]);
			const m = page.value as Measured;
			expect(m.overflow).toBeLessThanOrEqual(0);
			expect(m.charts.map((c) => c.id)).toEqual([
				'chart-volume',
				'chart-rate-block',
				'chart-rate-deferral',
				'chart-rate-hardBounce',
				'chart-rate-complaint',
				'chart-warmup',
				'chart-changes',
			]);
			for (const chart of m.charts) {
				expect(chart.width).toBeGreaterThan(400);
				// the warm-up bars and the changes' time line are a few rows high
				expect(chart.height).toBeGreaterThan(chart.id === 'chart-warmup' ? 60 : 100);
				expect(chart.marks).toBeGreaterThan(0);
				expect(chart.drawn).toBe(chart.marks);
			}
			expect(m.text).toContain('Suspended');
			expect(m.text).toContain('612 of 800 used · 188 left');
			expect(m.text).toContain('3 connection failures in a row (ETIMEDOUT)');
			// the PNG is the page's width (its IHDR) and its full height
			const png = readFileSync(shot);
			expect(png.subarray(1, 4).toString()).toBe('PNG');
			expect(png.readUInt32BE(16)).toBe(1200);
			expect(png.readUInt32BE(20)).toBe(page.height);
			expect(page.height).toBeGreaterThan(1500);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('shows a route named like a script as text and runs nothing', async () => {
		const xss = '<script>alert(1)</script><img src=x onerror=alert(2)>';
		const row = statsRow(
			xss,
			'gmail',
			{ sent: 10 },
			{
				state: { reputation: 'suspended', share: 0, reason: xss, rule: xss },
			},
		);
		const html = renderReport({
			rows: [row],
			series: [
				{
					route: xss,
					group: 'gmail',
					resolution: 'hour',
					buckets: [{ start: 0, counts: { sent: 10 } }],
				},
			],
			generatedAt: '2026-12-01T12:00:00.000Z',
			title: xss,
		});
		const page = await renderInChromium(html, { width: 1200, evaluate: MEASURE });
		const m = page.value as Measured;
		expect(page.dialogs).toEqual([]);
		expect(page.errors).toEqual([]);
		expect(page.requests).toEqual([]);
		expect(m.scripts).toBe(0);
		expect(m.images).toBe(0);
		expect(m.text).toContain(xss);
	});
});
