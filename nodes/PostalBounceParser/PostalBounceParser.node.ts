import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { FeedbackInputError, parsePostalEvent, providerEvents } from '../../lib/feedback/input';
import { recordFeedback } from '../../lib/feedback/record';
import { readReport, type ReportResult } from '../../lib/feedback/reports';
import type { FeedbackEvent } from '../../lib/feedback/types';
import {
	REDIS_TEST,
	redisCredentialsFor,
	stateFor,
	stateUnavailableMessage,
	testRedisCredential,
} from '../shared/state';
import { bounceParserProperties } from './description';
import { readBounceParserParameters, type BounceParserParameters } from './options';

/** base64url or base64 text without white space: what "base64url encoded" raw fields hold */
const BASE64_TEXT = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** The message an item carries, as bytes. (Errors carry the item index: n8n's error view adds it.) */
async function messageOf(
	ctx: IExecuteFunctions,
	item: INodeExecutionData,
	index: number,
	p: BounceParserParameters,
): Promise<Buffer> {
	if (p.input === 'binary') {
		if (!item.binary?.[p.binaryProperty])
			throw new NodeOperationError(
				ctx.getNode(),
				`No binary field "${p.binaryProperty}" on the item: set Input Binary Field to the field that holds the .eml file`,
				{ itemIndex: index },
			);
		return ctx.helpers.getBinaryDataBuffer(index, p.binaryProperty);
	}
	const value = item.json[p.field];
	if (typeof value !== 'string' || value === '')
		throw new NodeOperationError(
			ctx.getNode(),
			`No text in the field "${p.field}" of the item: set Field Name to the field that holds the message (the Email Trigger (IMAP) in Raw format uses "raw")`,
			{ itemIndex: index },
		);
	// a long line of base64 alone is an encoded message; a message has line breaks and spaces
	if (value.length >= 16 && BASE64_TEXT.test(value)) return Buffer.from(value, 'base64url');
	return Buffer.from(value, 'latin1');
}

/**
 * Record Events: the events an item holds (a Postal event, or a provider's webhook event read by
 * that provider's normalize). Errors name the field; n8n's error view adds the item.
 */
function recordedEventsOf(
	ctx: IExecuteFunctions,
	item: INodeExecutionData,
	index: number,
	p: BounceParserParameters,
	now: number,
): FeedbackEvent[] {
	try {
		if (p.inputFormat === 'postal')
			return [parsePostalEvent(item.json[p.eventField], p.eventField, now)];
		const payload = p.payloadField ? item.json[p.payloadField] : item.json;
		const where = p.payloadField ? `The field "${p.payloadField}" of the item` : 'The item';
		return providerEvents(p.inputFormat, payload, where, now);
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error, {
			itemIndex: index,
			description: !(error instanceof FeedbackInputError)
				? undefined
				: p.inputFormat === 'postal'
					? 'Record Events with Input Format "Postal Event" reads the event object a Postal Feedback Trigger or Bounce Parser output (postalEvent). Point Event Field at it, or pick the provider whose webhook event the item holds under Input Format.'
					: 'Record Events reads the provider’s webhook event as the provider sends it. Check that Input Format names the provider that sent it and that Payload Field points at the event.',
		});
	}
}

export class PostalBounceParser implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Postal Bounce Parser',
		name: 'postalBounceParser',
		icon: { light: 'file:postalBounceParser.svg', dark: 'file:postalBounceParser.dark.svg' },
		group: ['transform'],
		// 2: State Store Redis defaults to n8n's own Redis credential (version 1 nodes keep ours)
		version: [1, 2],
		defaultVersion: 2,
		subtitle:
			'={{ ($parameter["operation"] === "record" ? "Record events" : "Parse bounces") + ($parameter["updateSuppression"] ? " + suppression list" : "") }}',
		description:
			'Reads bounces and complaints from a bounce mailbox, or records delivery events from other nodes, and suppresses the addresses that bounced or complained',
		defaults: { name: 'Postal Bounce Parser' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [
			{ type: NodeConnectionTypes.Main, displayName: 'Events' },
			{ type: NodeConnectionTypes.Main, displayName: 'Not a Report' },
		],
		// the Redis credential only where a suppression list is written to Redis
		credentials: redisCredentialsFor({ updateSuppression: [false] }),
		properties: bounceParserProperties,
		usableAsTool: true,
	};

	methods = { credentialTest: { [REDIS_TEST]: testRedisCredential } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const p = readBounceParserParameters(this);
		const events: INodeExecutionData[] = [];
		const notReports: INodeExecutionData[] = [];
		/** per event item: its event, for the one suppression call of the run */
		const read: Array<{ event: FeedbackEvent; out: INodeExecutionData }> = [];

		const now = Date.now();
		for (let i = 0; i < items.length; i++) {
			let result: ReportResult | { kind: 'events'; events: FeedbackEvent[] };
			try {
				result =
					p.operation === 'record'
						? { kind: 'events', events: recordedEventsOf(this, items[i], i, p, now) }
						: readReport(await messageOf(this, items[i], i, p), {
								nonStandard: p.options.nonStandard,
							});
			} catch (caught) {
				const error =
					caught instanceof NodeOperationError
						? caught
						: new NodeOperationError(this.getNode(), caught as Error, { itemIndex: i });
				if (!this.continueOnFail()) throw error;
				notReports.push({
					json: { ...items[i].json, postalReport: { error: (error as Error).message } },
					pairedItem: { item: i },
				});
				continue;
			}
			if (result.kind === 'none') {
				notReports.push({
					json: { ...items[i].json, postalReport: { reason: result.reason } },
					pairedItem: { item: i },
				});
				continue;
			}
			for (const event of result.events) {
				const json: IDataObject = { postalEvent: event as unknown as IDataObject };
				// Parse: which kind of report it was (DSN, ARF, free text)
				if (result.kind !== 'events') json.report = result.kind;
				const out: INodeExecutionData = { json, pairedItem: { item: i } };
				events.push(out);
				read.push({ event, out });
			}
		}

		if ((p.updateSuppression || p.options.routeReputation) && read.length > 0) {
			const state = await stateFor(this);
			// linked through the ledger, suppressed, counted (lib/feedback/record.ts)
			const recorded = await recordFeedback(
				state.store,
				read.map((r) => r.event),
				{
					suppression: p.updateSuppression
						? {
								list: p.suppressionList,
								policy: {
									softBounceDays: p.options.softBounceDays,
									minConfidence: p.options.minConfidence,
								},
							}
						: undefined,
					reputation: p.options.routeReputation ? { rules: p.options.reputationRules } : undefined,
				},
			);
			const stopped = recorded.errors.find((e) => e.stopped);
			if (stopped)
				throw new NodeOperationError(
					this.getNode(),
					stateUnavailableMessage(
						stopped.error,
						'The suppression list was not updated: run the node again once the state store is back (the events are read the same way again).',
					),
				);
			for (const failed of recorded.errors)
				this.addExecutionHints?.({
					message:
						failed.stage === 'reputation'
							? `The reputation rules did not run (${failed.error.message}): the suppression list and the counters were updated; the next events act again.`
							: failed.stage === 'alerts'
								? `The reputation changes were made, but their alerts were not published (${failed.error.message}): Postal Alert Triggers miss them.`
								: `The outcome counters were not updated (${failed.error.message}): the suppression list was, and the events are as their items say; route statistics miss them.`,
					type: 'warning',
					location: 'outputPane',
				});
			read.forEach((r, k) => {
				r.out.json.postalEvent = recorded.events[k] as unknown as IDataObject;
				if (recorded.suppression)
					r.out.json.suppression = recorded.suppression.perEvent[k] as IDataObject;
			});
			// what the rules did, on the items of the route × group they did it to
			for (const n of recorded.reputation)
				for (const r of read)
					if (r.event.reference?.route === n.route && r.event.reference.group === n.group) {
						r.out.json.reputation = {
							what: n.what,
							rule: n.rule,
							group: n.group,
							until: new Date(n.until).toISOString(),
							reason: n.reason,
						};
						break;
					}
		}
		return [events, notReports];
	}
}
