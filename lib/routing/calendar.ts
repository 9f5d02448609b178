/**
 * Sending days in a time zone: a day starts at a local time ("00:00" by default) in an IANA zone,
 * so warm-up caps reset when the sender's day does, whatever the server's zone is.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
	let f = formatters.get(timeZone);
	if (!f) {
		f = new Intl.DateTimeFormat('en-US', {
			timeZone,
			hourCycle: 'h23',
			year: 'numeric',
			month: '2-digit',
			day: '2-digit',
			hour: '2-digit',
			minute: '2-digit',
			second: '2-digit',
		});
		formatters.set(timeZone, f);
	}
	return f;
}

export function isValidTimeZone(tz: string): boolean {
	try {
		formatter(tz);
		return true;
	} catch {
		return false;
	}
}

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(epochMs: number, timeZone: string): number {
	const parts: Record<string, number> = {};
	for (const p of formatter(timeZone).formatToParts(new Date(epochMs)))
		if (p.type !== 'literal') parts[p.type] = Number(p.value);
	const asUtc = Date.UTC(
		parts.year,
		parts.month - 1,
		parts.day,
		parts.hour,
		parts.minute,
		parts.second,
	);
	return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/** The instant a local wall-clock time happens in a zone (the later one across a DST gap). */
export function zonedToEpoch(
	y: number,
	m: number,
	d: number,
	hh: number,
	mm: number,
	timeZone: string,
): number {
	const guess = Date.UTC(y, m - 1, d, hh, mm);
	let t = guess - offsetAt(guess, timeZone);
	t = guess - offsetAt(t, timeZone);
	return t;
}

export interface SendingDay {
	/** the local date the day is named after, YYYY-MM-DD */
	date: string;
	startsAt: number;
	endsAt: number;
}

/** Parses "HH:MM" into minutes after midnight. */
export function parseDayStart(hhmm: string): number {
	const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm.trim());
	if (!m || Number(m[1]) > 23 || Number(m[2]) > 59)
		throw new RangeError(`"${hhmm}" is not a time of day like 00:00 or 06:30`);
	return Number(m[1]) * 60 + Number(m[2]);
}

/** Reads a strict YYYY-MM-DD date; Date.UTC would quietly turn 2026-02-31 into March 3rd. */
export function parseIsoDate(date: string): [number, number, number] {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
	const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
	const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
	const monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
	if (!m || !monthDays || d < 1 || d > monthDays)
		throw new RangeError(`"${date}" is not a real date (use YYYY-MM-DD)`);
	return [y, mo, d];
}

export function isIsoDate(date: string): boolean {
	try {
		parseIsoDate(date);
		return true;
	} catch {
		return false;
	}
}

function addDays(date: string, days: number): [number, number, number] {
	const [y, m, d] = parseIsoDate(date);
	const t = new Date(Date.UTC(y, m - 1, d + days));
	return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
}

function iso(y: number, m: number, d: number): string {
	return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/**
 * The last day computed per zone and day start: a day's start and end depend on its date alone,
 * and the partitioner asks for the same day on every batch (four zone lookups saved of five).
 */
const lastDays = new Map<string, SendingDay>();

/** The sending day containing `epochMs`, for days that start at `dayStartMinutes` local time. */
export function sendingDay(epochMs: number, timeZone: string, dayStartMinutes: number): SendingDay {
	// shift by the day start, then read the local date: 05:00 with a 06:00 start is still yesterday
	const shifted = epochMs - dayStartMinutes * 60_000;
	const local = new Date(shifted + offsetAt(shifted, timeZone));
	const date = iso(local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate());
	const memo = `${dayStartMinutes}|${timeZone}`;
	const known = lastDays.get(memo);
	if (known?.date === date) return { ...known };
	const hh = Math.floor(dayStartMinutes / 60);
	const mm = dayStartMinutes % 60;
	const [y, m, d] = addDays(date, 0);
	const [ny, nm, nd] = addDays(date, 1);
	const day = {
		date,
		startsAt: zonedToEpoch(y, m, d, hh, mm, timeZone),
		endsAt: zonedToEpoch(ny, nm, nd, hh, mm, timeZone),
	};
	lastDays.set(memo, day);
	return { ...day };
}

/** Whole days from `fromDate` to `toDate` (both YYYY-MM-DD). */
export function daysBetween(fromDate: string, toDate: string): number {
	const [a, b] = [fromDate, toDate].map((s) => {
		const [y, m, d] = parseIsoDate(s);
		return Date.UTC(y, m - 1, d);
	});
	return Math.round((b - a) / 86_400_000);
}
