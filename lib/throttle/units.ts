/** The units a rate can be given in, as milliseconds: every rate in the package is counted in these. */
export const RATE_UNITS = {
	second: 1_000,
	minute: 60_000,
	hour: 3_600_000,
	day: 86_400_000,
} as const;
export type RateUnit = keyof typeof RATE_UNITS;
/** The unit names, for schemas (`z.enum(RATE_UNIT_NAMES)`). */
export const RATE_UNIT_NAMES = Object.keys(RATE_UNITS) as [RateUnit, ...RateUnit[]];

/** An own key of RATE_UNITS: `'toString' in RATE_UNITS` is true, so `in` is not enough for item data. */
export function isRateUnit(value: unknown): value is RateUnit {
	return typeof value === 'string' && Object.prototype.hasOwnProperty.call(RATE_UNITS, value);
}
