import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import {
	PROMETHEUS_CONTENT_TYPE,
	escapeLabelValue,
	prometheusText,
} from '../../lib/operations/prometheus';
import { WINDOW_24H, statsRow } from '../fixtures/operations';

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

describe('prometheusText', () => {
	const text = prometheusText([gmailA, yahooA, msB]);
	const families = parse(text);

	it('gives every family one HELP and one TYPE, all gauges, with valid names and labels', () => {
		for (const name of families.keys()) {
			expect(name).toMatch(METRIC_NAME);
			expect(name.startsWith('postal_')).toBe(true);
			expect(name.endsWith('_total')).toBe(false);
			expect(text.split(`# HELP ${name} `).length).toBe(2);
			expect(text.split(`# TYPE ${name} gauge\n`).length).toBe(2);
		}
		for (const family of families.values()) {
			expect(family.type).toBe('GAUGE');
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
		expect(families.get('postal_messages_sent')!.metrics).toHaveLength(3);
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
		expect(latency.metrics.map((m) => m.labels!.group).sort()).toEqual(['gmail']);
	});

	it('gives the route × group state without a window label', () => {
		const yahoo = { route: 'Relay A', group: 'yahoo' };
		expect(sample(families, 'postal_route_share_ratio', yahoo)).toBe(0);
		expect(sample(families, 'postal_route_suspended', yahoo)).toBe(1);
		expect(sample(families, 'postal_route_suspended', { route: 'Relay A', group: 'gmail' })).toBe(
			0,
		);
		expect(sample(families, 'postal_route_share_ratio', { route: 'Relay B' })).toBe(0.25);
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
			sample(families, 'postal_route_reputation', { route: 'Relay B', state: 'ramping' }),
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
