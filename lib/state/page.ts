/**
 * Paged listings (StateStore.listOnce, listSuppressions): the one check of a page request, and
 * the embedded stores' paging over keys in order (the cursor is the last key given).
 */
import type { PageRequest } from './types';

/** the most entries one page may ask for */
export const MAX_PAGE = 1000;

export function checkPage(page: PageRequest): void {
	if (!Number.isInteger(page.count) || page.count < 1 || page.count > MAX_PAGE)
		throw new Error(`a page holds 1 to ${MAX_PAGE} entries, not ${page.count}`);
	if (page.cursor !== undefined && page.cursor !== null && typeof page.cursor !== 'string')
		throw new Error('a page cursor is the text the previous page gave');
}

/**
 * The keys after the cursor (the previous page's last key), sorted, at most `count`, and the next
 * cursor (null: none after these).
 */
export function keysPage(
	keys: Iterable<string>,
	page: PageRequest,
): { keys: string[]; cursor: string | null } {
	const after = page.cursor ?? null;
	const sorted = [...keys].filter((k) => after === null || k > after).sort();
	const taken = sorted.slice(0, page.count);
	return {
		keys: taken,
		cursor: sorted.length > page.count ? taken[taken.length - 1] : null,
	};
}

/** stickyRoutes' order, the same in every store: by partitioner, as JavaScript compares text */
export const byPartition = (a: { partition: string }, b: { partition: string }): number =>
	a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0;
