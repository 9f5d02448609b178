/**
 * The operator's hands on route reputation, circuits, campaigns and the suppression list (the
 * Postal Operations node's Route, Campaign and Suppression resources): suspend, resume or
 * down-weight a route for a domain group, read its state, reset its circuit; clear a campaign's
 * list-quality totals; add, remove, check, list and export addresses. One store call per group
 * or per list for a whole batch.
 */
import { parseAddress } from '../domains/address';
import { circuitName, suppressionDigest } from '../state/keys';
import { CAMPAIGN_TOTALS_ROUTE } from '../state/outcomes';
import { MAX_PAGE } from '../state/page';
import { readCursor, writeCursor } from './cursor';
import { publishAlerts, verdictAlert } from '../alerts/emit';
import { applyChanges } from '../reputation/recorder';
import type { CompareVerdict } from './compare';
import type { ReputationChange } from '../state/reputation';
import { routeGroupState } from './stats';
import { maskAddress, type SuppressionReason } from '../state/suppression';
import type { StateStore } from '../state/types';
import type { RouteGroupState } from './types';

/** the rule name an operator's action carries */
export const MANUAL_RULE = 'manual';
/** the rule an applied A/B verdict carries on the loser's state */
export const VERDICT_RULE = 'ab-verdict';
/** the share of its traffic an applied verdict leaves the loser */
export const VERDICT_SHARE = 0.5;

/**
 * A Compare Routes verdict, told and (when asked) applied: a winner or no difference publishes
 * `ab.verdict` (info); applied, the winner's loser is throttled to VERDICT_SHARE for the group for
 * `applyHours`, through applyChanges like every reputation change, so `route.throttled` is
 * published too. Not enough data (or too few routes) publishes nothing. A failure to publish goes
 * to `onAlertError`: the throttle stands. Answers the throttle applied, if any.
 */
export async function settleCompareVerdict(
	store: StateStore,
	verdict: CompareVerdict,
	applyHours: number | undefined,
	onAlertError?: (error: Error) => void,
): Promise<{ route: string; share: number; until: string } | undefined> {
	if (verdict.verdict !== 'winner' && verdict.verdict !== 'no-difference') return undefined;
	const apply =
		verdict.verdict === 'winner' && verdict.worst && applyHours !== undefined
			? { route: verdict.worst, share: VERDICT_SHARE, hours: applyHours }
			: undefined;
	const alertError = await publishAlerts(store, [verdictAlert(verdict, await store.now(), apply)]);
	if (alertError) onAlertError?.(alertError);
	if (!apply) return undefined;
	const { states, alertError: throttleAlertError } = await applyChanges(
		store,
		new Map([
			[
				verdict.group,
				[
					{
						kind: 'act' as const,
						route: apply.route,
						action: 'throttle' as const,
						rule: VERDICT_RULE,
						reason: verdict.summary,
						durationMs: apply.hours * 3_600_000,
						factor: apply.share,
						force: true,
					},
				],
			],
		]),
	);
	if (throttleAlertError && !alertError) onAlertError?.(throttleAlertError);
	const state = states.get(verdict.group)?.[apply.route];
	return {
		route: apply.route,
		share: apply.share,
		until: new Date(state?.throttledUntil ?? 0).toISOString(),
	};
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface RouteAction {
	route: string;
	group: string;
}

/**
 * Applies each request's change, one store call per group (applyChanges: an operator's change is
 * published as an alert like a rule's); answers each pair's state after. A failure to publish the
 * alerts goes to `onAlertError`: the change stands.
 */
async function change(
	store: StateStore,
	requests: readonly RouteAction[],
	changeOf: (r: RouteAction, i: number) => ReputationChange,
	onAlertError?: (error: Error) => void,
): Promise<RouteGroupState[]> {
	const byGroup = new Map<string, ReputationChange[]>();
	requests.forEach((r, i) => {
		let list = byGroup.get(r.group);
		if (!list) byGroup.set(r.group, (list = []));
		list.push(changeOf(r, i));
	});
	const { states, now, alertError } = await applyChanges(store, byGroup);
	if (alertError) onAlertError?.(alertError);
	return requests.map((r) => routeGroupState(states.get(r.group)?.[r.route] ?? null, now));
}

/** Suspends routes for groups for as long as asked (the slow start follows). */
export function suspendRoutes(
	store: StateStore,
	requests: ReadonlyArray<RouteAction & { durationMs: number; reason: string }>,
	onAlertError?: (error: Error) => void,
): Promise<RouteGroupState[]> {
	return change(
		store,
		requests,
		(r, i) => ({
			kind: 'act',
			route: r.route,
			action: 'suspend',
			rule: MANUAL_RULE,
			reason: requests[i].reason || 'suspended by an operator',
			durationMs: requests[i].durationMs,
			force: true,
		}),
		onAlertError,
	);
}

/**
 * Keeps only a share of a route's traffic for a group (factor 0–1) for a while: an operator's
 * throttle (rule `manual`), replacing any throttle in force and published as an alert like a
 * suspension. A suspension in force stays (Resume lifts both).
 */
export function setWeightFactors(
	store: StateStore,
	requests: ReadonlyArray<RouteAction & { factor: number; durationMs: number; reason: string }>,
	onAlertError?: (error: Error) => void,
): Promise<RouteGroupState[]> {
	for (const r of requests)
		if (!(r.factor >= 0 && r.factor <= 1))
			throw new Error(`a weight factor is a share from 0 to 1, not ${r.factor}`);
	return change(
		store,
		requests,
		(r, i) => ({
			kind: 'act',
			route: r.route,
			action: 'throttle',
			rule: MANUAL_RULE,
			reason: requests[i].reason || 'weight set by an operator',
			durationMs: requests[i].durationMs,
			factor: requests[i].factor,
			force: true,
		}),
		onAlertError,
	);
}

/** What a circuit reset found and did. */
export interface CircuitReset {
	/** the circuit was open (the route took no traffic of the campaign) until `openUntil` */
	wasOpen: boolean;
	openUntil?: string;
	/** ejections counted so far (the growing cool-down), now forgotten */
	ejections: number;
}

/**
 * Closes routes' circuits for campaigns (Route › Reset Circuit): the circuit is forgotten —
 * open or half-open, its failures and ejection count — so the partitioner routes to the route
 * and the send node sends on it at once. Route reputation is another matter (Route › Resume).
 */
export async function resetCircuits(
	store: StateStore,
	requests: ReadonlyArray<{ campaign: string; route: string }>,
): Promise<CircuitReset[]> {
	const names = requests.map((r) => circuitName(r.campaign, r.route));
	const [circuits, now] = await Promise.all([store.getCircuits(names), store.now()]);
	for (const name of new Set(names)) await store.setCircuit(name, null);
	return circuits.map((c) =>
		c && c.openUntil > now
			? { wasOpen: true, openUntil: iso(c.openUntil), ejections: c.ejections }
			: { wasOpen: false, ejections: c?.ejections ?? 0 },
	);
}

/**
 * Clears a campaign's list-quality state (Campaign › Clear Counters): its own totals (the route
 * '' counters, every route together: what the hard-bounce and complaint rules read) and its
 * pause. The route × group counters (stats, reputation rules: a route's, across campaigns), route
 * reputation, circuits, caps, sticky routes and duplicate markers stay.
 */
export async function clearCampaignCounters(
	store: StateStore,
	campaigns: readonly string[],
): Promise<void> {
	await store.clearOutcomes(
		[...new Set(campaigns)].map((c) => ({ route: CAMPAIGN_TOTALS_ROUTE, group: c })),
	);
	for (const c of new Set(campaigns)) await store.setCampaignPause(c, null);
}

/** Lifts every suspension and throttle of routes for groups at once (no slow start). */
export function resumeRoutes(
	store: StateStore,
	requests: readonly RouteAction[],
	onAlertError?: (error: Error) => void,
): Promise<RouteGroupState[]> {
	return change(store, requests, (r) => ({ kind: 'release', route: r.route }), onAlertError);
}

/** Each pair's state now. */
export async function routeStates(
	store: StateStore,
	requests: readonly RouteAction[],
): Promise<RouteGroupState[]> {
	const [states, now] = await Promise.all([store.getReputation([...requests]), store.now()]);
	return states.map((s) => routeGroupState(s, now));
}

/** An address as the list keys it, or why it cannot be one. */
function addressOf(text: string): { ok: true; address: string } | { ok: false; problem: string } {
	const parsed = parseAddress(text);
	return parsed.ok
		? { ok: true, address: parsed.address }
		: { ok: false, problem: `"${text}" is not one email address: ${parsed.reason}` };
}

export type AddressAnswer<T> =
	{ ok: true; address: string; value: T } | { ok: false; problem: string };

/** Puts addresses on a list (for `days`, or for good when 0), one store call. */
export async function suppressAddresses(
	store: StateStore,
	list: string,
	requests: ReadonlyArray<{ address: string; reason: SuppressionReason; days: number }>,
): Promise<Array<AddressAnswer<{ reason: SuppressionReason; until?: string }>>> {
	const [secret, now] = await Promise.all([store.hashSecret(), store.now()]);
	const read = requests.map((r) => addressOf(r.address));
	const entries = requests.flatMap((r, i) => {
		const a = read[i];
		if (!a.ok) return [];
		return [
			{
				key: suppressionDigest(secret, a.address),
				reason: r.reason,
				source: MANUAL_RULE,
				hint: maskAddress(a.address),
				at: now,
				...(r.days > 0 ? { until: now + r.days * 86_400_000 } : {}),
			},
		];
	});
	if (entries.length) await store.suppress(list, entries);
	return requests.map((r, i) => {
		const a = read[i];
		if (!a.ok) return a;
		return {
			ok: true,
			address: a.address,
			value: { reason: r.reason, ...(r.days > 0 ? { until: iso(now + r.days * 86_400_000) } : {}) },
		};
	});
}

/** The addresses read (or why not) and the list keys of those that are addresses. */
async function listKeys(store: StateStore, addresses: readonly string[]) {
	const secret = await store.hashSecret();
	const read = addresses.map(addressOf);
	const keys = read.flatMap((a) => (a.ok ? [suppressionDigest(secret, a.address)] : []));
	return { read, keys };
}

/** Takes addresses off a list, one store call; answers whether each was on it. */
export async function unsuppressAddresses(
	store: StateStore,
	list: string,
	addresses: readonly string[],
): Promise<Array<AddressAnswer<{ removed: boolean }>>> {
	const { read, keys } = await listKeys(store, addresses);
	const found = await entriesOf(store, list, read, keys);
	if (keys.length) await store.unsuppress(list, keys);
	return found.map((f) =>
		f.ok ? { ok: true, address: f.address, value: { removed: f.value !== null } } : f,
	);
}

/** Whether each address is on a list now, with why, from where, since and until when. */
export async function checkAddresses(
	store: StateStore,
	list: string,
	addresses: readonly string[],
): Promise<
	Array<AddressAnswer<{ reason: string; source: string; since: string; until?: string } | null>>
> {
	const { read, keys } = await listKeys(store, addresses);
	return entriesOf(store, list, read, keys);
}

async function entriesOf(
	store: StateStore,
	list: string,
	read: ReturnType<typeof addressOf>[],
	keys: string[],
): Promise<
	Array<AddressAnswer<{ reason: string; source: string; since: string; until?: string } | null>>
> {
	const entries = keys.length ? await store.getSuppressions(list, keys) : [];
	let k = 0;
	return read.map((a) => {
		if (!a.ok) return a;
		const e = entries[k++];
		return {
			ok: true,
			address: a.address,
			value: e
				? {
						reason: e.reason,
						source: e.source,
						since: iso(e.at),
						...(e.until === undefined ? {} : { until: iso(e.until) }),
					}
				: null,
		};
	});
}

/** A suppression list's entry as an operator sees it: no address is kept, only its digest and hint. */
export interface ListedSuppression {
	/** the entry's key: a keyed digest of the address (the address cannot be read back from it) */
	digest: string;
	/** the first character and the domain (`j***@gmail.com`) */
	masked: string;
	reason: string;
	source: string;
	since: string;
	until?: string;
}

/**
 * A suppression list's entries that apply now, a page at a time (Suppression › List and Export):
 * up to `limit` (Return All: every one, at most `MAX_LISTED`), from a cursor the previous run
 * gave; the cursor after them (null: the list ended).
 */
export async function listSuppressed(
	store: StateStore,
	list: string,
	options: { limit: number; cursor?: string | null },
): Promise<{ entries: ListedSuppression[]; cursor: string | null }> {
	const limit = Math.min(options.limit, MAX_LISTED);
	const seen = new Set<string>();
	const entries: ListedSuppression[] = [];
	let cursor = readCursor(options.cursor, 'a listing of the suppression list');
	let pages = 0;
	do {
		pages++;
		const page = await store.listSuppressions(list, {
			cursor,
			count: Math.min(MAX_PAGE, limit - entries.length),
		});
		for (const e of page.items) {
			// a scan may give an entry twice
			if (seen.has(e.key)) continue;
			seen.add(e.key);
			entries.push({
				digest: e.key,
				masked: e.hint,
				reason: e.reason,
				source: e.source,
				since: iso(e.at),
				...(e.until === undefined ? {} : { until: iso(e.until) }),
			});
		}
		cursor = page.cursor;
	} while (cursor !== null && entries.length < limit && pages < MAX_PAGES_LISTED);
	return { entries, cursor: cursor === null ? null : writeCursor(cursor) };
}

/** the most entries one listing gives (Return All included): the rest are a cursor away */
export const MAX_LISTED = 100_000;
/** the most store pages one listing reads */
const MAX_PAGES_LISTED = 500;

const CSV_COLUMNS = ['digest', 'masked', 'reason', 'source', 'since', 'until'] as const;

/** RFC 4180: a field with a comma, quote or line break in quotes, its quotes doubled. */
function csvField(text: string): string {
	return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The entries as CSV (RFC 4180: a header row, CRLF line ends). A text field that a spreadsheet
 * would run as a formula (=, +, -, @ first) gets a leading apostrophe (OWASP's CSV injection
 * advice); digests and times are never such text.
 */
export function suppressionCsv(entries: readonly ListedSuppression[]): string {
	const rows = [CSV_COLUMNS.join(',')];
	const text = (c: (typeof CSV_COLUMNS)[number], v: string) =>
		(c === 'masked' || c === 'source' || c === 'reason') && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
	for (const e of entries)
		rows.push(CSV_COLUMNS.map((c) => csvField(text(c, e[c] ?? ''))).join(','));
	return rows.join('\r\n') + '\r\n';
}
