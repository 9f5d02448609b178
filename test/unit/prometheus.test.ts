import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import {
	PROMETHEUS_CONTENT_TYPE,
	escapeLabelValue,
	prometheusText,
} from '../../lib/operations/prometheus';
import { WINDOW_24H, statsRow } from '../fixtures/operations';

const HISTOGRAM = 'postal_accept_latency_seconds';
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parse(text: string): Map<string, ParsedFamily> {
	return new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
}

function sample(
	families: Map<string, ParsedFamily>,
	name: string,
	labels: Record<string, string>,
): number {
	const family = families.get(name);
	if (!family) throw new Error(`no family ${name}`);
	const found = family.metrics.filter((m) =>
		Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
	);
	if (found.length !== 1)
		throw new Error(`${found.length} samples of ${name} for ${JSON.stringify(labels)}`);
	return Number(found[0].value);
}

const gmailA = statsRow(
	'Relay A',
	'gmail',
	{
		sent: 1000,
		delivered: 980,
		deferred: 12,
		bounceHard: 15,
		bounceSoft: 5,
		blocked: 3,
		complained: 2,
		unsubscribed: 4,
		suppressed: 7,
		acceptMsSum: 250_000,
		acceptN: 1000,
		// cumulative 100, 600, 900, 980, 995, 999, 999, 1000
		acceptLe100: 100,
		acceptLe250: 500,
		acceptLe500: 300,
		acceptLe1000: 80,
		acceptLe2500: 15,
		acceptLe5000: 4,
		acceptOver10000: 1,
	},
	{ state: { reputation: 'ok', share: 1 } },
);
const yahooA = statsRow(
	'Relay A',
	'yahoo',
	{ sent: 200, deferred: 40, blocked: 60 },
	{
		state: {
			reputation: 'suspended',
			share: 0,
			until: '2026-12-02T06:00:00.000Z',
			rule: 'yahoo-tss04',
			reason: 'TSS04',
		},
	},
);
const msB = statsRow('Relay B', 'microsoft', {}, { state: { reputation: 'ramping', share: 0.25 } });
// 10 timed, 4 of them in the histogram (the others counted before it existed): no histogram
const mixedB = statsRow('Relay B', 'gmail', {
	sent: 10,
	acceptMsSum: 1000,
	acceptN: 10,
	acceptLe100: 4,
});

/** Prometheus's histogram_quantile over one series' cumulative buckets (le → count), in seconds. */
function histogramQuantile(q: number, buckets: Record<string, string>): number {
	const sorted = Object.entries(buckets)
		.map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), Number(n)] as const)
		.sort((a, b) => a[0] - b[0]);
	const total = sorted[sorted.length - 1][1];
	const rank = q * total;
	const i = sorted.findIndex(([, n]) => n >= rank);
	if (sorted[i][0] === Infinity) return sorted[i - 1][0];
	const [lowerLe, lowerN] = i === 0 ? [0, 0] : sorted[i - 1];
	return lowerLe + ((sorted[i][0] - lowerLe) * (rank - lowerN)) / (sorted[i][1] - lowerN);
}

describe('prometheusText', () => {
	const text = prometheusText([gmailA, yahooA, msB, mixedB]);
	const families = parse(text);

	it('gives every family one HELP and one TYPE, gauges but the latency histogram, with valid names and labels', () => {
		for (const name of families.keys()) {
			const type = name === HISTOGRAM ? 'histogram' : 'gauge';
			expect(name).toMatch(METRIC_NAME);
			expect(name.startsWith('postal_')).toBe(true);
			expect(name.endsWith('_total')).toBe(false);
			expect(text.split(`# HELP ${name} `).length).toBe(2);
			expect(text.split(`# TYPE ${name} ${type}\n`).length).toBe(2);
		}
		for (const family of families.values()) {
			expect(family.type).toBe(family.name === HISTOGRAM ? 'HISTOGRAM' : 'GAUGE');
			expect(family.help.length).toBeGreaterThan(10);
			for (const m of family.metrics)
				for (const label of Object.keys(m.labels ?? {})) expect(label).toMatch(LABEL_NAME);
		}
		expect(text.endsWith('\n')).toBe(true);
	});

	it('has the families a Grafana board needs, and no others', () => {
		expect([...families.keys()].sort()).toEqual(
			[
				'postal_messages_sent',
				'postal_messages_delivered',
				'postal_messages_deferred',
				'postal_messages_blocked',
				'postal_messages_complained',
				'postal_messages_unsubscribed',
				'postal_messages_suppressed',
				'postal_messages_bounced',
				'postal_rate_ratio',
				'postal_rate_low_ratio',
				'postal_rate_high_ratio',
				'postal_accept_latency_mean_seconds',
				'postal_accept_latency_seconds',
				'postal_route_share_ratio',
				'postal_route_suspended',
				'postal_route_reputation',
				'postal_route_reputation_until_timestamp_seconds',
			].sort(),
		);
	});

	it('counts the window, labelled route × group × window', () => {
		const at = { route: 'Relay A', group: 'gmail', window: '24h' };
		expect(sample(families, 'postal_messages_sent', at)).toBe(1000);
		expect(sample(families, 'postal_messages_delivered', at)).toBe(980);
		expect(sample(families, 'postal_messages_deferred', at)).toBe(12);
		expect(sample(families, 'postal_messages_blocked', at)).toBe(3);
		expect(sample(families, 'postal_messages_complained', at)).toBe(2);
		expect(sample(families, 'postal_messages_unsubscribed', at)).toBe(4);
		expect(sample(families, 'postal_messages_suppressed', at)).toBe(7);
		expect(sample(families, 'postal_messages_bounced', { ...at, kind: 'hard' })).toBe(15);
		expect(sample(families, 'postal_messages_bounced', { ...at, kind: 'soft' })).toBe(5);
		expect(sample(families, 'postal_accept_latency_mean_seconds', at)).toBe(0.25);
		// every sample of a windowed family carries exactly these labels
		for (const m of families.get('postal_messages_sent')!.metrics)
			expect(Object.keys(m.labels!).sort()).toEqual(['group', 'route', 'window']);
		expect(families.get('postal_messages_sent')!.metrics).toHaveLength(4);
	});

	it('gives each rate with its Wilson interval', () => {
		const at = { route: 'Relay A', group: 'yahoo', window: '24h', rate: 'block' };
		const block = yahooA.rates.block;
		expect(sample(families, 'postal_rate_ratio', at)).toBeCloseTo(block.value, 12);
		expect(sample(families, 'postal_rate_low_ratio', at)).toBeCloseTo(block.low, 12);
		expect(sample(families, 'postal_rate_high_ratio', at)).toBeCloseTo(block.high, 12);
		expect(block.low).toBeLessThan(block.value);
		const rates = new Set(families.get('postal_rate_ratio')!.metrics.map((m) => m.labels!.rate));
		expect([...rates].sort()).toEqual(
			[
				'block',
				'complaint',
				'deferral',
				'delivery',
				'hardBounce',
				'softBounce',
				'unsubscribe',
			].sort(),
		);
	});

	it('leaves the latency out where no accept was timed', () => {
		const latency = families.get('postal_accept_latency_mean_seconds')!;
		expect(latency.metrics.map((m) => `${m.labels!.route}/${m.labels!.group}`).sort()).toEqual([
			'Relay A/gmail',
			'Relay B/gmail',
		]);
	});

	it('gives the accept latency as a histogram the parser reads: cumulative buckets, sum, count', () => {
		const alone = parse(prometheusText([gmailA])).get(HISTOGRAM)!;
		expect(alone.type).toBe('HISTOGRAM');
		// the parser keeps the buckets of a labelled histogram, and drops its labelled _sum and _count
		// (it takes those only from unlabelled samples): they are checked in the text below
		expect(alone.metrics).toEqual([
			{
				buckets: {
					'0.1': '100',
					'0.25': '600',
					'0.5': '900',
					'1': '980',
					'2.5': '995',
					'5': '999',
					'10': '999',
					'+Inf': '1000',
				},
			},
		]);
		// what histogram_quantile makes of it is the row's estimate: p50 rank 500 in (0.1, 0.25] with
		// 100 below and 500 in it: 0.1 + 0.15·400/500 = 0.22 s; p90 rank 900: the top of (0.25, 0.5]
		const buckets = (alone.metrics[0] as unknown as { buckets: Record<string, string> }).buckets;
		expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.22, 12);
		expect(histogramQuantile(0.9, buckets)).toBeCloseTo(0.5, 12);
		expect(gmailA.latency.p50Ms! / 1000).toBeCloseTo(0.22, 12);
		expect(gmailA.latency.p90Ms! / 1000).toBeCloseTo(0.5, 12);
		// in the page: each series' buckets in le order, +Inf last, then its sum and count; only
		// Relay A × gmail (yahoo timed nothing, Relay B × gmail timed some before the histogram)
		const lines = text.split('\n').filter((l) => l.startsWith(`${HISTOGRAM}_`));
		const at = 'route="Relay A",group="gmail",window="24h"';
		expect(lines).toEqual([
			...['0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'].map(
				(le, i) =>
					`${HISTOGRAM}_bucket{${at},le="${le}"} ${[100, 600, 900, 980, 995, 999, 999, 1000][i]}`,
			),
			`${HISTOGRAM}_sum{${at}} 250`,
			`${HISTOGRAM}_count{${at}} 1000`,
		]);
		expect(() => prometheusText([gmailA], { labels: { le: 'x' } })).toThrow(
			/set by the metrics themselves/,
		);
	});

	it('gives the route × group state without a window label', () => {
		const yahoo = { route: 'Relay A', group: 'yahoo' };
		expect(sample(families, 'postal_route_share_ratio', yahoo)).toBe(0);
		expect(sample(families, 'postal_route_suspended', yahoo)).toBe(1);
		expect(sample(families, 'postal_route_suspended', { route: 'Relay A', group: 'gmail' })).toBe(
			0,
		);
		expect(
			sample(families, 'postal_route_share_ratio', { route: 'Relay B', group: 'microsoft' }),
		).toBe(0.25);
		expect(sample(families, 'postal_route_reputation_until_timestamp_seconds', yahoo) * 1000).toBe(
			Date.parse('2026-12-02T06:00:00.000Z'),
		);
		// the until series only where there is an until
		expect(families.get('postal_route_reputation_until_timestamp_seconds')!.metrics).toHaveLength(
			1,
		);
		for (const [state, value] of [
			['ok', 0],
			['suspended', 1],
			['throttled', 0],
			['ramping', 0],
		] as const)
			expect(sample(families, 'postal_route_reputation', { ...yahoo, state })).toBe(value);
		expect(
			sample(families, 'postal_route_reputation', {
				route: 'Relay B',
				group: 'microsoft',
				state: 'ramping',
			}),
		).toBe(1);
		for (const m of families.get('postal_route_share_ratio')!.metrics)
			expect(Object.keys(m.labels!).sort()).toEqual(['group', 'route']);
	});

	it('keeps several windows apart, and the state once per route × group', () => {
		const hour = { from: '2026-12-01T11:00:00.000Z', to: WINDOW_24H.to, label: '1h' };
		const lastHour = statsRow('Relay A', 'gmail', { sent: 40 }, { window: hour });
		const twice = parse(prometheusText([gmailA, lastHour, gmailA]));
		const at = { route: 'Relay A', group: 'gmail' };
		expect(sample(twice, 'postal_messages_sent', { ...at, window: '24h' })).toBe(1000);
		expect(sample(twice, 'postal_messages_sent', { ...at, window: '1h' })).toBe(40);
		expect(twice.get('postal_messages_sent')!.metrics).toHaveLength(2);
		expect(twice.get('postal_route_share_ratio')!.metrics).toHaveLength(1);
	});

	it('round-trips route and group names with quotes, backslashes, line feeds and unicode', () => {
		const names = [
			'say "hi"',
			'C:\\relays\\a',
			'two\nlines',
			'trailing \\',
			'\\"',
			'Relais Zürich — 東京 📨',
			'{a="b"} 1',
			'',
		];
		const rows = names.map((name, i) =>
			statsRow(name, `${name}/g`, { sent: i + 1 }, { state: { reputation: 'ok', share: 1 } }),
		);
		const parsed = parse(prometheusText(rows));
		for (const [i, name] of names.entries())
			expect(sample(parsed, 'postal_messages_sent', { route: name, group: `${name}/g` })).toBe(
				i + 1,
			);
		expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
	});

	it('adds constant labels and a chosen prefix', () => {
		const parsed = parse(
			prometheusText([gmailA], { prefix: 'mail:out', labels: { campaign: 'x"y' } }),
		);
		expect(sample(parsed, 'mail:out_messages_sent', { route: 'Relay A', campaign: 'x"y' })).toBe(
			1000,
		);
		expect(
			sample(parsed, 'mail:out_route_share_ratio', { route: 'Relay A', campaign: 'x"y' }),
		).toBe(1);
	});

	it('refuses a prefix or label name the format cannot carry, saying what is allowed', () => {
		expect(() => prometheusText([gmailA], { prefix: '9postal' })).toThrow(/letters, digits/);
		expect(() => prometheusText([gmailA], { prefix: 'pos-tal' })).toThrow(/valid metric name/);
		expect(() => prometheusText([gmailA], { labels: { 'camp-aign': 'x' } })).toThrow(
			/valid label name/,
		);
		expect(() => prometheusText([gmailA], { labels: { __name: 'x' } })).toThrow(/__/);
		expect(() => prometheusText([gmailA], { labels: { route: 'x' } })).toThrow(
			/set by the metrics themselves/,
		);
	});

	it('spells values the format way and gives an empty page for no rows', () => {
		const odd = statsRow('R', 'g', {});
		odd.latency.meanMs = Infinity;
		odd.rates.block.value = NaN;
		const out = prometheusText([odd]);
		expect(out).toContain(
			'postal_accept_latency_mean_seconds{route="R",group="g",window="24h"} +Inf',
		);
		expect(out).toContain('postal_rate_ratio{route="R",group="g",window="24h",rate="block"} NaN');
		expect(parse(out).get('postal_rate_ratio')).toBeDefined();
		expect(prometheusText([])).toBe('');
		expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
	});
});
