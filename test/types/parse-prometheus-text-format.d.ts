// The package ships no types; this is the shape its parser returns (values stay strings).
declare module 'parse-prometheus-text-format' {
	export interface ParsedSample {
		labels?: Record<string, string>;
		value: string;
	}
	export interface ParsedFamily {
		name: string;
		help: string;
		type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
		metrics: ParsedSample[];
	}
	export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
