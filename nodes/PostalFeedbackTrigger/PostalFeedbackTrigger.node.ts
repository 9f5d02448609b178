import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';
import { recordFeedback, type RecordStage } from '../../lib/feedback/record';
import type { FeedbackEvent } from '../../lib/feedback/types';
import {
	UNAVAILABLE,
	webhookProvider,
	WebhookPayloadError,
	type WebhookProvider,
	type WebhookRequest,
} from '../../lib/feedback/webhooks';
import { seenKeys } from '../../lib/state/keys';
import type { StateStore } from '../../lib/state/types';
import {
	REDIS_TEST,
	redisCredentials,
	stateFor,
	stateUnavailableMessage,
	testRedisCredential,
} from '../shared/state';
import { executeView } from '../shared/context';
import { feedbackTriggerProperties } from './description';
import {
	providerSettings,
	readFeedbackTriggerParameters,
	SETTING_LABELS,
	type FeedbackTriggerParameters,
} from './options';
import { rawEvents } from './raw';

/** Longer than any provider retries an event (Resend ≈ 28 h, SendGrid 24 h, the rest less). */
export const SEEN_TTL_MS = 72 * 60 * 60 * 1000;

/** What a failed step left undone, for the log (the provider gets its retry status). */
const NOT_RECORDED: Record<RecordStage, string> = {
	link: 'The message ledger could not be read.',
	suppress: 'The suppression list was not updated; the provider will send the events again.',
	seen: 'The events were not marked as received.',
	count: 'The outcome counters were not updated.',
	reputation: 'The reputation rules did not run; the next events act again.',
	alerts: 'The reputation changes were made, but their alerts were not published.',
};

/** The library names settings as its schemas do; the user sees the panel's labels. */
function labelled(text: string): string {
	return text
		.replace(/"(\w+)"/g, (m, name: string) =>
			SETTING_LABELS[name] ? `"${SETTING_LABELS[name]}"` : m,
		)
		.replace(/(: |; )(\w+)(?:\.(\d+))?(?= )/g, (m, sep: string, name: string, entry?: string) =>
			SETTING_LABELS[name]
				? `${sep}${SETTING_LABELS[name]}${entry === undefined ? '' : ` (entry ${Number(entry) + 1})`}`
				: m,
		);
}

/** Answers the provider ourselves (a refusal or our own failure) and starts no execution. */
function answer(ctx: IWebhookFunctions, status: number, text: string): IWebhookResponseData {
	ctx.getResponseObject().status(status).type('text/plain').send(text).end();
	return { noWebhookResponse: true };
}

/** The request as the library reads it: the bytes the provider signed, not n8n's parsed body. */
function webhookRequest(ctx: IWebhookFunctions): WebhookRequest {
	const req = ctx.getRequestObject();
	const raw = (req as { rawBody?: unknown }).rawBody;
	return {
		headers: req.headers,
		rawBody: Buffer.isBuffer(raw) ? raw : Buffer.alloc(0),
		query: req.query as WebhookRequest['query'],
		// req.ip follows N8N_PROXY_HOPS (Express's trust proxy); the socket's address otherwise
		remoteIp: req.ip ?? req.socket?.remoteAddress,
	};
}

/** The status the chosen provider retries, read before anything else can fail. */
function retryStatusOf(ctx: IWebhookFunctions): number {
	try {
		return webhookProvider(String(ctx.getNodeParameter('provider', ''))).unavailableStatus;
	} catch {
		return UNAVAILABLE;
	}
}

/** The dedupe scope: this trigger's endpoint (its webhook id), so two workflows never share marks. */
function endpointOf(ctx: IWebhookFunctions): string {
	const node = ctx.getNode();
	return node.webhookId ?? `${ctx.getWorkflow().id ?? ''}:${node.id}`;
}

/*
 * No webhookMethods: the user copies the URL into the provider's console (the secrets come from
 * there too); registering it through each provider's API is not done here.
 */
// eslint-disable-next-line @n8n/community-nodes/webhook-lifecycle-complete
export class PostalFeedbackTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Postal Feedback Trigger',
		name: 'postalFeedbackTrigger',
		icon: { light: 'file:postalFeedbackTrigger.svg', dark: 'file:postalFeedbackTrigger.dark.svg' },
		group: ['trigger'],
		// 2: State Store Redis defaults to n8n's own Redis credential (version 1 nodes keep ours)
		version: [1, 2],
		defaultVersion: 2,
		subtitle:
			'={{ "Events from " + ({ ses: "Amazon SES", brevo: "Brevo", mailgun: "Mailgun", postmark: "Postmark", resend: "Resend", sendgrid: "SendGrid", sparkpost: "SparkPost" })[$parameter["provider"]] }}',
		description:
			'Receives delivery events (bounces, complaints, deliveries) from SendGrid, Mailgun, Amazon SES, Postmark, SparkPost, Resend or Brevo, verified, one item per event, and suppresses the addresses that bounced or complained',
		defaults: { name: 'Postal Feedback Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: redisCredentials,
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: 'webhook',
			},
		],
		properties: feedbackTriggerProperties,
	};

	methods = { credentialTest: { [REDIS_TEST]: testRedisCredential } };

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		let p: FeedbackTriggerParameters;
		let provider: WebhookProvider<unknown>;
		let config: unknown;
		try {
			p = readFeedbackTriggerParameters(this);
			provider = webhookProvider(p.provider);
			config = provider.parseConfig(providerSettings(p));
		} catch (error) {
			// a setting the user must fix: answered with the status the provider retries (Brevo drops a
			// 5xx), so nothing is lost meanwhile; the message names the field, never its value
			const message = labelled((error as Error).message);
			this.logger.error(`Postal Feedback Trigger: ${message}`);
			return answer(this, retryStatusOf(this), `Webhook not configured: ${message}`);
		}
		const unavailable = (error: Error, what: string) => {
			this.logger.error(`Postal Feedback Trigger: ${stateUnavailableMessage(error, what)}`);
			// the provider's retried status; no server name to the caller
			return answer(this, provider.unavailableStatus, 'State store unavailable, try again later');
		};

		let store: StateStore;
		try {
			store = (await stateFor(executeView(this))).store;
		} catch (error) {
			return unavailable(error as Error, 'No event was recorded.');
		}
		const endpoint = endpointOf(this);
		const request = webhookRequest(this);

		const verification = await provider.verify(request, config, {
			// Mailgun's replay check, in the same seen-set as the events
			seenToken: async (token) =>
				!(await store.markSeen([seenKeys.token(endpoint, provider.id, token)], SEEN_TTL_MS))[0],
		});
		if (!verification.ok) {
			const reason = labelled(verification.reason);
			this.logger.warn(`Postal Feedback Trigger: refused (${verification.status}): ${reason}`);
			return answer(this, verification.status, reason);
		}

		if (verification.confirmSubscription) {
			// verified and on an allowed topic: confirm, emit nothing (a confirmation is no event)
			try {
				await this.helpers.httpRequest({
					method: 'GET',
					url: verification.confirmSubscription.url,
					timeout: 10_000,
				});
			} catch (error) {
				this.logger.error(
					`Postal Feedback Trigger: could not confirm the SNS subscription to ${verification.confirmSubscription.topicArn}: ${(error as Error).message}`,
				);
				return answer(
					this,
					provider.unavailableStatus,
					'Could not confirm the subscription, try again later',
				);
			}
			this.logger.info(
				`Postal Feedback Trigger: confirmed the SNS subscription to ${verification.confirmSubscription.topicArn}`,
			);
			return { webhookResponse: 'Subscription confirmed' };
		}

		let events: FeedbackEvent[];
		try {
			events = provider.normalize(request);
		} catch (error) {
			if (error instanceof WebhookPayloadError) return answer(this, error.status, error.message);
			// normalize throws on nothing else (its property test): this is a bug, shown as n8n's error
			throw new NodeOperationError(this.getNode(), error as Error);
		}

		// linked through the ledger, suppressed, marked seen, counted (lib/feedback/record.ts): the
		// list is written before the ids are marked, so a failure in between is answered with a retry
		// status and the retry suppresses again (idempotent) instead of being dropped as seen
		const recorded = await recordFeedback(store, events, {
			suppression: p.updateSuppression
				? { list: p.suppressionList, policy: { softBounceDays: p.options.softBounceDays } }
				: undefined,
			markSeen: async (linked) => {
				const ids = linked.map((e, i) => (e.eventId ? i : -1)).filter((i) => i >= 0);
				const marked = await store.markSeen(
					ids.map((i) => seenKeys.event(endpoint, provider.id, linked[i].eventId as string)),
					SEEN_TTL_MS,
				);
				const fresh = linked.map(() => true);
				ids.forEach((i, k) => (fresh[i] = marked[k]));
				return fresh;
			},
			reputation: p.options.routeReputation ? { rules: p.options.reputationRules } : undefined,
		});
		const stopped = recorded.errors.find((e) => e.stopped);
		if (stopped) return unavailable(stopped.error, NOT_RECORDED[stopped.stage]);
		// the counters are stats: a failure there is logged and the provider still gets its 200
		for (const failed of recorded.errors)
			this.logger.warn(
				`Postal Feedback Trigger: ${NOT_RECORDED[failed.stage]} (${failed.error.message})`,
			);
		events = recorded.events;
		const outcome = recorded.suppression;

		const raw = p.options.includeRaw ? rawEvents(provider.id, request.rawBody, events.length) : [];
		const wanted = new Set<string>(p.events);
		const items: INodeExecutionData[] = [];
		events.forEach((event, i) => {
			if (!recorded.fresh[i] || (wanted.size > 0 && !wanted.has(event.type))) return;
			const json: IDataObject = { postalEvent: event as unknown as IDataObject };
			if (outcome) json.suppression = outcome.perEvent[i] as IDataObject;
			if (p.options.includeRaw) json.raw = raw[i] as IDataObject;
			items.push({ json });
		});
		// a redelivery, a ping or only filtered events: 200, and no execution
		if (items.length === 0) return { webhookResponse: 'OK' };
		return { workflowData: [items] };
	}
}
