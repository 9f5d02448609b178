/**
 * The operations node's item-by-item controls that read or change more than one route's
 * reputation: Message (in-doubt messages: list, release, mark sent), Recipient › Look Up, and
 * Suppression › Get Many and Export. Each input item is one request; its answer (or, with
 * Continue On Fail, its error) is paired to it.
 */
import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';
import { listSuppressed, suppressionCsv } from '../../lib/operations/control';
import {
	listInDoubt,
	lookUpRecipients,
	markSent,
	releaseInDoubt,
} from '../../lib/operations/messages';
import { StateUnavailableError, type StateStore } from '../../lib/state/types';
import { stateUnavailableMessage } from '../shared/state';

/** the resources and operations this module runs */
export function isControl(resource: string, operation: string): boolean {
	return (
		resource === 'message' ||
		resource === 'recipient' ||
		(resource === 'suppression' && (operation === 'list' || operation === 'export'))
	);
}

/** The item's text parameter, trimmed; an empty one names the parameter and its fix. */
export function textParameter(
	ctx: IExecuteFunctions,
	name: string,
	label: string,
	i: number,
	fix: string,
): string {
	const value = String(ctx.getNodeParameter(name, i, '') ?? '').trim();
	if (!value)
		throw new NodeOperationError(ctx.getNode(), `${label} is empty`, {
			itemIndex: i,
			description: fix,
		});
	return value;
}

const CAMPAIGN_FIX = 'Give the Route Partitioner’s Campaign ID.';

/** Return All, or Limit (a whole number ≥ 1), and the cursor to go on from. */
function paging(ctx: IExecuteFunctions, i: number): { limit: number; cursor: string | null } {
	if (ctx.getNodeParameter('returnAll', i, false)) return { limit: Infinity, cursor: null };
	const limit = Number(ctx.getNodeParameter('limit', i, 50));
	if (!Number.isInteger(limit) || limit < 1)
		throw new NodeOperationError(
			ctx.getNode(),
			`Limit must be a whole number above 0, not ${limit}`,
			{
				itemIndex: i,
				description: 'Set Limit to how many results to return, or turn on Return All.',
			},
		);
	const cursor = String(ctx.getNodeParameter('cursor', i, '') ?? '').trim();
	return { limit, cursor: cursor || null };
}

/** Return All stopped at a listing's bound: say where to go on. */
function hintIfCut(
	ctx: IExecuteFunctions,
	i: number,
	nextCursor: string | null,
	found: number,
): void {
	if (nextCursor === null || !ctx.getNodeParameter('returnAll', i, false)) return;
	ctx.addExecutionHints?.({
		message: `Return All stopped after ${found} results (one run reads a bounded part of the store): turn Return All off and give the items' nextCursor as Cursor to read on.`,
		type: 'warning',
		location: 'outputPane',
	});
}

/** A store failure is the run's (nothing after it would fare better); any other error is the item's. */
function itemError(ctx: IExecuteFunctions, error: unknown, i: number, what: string): Error {
	if (error instanceof NodeOperationError) return error;
	const e = error as Error;
	if (e instanceof StateUnavailableError)
		return new NodeOperationError(ctx.getNode(), stateUnavailableMessage(e, what), {
			itemIndex: i,
		});
	// a cursor the store did not give, a factor out of range …: named, with the fix
	return new NodeOperationError(ctx.getNode(), e.message, {
		itemIndex: i,
		description: /cursor/.test(e.message)
			? 'Empty Cursor to start from the beginning, or give the nextCursor a previous run returned.'
			: undefined,
	});
}

export async function controlOutput(
	ctx: IExecuteFunctions,
	store: StateStore,
	resource: string,
	operation: string,
	count: number,
): Promise<INodeExecutionData[]> {
	const out: INodeExecutionData[] = [];
	for (let i = 0; i < count; i++) {
		try {
			out.push(...(await one(ctx, store, resource, operation, i)));
		} catch (error) {
			const e = itemError(
				ctx,
				error,
				i,
				operation === 'release' || operation === 'markSent'
					? 'Nothing was changed.'
					: 'Nothing was read.',
			);
			if (!ctx.continueOnFail()) throw e;
			out.push({ json: { error: e.message }, pairedItem: { item: i } });
		}
	}
	return out;
}

async function one(
	ctx: IExecuteFunctions,
	store: StateStore,
	resource: string,
	operation: string,
	i: number,
): Promise<INodeExecutionData[]> {
	const paired = { pairedItem: { item: i } };
	if (resource === 'suppression') {
		const list = String(ctx.getNodeParameter('suppressionList', i, '') ?? '').trim();
		const { limit, cursor } = paging(ctx, i);
		const listed = await listSuppressed(store, list, { limit, cursor });
		const nextCursor = listed.cursor;
		hintIfCut(ctx, i, nextCursor, listed.entries.length);
		if (operation === 'list')
			return listed.entries.map((e) => ({
				json: { list, ...e, nextCursor } as IDataObject,
				...paired,
			}));
		const field = String(ctx.getNodeParameter('binaryPropertyName', i, 'data') || 'data');
		const binary = await ctx.helpers.prepareBinaryData(
			Buffer.from(suppressionCsv(listed.entries), 'utf8'),
			`suppression-list${list ? `-${list.replace(/[^\w.-]+/g, '_')}` : ''}.csv`,
			'text/csv',
		);
		return [
			{
				json: { list, entries: listed.entries.length, nextCursor },
				binary: { [field]: binary },
				...paired,
			},
		];
	}

	const campaign = textParameter(ctx, 'campaign', 'Campaign ID', i, CAMPAIGN_FIX);
	if (resource === 'recipient') {
		const email = textParameter(
			ctx,
			'email',
			'Email',
			i,
			'Set Email to the address, e.g. {{ $json.email }}.',
		);
		const messageKey = String(ctx.getNodeParameter('messageKey', i, '') ?? '').trim();
		const list = String(ctx.getNodeParameter('suppressionList', i, '') ?? '').trim();
		const [answer] = await lookUpRecipients(
			store,
			[{ address: email, campaign, messageKey }],
			list,
		);
		if (!answer.ok)
			throw new NodeOperationError(ctx.getNode(), answer.problem, {
				itemIndex: i,
				description: 'Set Email to one address, e.g. {{ $json.email }}.',
			});
		return [{ json: answer.value as unknown as IDataObject, ...paired }];
	}

	if (operation === 'listInDoubt') {
		const { limit, cursor } = paging(ctx, i);
		const { messages, cursor: nextCursor } = await listInDoubt(store, campaign, { limit, cursor });
		hintIfCut(ctx, i, nextCursor, messages.length);
		return messages.map((m) => ({
			json: { ...m, nextCursor } as unknown as IDataObject,
			...paired,
		}));
	}
	const digest = textParameter(
		ctx,
		'digest',
		'Digest',
		i,
		'Set Digest to the marker digest Get Many In-Doubt gives, e.g. {{ $json.digest }}.',
	);
	if (operation === 'release') {
		const [released] = await releaseInDoubt(store, campaign, [digest]);
		return [{ json: { campaign, digest, released }, ...paired }];
	}
	const days = Number(ctx.getNodeParameter('keepDays', i, 90));
	if (!(days > 0))
		throw new NodeOperationError(ctx.getNode(), 'Keep for (Days) must be above 0', {
			itemIndex: i,
			description: 'Set it to the send node’s Duplicate Protection (Days), e.g. 90.',
		});
	const [before] = await markSent(store, campaign, [digest], days * 86_400_000);
	return [
		{
			json: { campaign, digest, state: 'sent', before: before as unknown as IDataObject },
			...paired,
		},
	];
}
