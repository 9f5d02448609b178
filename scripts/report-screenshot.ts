/**
 * docs/report.png: the Report operation's page for a realistic day (test/fixtures/operations.ts:
 * 3 routes × 3 domain groups, 24 hourly buckets, Relay A suspended for Yahoo), rendered at 1200 px
 * in headless Chromium, full height, light mode.
 *
 * Usage: npm run screenshot:report   (needs Debian's chromium: apt-get install -y chromium)
 * Env: REPORT_SCREENSHOT (output file, default docs/report.png), CHROMIUM (default chromium).
 */
import { join, resolve } from 'node:path';
import { renderReport } from '../lib/operations/report';
import { reportFixture } from '../test/fixtures/operations';
import { renderInChromium } from '../test/helpers/chromium';

async function main(): Promise<void> {
	const out = resolve(process.env.REPORT_SCREENSHOT || join(__dirname, '..', 'docs', 'report.png'));
	const html = renderReport({ ...reportFixture(), title: 'Postal routes: daily report' });
	const page = await renderInChromium(html, { width: 1200, screenshot: out });
	if (page.errors.length) throw new Error(`the page logged errors:\n${page.errors.join('\n')}`);
	console.log(`${out}: 1200 × ${page.height}`);
}

main().catch((e) => {
	console.error(e);
	process.exitCode = 1;
});
