import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import {
	checkAddresses,
	clearCampaignCounters,
	resetCircuits,
	resumeRoutes,
	setWeightFactors,
	suspendRoutes,
	routeStates,
	suppressAddresses,
	unsuppressAddresses,
	type AddressAnswer,
} from '../../lib/operations/control';

import type { SuppressionReason } from '../../lib/state/suppression';
import { SUPPRESSION_REASONS } from '../../lib/state/suppression';
import { pickedGroup } from '../shared/groups';
import {
	REDIS_TEST,
	redisCredentials,
	stateFor,
	stateUnavailableMessage,
	testRedisCredential,
} from '../shared/state';
import { controlOutput, isControl, textParameter as text } from './controls';
import { operationsProperties } from './description';
import { readingOutput } from './reading';

export class PostalOperations implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Postal Operations',
		name: 'postalOperations',
		icon: { light: 'file:postalOperations.svg', dark: 'file:postalOperations.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description:
			'Operate postal routes: stats and A/B verdicts per route and domain group, an HTML report, Prometheus metrics, suspend, resume or down-weight a route for a group, reset its circuit, in-doubt messages, a recipient’s route, and the suppression list',
		defaults: { name: 'Postal Operations' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: redisCredentials,
		properties: operationsProperties,
		usableAsTool: true,
	};

	methods = { credentialTest: { [REDIS_TEST]: testRedisCredential } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const resource = this.getNodeParameter('resource', 0) as string;
		const operation = this.getNodeParameter('operation', 0) as string;
		if (resource === 'campaign') return [await campaignOutput(this, items.length, operation)];
		if (isControl(resource, operation)) {
			const { store } = await stateFor(this);
			return [await controlOutput(this, store, resource, operation, items.length)];
		}
		// stats and reports read every route × group once per execution
		if (resource === 'stats' || resource === 'report') {
			const { store } = await stateFor(this);
			try {
				return [
					await readingOutput(this, store, resource, operation, (error) =>
						this.addExecutionHints?.({
							message: `The verdict stands (and was applied if asked), but its alert was not published (${error.message}): Postal Alert Triggers miss it.`,
							type: 'warning',
							location: 'outputPane',
						}),
					),
				];
			} catch (error) {
				throw error instanceof NodeOperationError
					? error
					: new NodeOperationError(
							this.getNode(),
							stateUnavailableMessage(error as Error, 'Nothing was read.'),
						);
			}
		}
		const out: INodeExecutionData[] = [];
		const failed = (i: number, error: Error) => {
			if (!this.continueOnFail()) throw error;
			out.push({ json: { error: error.message }, pairedItem: { item: i } });
		};

		// every item's request first (an input error names its item), then one store call per batch
		const requests: Array<{ i: number; value: Record<string, unknown> }> = [];
		for (let i = 0; i < items.length; i++) {
			try {
				if (resource === 'route') {
					const route = text(
						this,
						'route',
						'Route',
						i,
						'Give the route’s name as the Route Partitioner and Load-Balanced Send name it.',
					);
					if (operation === 'resetCircuit') {
						const campaign = text(
							this,
							'campaign',
							'Campaign ID',
							i,
							'Circuits are per campaign and route: give the Route Partitioner’s Campaign ID.',
						);
						requests.push({ i, value: { route, campaign } });
						continue;
					}
					const allGroups = Boolean(this.getNodeParameter('allGroups', i, false));
					const group = allGroups
						? ''
						: pickedGroup({
								group: this.getNodeParameter('group', i, ''),
								customGroup: this.getNodeParameter('customGroup', i, ''),
							});
					if (!allGroups && !group)
						throw new NodeOperationError(this.getNode(), 'Domain Group is empty', {
							itemIndex: i,
							description:
								'Reputation is kept per route and domain group: pick the group (or Custom Group… and its name), or turn on Every Domain Group.',
						});
					const value: Record<string, unknown> = { route, group, allGroups };
					if (operation === 'suspend') {
						value.durationMs = Number(this.getNodeParameter('durationMinutes', i, 60)) * 60_000;
						value.reason = String(this.getNodeParameter('reason', i, '') ?? '');
						if (!((value.durationMs as number) > 0))
							throw new NodeOperationError(this.getNode(), 'Duration (Minutes) must be above 0', {
								itemIndex: i,
							});
					}
					if (operation === 'setWeight') {
						const factor = Number(this.getNodeParameter('weightFactor', i, 0.5));
						if (!(factor >= 0 && factor <= 1))
							throw new NodeOperationError(
								this.getNode(),
								`Weight Factor must be from 0 to 1, not ${factor}`,
								{
									itemIndex: i,
									description:
										'It is the share of its traffic the route keeps for the group: 0.5 keeps half, 0 none, 1 all.',
								},
							);
						const hours = Number(this.getNodeParameter('weightHours', i, 24));
						if (!(hours > 0))
							throw new NodeOperationError(this.getNode(), 'Duration (Hours) must be above 0', {
								itemIndex: i,
								description: 'Set how long the weight factor holds, e.g. 24.',
							});
						value.factor = factor;
						value.durationMs = hours * 3_600_000;
						value.reason = String(this.getNodeParameter('reason', i, '') ?? '');
					}
					requests.push({ i, value });
				} else {
					const email = text(
						this,
						'email',
						'Email',
						i,
						'Set Email to the address, e.g. {{ $json.email }}.',
					);
					const value: Record<string, unknown> = { email };
					if (operation === 'add') {
						const reason = String(this.getNodeParameter('suppressionReason', i, 'manual'));
						if (!(SUPPRESSION_REASONS as readonly string[]).includes(reason))
							throw new NodeOperationError(
								this.getNode(),
								`Reason "${reason}" is not one of ${SUPPRESSION_REASONS.join(', ')}`,
								{
									itemIndex: i,
								},
							);
						value.reason = reason as SuppressionReason;
						value.days = Number(this.getNodeParameter('days', i, 0));
					}
					requests.push({ i, value });
				}
			} catch (error) {
				failed(i, error as Error);
			}
		}
		if (requests.length === 0) return [out];

		const { store } = await stateFor(this);
		if (resource === 'route') {
			// Every Domain Group: one request per group the pair index knows for the route
			let groupsOf: Map<string, string[]> | undefined;
			const expanded: typeof requests = [];
			for (const r of requests) {
				if (!r.value.allGroups) {
					expanded.push(r);
					continue;
				}
				try {
					groupsOf ??= await routeGroups(store);
				} catch (error) {
					throw new NodeOperationError(
						this.getNode(),
						stateUnavailableMessage(error as Error, 'Nothing was changed.'),
					);
				}
				const groups = groupsOf.get(r.value.route as string) ?? [];
				if (!groups.length) {
					failed(
						r.i,
						new NodeOperationError(
							this.getNode(),
							`Route "${r.value.route}" has sent to no domain group in the last 8 days`,
							{
								itemIndex: r.i,
								description:
									'Every Domain Group acts on the groups the route has counters for; name the route as the send nodes do, or pick the group.',
							},
						),
					);
					continue;
				}
				for (const group of groups) expanded.push({ i: r.i, value: { ...r.value, group } });
			}
			requests.splice(0, requests.length, ...expanded);
			if (requests.length === 0) return [out];
		}
		const list = String(this.getNodeParameter('suppressionList', 0, '') ?? '').trim();
		let answers: Array<IDataObject | Error>;
		try {
			answers = await run(
				store,
				resource,
				operation,
				list,
				requests.map((r) => r.value),
				(error) =>
					this.addExecutionHints?.({
						message: `The change was made, but its alert was not published (${error.message}): Postal Alert Triggers miss it.`,
						type: 'warning',
						location: 'outputPane',
					}),
			);
		} catch (error) {
			throw new NodeOperationError(
				this.getNode(),
				stateUnavailableMessage(error as Error, 'Nothing was changed.'),
			);
		}
		requests.forEach((r, k) => {
			const a = answers[k];
			if (a instanceof Error)
				failed(r.i, new NodeOperationError(this.getNode(), a, { itemIndex: r.i }));
			else out.push({ json: a, pairedItem: { item: r.i } });
		});
		// in input order
		out.sort(
			(x, y) => (x.pairedItem as { item: number }).item - (y.pairedItem as { item: number }).item,
		);
		return [out];
	}
}

/** Campaign › Get State / Pause / Resume, item by item. */
async function campaignOutput(
	ctx: IExecuteFunctions,
	count: number,
	operation: string,
): Promise<INodeExecutionData[]> {
	const { store } = await stateFor(ctx);
	const out: INodeExecutionData[] = [];
	for (let i = 0; i < count; i++) {
		const campaign = text(
			ctx,
			'campaign',
			'Campaign ID',
			i,
			'Give the Route Partitioner’s Campaign ID.',
		);
		try {
			const now = await store.now();
			if (operation === 'pause') {
				const hours = Number(ctx.getNodeParameter('pauseHours', i, 24));
				const reason =
					String(ctx.getNodeParameter('pauseReason', i, '') ?? '') || 'paused by an operator';
				await store.setCampaignPause(campaign, {
					until: now + hours * 3_600_000,
					rule: 'manual',
					reason,
					since: now,
				});
			} else if (operation === 'resume') await store.setCampaignPause(campaign, null);
			else if (operation === 'clearCounters') await clearCampaignCounters(store, [campaign]);
			const [p] = await store.getCampaignPauses([campaign]);
			const cleared =
				operation === 'clearCounters' ? { cleared: ['list-quality totals', 'pause'] } : {};
			out.push({
				json: p
					? {
							campaign,
							paused: true,
							until: new Date(p.until).toISOString(),
							rule: p.rule,
							reason: p.reason,
							since: new Date(p.since).toISOString(),
						}
					: { campaign, paused: false, ...cleared },
				pairedItem: { item: i },
			});
		} catch (error) {
			throw new NodeOperationError(
				ctx.getNode(),
				stateUnavailableMessage(error as Error, 'Nothing was changed.'),
				{ itemIndex: i },
			);
		}
	}
	return out;
}

/** One store call for the batch; an answer per request (an Error for an address that is none). */
async function run(
	store: Parameters<typeof routeStates>[0],
	resource: string,
	operation: string,
	list: string,
	values: Array<Record<string, unknown>>,
	onAlertError: (error: Error) => void,
): Promise<Array<IDataObject | Error>> {
	if (resource === 'route' && operation === 'resetCircuit') {
		const requests = values as Array<{ route: string; campaign: string }>;
		return (await resetCircuits(store, requests)).map(
			(r, k) =>
				({
					route: requests[k].route,
					campaign: requests[k].campaign,
					circuit: 'closed',
					...r,
				}) as IDataObject,
		);
	}
	if (resource === 'route') {
		const pairs = values as Array<{
			route: string;
			group: string;
			durationMs: number;
			reason: string;
		}>;
		const states =
			operation === 'suspend'
				? await suspendRoutes(store, pairs, onAlertError)
				: operation === 'setWeight'
					? await setWeightFactors(
							store,
							pairs as Array<(typeof pairs)[number] & { factor: number }>,
							onAlertError,
						)
					: operation === 'resume'
						? await resumeRoutes(store, pairs, onAlertError)
						: await routeStates(store, pairs);
		return states.map(
			(s, k) => ({ route: pairs[k].route, group: pairs[k].group, ...s }) as IDataObject,
		);
	}
	const emails = values.map((v) => String(v.email));
	const shape = <T>(a: AddressAnswer<T>, extra: (v: T) => IDataObject) =>
		a.ok ? ({ email: a.address, list, ...extra(a.value) } as IDataObject) : new Error(a.problem);
	if (operation === 'add')
		return (
			await suppressAddresses(
				store,
				list,
				values.map((v) => ({
					address: String(v.email),
					reason: v.reason as SuppressionReason,
					days: Number(v.days),
				})),
			)
		).map((a) => shape(a, (v) => ({ suppressed: true, ...v })));
	if (operation === 'remove')
		return (await unsuppressAddresses(store, list, emails)).map((a) =>
			shape(a, (v) => ({ suppressed: false, removed: v.removed })),
		);
	return (await checkAddresses(store, list, emails)).map((a) =>
		shape(a, (v) => (v ? { suppressed: true, ...v } : { suppressed: false })),
	);
}

/** Route → the domain groups it has counters for (the stats' pair index), sorted. */
async function routeGroups(
	store: Parameters<typeof routeStates>[0],
): Promise<Map<string, string[]>> {
	const byRoute = new Map<string, string[]>();
	for (const p of await store.listOutcomePairs()) {
		if (!p.group) continue;
		const list = byRoute.get(p.route) ?? [];
		if (!list.includes(p.group)) list.push(p.group);
		byRoute.set(p.route, list);
	}
	for (const list of byRoute.values()) list.sort();
	return byRoute;
}
