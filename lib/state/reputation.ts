/**
 * Route reputation per route × domain group: what the rules decided (a suspension, a throttle, the
 * slow start after a suspension) and the little they need to decide again (strikes, threshold
 * hits, which routes of the group are in use). The one definition of the state, of how a change
 * applies to it, and of the share of its traffic a route keeps for a group. Every store runs
 * `applyReputationChanges` inside one atomic call on the group's routes (Redis: read, then a
 * compare-and-set script), and the partitioner's allocation reads `reputationShare` (mirrored in
 * lua/allocate.lua; the differential test holds them to the same answers).
 *
 * Reputation belongs to the route's name across campaigns: a provider that defers Relay A's IP
 * for Yahoo defers it for every campaign that sends through Relay A.
 */

export interface ReputationState {
	/** no traffic for the group until then (epoch ms); 0: never suspended */
	suspendedUntil: number;
	/** after a suspension the share ramps from RAMP_FLOOR to 1 until then (slow start); 0: none */
	rampUntil: number;
	/** a throttle: the share kept and a rate ceiling (messages a minute, 0: none) until throttledUntil */
	factor: number;
	ratePerMinute: number;
	throttledUntil: number;
	/** the rule and reason of the latest action, and when it began */
	rule: string;
	reason: string;
	since: number;
	/** suspensions within REPEAT_WINDOW_MS (each one lasts twice the one before), and the last one's start */
	strikes: number;
	lastStrikeAt: number;
	/** threshold rules: per rule, the matches in its window and when the window began */
	hits: Record<string, { n: number; since: number }>;
	/** when the route last sent to the group or a rule looked at it (the half-of-the-routes guard counts these) */
	seenAt: number;
	/** when the rate rules last ran for this route × group */
	evaluatedAt: number;
}

/** the share a route starts its slow start with, right after a suspension ends */
export const RAMP_FLOOR = 0.25;

export interface ReputationPolicy {
	/** how long the slow start after a suspension takes */
	rampMs: number;
	/** a suspension within this long of the last one lasts twice as long (up to the rule's maximum) */
	repeatWindowMs: number;
	/** a rate rule may not leave more than this share of a group's routes suspended: it throttles instead */
	maxSuspendedShare: number;
	/** a route counts as one of the group's routes while it was seen this recently */
	activeMs: number;
	/** how long a group's reputation is kept after its last change */
	keepMs: number;
}

export const DEFAULT_REPUTATION_POLICY: ReputationPolicy = {
	rampMs: 2 * 3_600_000,
	repeatWindowMs: 24 * 3_600_000,
	maxSuspendedShare: 0.5,
	activeMs: 24 * 3_600_000,
	keepMs: 8 * 86_400_000,
};

/** What a rule does to a route × group. */
export interface ReputationAction {
	action: 'suspend' | 'throttle';
	/** the rule's id, as the state and the items name it */
	rule: string;
	/** why, for people: the rule's description and the reply or rate that set it off */
	reason: string;
	durationMs: number;
	/** suspend: the longest a repeated suspension lasts (each repeat doubles) */
	maxDurationMs?: number;
	/** throttle: the share kept (0–1) and an optional ceiling in messages a minute */
	factor?: number;
	ratePerMinute?: number;
	/** a rate rule: may not suspend past maxSuspendedShare of the group's routes (it throttles to 50% then) */
	guarded?: boolean;
	/** a threshold rule: acts only on the count-th match within periodMs */
	threshold?: { count: number; periodMs: number };
	/**
	 * an operator's action: applies as given — a suspension replaces one in force and counts no
	 * strike, a throttle replaces the factor — whatever the rules did before
	 */
	force?: boolean;
}

export type ReputationChange =
	/** matches of a rule (replies, events) or a rate rule's verdict: act */
	| ({ kind: 'act'; route: string; matches?: number } & ReputationAction)
	/** a rate rule's rate fell below its clear level: end the throttle it set */
	| { kind: 'clear'; route: string; rule: string }
	/** the route sent to the group (or its rates were evaluated): it is one of the group's routes */
	| { kind: 'seen'; route: string; evaluated?: boolean }
	/** an operator (or a test) lifts everything */
	| { kind: 'release'; route: string };

/** What a change did, for the items and the alerts. */
export interface ReputationEvent {
	route: string;
	/** suspended / throttled as asked; downgraded: a guarded suspension became a throttle; cleared / released */
	what: 'suspended' | 'throttled' | 'downgraded' | 'cleared' | 'released';
	rule: string;
	reason: string;
	until: number;
	factor?: number;
}

export function emptyReputation(): ReputationState {
	return {
		suspendedUntil: 0,
		rampUntil: 0,
		factor: 1,
		ratePerMinute: 0,
		throttledUntil: 0,
		rule: '',
		reason: '',
		since: 0,
		strikes: 0,
		lastStrikeAt: 0,
		hits: {},
		seenAt: 0,
		evaluatedAt: 0,
	};
}

/** A stored state, every field present (older or partial JSON reads with defaults). */
export function readReputation(text: string | null | undefined): ReputationState | null {
	if (!text) return null;
	const v = JSON.parse(text) as Partial<ReputationState>;
	return { ...emptyReputation(), ...v, hits: { ...(v.hits ?? {}) } };
}

/**
 * The share of its traffic the route keeps for the group at `now`: 0 while suspended, the
 * throttle's factor while throttled, times the slow start's ramp after a suspension. Mirrored in
 * lua/allocate.lua, operation for operation (the same doubles give the same answer).
 */
export function reputationShare(s: ReputationState | null, now: number): number {
	if (!s) return 1;
	if (s.suspendedUntil > now) return 0;
	let f = 1;
	if (s.throttledUntil > now) f = s.factor;
	if (s.rampUntil > now && s.rampUntil > s.suspendedUntil)
		f =
			f *
			(RAMP_FLOOR +
				((1 - RAMP_FLOOR) * (now - s.suspendedUntil)) / (s.rampUntil - s.suspendedUntil));
	return f;
}

/** The rate ceiling (messages a minute) in force at `now`, or 0. */
export function reputationRate(s: ReputationState | null, now: number): number {
	return s && s.throttledUntil > now ? s.ratePerMinute : 0;
}

/**
 * Applies changes, in order, to one group's routes (`states`: route → state, every route the
 * store has for the group). Returns the states that changed and what happened. Pure: every store
 * calls it inside its atomic call.
 */
export function applyReputationChanges(
	states: ReadonlyMap<string, ReputationState>,
	changes: readonly ReputationChange[],
	now: number,
	policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY,
): { changed: Map<string, ReputationState>; events: ReputationEvent[] } {
	const changed = new Map<string, ReputationState>();
	const events: ReputationEvent[] = [];
	const get = (route: string): ReputationState => {
		let s = changed.get(route);
		if (!s) {
			const prior = states.get(route);
			s = prior ? { ...prior, hits: { ...prior.hits } } : emptyReputation();
			changed.set(route, s);
		}
		return s;
	};
	/** a suspension for `duration`, the slow start after it, and its event */
	const suspend = (
		s: ReputationState,
		c: ReputationAction & { route: string },
		duration: number,
	) => {
		s.suspendedUntil = now + duration;
		s.rampUntil = s.suspendedUntil + policy.rampMs;
		Object.assign(s, { rule: c.rule, reason: c.reason, since: now });
		events.push({
			route: c.route,
			what: 'suspended',
			rule: c.rule,
			reason: c.reason,
			until: s.suspendedUntil,
		});
	};
	const all = (): Array<[string, ReputationState]> => {
		const out = new Map<string, ReputationState>(states);
		for (const [r, s] of changed) out.set(r, s);
		return [...out];
	};

	for (const c of changes) {
		const s = get(c.route);
		s.seenAt = Math.max(s.seenAt, now);
		if (c.kind === 'seen') {
			if (c.evaluated) s.evaluatedAt = now;
			continue;
		}
		if (c.kind === 'release') {
			Object.assign(s, {
				suspendedUntil: 0,
				rampUntil: 0,
				throttledUntil: 0,
				factor: 1,
				ratePerMinute: 0,
			});
			events.push({
				route: c.route,
				what: 'released',
				rule: s.rule,
				reason: 'released',
				until: now,
			});
			continue;
		}
		if (c.kind === 'clear') {
			if (s.throttledUntil > now && s.rule === c.rule) {
				s.throttledUntil = now;
				events.push({
					route: c.route,
					what: 'cleared',
					rule: c.rule,
					reason: s.reason,
					until: now,
				});
			}
			continue;
		}
		if (c.threshold) {
			const prior = s.hits[c.rule];
			const fresh = prior !== undefined && now - prior.since < c.threshold.periodMs;
			const count = (fresh ? prior.n : 0) + (c.matches ?? 1);
			s.hits[c.rule] = { n: count, since: fresh ? prior.since : now };
			if (count < c.threshold.count) continue;
			delete s.hits[c.rule];
		}
		if (c.force) {
			if (c.action === 'suspend') {
				suspend(s, c, c.durationMs);
				continue;
			}
			s.factor = c.factor ?? 1;
			s.ratePerMinute = c.ratePerMinute ?? 0;
			s.throttledUntil = now + c.durationMs;
			Object.assign(s, { rule: c.rule, reason: c.reason, since: now });
			events.push({
				route: c.route,
				what: 'throttled',
				rule: c.rule,
				reason: c.reason,
				until: s.throttledUntil,
				factor: s.factor,
			});
			continue;
		}
		// a route already suspended: the replies of messages that were on their way meanwhile add nothing
		if (s.suspendedUntil > now) continue;
		let action = c.action;
		let factor = c.factor ?? 1;
		if (action === 'suspend' && c.guarded) {
			const active = all().filter(([, x]) => now - x.seenAt < policy.activeMs);
			const suspended = active.filter(([r, x]) => r !== c.route && x.suspendedUntil > now).length;
			if (suspended + 1 > Math.floor(active.length * policy.maxSuspendedShare)) {
				action = 'throttle';
				factor = Math.min(factor, 0.5);
			}
		}
		if (action === 'suspend') {
			s.strikes = now - s.lastStrikeAt < policy.repeatWindowMs ? s.strikes + 1 : 1;
			s.lastStrikeAt = now;
			const max = Math.max(c.maxDurationMs ?? c.durationMs, c.durationMs);
			suspend(s, c, Math.min(c.durationMs * Math.pow(2, s.strikes - 1), max));
			continue;
		}
		const active = s.throttledUntil > now;
		s.factor = active ? Math.min(s.factor, factor) : factor;
		const rate = c.ratePerMinute ?? 0;
		s.ratePerMinute =
			active && s.ratePerMinute > 0
				? rate > 0
					? Math.min(s.ratePerMinute, rate)
					: s.ratePerMinute
				: rate;
		s.throttledUntil = Math.max(active ? s.throttledUntil : 0, now + c.durationMs);
		Object.assign(s, { rule: c.rule, reason: c.reason, since: now });
		events.push({
			route: c.route,
			what: c.action === 'suspend' ? 'downgraded' : 'throttled',
			rule: c.rule,
			reason: c.reason,
			until: s.throttledUntil,
			factor: s.factor,
		});
	}
	return { changed, events };
}
