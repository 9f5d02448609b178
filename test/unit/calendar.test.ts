import { daysBetween, parseDayStart, sendingDay, zonedToEpoch } from '../../lib/routing/calendar';
import { parseCapTable, warmupCap, warmupSharePercent } from '../../lib/routing/warmup';

describe('sending days', () => {
	it('starts the day at midnight UTC by default', () => {
		const d = sendingDay(Date.UTC(2026, 10, 22, 13, 0), 'UTC', 0);
		expect(d).toEqual({
			date: '2026-11-22',
			startsAt: Date.UTC(2026, 10, 22),
			endsAt: Date.UTC(2026, 10, 23),
		});
	});

	it('uses the time zone and the day start time', () => {
		// 05:00 in Berlin (UTC+1 in November) with days starting 06:00: still the 21st
		const t = Date.UTC(2026, 10, 22, 4, 0);
		const d = sendingDay(t, 'Europe/Berlin', parseDayStart('06:00'));
		expect(d.date).toBe('2026-11-21');
		expect(d.endsAt).toBe(Date.UTC(2026, 10, 22, 5, 0));
		expect(sendingDay(Date.UTC(2026, 10, 22, 5, 0), 'Europe/Berlin', 360).date).toBe('2026-11-22');
	});

	it('handles a daylight-saving change (a 23-hour day)', () => {
		const d = sendingDay(Date.UTC(2026, 2, 29, 12, 0), 'Europe/Berlin', 0);
		expect(d.date).toBe('2026-03-29');
		expect(d.endsAt - d.startsAt).toBe(23 * 3_600_000);
	});

	it('converts wall-clock times in a zone', () => {
		expect(zonedToEpoch(2026, 7, 1, 9, 30, 'America/New_York')).toBe(Date.UTC(2026, 6, 1, 13, 30));
		expect(daysBetween('2026-11-20', '2026-11-22')).toBe(2);
	});

	it('counts days only between real YYYY-MM-DD dates, leap days included', () => {
		expect(daysBetween('2024-02-28', '2024-03-01')).toBe(2);
		expect(daysBetween('2000-02-29', '2000-03-01')).toBe(1);
		expect(() => daysBetween('2026-02-31', '2026-03-03')).toThrow(
			'"2026-02-31" is not a real date (use YYYY-MM-DD)',
		);
		for (const bad of [
			'2026-13-45',
			'2026-02-29',
			'1900-02-29',
			'2026-04-31',
			'2026-00-10',
			'2026-01-00',
			'2026-1-5',
			'2026-01-05T00:00',
			'soon',
		])
			expect(() => daysBetween(bad, '2026-11-22')).toThrow(`"${bad}" is not a real date`);
		expect(() => daysBetween('2026-11-22', '2026-02-30')).toThrow(
			'"2026-02-30" is not a real date',
		);
	});

	it('rejects times that are not HH:MM', () => {
		expect(() => parseDayStart('25:00')).toThrow('not a time of day');
		expect(parseDayStart('6:30')).toBe(390);
	});
});

describe('warm-up schedules', () => {
	it('ramps from a start cap', () => {
		const s = { kind: 'ramp' as const, startDate: '2026-11-01', startCap: 50, growth: 1.5 };
		expect([0, 1, 2, 3, 4].map((d) => warmupCap(s, d))).toEqual([0, 50, 75, 112, 168]);
	});

	it('follows a custom table, then lets the route run free', () => {
		const s = {
			kind: 'table' as const,
			startDate: '2026-11-01',
			caps: parseCapTable('1:50, 3:200, 2:100, 5:500'),
		};
		expect([1, 2, 3, 4, 5, 6].map((d) => warmupCap(s, d))).toEqual([
			50,
			100,
			200,
			200,
			500,
			undefined,
		]);
		expect(() => parseCapTable('1:50, x')).toThrow('"x" is not a day:cap pair like 1:50');
		expect(() => parseCapTable('1:50, 1:60')).toThrow('day 1 appears twice');
	});

	it('grows a share linearly to full weight', () => {
		const s = { kind: 'share' as const, startDate: '2026-11-01', startPercent: 10, days: 10 };
		expect([0, 1, 6, 10, 11, 30].map((d) => warmupSharePercent(s, d))).toEqual([
			0, 10, 55, 91, 100, 100,
		]);
	});
});
