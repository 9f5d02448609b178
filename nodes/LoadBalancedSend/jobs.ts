import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { buildMessage } from '../../lib/delivery/message';
import type { DeliveryJob } from '../../lib/delivery/pipeline';
import type { RateUnit } from '../../lib/routing/plan';
import { RATE_UNITS } from '../../lib/routing/plan';
import { duplicateKey } from '../../lib/delivery/message';
import { rateKeys } from '../../lib/state/keys';
import { gcraLimit } from '../../lib/throttle/limits';
import type { RateLimit } from '../../lib/state/types';
import type { MailAttachment } from '../../lib/transports/types';
import { splitList, type ParameterReader } from '../shared/itemValues';

export interface JobSettings {
	/** limits every item of this node shares (the connection's own) */
	connectionLimits: RateLimit[];
	campaignBurstSeconds: number;
	groupLimits: Array<{ group: string; limit: number; per: RateUnit }>;
	idempotency: boolean;
	workflowId: string;
}

export type ItemJob = { ok: true; job: DeliveryJob } | { ok: false; route: string; error: string };

const pairs = (collection: unknown): Array<{ name: string; value: unknown; route?: string }> =>
	(((collection as IDataObject | undefined)?.values as IDataObject[] | undefined) ?? []).map((v) => ({ name: String(v.name ?? '').trim(), value: v.value, route: v.route === undefined ? undefined : String(v.route).trim() }));

/** The route an item is sent on: the node's Route Name, or the partitioner's choice, or the node's name on a backup branch. */
function routeOf(ctx: IExecuteFunctions, params: ParameterReader, item: INodeExecutionData, i: number): string {
	const named = String(params.get('routeName', i, '') ?? '').trim();
	if (named) return named;
	const json = item.json as IDataObject;
	const assigned = (json.postalRoute as IDataObject | undefined)?.route;
	// an item coming from another send node's Fallback is on a backup route: this node's own
	if (typeof assigned === 'string' && assigned && json.postalDelivery === undefined) return assigned;
	return ctx.getNode().name;
}

/** Reads one item's message and limits; a problem with the item's data comes back as an error naming the field. */
export async function itemJob(ctx: IExecuteFunctions, params: ParameterReader, item: INodeExecutionData, i: number, s: JobSettings): Promise<ItemJob> {
	const route = routeOf(ctx, params, item, i);
	const options = params.get('options', i, {}) as IDataObject;

	const attachments: MailAttachment[] = [];
	for (const property of splitList(options.attachments)) {
		const binary = item.binary?.[property];
		if (!binary) return { ok: false, route, error: `Item ${i}: Attachments: the item has no binary property "${property}"` };
		attachments.push({
			filename: binary.fileName ?? property,
			contentType: binary.mimeType || 'application/octet-stream',
			content: await ctx.helpers.getBinaryDataBuffer(i, property),
		});
	}

	const headers: Record<string, unknown> = {};
	for (const h of pairs(params.get('headers', i, {}))) if (h.name) headers[h.name] = h.value;
	for (const h of pairs(params.get('routeHeaders', i, {}))) if (h.name && h.route === route) headers[h.name] = h.value;
	const metadata: Record<string, unknown> = {};
	for (const m of pairs(params.get('metadata', i, {}))) if (m.name) metadata[m.name] = m.value;

	const built = buildMessage({
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
		maxListAddresses: typeof options.maxListAddresses === 'number' ? options.maxListAddresses : undefined,
	});
	if (!built.ok) {
		// an empty To on an item the classifier marked invalid: say why it is empty
		const reason = (item.json as IDataObject).invalidReason;
		if (built.field === 'To' && typeof reason === 'string' && (item.json as IDataObject).domainGroup === 'invalid')
			return { ok: false, route, error: `Item ${i}: To: the Domain Group Classifier found no valid recipient — ${reason}` };
		return { ok: false, route, error: `Item ${i}: ${built.field}: ${built.reason}` };
	}

	const json = item.json as IDataObject;
	const assignment = json.postalRoute as IDataObject | undefined;
	const campaign = String(assignment?.campaignId ?? '') || s.workflowId;
	const limits = [...s.connectionLimits];
	const share = assignment?.rate as { limit?: number; per?: RateUnit } | undefined;
	if (share && typeof share.limit === 'number' && share.limit > 0 && share.per && share.per in RATE_UNITS) {
		const perSecond = (share.limit * 1000) / RATE_UNITS[share.per];
		limits.push(gcraLimit(rateKeys.campaignShare(campaign, route), { limit: share.limit, per: share.per, burst: Math.max(1, Math.floor(perSecond * s.campaignBurstSeconds)) }));
	}
	const group = typeof json.domainGroup === 'string' ? json.domainGroup.toLowerCase() : undefined;
	for (const g of s.groupLimits) if (group && g.group === group) limits.push(gcraLimit(rateKeys.group(campaign, route, group), { limit: g.limit, per: g.per }));

	const message = built.message;
	const messageKey = String(options.messageKey ?? '').trim();
	const job: DeliveryJob = { index: i, message, route, campaign, limits };
	if (s.idempotency) job.idempotencyKey = duplicateKey(message, messageKey);
	return { ok: true, job };
}
