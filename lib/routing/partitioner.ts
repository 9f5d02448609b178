import { createHash } from 'node:crypto';
import type {
	AllocateResult,
	AllocClass,
	AllocItem,
	AllocRoute,
	CapWindow,
	StateStore,
	WarmupRecord,
} from '../state/types';
import { StateUnavailableError } from '../state/errors';
import { capKeys, circuitName, counterField, recipientDigest } from '../state/keys';
import {
	capacityReason,
	classEntries,
	limitIn,
	moveExcess,
	wholeWeights,
	type CapacityMove,
	type CycleEntry,
} from './capacity';
import { VIA_DEFERRED, VIA_SEQUENCE, VIA_SPILL, VIA_STICKY } from '../state/types';
import { daysBetween, parseDayStart, sendingDay } from './calendar';
import { RATE_UNITS, type RateUnit } from '../throttle/units';
import type { RoutePlan, RouteConfig } from './plan';
import { rendezvousPick } from './rendezvous';
import { percentagesToWeights, quotaCycle, smoothWeightedCycle } from './sequence';
import { dailyLabel, explainSpills, hourlyLabel, isWarmupWindow, reputationReason } from './spill';
import { publishAlerts, warmupCapAlert } from '../alerts/emit';
import { reputationShare } from '../state/reputation';
import { warmupCap, warmupSharePercent } from './warmup';

export interface PartitionInput {
	/** the recipient, normalized (parsing/address mailboxKey): hashed before it is stored */
	key?: string;
	/** the item's domain group, for the group table and route restrictions */
	group?: string;
}

export type AssignedVia =
	| 'sequence'
	| 'sticky'
	| 'spill'
	/** spilled because the route named is suspended or throttled for the item's domain group */
	| 'reputation'
	| 'group-table'
	| 'capacity'
	| 'deferred'
	| 'unroutable';

export interface Assignment {
	/** the route's name; absent when deferred or unroutable */
	route?: string;
	/** index into the plan's routes; -1 when deferred or unroutable */
	routeIndex: number;
	via: AssignedVia;
	/** deferred: when to try again (epoch ms) */
	retryAt?: number;
	/** deferred / unroutable: why; capacity: which route's limit moved it */
	reason?: string;
	/**
	 * the route's share of the campaign rate, when one is set; `campaignLimit` is the campaign's
	 * whole rate (a ceiling for all its routes together), in the same unit
	 */
	rate?: { limit: number; per: RateUnit; intervalMs: number; campaignLimit: number };
}

export interface PartitionerIds {
	/** scopes every counter and sticky assignment */
	campaign: string;
	/** tells two partitioners of one campaign apart (the node's id) */
	partition: string;
}

interface ClassInfo {
	index: number;
	cls: AllocClass;
	tableRoute?: number;
	/** the candidates' weights as configured (spill weights replace 0 by a tiny number) */
	weights: number[];
	/**
	 * with capacity moves: per cycle position, the route whose excess it takes over (-1: none), and
	 * the entries a recipient hash picks from (rendezvous mode)
	 */
	movedFrom?: number[];
	entries?: { entries: CycleEntry[]; weights: number[] };
}

/** The capacity moves of a batch: what moveExcess decided, and why each route gave some away. */
interface Capacity {
	move: CapacityMove;
	reasons: Array<string | undefined>;
}

/*
 * The two records made per item, made by constructors rather than object literals. V8 may
 * pretenure a literal's allocation site (put every object it makes straight into the old
 * generation) when a collection happens to find most of its objects so far alive, as it does
 * when the site's first batch is still in flight; from then on a million short-lived records a run
 * fill the old generation, each keeping its young strings alive through the minor collections,
 * until a full collection marks the whole heap. A constructor has no allocation site to pretenure.
 */

/** an item for the store: a key only when sticky, a route only when preferred (absent otherwise) */
class Item implements AllocItem {
	declare key?: string;
	declare prefer?: number;
	declare group?: number;
	constructor(
		readonly cls: number,
		key?: string,
		prefer?: number,
		group?: number,
	) {
		if (key !== undefined) this.key = key;
		if (prefer !== undefined) this.prefer = prefer;
		if (group !== undefined) this.group = group;
	}
}

/** an item placed on a route; reason and rate are added when they apply */
class Placed implements Assignment {
	constructor(
		readonly route: string,
		readonly routeIndex: number,
		readonly via: AssignedVia,
	) {}
}

function shortHash(s: string): string {
	return createHash('sha1').update(s).digest('base64url').slice(0, 12);
}

/**
 * Turns a route plan into store calls: one `allocate` call per batch, whatever the batch size.
 * Route cycles are precomputed per (eligible routes, weights) and cached.
 */
export class Partitioner {
	private readonly dayStartMinutes: number;
	/** weighted mode with rendezvous hashing: sticky without stored assignments */
	private readonly hashSticky: boolean;
	private readonly cycleCache = new Map<string, number[]>();
	/**
	 * the first failure to publish a warm-up cap alert (after the fact: the items are routed as
	 * their assignments say); the node reports it as a warning
	 */
	alertError?: Error;
	/** routes whose warm-up cap alert this partitioner published (at most one per route per run) */
	private readonly warmupAlerted = new Set<string>();

	constructor(
		readonly plan: RoutePlan,
		private readonly store: StateStore,
		private readonly ids: PartitionerIds,
	) {
		this.dayStartMinutes = parseDayStart(plan.dayStart);
		this.hashSticky = plan.mode === 'weighted' && plan.stickyByHash;
	}

	async assign(
		inputs: readonly PartitionInput[],
		options: { dryRun?: boolean } = {},
	): Promise<Assignment[]> {
		const now = await this.store.now();
		const plan = this.plan;
		const day = sendingDay(now, plan.timeZone, this.dayStartMinutes);
		const dayNumbers = plan.routes.map((r) =>
			r.warmup.kind === 'none' ? 0 : daysBetween(r.warmup.startDate, day.date) + 1,
		);
		const share = plan.routes.map((r, i) =>
			r.enabled ? warmupSharePercent(r.warmup, dayNumbers[i]) : 0,
		);
		/** per route, its cap windows as its settings name them (for spill reasons) */
		const capLabels: string[][] = plan.routes.map(() => []);
		/** per route, whether its first cap window is its warm-up cap for the day */
		const warmupWindows: boolean[] = plan.routes.map(() => false);
		const routes: AllocRoute[] = plan.routes.map((r, i) => ({
			name: r.name,
			circuit: circuitName(this.ids.campaign, r.name),
			caps: this.capWindows(r, dayNumbers[i], share[i], day, now, capLabels[i], (w) => {
				warmupWindows[i] = w;
			}),
		}));
		// what stats and the report show of the warm-up: recorded beside the batch's allocate
		// (an error waits for the allocate's own, so neither goes unhandled)
		const recording = options.dryRun
			? undefined
			: this.recordWarmup(routes, dayNumbers, share, day, now).then(
					() => undefined,
					(error: unknown) => error,
				);
		const capacity = await this.capacity(share);
		// stored sticky assignments are keyed by a keyed hash of the recipient, never the address
		const secret =
			plan.sticky && inputs.some((input) => input.key !== undefined)
				? await this.store.hashSecret()
				: undefined;

		const classes: ClassInfo[] = [];
		const classBySignature = new Map<string, ClassInfo>();
		const classByGroup = new Map<string, ClassInfo | string>();
		const n = inputs.length;
		const items = new Array<AllocItem>(n);
		/** why an item is unroutable (its item has cls -1) */
		const unroutable = new Map<number, string>();
		/** rendezvous mode: the route whose excess a recipient's hash moved it from */
		const hashMoved = new Map<number, number>();
		// the batch's domain groups: each route's reputation for an item's group applies to it
		const groups: string[] = [];
		const groupIndex = new Map<string, number>();
		// a batch is mostly one group after another: the last group's class is kept at hand
		let lastGroup: string | undefined;
		let last: ClassInfo | string | undefined;
		let lastIndex: number | undefined;
		for (let i = 0; i < n; i++) {
			const input = inputs[i];
			let info: ClassInfo | string;
			if (input.group === lastGroup && last !== undefined) info = last;
			else {
				const group = (input.group ?? '').toLowerCase();
				let found = classByGroup.get(group);
				if (found === undefined) {
					found = this.classFor(group, share, classes, classBySignature, capacity);
					classByGroup.set(group, found);
				}
				info = found;
				lastGroup = input.group;
				last = found;
				lastIndex = groupIndex.get(group);
				if (lastIndex === undefined && group !== '') {
					groupIndex.set(group, (lastIndex = groups.length));
					groups.push(group);
				}
			}
			const g = lastIndex;
			if (typeof info === 'string') {
				unroutable.set(i, info);
				items[i] = new Item(-1);
				continue;
			}
			const key = input.key;
			if (key !== undefined && this.hashSticky && info.tableRoute === undefined) {
				const { candidates } = info.cls;
				const k = rendezvousPick(
					key,
					candidates.map((r) => plan.routes[r].name),
					info.weights,
				);
				if (k === -1) {
					items[i] = new Item(info.index, undefined, undefined, g);
					continue;
				}
				const moved = this.hashMove(key, candidates[k], info);
				if (moved !== candidates[k]) hashMoved.set(i, candidates[k]);
				items[i] = new Item(info.index, undefined, moved, g);
				continue;
			}
			items[i] = new Item(
				info.index,
				key !== undefined && secret !== undefined ? recipientDigest(secret, key) : undefined,
				undefined,
				g,
			);
		}

		const routable = unroutable.size ? items.filter((it) => it.cls !== -1) : items;
		const result = routable.length
			? await this.store.allocate({
					scope: this.ids.campaign,
					stickyKey: this.ids.partition,
					routes,
					classes: classes.map((c) => c.cls),
					items: routable,
					...(groups.length ? { groups } : {}),
					dryRun: options.dryRun,
					ttlMs: plan.stateTtlDays * 86_400_000,
				})
			: undefined;

		const unrecorded = await recording;
		if (unrecorded) throw unrecorded;
		const rates = this.rates(share, capacity);
		const names = plan.routes.map((r) => r.name);
		const out = new Array<Assignment>(n);
		/** per class and group: why its deferred items wait (the same for all of them in one call) */
		const deferReasons: string[] = [];
		/** spilled items as pairs: the item, its place in the store's answer */
		const spilled: number[] = [];
		let k = 0;
		for (let i = 0; i < n; i++) {
			const ci = items[i].cls;
			if (ci === -1) {
				out[i] = { routeIndex: -1, via: 'unroutable', reason: unroutable.get(i) };
				continue;
			}
			const r = result!.route[k];
			const v = result!.via[k];
			const info = classes[ci];
			k++;
			if (v === VIA_DEFERRED) {
				out[i] = {
					routeIndex: -1,
					via: 'deferred',
					retryAt: result!.retryAt[k - 1] || now + 60_000,
					reason: (deferReasons[ci * (groups.length + 1) + (items[i].group ?? groups.length)] ??=
						this.deferReason(
							info,
							routes,
							result!,
							items[i].group === undefined
								? undefined
								: { name: groups[items[i].group!], index: items[i].group! },
						)),
				};
				continue;
			}
			const from =
				v !== VIA_SEQUENCE
					? -1
					: (hashMoved.get(i) ??
						(info.movedFrom && result!.pos[k - 1] >= 0
							? info.movedFrom[
									Math.floor(result!.pos[k - 1] / info.cls.repeat) % info.movedFrom.length
								]
							: -1));
			const via: AssignedVia =
				v === VIA_STICKY
					? 'sticky'
					: v === VIA_SPILL
						? 'spill'
						: info.tableRoute !== undefined
							? 'group-table'
							: from !== -1
								? 'capacity'
								: 'sequence';
			const a: Assignment = new Placed(names[r], r, via);
			if (from !== -1) a.reason = capacity!.reasons[from];
			if (rates) a.rate = rates[r];
			out[i] = a;
			if (v === VIA_SPILL) spilled.push(i, k - 1);
		}
		if (spilled.length) {
			const { byReputation: moved, warmupFull } = await explainSpills(spilled, out, {
				items: routable,
				classes: classes.map((c) => c.cls),
				routes,
				labels: capLabels,
				result: result!,
				dryRun: options.dryRun === true,
				capUsage: (keys) => this.store.capUsage(this.ids.campaign, keys),
				groups,
				warmup: warmupWindows,
			});
			// a dry run counted nothing: its caps are not reached, only foreseen
			if (!options.dryRun) await this.warmupAlerts(warmupFull, routes, result!.now || now);
			for (const i of moved) {
				const a = out[i];
				const placed: Assignment = new Placed(a.route!, a.routeIndex, 'reputation');
				placed.reason = a.reason;
				if (a.rate) placed.rate = a.rate;
				out[i] = placed;
			}
		}
		return out;
	}

	/** the warm-up figures this partitioner last recorded (recordWarmup) */
	private warmupRecorded?: string;

	/**
	 * Records each route's warm-up today in the store (a route without one: null), for stats and the
	 * report: the schedule lives only in this plan. One call, only when a route warms up; best
	 * effort — a store that cannot be reached is the allocate's to report, not this record's.
	 */
	private async recordWarmup(
		routes: readonly AllocRoute[],
		dayNumbers: readonly number[],
		share: readonly number[],
		day: { date: string; endsAt: number },
		now: number,
	): Promise<void> {
		const plan = this.plan;
		if (plan.routes.every((r) => r.warmup.kind === 'none')) return;
		const entries = plan.routes.map((r, i): { route: string; warmup: WarmupRecord | null } => {
			if (r.warmup.kind === 'none') return { route: r.name, warmup: null };
			const dailyKey = capKeys.daily(day.date, r.name);
			const daily = routes[i].caps.find((c) => c.key === dailyKey);
			return {
				route: r.name,
				warmup: {
					day: dayNumbers[i],
					date: day.date,
					cap: daily ? daily.limit : null,
					sharePercent: share[i],
					endsAt: day.endsAt,
					at: now,
				},
			};
		});
		// the figures change once a day: a run's later batches would write the same again
		const figures = JSON.stringify(entries.map((e) => e.warmup && { ...e.warmup, at: 0 }));
		if (figures === this.warmupRecorded) return;
		try {
			await this.store.setWarmup(this.ids.campaign, entries, plan.stateTtlDays * 86_400_000);
			this.warmupRecorded = figures;
		} catch (error) {
			if (!(error instanceof StateUnavailableError)) throw error;
		}
	}

	/**
	 * `warmup.cap-reached` for each route whose warm-up cap made items spill, once per route for
	 * this partitioner (one run); the store's cooldown stops repeats across runs. A failure to
	 * publish is kept in `alertError`, never thrown.
	 */
	private async warmupAlerts(
		full: ReadonlyMap<number, string>,
		routes: readonly AllocRoute[],
		now: number,
	): Promise<void> {
		const alerts = [...full]
			.filter(([r]) => !this.warmupAlerted.has(routes[r].name))
			.map(([r, reason]) => {
				this.warmupAlerted.add(routes[r].name);
				return warmupCapAlert(
					this.ids.campaign,
					routes[r].name,
					reason,
					now,
					routes[r].caps[0].resetAt,
				);
			});
		this.alertError ??= await publishAlerts(this.store, alerts);
	}

	private capWindows(
		r: RouteConfig,
		dayNumber: number,
		share: number,
		day: { date: string; endsAt: number },
		now: number,
		/** gets each window's name, for spill reasons */
		labels: string[],
		/** told whether the daily window is the warm-up cap */
		warmupWindow: (isWarmup: boolean) => void,
	): CapWindow[] {
		const caps: CapWindow[] = [];
		let daily = r.dailyCap;
		// a share ramp that has not started yet lets nothing through today
		const w = r.warmup.kind === 'share' && share === 0 ? 0 : warmupCap(r.warmup, dayNumber);
		if (w !== undefined) daily = daily === undefined ? w : Math.min(daily, w);
		if (daily !== undefined) {
			caps.push({ key: capKeys.daily(day.date, r.name), limit: daily, resetAt: day.endsAt });
			const start = r.warmup.kind === 'none' ? undefined : r.warmup.startDate;
			labels.push(dailyLabel(r.dailyCap, w, dayNumber, start));
			warmupWindow(isWarmupWindow(r.dailyCap, w, dayNumber));
		}
		if (r.hourlyCap !== undefined) {
			labels.push(hourlyLabel(r.hourlyCap));
			const hour = Math.floor(now / 3_600_000);
			caps.push({
				key: capKeys.hourly(hour, r.name),
				limit: r.hourlyCap,
				resetAt: (hour + 1) * 3_600_000,
			});
		}
		return caps;
	}

	private eligible(group: string): number[] {
		const out: number[] = [];
		this.plan.routes.forEach((r, i) => {
			if (r.enabled && (r.groups.length === 0 || r.groups.includes(group))) out.push(i);
		});
		return out;
	}

	private baseWeight(i: number): number {
		const r = this.plan.routes[i];
		switch (this.plan.mode) {
			case 'percentage':
				return r.percentage ?? 0;
			case 'weighted':
				return r.weight;
			default:
				return 1;
		}
	}

	/** Whole-number weights for the eligible routes, scaled by today's warm-up share. */
	private weights(eligible: number[], share: number[]): number[] {
		const base =
			this.plan.mode === 'percentage'
				? percentagesToWeights(eligible.map((i) => this.baseWeight(i)))
				: eligible.map((i) => this.baseWeight(i));
		return base.map((w, k) => w * share[eligible[k]]);
	}

	/** Groups with the same eligible routes and weights share one class, so they share one sequence. */
	private classFor(
		group: string,
		share: number[],
		classes: ClassInfo[],
		bySignature: Map<string, ClassInfo>,
		capacity?: Capacity,
	): ClassInfo | string {
		const plan = this.plan;
		const eligible = this.eligible(group);
		const tableEntry = plan.groupRoutes.find((g) => g.group === group);
		const tableRoute = tableEntry ? plan.routes.findIndex((r) => r.name === tableEntry.route) : -1;
		if (eligible.length === 0 && tableRoute === -1)
			return `no enabled route accepts the domain group "${group || '(none)'}"`;

		let weights = this.weights(eligible, share);
		let candidates = eligible;
		if (weights.every((w) => w === 0)) {
			// every eligible route is before its warm-up start: their zero caps defer the item
			weights = eligible.map(() => 1);
		}
		let cycle: number[];
		let repeat = 1;
		let entries: ClassInfo['entries'];
		let movedFrom: number[] | undefined;
		let moveSignature = '';
		let spillFrom: number[] | undefined;
		const spill: AllocClass['spill'] =
			plan.mode === 'failover' || plan.mode === 'single' ? 'priority' : 'weights';
		if (tableRoute !== -1) {
			cycle = [tableRoute];
			candidates = [tableRoute, ...eligible.filter((i) => i !== tableRoute)];
			weights = [
				1,
				...this.weights(
					eligible.filter((i) => i !== tableRoute),
					share,
				),
			];
		} else if (plan.mode === 'single') {
			candidates = [eligible[0]];
			weights = [1];
			cycle = [eligible[0]];
		} else if (plan.mode === 'failover') {
			cycle = [eligible[0]];
		} else if (plan.mode === 'roundRobin') {
			cycle = eligible.filter((_, k) => weights[k] > 0);
			if (cycle.length === 0) cycle = eligible;
			repeat = plan.roundRobinBatch;
		} else if (capacity) {
			// the sequence runs over entries: each route's own part and the parts it takes over
			entries = classEntries(candidates, weights, capacity.move);
			const whole = wholeWeights(entries.weights);
			const sig = `${plan.mode}|${entries.entries.map((e) => `${e.route}<${e.from}`).join(',')}|${whole.join(',')}`;
			let local = this.cycleCache.get(sig);
			if (!local) {
				local = plan.mode === 'percentage' ? quotaCycle(whole) : smoothWeightedCycle(whole);
				this.cycleCache.set(sig, local);
			}
			cycle = local.map((k) => entries!.entries[k].route);
			movedFrom = local.map((k) => entries!.entries[k].from);
			// spills follow what each route takes now
			spillFrom = candidates.map((r) =>
				entries!.entries.reduce((sum, e, k) => sum + (e.route === r ? entries!.weights[k] : 0), 0),
			);
			moveSignature = `|moves:${sig}`;
		} else {
			const sig = `${plan.mode}|${weights.join(',')}`;
			let local = this.cycleCache.get(sig);
			if (!local) {
				local = plan.mode === 'percentage' ? quotaCycle(weights) : smoothWeightedCycle(weights);
				this.cycleCache.set(sig, local);
			}
			cycle = local.map((k) => eligible[k]);
		}
		// spill weights must be positive for every candidate that may take spill
		const spillWeights = (spillFrom ?? weights).map((w) => (w > 0 ? w : 1e-9));
		const signature = `${plan.mode}|${repeat}|${candidates.map((i) => plan.routes[i].name).join('\u0000')}|${weights.join(',')}|${tableRoute}${moveSignature}`;
		const existing = bySignature.get(signature);
		if (existing) return existing;
		const info: ClassInfo = {
			index: classes.length,
			cls: {
				counterKey: counterField(this.ids.partition, shortHash(signature)),
				cycle,
				repeat,
				candidates,
				weights: spillWeights,
				spill,
			},
			tableRoute: tableRoute === -1 ? undefined : tableRoute,
			weights,
			movedFrom,
			entries,
		};
		classes.push(info);
		bySignature.set(signature, info);
		return info;
	}

	private deferReason(
		info: ClassInfo,
		routes: AllocRoute[],
		result: AllocateResult,
		group?: { name: string; index: number },
	): string {
		const { openUntil } = result;
		const names = info.cls.candidates.map((i) => routes[i].name);
		const open = info.cls.candidates.filter((i) => openUntil[i] > 0).map((i) => routes[i].name);
		// the candidates suspended for the group (a share of 0), in the words of reputationReason
		const suspended = group
			? info.cls.candidates.flatMap((i) => {
					const state = result.reputation?.[group.index][i] ?? null;
					return state && reputationShare(state, result.now) === 0
						? [reputationReason(routes[i].name, group.name, state, result.now)!]
						: [];
				})
			: [];
		if (suspended.length === names.length)
			return `every route is suspended for ${group!.name}: ${suspended.join('; ')}`;
		if (open.length === names.length) return `every route is unhealthy (${names.join(', ')})`;
		if (open.length + suspended.length >= names.length && suspended.length)
			return `no route can take ${group!.name} now: ${suspended.join('; ')}${open.length ? `; unhealthy: ${open.join(', ')}` : ''}`;
		return `no route has room today (${names.join(', ')}): caps reached${open.length ? `, unhealthy: ${open.join(', ')}` : ''}${suspended.length ? `; ${suspended.join('; ')}` : ''}`;
	}

	/** The routes' shares of the campaign rate (0 for a disabled route), in the campaign's unit. */
	private shares(share: number[]): number[] | undefined {
		const rate = this.plan.campaignRate;
		if (!rate) return undefined;
		const all = this.plan.routes.map((_, i) => i).filter((i) => this.plan.routes[i].enabled);
		const whole = this.plan.mode === 'single' || this.plan.mode === 'failover';
		const w = whole ? all.map(() => 1) : this.weights(all, share);
		const total = whole ? 1 : w.reduce((a, b) => a + b, 0);
		const out = this.plan.routes.map(() => 0);
		all.forEach((i, k) => (out[i] = total > 0 ? (rate.limit * w[k]) / total : 0));
		return out;
	}

	/**
	 * With "Move the excess to routes with room" (splitting modes, a campaign rate): the routes'
	 * limits their send nodes reported, and what moves where. One store read per batch.
	 */
	private async capacity(share: number[]): Promise<Capacity | undefined> {
		const plan = this.plan;
		const rate = plan.campaignRate;
		if (
			plan.capacity !== 'move' ||
			!rate ||
			(plan.mode !== 'percentage' && plan.mode !== 'weighted')
		)
			return undefined;
		const shares = this.shares(share)!;
		const reported = await this.store.getRouteLimits(
			this.ids.campaign,
			plan.routes.map((r) => r.name),
		);
		const limits = reported.map((l) => limitIn(l, rate.per));
		const move = moveExcess(shares, limits);
		if (move.keep.every((k) => k === 1)) return undefined;
		const reasons = plan.routes.map((r, i) =>
			move.keep[i] < 1
				? capacityReason(r.name, reported[i]?.kind ?? 'own', limits[i]!, shares[i], rate.per)
				: undefined,
		);
		return { move, reasons };
	}

	/** Rendezvous mode: a recipient whose hash picked a route below its share may move on, by a second hash. */
	private hashMove(key: string, picked: number, info: ClassInfo): number {
		const parts = info.entries;
		if (!parts) return picked;
		const own = parts.entries.findIndex((e) => e.route === picked && e.from === -1);
		const taken = parts.entries
			.map((e, k) => [e, k] as const)
			.filter(([e]) => e.from === picked)
			.map(([, k]) => k);
		if (taken.length === 0) return picked;
		const options = own === -1 ? taken : [own, ...taken];
		const k = rendezvousPick(
			`${key}\u0000capacity`,
			options.map((o) => this.plan.routes[parts.entries[o].route].name),
			options.map((o) => parts.weights[o]),
		);
		return k === -1 ? picked : parts.entries[options[k]].route;
	}

	/** Each route's share of the campaign rate (after capacity moves), with the whole rate. */
	private rates(share: number[], capacity?: Capacity): Assignment['rate'][] | undefined {
		const rate = this.plan.campaignRate;
		const shares = this.shares(share);
		if (!rate || !shares) return undefined;
		const limits = capacity ? capacity.move.rates : shares;
		return this.plan.routes.map((r, i) =>
			r.enabled
				? {
						limit: Math.round(limits[i] * 1000) / 1000,
						per: rate.per,
						intervalMs: RATE_UNITS[rate.per],
						campaignLimit: rate.limit,
					}
				: undefined,
		);
	}
}
