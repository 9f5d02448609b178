import fc from 'fast-check';
import { join } from 'node:path';
import { MemoryStateStore } from '../../lib/state/memory';
import { RedisStateStore } from '../../lib/state/redis';
import { SqliteStateStore } from '../../lib/state/sqlite';
import { SUPPRESSION_REASONS, type SuppressionReason } from '../../lib/state/suppression';
import { bucketStart, type OutcomeCounts, type OutcomeResolution } from '../../lib/state/outcomes';
import type {
	AlertInput,
	OnceSettlement,
	AllocateRequest,
	AllocClass,
	AllocItem,
	AllocRoute,
	CircuitState,
	HealthPolicy,
	MxCacheEntry,
	RateLimit,
	ReputationChange,
	RouteLimit,
	WarmupRecord,
	StateStore,
} from '../../lib/state/types';
import { startRedisCluster, type RedisCluster } from '../helpers/redisCluster';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { hasSqlite, tempFolders } from '../helpers/sqlite';

/**
 * Differential property test: random sequences of StateStore calls go to every store — memory,
 * Redis, Redis Cluster (fresh stores and key prefix per case) and, where node:sqlite exists (Node
 * 22.5+: `npm run test:node24`), SQLite (a fresh file per case) — in lockstep, and every answer
 * must be the same, call by call, and so must what each holds at the end (finalReads).
 *
 * Time: Redis answers with its server clock (TIME), which no test can fake, so no generated
 * comparison lies within seconds of "now": circuits are set an hour off or open for ≥ 8 s, cap
 * windows end an hour or a day away (or ended an hour ago), TTLs are hours, GCRA intervals are
 * multiples of 10 s and the longest waits lie between them (granted or not never hangs on a
 * millisecond), and a circuit's age since its
 * last ejection (ms, 1 min, 2 h) is never near a max ejection (20 s, 10 min). A case takes
 * milliseconds, so the clock never decides an answer; the numbers that carry a clock reading
 * (now, openUntil, retryAt, waitMs, lastEjectedAt, a marker's since and leaseUntil) are compared within TIME_TOLERANCE.
 *
 * POSTAL_DIFF_SEED=<n> replays another seed, POSTAL_DIFF_RUNS=<n> runs more cases.
 */

const SEED = Number(process.env.POSTAL_DIFF_SEED ?? 20261215);
const RUNS = Number(process.env.POSTAL_DIFF_RUNS ?? 1000);
if (!Number.isInteger(SEED) || !Number.isInteger(RUNS))
	throw new Error('POSTAL_DIFF_SEED and POSTAL_DIFF_RUNS must be whole numbers');
const TIME_TOLERANCE = 1000;
/** fields whose numbers are clock readings (or derived from one) */
const CLOCK_FIELDS = new Set([
	'now',
	'openUntil',
	'retryAt',
	'waitMs',
	'lastEjectedAt',
	'since',
	'leaseUntil',
	// route reputation (lib/state/reputation.ts)
	'suspendedUntil',
	'rampUntil',
	'throttledUntil',
	'lastStrikeAt',
	'seenAt',
	'evaluatedAt',
	'until',
]);

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

// small pools, so calls keep meeting the same keys; names with the characters keys escape
const SCOPES = ['c1', 'c:2', 'c{3}😀'];
const PARTITIONS = ['p1', 'p:2'];
const ROUTE_NAMES = ['a', 'b', 'c\u0000d', 'd:x é'];
const CIRCUITS = ['c1:a', 'c1:b', 'c%3A2:a', 'x{y}'];
/** a cap window's key names its window, so its end is fixed: one an hour ago (ended) */
const CAPS = [
	{ key: 'd:1:a', resetIn: DAY },
	{ key: 'h:7:a', resetIn: HOUR },
	{ key: 'd:1:b', resetIn: DAY },
	{ key: 'd:0:a', resetIn: -HOUR },
];
const COUNTERS = ['p1:c1', 'p1:c2', 'p:2:c1'];
const ITEM_KEYS = ['u1', 'u2', 'u3', 'u4', 'u5', 'ü😀', ''];
const ONCE_KEYS = ['m1', 'm2', 'm3', 'm4'];
const TOKENS = ['t1', 't2', 't3'];
/** suppression lists (the default one among them) and digests */
const LISTS = ['', 'news', 'l:{2}'];
const SUPPRESSION_KEYS = ['s1', 's2', 's3'];
const LEDGER_KEYS = ['mid:a', 'mid:b', 'ref:h.c'];
const SEEN_KEYS = ['ev:a', 'ev:b', 'tok:c'];
const REP_ROUTES = ['A', 'B|:{x}'];
/** alert consumer groups and consumers; ids as the stores give them (0-<n>, the same in every store) */
const ALERT_GROUPS = ['wf1:n1', 'g:{2}'];
const ALERT_CONSUMERS = ['main', 'm:2'];
const ALERT_IDS = ['0-1', '0-2', '0-3', '0-5', '0-8', '0-99'];
const REP_GROUPS = ['yahoo', ''];
/** the domain groups allocate items name, whose reputation the updates below change */
const ALLOC_GROUPS = ['yahoo', 'g:{2}'];
const RATE_KEYS = ['conn:smtp:n1', 'campaign:c1:a', 'group:c1:a:yahoo', 'campaign:c1'];
const DOMAINS = ['gmail.com', 'x.example', 'ä.example'];
const HOSTS = ['mx1.example', 'mx2.example', 'alt.mx.example'];

/** a time: 0 itself, or an offset from the case's start */
type At = 'zero' | number;

type Command =
	| {
			op: 'allocate';
			scope: string;
			stickyKey: string;
			routes: Array<{ name: string; circuit: string; caps: Array<{ cap: number; limit: number }> }>;
			classes: AllocClass[];
			items: AllocItem[];
			groups?: string[];
			dryRun: boolean;
			ttlMs: number;
	  }
	| { op: 'capUsage'; scope: string; keys: string[] }
	| { op: 'reserveRate'; limits: RateLimit[]; cost: number; maxWaitMs: number }
	| {
			op: 'setRouteLimits';
			scope: string;
			entries: Array<{ route: string; limit: RouteLimit | null }>;
			ttlMs: number;
	  }
	| { op: 'getRouteLimits'; scope: string; routes: string[] }
	| {
			op: 'setWarmup';
			scope: string;
			entries: Array<{ route: string; warmup: WarmupRecord | null }>;
			ttlMs: number;
	  }
	| { op: 'getWarmup'; scope: string; routes: string[] }
	| {
			op: 'claimOnce';
			scope: string;
			keys: string[];
			ttlMs: number;
			leaseMs: number;
			token: string;
			takeExpired: boolean;
	  }
	| {
			op: 'settleOnce';
			scope: string;
			settlements: OnceSettlement[];
			ttlMs: number;
	  }
	| {
			op: 'deliveryStep';
			ttlMs: number;
			leaseMs: number;
			takeExpired: boolean;
			maxWaitMs: number;
			settle: Array<{ scope: string; settlement: OnceSettlement }>;
			claim: Array<{ scope: string; key: string; token: string }>;
			reserve: Array<{ limits: RateLimit[]; marker?: { scope: string; key: string } }>;
	  }
	| { op: 'listOnce'; scope: string; count: number; inDoubt: boolean }
	| { op: 'releaseOnce'; scope: string; keys: string[] }
	| { op: 'listSuppressions'; list: string; count: number }
	| { op: 'clearOutcomes'; pairs: Array<{ route: string; group: string }> }
	| { op: 'stickyRoutes'; scope: string; key: string }
	| { op: 'recordHealth'; route: string; ok: boolean; policy: HealthPolicy }
	| {
			op: 'setCircuit';
			route: string;
			state: null | {
				openUntil: At;
				ejections: number;
				failures?: number;
				probing?: boolean;
				lastEjectedAt?: At;
			};
	  }
	| { op: 'getCircuits'; routes: string[] }
	| { op: 'setMx'; entries: Array<{ domain: string; value: MxCacheEntry }>; ttlMs: number }
	| { op: 'getMx'; domains: string[] }
	| { op: 'clearScope'; scope: string }
	| {
			op: 'suppress';
			list: string;
			/** at and until: offsets from the case's start; until absent = lasting */
			entries: Array<{ key: string; reason: SuppressionReason; at: number; until?: number }>;
	  }
	| { op: 'getSuppressions'; list: string; keys: string[] }
	| { op: 'unsuppress'; list: string; keys: string[] }
	| { op: 'recordLedger'; entries: Array<{ key: string; value: string }>; ttlMs: number }
	| { op: 'readLedger'; keys: string[] }
	| { op: 'markSeen'; keys: string[]; ttlMs: number }
	| { op: 'publishAlerts'; alerts: AlertInput[]; cooldownMs: number }
	| { op: 'readAlerts'; group: string; consumer: string; count: number }
	| { op: 'recentAlerts'; count: number }
	| { op: 'ackAlerts'; group: string; ids: string[] }
	| {
			op: 'countOutcomes';
			/** at: an offset from the case's start */
			entries: Array<{ route: string; group: string; counts: OutcomeCounts; at: number }>;
	  }
	| { op: 'readOutcomes'; route: string; group: string; resolution: OutcomeResolution }
	| { op: 'listOutcomePairs' }
	| { op: 'updateReputation'; group: string; changes: ReputationChange[] }
	| { op: 'setCampaignPause'; campaign: string; until: number | null }
	| { op: 'getCampaignPauses'; campaigns: string[] }
	| { op: 'getReputation'; pairs: Array<{ route: string; group: string }> }
	| { op: 'now' }
	| { op: 'hashSecret' }
	/** only in the kept cases below: real time passing, for what TTLs do */
	| { op: 'sleep'; ms: number };

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const some = <T>(xs: readonly T[], max = 4) => fc.array(pick(xs), { maxLength: max });

const allocateCommand: fc.Arbitrary<Command> = fc.integer({ min: 1, max: 4 }).chain((n) =>
	fc.integer({ min: 1, max: 3 }).chain((k) => {
		const routeIndex = fc.integer({ min: 0, max: n - 1 });
		const route = fc.record({
			name: pick(ROUTE_NAMES),
			circuit: pick(CIRCUITS),
			caps: fc.array(
				fc.record({
					cap: fc.integer({ min: 0, max: CAPS.length - 1 }),
					limit: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(Infinity)),
				}),
				{ maxLength: 2 },
			),
		});
		const cls: fc.Arbitrary<AllocClass> = fc
			.shuffledSubarray([...Array(n).keys()])
			.chain((candidates) =>
				fc.record({
					counterKey: pick(COUNTERS),
					cycle: fc.array(routeIndex, { minLength: 1, maxLength: 6 }),
					repeat: fc.integer({ min: 1, max: 3 }),
					candidates: fc.constant(candidates),
					weights: fc.array(fc.constantFrom(1, 2, 3, 0.5, 1 / 3, 1e-9), {
						minLength: candidates.length,
						maxLength: candidates.length,
					}),
					spill: fc.constantFrom('weights' as const, 'priority' as const),
				}),
			);
		const item: fc.Arbitrary<AllocItem> = fc.record(
			{
				cls: fc.integer({ min: 0, max: k - 1 }),
				key: pick(ITEM_KEYS),
				prefer: routeIndex,
				group: fc.integer({ min: 0, max: ALLOC_GROUPS.length - 1 }),
			},
			{ requiredKeys: ['cls'] },
		);
		return fc.record({
			op: fc.constant('allocate' as const),
			scope: pick(SCOPES),
			stickyKey: pick(PARTITIONS),
			routes: fc.array(route, { minLength: n, maxLength: n }),
			classes: fc.array(cls, { minLength: k, maxLength: k }),
			items: fc.array(item, { maxLength: 12 }),
			groups: fc.option(fc.constant(ALLOC_GROUPS), { nil: undefined }),
			dryRun: fc.integer({ min: 0, max: 3 }).map((d) => d === 0),
			ttlMs: fc.constantFrom(HOUR, DAY),
		});
	}),
);

const policy: fc.Arbitrary<HealthPolicy> = fc.record({
	failureThreshold: fc.integer({ min: 1, max: 3 }),
	baseEjectionMs: fc.constantFrom(10 * SEC, 40 * SEC),
	maxEjectionMs: fc.constantFrom(20 * SEC, 10 * MIN),
	backoff: fc.constantFrom(1, 2),
	jitter: fc.constantFrom(0.8, 1, 1.25),
});

const rateLimit: fc.Arbitrary<RateLimit> = fc.record({
	key: pick(RATE_KEYS),
	intervalMs: fc.constantFrom(10 * SEC, 20 * SEC, 60 * SEC),
	burst: fc.integer({ min: 1, max: 4 }),
});

/** a settlement of a duplicate marker, for settleOnce and the send step alike */
const settlement: fc.Arbitrary<OnceSettlement> = fc.record(
	{
		key: pick(ONCE_KEYS),
		token: pick(TOKENS),
		outcome: fc.constantFrom(
			'sent' as const,
			'partial' as const,
			'release' as const,
			'doubt' as const,
		),
		delivered: fc.array(pick(['dA', 'dB', 'dC']), { minLength: 1, maxLength: 2 }),
	},
	{ requiredKeys: ['key', 'token', 'outcome'] },
);

const command: fc.Arbitrary<Command> = fc.oneof(
	{ arbitrary: allocateCommand, weight: 6 },
	{
		arbitrary: fc.record({
			op: fc.constant('capUsage' as const),
			scope: pick(SCOPES),
			keys: some(CAPS.map((c) => c.key).concat('d:9:none')),
		}),
		weight: 2,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('reserveRate' as const),
			limits: fc.array(rateLimit, { maxLength: 3 }),
			cost: fc.oneof({ arbitrary: fc.constant(1), weight: 3 }, fc.integer({ min: 2, max: 3 })),
			// 0: only what is free now; the others between the 10 s steps slots come in
			maxWaitMs: fc.constantFrom(0, 0, 15 * SEC, 45 * SEC, 5 * MIN, Infinity),
		}),
		weight: 6,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('setRouteLimits' as const),
			scope: pick(SCOPES),
			entries: fc.array(
				fc.record({
					route: pick(ROUTE_NAMES),
					limit: fc.option(
						fc.record({
							limit: fc.constantFrom(1, 60, 2.5),
							per: fc.constantFrom('second', 'minute', 'hour'),
							kind: fc.constantFrom('connection' as const, 'credential' as const),
						}),
						{ nil: null, freq: 3 },
					),
				}),
				{ maxLength: 3 },
			),
			ttlMs: fc.constantFrom(HOUR, DAY),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('getRouteLimits' as const),
			scope: pick(SCOPES),
			routes: some(ROUTE_NAMES),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('setWarmup' as const),
			scope: pick(SCOPES),
			entries: fc.array(
				fc.record({
					route: pick(ROUTE_NAMES),
					warmup: fc.option(
						fc.record({
							day: fc.integer({ min: 0, max: 40 }),
							date: fc.constantFrom('2026-12-01', '2026-12-02'),
							cap: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: null }),
							sharePercent: fc.constantFrom(0, 10, 100),
							endsAt: fc.constantFrom(HOUR, DAY),
							at: fc.constant(0),
						}),
						{ nil: null, freq: 3 },
					),
				}),
				{ maxLength: 3 },
			),
			ttlMs: fc.constantFrom(HOUR, DAY),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('getWarmup' as const),
			scope: pick(SCOPES),
			routes: some(ROUTE_NAMES),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('claimOnce' as const),
			scope: pick(SCOPES),
			keys: some(ONCE_KEYS),
			ttlMs: fc.constantFrom(HOUR, DAY),
			// a lease that outlives the case, or one that has run out at once
			leaseMs: fc.constantFrom(HOUR, 0),
			token: pick(TOKENS),
			takeExpired: fc.boolean(),
		}),
		weight: 2,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('settleOnce' as const),
			scope: pick(SCOPES),
			settlements: fc.array(settlement, { maxLength: 3 }),
			ttlMs: fc.constantFrom(HOUR, DAY),
		}),
		weight: 2,
	},
	{
		// an operator's listing (every page) and release of a campaign's markers
		arbitrary: fc.record({
			op: fc.constant('listOnce' as const),
			scope: pick(SCOPES),
			count: fc.integer({ min: 1, max: 3 }),
			inDoubt: fc.boolean(),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('releaseOnce' as const),
			scope: pick(SCOPES),
			keys: some(ONCE_KEYS, 3),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('listSuppressions' as const),
			list: pick(LISTS),
			count: fc.integer({ min: 1, max: 3 }),
		}),
		weight: 1,
	},
	{
		// a route's pairs, or a campaign's own totals (route '', the campaign as the group)
		arbitrary: fc.record({
			op: fc.constant('clearOutcomes' as const),
			pairs: fc.array(
				fc.oneof(
					fc.record({ route: pick(REP_ROUTES), group: pick(REP_GROUPS) }),
					fc.record({ route: fc.constant(''), group: pick(SCOPES) }),
				),
				{ maxLength: 2 },
			),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('stickyRoutes' as const),
			scope: pick(SCOPES),
			key: pick(ITEM_KEYS),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('recordHealth' as const),
			route: pick(CIRCUITS),
			ok: fc.boolean(),
			policy,
		}),
		weight: 4,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('setCircuit' as const),
			route: pick(CIRCUITS),
			state: fc.option(
				fc.record(
					{
						openUntil: fc.constantFrom<At>('zero', -HOUR, 10 * MIN, HOUR),
						ejections: fc.integer({ min: 0, max: 3 }),
						failures: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
						probing: fc.option(fc.boolean(), { nil: undefined }),
						lastEjectedAt: fc.option(fc.constantFrom<At>('zero', -2 * HOUR, -MIN), {
							nil: undefined,
						}),
					},
					{ requiredKeys: ['openUntil', 'ejections'] },
				),
				{ nil: null, freq: 4 },
			),
		}),
		weight: 2,
	},
	{
		arbitrary: fc.record({ op: fc.constant('getCircuits' as const), routes: some(CIRCUITS) }),
		weight: 1,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('setMx' as const),
			entries: fc.array(
				fc.record({ domain: pick(DOMAINS), value: fc.record({ hosts: some(HOSTS, 2) }) }),
				{ maxLength: 2 },
			),
			ttlMs: fc.constantFrom(HOUR, DAY),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.record({ op: fc.constant('getMx' as const), domains: some(DOMAINS) }),
		weight: 1,
	},
	{
		// the send step: the same rules as settleOnce, claimOnce and reserveRate, in one call
		arbitrary: fc.record({
			op: fc.constant('deliveryStep' as const),
			ttlMs: fc.constantFrom(HOUR, DAY),
			leaseMs: fc.constantFrom(HOUR, 0),
			takeExpired: fc.boolean(),
			maxWaitMs: fc.constantFrom(0, 15 * SEC, 45 * SEC, Infinity),
			settle: fc.array(
				fc.record({
					scope: pick(SCOPES),
					settlement,
				}),
				{ maxLength: 2 },
			),
			claim: fc.array(
				fc.record({ scope: pick(SCOPES), key: pick(ONCE_KEYS), token: pick(TOKENS) }),
				{ maxLength: 2 },
			),
			reserve: fc.array(
				fc.record(
					{
						// cost 1 per reservation: a burst of 1 is always possible
						limits: fc.array(rateLimit, { minLength: 1, maxLength: 2 }),
						marker: fc.record({ scope: pick(SCOPES), key: pick(ONCE_KEYS) }),
					},
					{ requiredKeys: ['limits'] },
				),
				{ maxLength: 3 },
			),
		}),
		weight: 3,
	},
	{
		arbitrary: fc.record({ op: fc.constant('clearScope' as const), scope: pick(SCOPES) }),
		weight: 1,
	},
	{
		// passing entries end before, near or long after now: lapsed, kept, extended, replaced
		arbitrary: fc.record({
			op: fc.constant('suppress' as const),
			list: pick(LISTS),
			entries: fc.array(
				fc.record(
					{
						key: pick(SUPPRESSION_KEYS),
						reason: pick(SUPPRESSION_REASONS),
						at: fc.constantFrom(0, SEC),
						until: fc.constantFrom(-SEC, 30 * SEC, HOUR, DAY),
					},
					{ requiredKeys: ['key', 'reason', 'at'] },
				),
				{ maxLength: 3 },
			),
		}),
		weight: 2,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('recordLedger' as const),
			entries: fc.array(fc.record({ key: pick(LEDGER_KEYS), value: pick(['v1', 'v2']) }), {
				maxLength: 2,
			}),
			ttlMs: fc.constantFrom(HOUR, DAY),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.record({ op: fc.constant('readLedger' as const), keys: some(LEDGER_KEYS, 3) }),
		weight: 1,
	},
	{
		// cooldowns of an hour or none: the clock never decides (see Time above)
		arbitrary: fc.record({
			op: fc.constant('publishAlerts' as const),
			alerts: fc.array(
				fc.record(
					{
						type: fc.constantFrom('route.ejected' as const, 'route.suspended' as const),
						severity: fc.constantFrom('info' as const, 'critical' as const),
						route: pick(REP_ROUTES),
						group: pick(REP_GROUPS),
						campaign: pick(SCOPES),
						rule: fc.constant('r1'),
						reason: fc.constantFrom('x', 'ü 😀 "q"'),
						at: fc.constant('2026-12-01T10:00:00.000Z'),
						until: fc.constant('2026-12-01T11:00:00.000Z'),
					},
					{ requiredKeys: ['type', 'severity', 'route', 'reason', 'at'] },
				),
				{ maxLength: 3 },
			),
			cooldownMs: fc.constantFrom(0, HOUR),
		}),
		weight: 2,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('readAlerts' as const),
			group: pick(ALERT_GROUPS),
			consumer: pick(ALERT_CONSUMERS),
			count: fc.integer({ min: 1, max: 3 }),
		}),
		weight: 2,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('recentAlerts' as const),
			count: fc.integer({ min: 1, max: 4 }),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.record({
			op: fc.constant('ackAlerts' as const),
			group: pick(ALERT_GROUPS),
			ids: fc.array(pick(ALERT_IDS), { maxLength: 3 }),
		}),
		weight: 1,
	},
	{
		// a key twice in one call: new only the first time
		arbitrary: fc.record({
			op: fc.constant('markSeen' as const),
			keys: fc.array(pick(SEEN_KEYS), { maxLength: 3 }),
			ttlMs: fc.constantFrom(HOUR, DAY),
		}),
		weight: 1,
	},
	{
		// now, an hour ago, four hours ago (gone from the minutes, kept in the hours) and nine days
		// ago (gone from both, and from the pair index)
		arbitrary: fc.record({
			op: fc.constant('countOutcomes' as const),
			entries: fc.array(
				fc.record({
					route: pick(REP_ROUTES),
					group: pick(REP_GROUPS),
					counts: fc.record(
						{
							sent: fc.integer({ min: 0, max: 3 }),
							blocked: fc.integer({ min: 0, max: 2 }),
							acceptMsSum: fc.integer({ min: 0, max: 500 }),
							acceptLe250: fc.integer({ min: 0, max: 3 }),
							acceptOver10000: fc.integer({ min: 0, max: 1 }),
						},
						{ requiredKeys: [] },
					),
					at: fc.constantFrom(0, -HOUR, -4 * HOUR, -9 * DAY),
				}),
				{ maxLength: 3 },
			),
		}),
		weight: 1,
	},
	{
		arbitrary: fc.constant({ op: 'listOutcomePairs' as const }),
		weight: 1,
	},
	{
		arbitrary: fc.record({
			op: fc.constantFrom('getSuppressions' as const, 'unsuppress' as const),
			list: pick(LISTS),
			keys: some(SUPPRESSION_KEYS, 3),
		}),
		weight: 1,
	},
	{
		// suspensions and throttles an hour or more away (no answer hangs on a millisecond), guarded
		// ones that meet the half-of-the-routes guard, threshold rules, clears and releases
		arbitrary: fc.record({
			op: fc.constant('updateReputation' as const),
			group: pick(ALLOC_GROUPS),
			changes: fc.array(
				fc.oneof(
					fc.record(
						{
							kind: fc.constant('act' as const),
							route: pick(ROUTE_NAMES),
							action: fc.constantFrom('suspend' as const, 'throttle' as const),
							rule: pick(['r1', 'r2']),
							reason: fc.constant('why'),
							durationMs: fc.constantFrom(HOUR, 3 * HOUR),
							maxDurationMs: fc.constantFrom(HOUR, 12 * HOUR),
							factor: fc.constantFrom(0.5, 0.25, 0.1),
							ratePerMinute: fc.constantFrom(1, 10),
							guarded: fc.boolean(),
							threshold: fc.record({
								count: fc.constantFrom(2, 3),
								periodMs: fc.constantFrom(HOUR),
							}),
							matches: fc.integer({ min: 1, max: 2 }),
						},
						{ requiredKeys: ['kind', 'route', 'action', 'rule', 'reason', 'durationMs'] },
					),
					fc.record({
						kind: fc.constant('clear' as const),
						route: pick(ROUTE_NAMES),
						rule: pick(['r1', 'r2']),
					}),
					fc.record(
						{
							kind: fc.constant('seen' as const),
							route: pick(ROUTE_NAMES),
							evaluated: fc.boolean(),
						},
						{ requiredKeys: ['kind', 'route'] },
					),
					fc.record({ kind: fc.constant('release' as const), route: pick(ROUTE_NAMES) }),
				),
				{ maxLength: 3 },
			),
		}),
		weight: 3,
	},
	{
		// an hour ahead, an hour ago (no pause), or lifted
		arbitrary: fc.record({
			op: fc.constant('setCampaignPause' as const),
			campaign: pick(SCOPES),
			until: fc.constantFrom(HOUR, -HOUR, null),
		}),
		weight: 1,
	},
	{ arbitrary: fc.constantFrom({ op: 'now' as const }, { op: 'hashSecret' as const }), weight: 1 },
);

/** Reads that change nothing, run after every sequence: what each store holds in the end. */
function finalReads(): Command[] {
	const reads: Command[] = [
		{ op: 'getCircuits', routes: CIRCUITS },
		{ op: 'getMx', domains: DOMAINS },
		...SCOPES.map((scope): Command => ({ op: 'capUsage', scope, keys: CAPS.map((c) => c.key) })),
		...SCOPES.map((scope): Command => ({ op: 'getRouteLimits', scope, routes: ROUTE_NAMES })),
		...SCOPES.map((scope): Command => ({ op: 'getWarmup', scope, routes: ROUTE_NAMES })),
		...LISTS.map((list): Command => ({ op: 'getSuppressions', list, keys: SUPPRESSION_KEYS })),
		...LISTS.map((list): Command => ({ op: 'listSuppressions', list, count: 2 })),
		...SCOPES.flatMap((scope) =>
			[false, true].map((inDoubt): Command => ({ op: 'listOnce', scope, count: 2, inDoubt })),
		),
		...SCOPES.flatMap((scope) =>
			ITEM_KEYS.map((key): Command => ({ op: 'stickyRoutes', scope, key })),
		),
		{ op: 'readLedger', keys: LEDGER_KEYS },
		{ op: 'markSeen', keys: SEEN_KEYS, ttlMs: HOUR },
		{ op: 'getCampaignPauses', campaigns: SCOPES },
		{ op: 'recentAlerts', count: 50 },
		// every group's pending alerts (read again), then what is new for it
		...ALERT_GROUPS.flatMap((group) =>
			ALERT_CONSUMERS.map((consumer): Command => ({
				op: 'readAlerts',
				group,
				consumer,
				count: 50,
			})),
		),
		{
			op: 'getReputation',
			pairs: ALLOC_GROUPS.flatMap((group) => ROUTE_NAMES.map((route) => ({ route, group }))),
		},
		...REP_ROUTES.flatMap((route) =>
			REP_GROUPS.flatMap((group) =>
				(['minute', 'hour'] as const).map((resolution): Command => ({
					op: 'readOutcomes',
					route,
					group,
					resolution,
				})),
			),
		),
		{ op: 'listOutcomePairs' },
		// what every rate limit holds: the slot each one alone gives next (burst 1: its whole chain)
		...RATE_KEYS.map((key): Command => ({
			op: 'reserveRate',
			limits: [{ key, intervalMs: 10 * SEC, burst: 1 }],
			cost: 1,
			maxWaitMs: 10 * DAY,
		})),
	];
	// a dry run per campaign and partition: every counter's position (two items per class on a cycle
	// whose every pair of neighbours is unique) and every sticky assignment
	const cycle = [0, 0, 1, 0, 2, 0, 3, 1, 1, 2, 1, 3, 2, 2, 3, 3];
	for (const scope of SCOPES)
		for (const stickyKey of PARTITIONS)
			reads.push({
				op: 'allocate',
				scope,
				stickyKey,
				routes: ROUTE_NAMES.map((name) => ({ name, circuit: `${name}-never-open`, caps: [] })),
				classes: COUNTERS.map((counterKey) => ({
					counterKey,
					cycle,
					repeat: 1,
					candidates: [0, 1, 2, 3],
					weights: [1, 1, 1, 1],
					spill: 'weights',
				})),
				items: [
					...COUNTERS.flatMap((_, cls) => [{ cls }, { cls }]),
					...ITEM_KEYS.map((key) => ({ cls: 0, key })),
				],
				dryRun: true,
				ttlMs: HOUR,
			});
	return reads;
}

type Outcome = { value: unknown } | { error: string };

/** Every page of a listing, its items in key order with repeats dropped (a SCAN may repeat one). */
async function allPages<T extends { key: string }>(
	read: (cursor: string | null) => Promise<{ items: T[]; cursor: string | null }>,
): Promise<T[]> {
	const byKey = new Map<string, T>();
	let cursor: string | null = null;
	for (let pages = 0; ; pages++) {
		if (pages > 1000) throw new Error('a listing that does not end');
		const page = await read(cursor);
		for (const item of page.items) byKey.set(item.key, item);
		if ((cursor = page.cursor) === null) break;
	}
	return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Runs one command on one store; times are offsets from `t0`, the case's start. */
async function run(
	store: StateStore,
	c: Command,
	t0: number,
	secrets: Map<StateStore, string>,
): Promise<Outcome> {
	const at = (t: At) => (t === 'zero' ? 0 : t0 + t);
	try {
		switch (c.op) {
			case 'allocate': {
				const routes: AllocRoute[] = c.routes.map((r) => ({
					name: r.name,
					circuit: r.circuit,
					caps: r.caps.map(({ cap, limit }) => ({
						key: CAPS[cap].key,
						limit,
						resetAt: t0 + CAPS[cap].resetIn,
					})),
				}));
				const req: AllocateRequest = {
					scope: c.scope,
					stickyKey: c.stickyKey,
					routes,
					classes: c.classes,
					items: c.groups ? c.items : c.items.map(({ group: _g, ...item }) => item),
					dryRun: c.dryRun,
					ttlMs: c.ttlMs,
					...(c.groups ? { groups: c.groups } : {}),
				};
				return { value: await store.allocate(req) };
			}
			case 'capUsage':
				return { value: await store.capUsage(c.scope, c.keys) };
			case 'reserveRate':
				return { value: await store.reserveRate(c.limits, c.cost, c.maxWaitMs) };
			case 'setRouteLimits':
				return { value: await store.setRouteLimits(c.scope, c.entries, c.ttlMs) };
			case 'getRouteLimits':
				return { value: await store.getRouteLimits(c.scope, c.routes) };
			case 'setWarmup':
				return { value: await store.setWarmup(c.scope, c.entries, c.ttlMs) };
			case 'getWarmup':
				return { value: await store.getWarmup(c.scope, c.routes) };
			case 'claimOnce': {
				const { scope, op: _op, ...request } = c;
				return { value: await store.claimOnce(scope, { ...request, owner: `run ${c.token}` }) };
			}
			case 'settleOnce':
				return { value: await store.settleOnce(c.scope, c.settlements, c.ttlMs) };
			case 'deliveryStep': {
				const { op: _op, ...request } = c;
				return { value: await store.deliveryStep({ ...request, owner: 'run step' }) };
			}
			case 'listOnce': {
				// every page; in key order (each store pages in its own); a marker's times as clock fields
				const items = await allPages((cursor) =>
					store.listOnce(c.scope, { cursor, count: c.count, inDoubt: c.inDoubt }),
				);
				return {
					value: items.map(({ key, marker }) => {
						const { at, u, ...rest } = marker as typeof marker & { at?: number; u?: number };
						return {
							key,
							...rest,
							...(at === undefined ? {} : { since: at }),
							...(u === undefined ? {} : { leaseUntil: u }),
						};
					}),
				};
			}
			case 'releaseOnce':
				return { value: await store.releaseOnce(c.scope, c.keys) };
			case 'listSuppressions':
				return {
					value: await allPages((cursor) =>
						store.listSuppressions(c.list, { cursor, count: c.count }),
					),
				};
			case 'clearOutcomes':
				return { value: await store.clearOutcomes(c.pairs) };
			case 'stickyRoutes':
				return { value: await store.stickyRoutes(c.scope, c.key) };
			case 'recordHealth':
				return { value: await store.recordHealth(c.route, c.ok, c.policy) };
			case 'setCircuit': {
				if (!c.state) return { value: await store.setCircuit(c.route, null) };
				// absent, undefined and a time stay what they were generated as
				const { lastEjectedAt, ...fields } = c.state;
				const state: CircuitState = { ...fields, openUntil: at(c.state.openUntil) };
				if ('lastEjectedAt' in c.state)
					state.lastEjectedAt = lastEjectedAt === undefined ? undefined : at(lastEjectedAt);
				return { value: await store.setCircuit(c.route, state) };
			}
			case 'getCircuits':
				return { value: await store.getCircuits(c.routes) };
			case 'setMx':
				return { value: await store.setMx(c.entries, c.ttlMs) };
			case 'getMx':
				return { value: await store.getMx(c.domains) };
			case 'clearScope':
				return { value: await store.clearScope(c.scope) };
			case 'suppress':
				return {
					value: await store.suppress(
						c.list,
						c.entries.map((e) => ({
							key: e.key,
							reason: e.reason,
							source: 'differential',
							hint: 'x***@example.com',
							at: t0 + e.at,
							...(e.until === undefined ? {} : { until: t0 + e.until }),
						})),
					),
				};
			case 'getSuppressions':
				return { value: await store.getSuppressions(c.list, c.keys) };
			case 'unsuppress':
				return { value: await store.unsuppress(c.list, c.keys) };
			case 'countOutcomes':
				return {
					value: await store.countOutcomes(c.entries.map((e) => ({ ...e, at: t0 + e.at }))),
				};
			case 'readOutcomes': {
				// the last 5 hours, as buckets relative to the case's start
				const span = c.resolution === 'minute' ? 5 * HOUR : 6 * HOUR;
				const buckets = await store.readOutcomes(
					c.route,
					c.group,
					c.resolution,
					t0 - span,
					t0 + MIN,
				);
				return {
					value: buckets.map((b) => ({ ...b, start: b.start - bucketStart(t0, c.resolution) })),
				};
			}
			case 'listOutcomePairs':
				// lastAt relative to the case's start
				return {
					value: (await store.listOutcomePairs()).map((p) => ({ ...p, lastAt: p.lastAt - t0 })),
				};
			case 'setCampaignPause':
				return {
					value: await store.setCampaignPause(
						c.campaign,
						c.until === null ? null : { until: t0 + c.until, rule: 'r', reason: 'why', since: t0 },
					),
				};
			case 'getCampaignPauses':
				return { value: await store.getCampaignPauses(c.campaigns) };
			case 'updateReputation':
				return { value: await store.updateReputation(c.group, c.changes) };
			case 'getReputation':
				return { value: await store.getReputation(c.pairs) };
			case 'recordLedger':
				return { value: await store.recordLedger(c.entries, c.ttlMs) };
			case 'readLedger':
				return { value: await store.readLedger(c.keys) };
			case 'markSeen':
				return { value: await store.markSeen(c.keys, c.ttlMs) };
			case 'publishAlerts':
				return { value: await store.publishAlerts(c.alerts, c.cooldownMs) };
			case 'readAlerts':
				return { value: await store.readAlerts(c.group, c.consumer, { count: c.count }) };
			case 'recentAlerts':
				return { value: await store.recentAlerts(c.count) };
			case 'ackAlerts':
				return { value: await store.ackAlerts(c.group, c.ids) };
			case 'now':
				return { value: { now: await store.now() } };
			case 'sleep':
				// once per step, not per store: see differential()
				return { value: undefined };
			case 'hashSecret': {
				// each store's own secret: only that it is one, and stays the same
				const secret = await store.hashSecret();
				if (!secrets.has(store)) secrets.set(store, secret);
				return {
					value:
						secret.length >= 32 && secrets.get(store) === secret
							? 'a stable secret'
							: `unstable: ${secret}`,
				};
			}
		}
	} catch (error) {
		return { error: `${(error as Error).name}: ${(error as Error).message}` };
	}
}

/** The first place where two answers differ, or undefined; clock readings within TIME_TOLERANCE. */
function difference(a: unknown, b: unknown, path: string, clock = false): string | undefined {
	if (typeof a === 'number' && typeof b === 'number') {
		const same = clock && a !== 0 && b !== 0 ? Math.abs(a - b) <= TIME_TOLERANCE : a === b;
		return same ? undefined : `${path}: ${a} vs ${b}`;
	}
	if (Array.isArray(a) && Array.isArray(b)) {
		if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
		for (let i = 0; i < a.length; i++) {
			const d = difference(a[i], b[i], `${path}[${i}]`, clock);
			if (d) return d;
		}
		return undefined;
	}
	if (
		a &&
		b &&
		typeof a === 'object' &&
		typeof b === 'object' &&
		!Array.isArray(a) &&
		!Array.isArray(b)
	) {
		// an absent field and an undefined one are the same answer (as for toEqual)
		const keys = (o: object) =>
			Object.keys(o)
				.filter((k) => (o as Record<string, unknown>)[k] !== undefined)
				.sort();
		const ka = keys(a);
		const kb = keys(b);
		if (ka.join() !== kb.join()) return `${path}: fields ${ka.join(',')} vs ${kb.join(',')}`;
		for (const k of ka) {
			const d = difference(
				(a as Record<string, unknown>)[k],
				(b as Record<string, unknown>)[k],
				`${path}.${k}`,
				clock || CLOCK_FIELDS.has(k),
			);
			if (d) return d;
		}
		return undefined;
	}
	return Object.is(a, b) ? undefined : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

interface StoreMaker {
	name: string;
	open(id: number): StateStore;
}

let caseId = 0;

/**
 * One clock reading per call for the stores that take a clock (memory and SQLite): both see the
 * same time for the same call. Rate slots held past a gap (./gcra.ts) depend on whether two calls
 * fell in the same millisecond, so two clocks read a moment apart could tell them apart; the
 * Redis stores read their server's.
 */
let callTime = Date.now();
const callClock = () => callTime;

/** Drives one sequence into a fresh store of each kind, in lockstep; throws at the first difference. */
async function differential(makers: StoreMaker[], commands: Command[]): Promise<void> {
	const id = ++caseId;
	const memory = new MemoryStateStore({ clock: callClock });
	const stores = [memory as StateStore, ...makers.map((m) => m.open(id))];
	const names = ['memory', ...makers.map((m) => m.name)];
	const secrets = new Map<StateStore, string>();
	try {
		const t0 = Date.now();
		const all = [...commands, ...finalReads()];
		for (let i = 0; i < all.length; i++) {
			const c = all[i];
			if (c.op === 'sleep') {
				await new Promise((r) => setTimeout(r, c.ms));
				continue;
			}
			const outcomes: Outcome[] = [];
			callTime = Date.now();
			for (const store of stores) outcomes.push(await run(store, c, t0, secrets));
			for (let s = 1; s < stores.length; s++) {
				const d = difference(outcomes[0], outcomes[s], 'answer');
				if (d) {
					const where =
						i < commands.length
							? `call ${i + 1} of ${commands.length}`
							: `final read ${i - commands.length + 1}`;
					throw new Error(
						`memory and ${names[s]} differ at ${where} (${all[i].op}): ${d}\n  call: ${JSON.stringify(all[i])}\n  memory: ${JSON.stringify(outcomes[0])}\n  ${names[s]}: ${JSON.stringify(outcomes[s])}`,
					);
				}
			}
		}
	} finally {
		await Promise.all(stores.map((s) => s.close()));
	}
}

let server: RedisServer;
let cluster: RedisCluster | undefined;
beforeAll(async () => {
	[server, cluster] = await Promise.all([startRedisServer(), startRedisCluster()]);
}, 60_000);
afterAll(async () => {
	await Promise.all([server?.stop(), cluster?.stop()]);
});

const redis: StoreMaker = {
	name: 'redis',
	open: (id) =>
		new RedisStateStore({
			mode: 'standalone',
			host: '127.0.0.1',
			port: server.port,
			keyPrefix: `diff${id}:`,
		}),
};
const redisCluster: StoreMaker = {
	name: 'redis cluster',
	open: (id) =>
		new RedisStateStore({
			mode: 'cluster',
			host: '127.0.0.1',
			port: cluster!.ports[0],
			nodes: cluster!.nodes,
			keyPrefix: `cdiff${id}:`,
		}),
};

const folders = tempFolders('postal-diff-');
afterAll(() => folders.cleanup());
let sqliteFolder: string | undefined;
const sqlite: StoreMaker = {
	name: 'sqlite',
	open: (id) =>
		new SqliteStateStore({
			file: join((sqliteFolder ??= folders.make()), `${id}.sqlite`),
			clock: callClock,
		}),
};
/** every store the memory store is compared with */
const makers = [redis, redisCluster, ...(hasSqlite ? [sqlite] : [])];
const names = makers.map((m) => m.name).join(', ');

describe(`StateStore differential: memory, ${names} give the same answers`, () => {
	it(`${RUNS.toLocaleString('en')} random call sequences (fast-check, seed ${SEED}; POSTAL_DIFF_SEED to change)`, async () => {
		console.log(
			`StateStore differential: seed ${SEED}, ${RUNS} cases (rerun with POSTAL_DIFF_SEED=${SEED})`,
		);
		await fc.assert(
			fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), (commands) =>
				differential(makers, commands),
			),
			{ numRuns: RUNS, seed: SEED },
		);
	}, 300_000);
});

/** a one-class allocate for the kept cases */
const alloc = (
	over: Partial<Extract<Command, { op: 'allocate' }>> & { items: AllocItem[] },
): Command => ({
	op: 'allocate',
	scope: 'c1',
	stickyKey: 'p1',
	routes: [
		{ name: 'a', circuit: 'c1:a', caps: [{ cap: 0, limit: 2 }] },
		{ name: 'b', circuit: 'c1:b', caps: [] },
	],
	classes: [
		{
			counterKey: 'p1:c1',
			cycle: [0, 1],
			repeat: 1,
			candidates: [0, 1],
			weights: [1, 1],
			spill: 'priority',
		},
	],
	dryRun: false,
	ttlMs: DAY,
	...over,
});
const health: HealthPolicy = {
	failureThreshold: 2,
	baseEjectionMs: 10 * SEC,
	maxEjectionMs: 20 * SEC,
	backoff: 1,
	jitter: 0.8,
};

/**
 * Differences the property found (or that reading the stores showed), kept as plain cases: each
 * failed before its fix. The ones with `sleep` are about TTLs, which no generated case lives to see.
 */
const KEPT: Array<[string, Command[]]> = [
	[
		'setCircuit keeps every field of the state (Redis kept only openUntil and ejections)',
		[
			{
				op: 'setCircuit',
				route: 'c1:a',
				state: { openUntil: 'zero', ejections: 0, lastEjectedAt: 'zero' },
			},
			{
				op: 'setCircuit',
				route: 'c1:b',
				state: { openUntil: -HOUR, ejections: 1, failures: 1, probing: true, lastEjectedAt: -MIN },
			},
			{ op: 'getCircuits', routes: ['c1:a', 'c1:b'] },
			// a probe that fails re-ejects at once
			{ op: 'recordHealth', route: 'c1:b', ok: false, policy: health },
		],
	],
	[
		'a circuit field set to undefined is an absent one (memory answered probing: undefined)',
		[
			{
				op: 'setCircuit',
				route: 'x{y}',
				state: { openUntil: 'zero', ejections: 0, probing: undefined },
			},
			{ op: 'recordHealth', route: 'x{y}', ok: false, policy: health },
		],
	],
	[
		'an unlimited cap window (a long warm-up ramp overflows to Infinity; Redis failed: JSON has no Infinity)',
		[
			alloc({
				routes: [{ name: 'a', circuit: 'c1:a', caps: [{ cap: 0, limit: Infinity }] }],
				classes: [
					{
						counterKey: 'p1:c1',
						cycle: [0],
						repeat: 1,
						candidates: [0],
						weights: [1],
						spill: 'weights',
					},
				],
				items: [{ cls: 0 }, { cls: 0 }],
			}),
		],
	],
	[
		'a cap window outlives the campaign TTL: it ends when its window ends (memory forgot it with the campaign)',
		[
			alloc({ ttlMs: 300, items: [{ cls: 0 }, { cls: 0 }, { cls: 0 }] }),
			{ op: 'sleep', ms: 600 },
			{ op: 'capUsage', scope: 'c1', keys: ['d:1:a'] },
			alloc({ ttlMs: 300, items: [{ cls: 0 }, { cls: 0 }] }),
			{ op: 'capUsage', scope: 'c1', keys: ['d:1:a'] },
		],
	],
	[
		'clearScope forgets a cap window that outlived the campaign TTL (Redis had let the index expire)',
		[
			alloc({ ttlMs: 300, items: [{ cls: 0 }] }),
			{ op: 'sleep', ms: 600 },
			{ op: 'clearScope', scope: 'c1' },
			{ op: 'capUsage', scope: 'c1', keys: ['d:1:a'] },
		],
	],
	[
		"a sticky assignment lives the TTL after its partition's last call, not after it was made (Redis forgot it)",
		[
			alloc({
				ttlMs: 600,
				routes: [
					{ name: 'a', circuit: 'c1:a', caps: [] },
					{ name: 'b', circuit: 'c1:b', caps: [] },
				],
				items: [{ cls: 0, key: 'u1' }],
			}),
			{ op: 'sleep', ms: 400 },
			alloc({
				ttlMs: 600,
				routes: [
					{ name: 'a', circuit: 'c1:a', caps: [] },
					{ name: 'b', circuit: 'c1:b', caps: [] },
				],
				items: [{ cls: 0, key: 'u1' }],
			}),
			{ op: 'sleep', ms: 400 },
			alloc({
				ttlMs: 600,
				routes: [
					{ name: 'a', circuit: 'c1:a', caps: [] },
					{ name: 'b', circuit: 'c1:b', caps: [] },
				],
				items: [{ cls: 0, key: 'u1' }, { cls: 0 }],
			}),
		],
	],
	[
		"a partition's sticky assignments are its own: another partition's calls do not keep them (memory did)",
		[
			alloc({
				ttlMs: 600,
				stickyKey: 'p:2',
				routes: [
					{ name: 'a', circuit: 'c1:a', caps: [] },
					{ name: 'b', circuit: 'c1:b', caps: [] },
				],
				items: [{ cls: 0, key: 'u1' }],
			}),
			{ op: 'sleep', ms: 400 },
			alloc({
				ttlMs: 600,
				routes: [
					{ name: 'a', circuit: 'c1:a', caps: [] },
					{ name: 'b', circuit: 'c1:b', caps: [] },
				],
				items: [{ cls: 0 }],
			}),
			{ op: 'sleep', ms: 400 },
			alloc({
				ttlMs: 600,
				stickyKey: 'p:2',
				routes: [
					{ name: 'a', circuit: 'c1:a', caps: [] },
					{ name: 'b', circuit: 'c1:b', caps: [] },
				],
				items: [{ cls: 0, key: 'u1' }],
			}),
		],
	],
	[
		'rate slots held past a gap: a slow limit sets the slot, the wide one fills around it and skips it',
		[
			...[0, 1].map((): Command => ({
				op: 'reserveRate',
				limits: [
					{ key: 'conn:smtp:n1', intervalMs: 10 * SEC, burst: 1 },
					{ key: 'group:c1:a:yahoo', intervalMs: 50 * SEC, burst: 1 },
				],
				cost: 1,
				maxWaitMs: 10 * MIN,
			})),
			...[0, 1, 2, 3, 4, 5].map((): Command => ({
				op: 'reserveRate',
				limits: [{ key: 'conn:smtp:n1', intervalMs: 10 * SEC, burst: 1 }],
				cost: 1,
				maxWaitMs: 10 * MIN,
			})),
		],
	],
	[
		'a batch larger than the Lua chunks (1,000 sticky reads, 500 sticky writes)',
		[
			alloc({
				routes: [
					{ name: 'a', circuit: 'c1:a', caps: [{ cap: 0, limit: 1200 }] },
					{ name: 'b', circuit: 'c1:b', caps: [] },
				],
				items: Array.from({ length: 2500 }, (_, i) => ({ cls: 0, key: `u${i % 2100}` })),
			}),
			alloc({
				stickyKey: 'p1',
				items: Array.from({ length: 2500 }, (_, i) => ({ cls: 0, key: `u${(i * 7) % 2600}` })),
			}),
		],
	],
];

describe('StateStore differential: kept cases', () => {
	it.each(KEPT)('%s', (_, commands) => differential(makers, commands));
});
