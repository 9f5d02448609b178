import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type INodeType,
	type INodeTypeDescription,
	type ITriggerFunctions,
	type ITriggerResponse,
} from 'n8n-workflow';
import {
	AlertPoller,
	alertFilterSchema,
	pollAlerts,
	type AlertFilter,
} from '../../lib/alerts/consume';
import type { Alert } from '../../lib/state/types';
import { executeView } from '../shared/context';
import { redisCredentials, REDIS_TEST, stateFor, testRedisCredential } from '../shared/state';
import { alertTriggerProperties } from './description';

/**
 * Starts the workflow with operators' alerts (route ejected, recovered, suspended, throttled,
 * restored; a list-quality threshold, a warm-up cap reached, an A/B verdict), read from the state
 * store's alert log by a consumer group of its own — the workflow id and this node's id — every
 * few seconds, one item per alert. On Redis the group lives in the stream: an alert is delivered
 * once per workflow whichever n8n main reads it, and one read but not acknowledged before a
 * restart is read again first. With a cooldown, the same alert is emitted once per cooldown (the
 * marks in the store, shared by the mains). Alerts the filter or the cooldown drops are
 * acknowledged too; the rest after they are emitted.
 */
export class PostalAlertTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Postal Alert Trigger',
		name: 'postalAlertTrigger',
		icon: { light: 'file:postalAlertTrigger.svg', dark: 'file:postalAlertTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle:
			'={{ "Alerts from " + ($parameter["stateStore"] === "redis" ? "Redis" : "the embedded store") }}',
		description:
			"Starts the workflow when a route is ejected or recovers, a reputation rule suspends, throttles or restores it, a campaign's list quality crosses a bar, a warm-up cap is reached or an A/B comparison reaches a verdict: one item per alert, for Slack, email or Telegram",
		defaults: { name: 'Postal Alert Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: redisCredentials,
		properties: alertTriggerProperties,
	};

	methods = { credentialTest: { [REDIS_TEST]: testRedisCredential } };

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const filter = readFilter(this);
		const seconds = Number(this.getNodeParameter('pollSeconds', 5));
		if (!Number.isFinite(seconds) || seconds < 1)
			throw new NodeOperationError(this.getNode(), 'Poll Interval must be 1 second or more', {
				description: 'Set Poll Interval (Seconds) to a whole number such as 5.',
			});
		const { store } = await stateFor(executeView(this));
		const group = `${this.getWorkflow().id ?? 'workflow'}:${this.getNode().id}`;
		const emit = (alerts: Alert[]) =>
			this.emit([this.helpers.returnJsonArray(alerts.map((a) => ({ ...a }) as IDataObject))]);

		if (this.getMode() === 'manual') {
			// a test run: its own group (so it takes nothing from the active workflow's), waiting for
			// the next alert
			const test = { group: `${group}:test`, consumer: 'test' };
			let stopped = false;
			const manualTriggerFunction = async () => {
				while (!stopped) {
					const { emitted } = await pollAlerts(store, test, filter, emit);
					if (emitted) return;
					await sleep(1000);
				}
			};
			// the group starts at the log's end: made now, it sees the alerts from now on
			await store.readAlerts(test.group, test.consumer, { count: 1 });
			return {
				manualTriggerFunction,
				closeFunction: async () => {
					stopped = true;
				},
			};
		}

		const poller = new AlertPoller(store, { group, consumer: group }, filter, emit, (error) =>
			this.logger.warn(`Postal Alert Trigger: reading alerts failed: ${error.message}`),
		);
		await poller.start(seconds * 1000);
		return { closeFunction: () => poller.stop() };
	}
}

function readFilter(ctx: ITriggerFunctions): AlertFilter {
	const parsed = alertFilterSchema.safeParse({
		types: ctx.getNodeParameter('types', []),
		routes: ctx.getNodeParameter('routes', ''),
		groups: ctx.getNodeParameter('groups', ''),
		minimumSeverity: ctx.getNodeParameter('minimumSeverity', 'info'),
		cooldownMinutes: ctx.getNodeParameter('cooldownMinutes', 0),
	});
	if (!parsed.success)
		throw new NodeOperationError(ctx.getNode(), 'The alert filter is not valid', {
			description: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
		});
	return parsed.data;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
