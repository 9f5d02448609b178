/**
 * What a Route Partitioner knows of a route's warm-up today, recorded per campaign so that stats
 * and the report can show it: the schedule lives only in the partitioner's parameters, the cap's
 * usage in the store (the daily cap window, StoreKeys.cap with capKeys.daily(date, route)). The
 * partitioner writes its routes' records with each batch (StateStore.setWarmup); a reader adds the
 * day's usage with capUsage.
 */
import { z } from 'zod';

export interface WarmupRecord {
	/** the warm-up day: 1 on the schedule's start date, 0 before it */
	day: number;
	/** the sending day (YYYY-MM-DD in the partitioner's time zone and day start) */
	date: string;
	/** today's daily cap (the warm-up cap, or the route's Daily Cap when lower); null: none today */
	cap: number | null;
	/** the weight multiplier today in whole percent (a share schedule; 100 otherwise) */
	sharePercent: number;
	/** when the sending day ends (epoch ms): the cap window resets then */
	endsAt: number;
	/** when it was recorded (epoch ms, the store's clock) */
	at: number;
}

const warmupRecordSchema = z.object({
	day: z.number().int(),
	date: z.string(),
	cap: z.number().int().min(0).nullable(),
	sharePercent: z.number(),
	endsAt: z.number(),
	at: z.number(),
});

/** A record read back from JSON; null for anything that is not one (a store holds what it was given). */
export function parseWarmupRecord(text: string | null | undefined): WarmupRecord | null {
	if (!text) return null;
	try {
		const parsed = warmupRecordSchema.safeParse(JSON.parse(text));
		return parsed.success ? parsed.data : null;
	} catch {
		return null;
	}
}

/** The record as every store keeps it: checked, its fields in one order. */
export function warmupRecordText(r: WarmupRecord): string {
	const { day, date, cap, sharePercent, endsAt, at } = warmupRecordSchema.parse(r);
	return JSON.stringify({ day, date, cap, sharePercent, endsAt, at });
}
