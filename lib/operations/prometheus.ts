/**
 * Stats rows as a Prometheus text page (exposition format 0.0.4), for Webhook → Respond to Webhook:
 * what a Grafana user scrapes (issue "Eyes and hands for operators" §1). Labelled like KumoMTA's
 * `…_by_provider_and_source` metrics, whose provider × source is our domain group × route:
 * `route`, `group`, and `window` on what is counted over a window.
 *
 * **Gauges, not counters.** The figures are sums over the window the node read (its buckets, 15 min
 * … 7 d), so they fall as old buckets leave the window. A Prometheus counter (`_total`) must only
 * rise, or restart from zero with its process: `rate()` and `increase()` read every fall as a reset
 * and add the whole value again, so a `postal_messages_sent_total` that slid with its window would
 * show a careful Grafana user phantom traffic. The package keeps no since-ever totals (buckets are
 * dropped after 8 days), so there is no true counter to give. The window sums are gauges with the
 * window in a label (`window="24h"`): graph them as they are ("sent in the last 24 h"), alert on
 * them or on the rates next to them; never wrap them in `rate()`. The `window` label also keeps the
 * series apart when one page carries rows for several windows.
 *
 * Families (prefix `postal_` by default), every sample labelled route, group (+ the caller's
 * constant labels, such as a campaign):
 *   postal_messages_{sent,delivered,deferred,blocked,complained,unsubscribed,suppressed}{window}
 *   postal_messages_bounced{window,kind="hard"|"soft"}
 *   postal_rate_ratio / postal_rate_low_ratio / postal_rate_high_ratio{window,rate}: each rate and
 *     its 95% Wilson interval, 0–1
 *   postal_accept_latency_mean_seconds{window}: mean accept latency (left out with no sample)
 *   postal_accept_latency_seconds{window} — a histogram: `_bucket{le}` cumulative over the
 *     buckets of lib/state/outcomes.ts (0.1 … 10 s, +Inf), `_sum`, `_count`, over the window like the
 *     gauges (histogram_quantile on the buckets as they are, never on rate() of them); left out with
 *     no sample, and where some timed messages are not in it (counted before the histogram existed:
 *     its sum would not be its buckets')
 *   postal_route_share_ratio: the share of its traffic the route keeps for the group now, 0–1
 *   postal_route_suspended: 1 while the route is suspended for the group, else 0
 *   postal_route_reputation{state}: 1 for the pair's reputation state, 0 for the others (one
 *     series per state, the enum idiom a state timeline panel reads)
 *   postal_route_reputation_until_timestamp_seconds: when the suspension, throttle or ramp ends
 */
import type { RateName, RouteGroupState, StatsRow } from './types';
import { RATE_NAMES } from '../state/outcomeRates';
import { ACCEPT_LATENCY_BUCKETS } from '../state/outcomes';

/** What a Respond to Webhook node answers with the page. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface PrometheusOptions {
	/** the metric names' prefix, default `postal`; must be a valid metric name itself */
	prefix?: string;
	/** constant labels on every sample (e.g. `{ campaign: 'spring' }`) */
	labels?: Record<string, string>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** the labels this module sets itself; a constant label may not take their names */
const OWN_LABELS = ['route', 'group', 'window', 'kind', 'rate', 'state', 'le'];

const COUNTED: Array<{ field: keyof StatsRow['counts']; name: string; help: string }> = [
	{ field: 'sent', name: 'sent', help: 'accepted by the receiving server or API' },
	{ field: 'delivered', name: 'delivered', help: 'reported delivered' },
	{ field: 'deferred', name: 'deferred', help: 'temporarily refused or reported delayed' },
	{ field: 'blocked', name: 'blocked', help: 'refused for the sender (reputation, policy)' },
	{ field: 'complained', name: 'complained', help: 'reported as spam' },
	{ field: 'unsubscribed', name: 'unsubscribed', help: 'unsubscribed' },
	{ field: 'suppressed', name: 'suppressed', help: 'not sent: on the suppression list' },
];

const RATES: readonly RateName[] = RATE_NAMES;

const STATES: Array<RouteGroupState['reputation']> = ['ok', 'suspended', 'throttled', 'ramping'];

type Labels = Array<[string, string]>;
interface Family {
	name: string;
	help: string;
	type: 'gauge' | 'histogram';
	/** `suffix`: a histogram's `_bucket`, `_sum` or `_count` */
	samples: Array<{ suffix?: string; labels: Labels; value: number }>;
}

/** A label value as the format quotes it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
	return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and line feed escaped (a quote is plain there). */
function escapeHelp(text: string): string {
	return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value in the format's float syntax (Go's ParseFloat): +Inf, -Inf, NaN spelled out. */
function formatValue(value: number): string {
	if (Number.isNaN(value)) return 'NaN';
	if (value === Infinity) return '+Inf';
	if (value === -Infinity) return '-Inf';
	return String(value);
}

function checkOptions(options: PrometheusOptions): { prefix: string; constant: Labels } {
	const prefix = options.prefix ?? 'postal';
	if (!METRIC_NAME.test(prefix))
		throw new Error(
			`Prometheus prefix "${prefix}" is not a valid metric name: use letters, digits, _ and :, not starting with a digit`,
		);
	const constant: Labels = [];
	for (const [name, value] of Object.entries(options.labels ?? {})) {
		if (!LABEL_NAME.test(name) || name.startsWith('__'))
			throw new Error(
				`Prometheus label "${name}" is not a valid label name: use letters, digits and _, not starting with a digit or __`,
			);
		if (OWN_LABELS.includes(name))
			throw new Error(
				`Prometheus label "${name}" is set by the metrics themselves: choose another name`,
			);
		constant.push([name, String(value)]);
	}
	return { prefix, constant };
}

/** The rows as a Prometheus text page (format 0.0.4); ends with a line feed. */
export function prometheusText(rows: StatsRow[], options: PrometheusOptions = {}): string {
	const { prefix, constant } = checkOptions(options);
	const families = new Map<string, Family>();
	const familyOf = (name: string, help: string, type: Family['type']) => {
		const full = `${prefix}_${name}`;
		let family = families.get(full);
		if (!family) families.set(full, (family = { name: full, help, type, samples: [] }));
		return family;
	};
	const add = (name: string, help: string, labels: Labels, value: number) =>
		familyOf(name, help, 'gauge').samples.push({ labels, value });

	// one series per label set: a row repeated for the same window counts once, the first one
	const seenWindows = new Set<string>();
	const seenPairs = new Set<string>();
	for (const row of rows) {
		const pair: Labels = [['route', row.route], ['group', row.group], ...constant];
		const windowed: Labels = [...pair, ['window', row.window.label]];
		const windowKey = JSON.stringify(windowed);
		if (!seenWindows.has(windowKey)) {
			seenWindows.add(windowKey);
			for (const c of COUNTED)
				add(
					`messages_${c.name}`,
					`Messages ${c.help}, within the window the stats read (a gauge: it falls as old buckets leave the window)`,
					windowed,
					row.counts[c.field],
				);
			const bounced = 'Messages bounced, by kind, within the window the stats read (a gauge)';
			add('messages_bounced', bounced, [...windowed, ['kind', 'hard']], row.counts.bounceHard);
			add('messages_bounced', bounced, [...windowed, ['kind', 'soft']], row.counts.bounceSoft);
			for (const rate of RATES) {
				const labels: Labels = [...windowed, ['rate', rate]];
				const r = row.rates[rate];
				add('rate_ratio', 'Each rate over the window, 0-1', labels, r.value);
				add('rate_low_ratio', 'Lower bound of the rate (95% Wilson interval)', labels, r.low);
				add('rate_high_ratio', 'Upper bound of the rate (95% Wilson interval)', labels, r.high);
			}
			if (row.latency.meanMs !== null)
				add(
					'accept_latency_mean_seconds',
					'Mean accept latency (send to the server or API accepting it) over the window',
					windowed,
					row.latency.meanMs / 1000,
				);
			const c = row.counts;
			const inHistogram = ACCEPT_LATENCY_BUCKETS.reduce((n, b) => n + c[b.field], 0);
			if (inHistogram > 0 && inHistogram === c.acceptN) {
				const h = familyOf(
					'accept_latency_seconds',
					'Accept latency (send to the server or API accepting it) over the window, a histogram of sums over the window (histogram_quantile on the buckets, not on their rate)',
					'histogram',
				).samples;
				let below = 0;
				for (const b of ACCEPT_LATENCY_BUCKETS) {
					below += c[b.field];
					const le = b.le === Infinity ? '+Inf' : String(b.le / 1000);
					h.push({ suffix: '_bucket', labels: [...windowed, ['le', le]], value: below });
				}
				h.push({ suffix: '_sum', labels: windowed, value: c.acceptMsSum / 1000 });
				h.push({ suffix: '_count', labels: windowed, value: inHistogram });
			}
		}
		const pairKey = JSON.stringify(pair);
		if (seenPairs.has(pairKey)) continue;
		seenPairs.add(pairKey);
		const s = row.state;
		add(
			'route_share_ratio',
			'Share of its traffic the route keeps for the group now, 0-1',
			pair,
			s.share,
		);
		add(
			'route_suspended',
			'1 while the route is suspended for the group, else 0',
			pair,
			s.reputation === 'suspended' ? 1 : 0,
		);
		for (const state of STATES)
			add(
				'route_reputation',
				"1 for the route's reputation state for the group, 0 for the others",
				[...pair, ['state', state]],
				s.reputation === state ? 1 : 0,
			);
		const until = s.until === undefined ? NaN : Date.parse(s.until);
		if (!Number.isNaN(until))
			add(
				'route_reputation_until_timestamp_seconds',
				'When the suspension, throttle or ramp of the route for the group ends (Unix seconds)',
				pair,
				until / 1000,
			);
	}

	const lines: string[] = [];
	for (const family of families.values()) {
		lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
		lines.push(`# TYPE ${family.name} ${family.type}`);
		for (const { suffix, labels, value } of family.samples) {
			const text = labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',');
			lines.push(`${family.name}${suffix ?? ''}{${text}} ${formatValue(value)}`);
		}
	}
	return lines.length ? `${lines.join('\n')}\n` : '';
}
