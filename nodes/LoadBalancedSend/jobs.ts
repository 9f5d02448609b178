import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { buildMessage, duplicateKey, type AddressMemo } from '../../lib/delivery/message';
import type { DeliveryJob } from '../../lib/delivery/pipeline';
import type { VerpTemplate } from '../../lib/feedback/verp';
import { limitsFor, shareOf, type LimitsInput } from '../../lib/throttle/applicable';
import type { MailAttachment } from '../../lib/transports/types';
import { splitList, type ParameterReader } from '../shared/itemValues';

export interface JobSettings {
	/** what decides an item's rate limits, but for the item's own campaign, route, share and group */
	limits: Omit<LimitsInput, 'campaign' | 'route' | 'share' | 'group'>;
	idempotency: boolean;
	workflowId: string;
	/** where the item's message options are: `options` (versions 1, 2) or `messageOptions` (3) */
	messageOptions: string;
	/** VERP Return Path (SMTP routes with Feedback Tracking) */
	verp?: VerpTemplate;
}

export type ItemJob = { ok: true; job: DeliveryJob } | { ok: false; route: string; error: string };

const pairs = (collection: unknown): Array<{ name: string; value: unknown; route?: string }> =>
	(((collection as IDataObject | undefined)?.values as IDataObject[] | undefined) ?? []).map(
		(v) => ({
			name: String(v.name ?? '').trim(),
			value: v.value,
			route: v.route === undefined ? undefined : String(v.route).trim(),
		}),
	);

/** The route an item is sent on: the node's Route Name, or the partitioner's choice, or the node's name on a backup branch. */
function routeOf(
	ctx: IExecuteFunctions,
	params: ParameterReader,
	item: INodeExecutionData,
	i: number,
): string {
	const named = String(params.get('routeName', i, '') ?? '').trim();
	if (named) return named;
	const json = item.json as IDataObject;
	const assigned = (json.postalRoute as IDataObject | undefined)?.route;
	// an item coming from another send node's Fallback is on a backup route: this node's own
	if (typeof assigned === 'string' && assigned && json.postalDelivery === undefined)
		return assigned;
	return ctx.getNode().name;
}

/** The parsed From and Reply-To of a run: the node makes one reader per run, so one memo per reader. */
const addressMemos = new WeakMap<ParameterReader, AddressMemo>();
function addressMemo(params: ParameterReader): AddressMemo {
	let memo = addressMemos.get(params);
	if (!memo) addressMemos.set(params, (memo = {}));
	return memo;
}

/** Reads one item's message and limits; a problem with the item's data comes back as an error naming the field. */
export async function itemJob(
	ctx: IExecuteFunctions,
	params: ParameterReader,
	item: INodeExecutionData,
	i: number,
	s: JobSettings,
): Promise<ItemJob> {
	const route = routeOf(ctx, params, item, i);
	const options = params.get(s.messageOptions, i, {}) as IDataObject;

	const attachments: MailAttachment[] = [];
	const files = splitList(options.attachments).map((property) => ({ property, inline: false }));
	const inline = splitList(options.inlineImages).map((property) => ({ property, inline: true }));
	for (const { property, inline: isInline } of [...files, ...inline]) {
		const binary = item.binary?.[property];
		if (!binary)
			return {
				ok: false,
				route,
				error: `Item ${i}: ${isInline ? 'Inline Images (CID)' : 'Attachments'}: the item has no binary property "${property}"`,
			};
		attachments.push({
			filename: binary.fileName ?? property,
			contentType: binary.mimeType || 'application/octet-stream',
			content: await ctx.helpers.getBinaryDataBuffer(i, property),
			// referenced from the HTML as cid:<property>
			...(isInline ? { cid: property } : {}),
		});
	}

	const headers: Record<string, unknown> = {};
	for (const h of pairs(params.get('headers', i, {}))) if (h.name) headers[h.name] = h.value;
	for (const h of pairs(params.get('routeHeaders', i, {})))
		if (h.name && h.route === route) headers[h.name] = h.value;
	const metadata: Record<string, unknown> = {};
	for (const m of pairs(params.get('metadata', i, {}))) if (m.name) metadata[m.name] = m.value;

	const built = buildMessage(
		{
			from: params.get('from', i),
			to: params.get('to', i),
			cc: options.cc,
			bcc: options.bcc,
			replyTo: options.replyTo,
			subject: params.get('subject', i, ''),
			text: params.get('text', i, ''),
			html: params.get('html', i, ''),
			headers,
			attachments,
			tags: options.tags,
			metadata,
			maxListAddresses:
				typeof options.maxListAddresses === 'number' ? options.maxListAddresses : undefined,
			listUnsubscribe: { url: options.listUnsubscribeUrl, mailto: options.listUnsubscribeMailto },
		},
		addressMemo(params),
	);
	if (!built.ok) {
		// an empty To on an item the classifier marked invalid: say why it is empty
		const reason = (item.json as IDataObject).invalidReason;
		if (
			built.field === 'To' &&
			typeof reason === 'string' &&
			(item.json as IDataObject).domainGroup === 'invalid'
		)
			return {
				ok: false,
				route,
				error: `Item ${i}: To: the Domain Group Classifier found no valid recipient — ${reason}`,
			};
		return { ok: false, route, error: `Item ${i}: ${built.field}: ${built.reason}` };
	}

	const json = item.json as IDataObject;
	const assignment = json.postalRoute as IDataObject | undefined;
	const campaign = String(assignment?.campaignId ?? '') || s.workflowId;
	const group = typeof json.domainGroup === 'string' ? json.domainGroup.toLowerCase() : undefined;
	// not `{ ...s.limits, campaign, … }`: on Node 20 a spread followed by more keys makes a hidden
	// class per object, and every item would leave one behind in the old generation
	const limits = limitsFor(
		Object.assign({}, s.limits, { campaign, route, share: shareOf(assignment?.rate), group }),
	);

	const message = built.message;
	const messageKey = String(options.messageKey ?? '').trim();
	const job: DeliveryJob = { index: i, message, route, campaign, limits };
	if (group !== undefined) job.group = group;
	if (s.idempotency) job.idempotencyKey = duplicateKey(message, messageKey);
	if (s.verp) job.verp = s.verp;
	return { ok: true, job };
}
