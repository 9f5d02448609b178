import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { partitionerOutputs } from './outputs';
import { mailboxKey, parseAddress } from '../../lib/domains/address';
import { Partitioner, type Assignment, type PartitionInput } from '../../lib/routing/partitioner';
import { parseRoutePlan, PlanError, type RoutePlan } from '../../lib/routing/plan';
import { StateUnavailableError } from '../../lib/state/types';
import { perItemValues } from '../shared/itemValues';
import { withField } from '../shared/json';
import {
	REDIS_TEST,
	redisCredentials,
	stateFor,
	stateUnavailableMessage,
	testRedisCredential,
} from '../shared/state';
import { partitionerProperties } from './description';
import { readPartitionerParameters } from './options';
import { PLAN_FIELD_LABELS, planInputFromParameters } from './plan';

/** The sticky key: the mailbox, read by the package's one address parser, case-insensitive. */
function recipientKey(raw: unknown): string | undefined {
	const parsed = parseAddress(raw);
	if (parsed.ok) return mailboxKey(parsed);
	const s = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
	return s || undefined;
}

const LOCAL_STATE_MARK = 'Redis was unreachable: routed on this process’s local state';

/**
 * The item's `postalRoute`. The two shapes nearly every item has (a route; a route in a dry run)
 * are written as one literal: its fields live in the object itself, where fields added one by one
 * after a literal go to a second block (~24 bytes more an item, kept in the run data).
 */
function routeRecord(
	campaignId: string,
	mode: string,
	a: Assignment,
	dryRun: boolean,
	usedFallback: boolean,
): IDataObject {
	const { via, route } = a;
	if (route !== undefined && a.retryAt === undefined && !a.reason && !a.rate && !usedFallback)
		return dryRun
			? { campaignId, mode, via, route, dryRun: true }
			: { campaignId, mode, via, route };
	const record: IDataObject = { campaignId, mode, via };
	if (route !== undefined) record.route = route;
	if (a.retryAt !== undefined) record.retryAt = new Date(a.retryAt).toISOString();
	if (a.reason) record.reason = a.reason;
	if (a.rate) record.rate = { ...a.rate };
	if (dryRun) record.dryRun = true;
	if (usedFallback) record.stateFallback = LOCAL_STATE_MARK;
	return record;
}

export class RoutePartitioner implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Route Partitioner',
		name: 'routePartitioner',
		icon: { light: 'file:routePartitioner.svg', dark: 'file:routePartitioner.dark.svg' },
		group: ['transform'],
		// 2: State Store Redis defaults to n8n's own Redis credential (version 1 nodes keep ours)
		version: [1, 2],
		defaultVersion: 2,
		subtitle:
			'={{ {single: "Single route", percentage: "Percentage split", roundRobin: "Round robin", weighted: "Weighted", failover: "Failover"}[$parameter["mode"]] }}',
		description:
			'Splits recipients across routes exactly (percentage, round robin, weight, failover) with warm-up caps and health',
		defaults: { name: 'Route Partitioner' },
		inputs: [NodeConnectionTypes.Main],
		credentials: redisCredentials,
		outputs: `={{(${partitionerOutputs.toString()})($parameter).map(name => ({ type: 'main', displayName: name }))}}`,
		properties: partitionerProperties,
	};

	methods = { credentialTest: { [REDIS_TEST]: testRedisCredential } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const node = this.getNode();
		const parameters = readPartitionerParameters(this);
		const { mode, outputMode, dryRun, options } = parameters;
		const fieldKey = options.fieldKey;

		let plan: RoutePlan;
		try {
			plan = parseRoutePlan(
				planInputFromParameters({ ...parameters, workflowTimeZone: this.getTimezone() }),
			);
		} catch (error) {
			if (error instanceof PlanError)
				throw new NodeOperationError(
					node,
					`${PLAN_FIELD_LABELS[error.field] ?? error.field}: ${error.message}`,
					{ description: error.hint },
				);
			throw new NodeOperationError(node, error as Error);
		}

		const keyed = plan.sticky || plan.stickyByHash;
		const recipients = keyed ? perItemValues(this, 'recipient', items) : undefined;
		const groups = perItemValues(this, 'domainGroup', items);
		const campaigns = perItemValues(this, 'campaignId', items);

		// items of one campaign go to the store in one call. Nearly every batch is one campaign: its
		// items are all of them, and no list of their indices is made
		let only: string | undefined;
		let byCampaign: Map<string, number[]> | undefined;
		campaigns.forEach((c, i) => {
			const id = c === undefined || c === null ? '' : String(c).trim();
			if (!id)
				// n8n's error view adds "[item i]" to the message from itemIndex
				throw new NodeOperationError(node, 'Campaign ID is empty', {
					itemIndex: i,
					description:
						'Set Campaign ID, or leave its default ({{ $workflow.id }}); save the workflow so it has an id.',
				});
			if (!byCampaign) {
				if (only === undefined || id === only) {
					only = id;
					return;
				}
				// a second campaign: every item before this one is of the first
				byCampaign = new Map([[only, Array.from({ length: i }, (_, k) => k)]]);
			}
			const list = byCampaign.get(id);
			if (list) list.push(i);
			else byCampaign.set(id, [i]);
		});
		const batches: Array<[string, number[] | undefined]> = byCampaign
			? [...byCampaign]
			: only === undefined
				? []
				: [[only, undefined]];

		let assignments: Assignment[] = byCampaign ? new Array<Assignment>(items.length) : [];
		const state = await stateFor(this);
		const partition = node.id || node.name;
		const inputOf = (i: number): PartitionInput => ({
			key: recipients ? recipientKey(recipients[i]) : undefined,
			group: groups[i] === undefined || groups[i] === null ? '' : String(groups[i]),
		});
		for (const [campaign, indices] of batches) {
			const inputs: PartitionInput[] = indices
				? indices.map(inputOf)
				: items.map((_, i) => inputOf(i));
			let result: Assignment[];
			const partitioner = new Partitioner(plan, state.store, { campaign, partition });
			try {
				result = await partitioner.assign(inputs, { dryRun });
			} catch (error) {
				if (error instanceof RangeError)
					throw new NodeOperationError(node, `Routes: ${error.message}`, {
						description: 'Check the Percentage or Weight of each route under Routes.',
					});
				if (error instanceof StateUnavailableError)
					throw new NodeOperationError(
						node,
						stateUnavailableMessage(
							error,
							'Nothing was routed in this batch: routing without the shared state could send more than a split or cap allows.',
						),
					);
				throw new NodeOperationError(node, error as Error, {
					message: `The route state could not be updated: ${(error as Error).message}`,
				});
			}
			// alerts are the operators', after the fact: a failure to publish one never fails the run
			if (partitioner.alertError)
				this.addExecutionHints?.({
					message: `Alerts: the warm-up cap alert of campaign "${campaign}" could not be published (${partitioner.alertError.message}). The items are routed as their fields say; a Postal Alert Trigger will not hear of it.`,
					type: 'warning',
					location: 'outputPane',
				});
			if (indices) indices.forEach((i, k) => (assignments[i] = result[k]));
			else assignments = result;
		}

		// with fields, every item leaves on the one output in its own place: that list is made at its
		// full length (pushed item by item, a list of 100,000 leaves ~2 MB of outgrown copies)
		const fields = outputMode === 'fields';
		const outputs: INodeExecutionData[][] = fields
			? [new Array<INodeExecutionData>(items.length)]
			: Array.from({ length: plan.routes.length + 1 }, () => []);
		const deferredOutput = outputs.length - 1;
		const place = (k: number, i: number, out: INodeExecutionData) => {
			if (fields) outputs[0][i] = out;
			else outputs[k].push(out);
		};

		items.forEach((item, i) => {
			const a = assignments[i];
			const campaignId = String(campaigns[i]).trim();
			if (a.via === 'unroutable') {
				// the item's index is n8n's to show: its error view adds "[item i]" from itemIndex
				const message = `Routes: ${a.reason}`;
				if (!this.continueOnFail())
					throw new NodeOperationError(node, message, {
						itemIndex: i,
						description:
							'Add a route without a domain-group restriction, or one that lists this group (Routes › Only for Domain Groups).',
					});
				const json = withField(item.json, fieldKey, {
					campaignId,
					status: 'unroutable',
					reason: a.reason,
				});
				json.error = message;
				place(deferredOutput, i, { json, binary: item.binary, pairedItem: { item: i } });
				return;
			}
			const record = routeRecord(campaignId, mode, a, dryRun, state.usedFallback);
			const out: INodeExecutionData = {
				json: withField(item.json, fieldKey, record),
				binary: item.binary,
				pairedItem: { item: i },
			};
			place(a.routeIndex === -1 ? deferredOutput : a.routeIndex, i, out);
		});
		return outputs;
	}
}
