/**
 * The cursor an operator's listing gives (Message › Get Many In-Doubt, Suppression › Get Many):
 * the store's own cursor of the next page, wrapped, so that a text no listing gave is refused
 * with a clear error instead of read as a position.
 */

/** The store's cursor inside a listing's cursor; empty: the first page. */
export function readCursor(text: string | null | undefined, listing: string): string | null {
	if (!text) return null;
	try {
		const [page] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown];
		if (typeof page === 'string') return page;
	} catch {
		// below
	}
	throw new Error(`"${text}" is not a cursor ${listing} gave`);
}

export const writeCursor = (page: string): string =>
	Buffer.from(JSON.stringify([page]), 'utf8').toString('base64url');
