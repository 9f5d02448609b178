/**
 * Warm-up schedules. Day 1 is the schedule's start date; before it the route takes nothing, after
 * a custom table ends the route is warm (no warm-up cap).
 */
export type WarmupSchedule =
	| { kind: 'none' }
	/** cap on day d = floor(startCap · growth^(d-1)) */
	| { kind: 'ramp'; startDate: string; startCap: number; growth: number }
	/** day → cap; days between entries keep the last cap; after the last day no cap */
	| { kind: 'table'; startDate: string; caps: Array<{ day: number; cap: number }> }
	/** the route's weight grows from startPercent of full to full over `days` days (Envoy's slow start) */
	| { kind: 'share'; startDate: string; startPercent: number; days: number };

/** Today's warm-up cap, or undefined when the schedule sets none today. */
export function warmupCap(schedule: WarmupSchedule, dayNumber: number): number | undefined {
	switch (schedule.kind) {
		case 'ramp':
			if (dayNumber < 1) return 0;
			return Math.floor(schedule.startCap * Math.pow(schedule.growth, dayNumber - 1));
		case 'table': {
			if (dayNumber < 1) return 0;
			const last = schedule.caps[schedule.caps.length - 1];
			if (!last || dayNumber > last.day) return undefined;
			let cap = 0;
			for (const e of schedule.caps) if (e.day <= dayNumber) cap = e.cap;
			return cap;
		}
		default:
			return undefined;
	}
}

/** Today's weight multiplier in whole percent (100 = full weight). */
export function warmupSharePercent(schedule: WarmupSchedule, dayNumber: number): number {
	if (schedule.kind !== 'share') return 100;
	if (dayNumber < 1) return 0;
	if (dayNumber > schedule.days) return 100;
	const grown =
		schedule.startPercent + ((100 - schedule.startPercent) * (dayNumber - 1)) / schedule.days;
	return Math.max(1, Math.min(100, Math.round(grown)));
}

/** Parses a table written as "1:50, 2:100, 3:200" (day:cap pairs). */
export function parseCapTable(text: string): Array<{ day: number; cap: number }> {
	const entries = text
		.split(/[,;\n]/)
		.map((s) => s.trim())
		.filter(Boolean)
		.map((pair) => {
			const m = /^(\d+)\s*[:=]\s*(\d+)$/.exec(pair);
			if (!m) throw new RangeError(`"${pair}" is not a day:cap pair like 1:50`);
			return { day: Number(m[1]), cap: Number(m[2]) };
		});
	if (entries.length === 0)
		throw new RangeError('the table is empty; write day:cap pairs like 1:50, 2:100');
	entries.sort((a, b) => a.day - b.day);
	for (let i = 0; i < entries.length; i++) {
		if (entries[i].day < 1) throw new RangeError('days start at 1');
		if (i > 0 && entries[i].day === entries[i - 1].day)
			throw new RangeError(`day ${entries[i].day} appears twice`);
	}
	return entries;
}
