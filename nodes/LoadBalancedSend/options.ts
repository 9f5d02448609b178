import { pickedGroup } from '../shared/groups';
import type { IExecuteFunctions } from 'n8n-workflow';
import { z } from 'zod';
import type { DeliveryOptions } from '../../lib/delivery/pipeline';
import type { GroupLimit } from '../../lib/throttle/applicable';
import { parseVerpTemplate } from '../../lib/feedback/verp';
import { RATE_UNIT_NAMES } from '../../lib/throttle/units';
import { reputationRulesField } from '../shared/reputation';
import {
	booleanField,
	choiceField,
	nodeParameter,
	numberField,
	parseParameters,
	stringField,
} from '../shared/parameters';
import { OPTION_GROUPS, sendProperties as P } from './description';

/**
 * The send node's parameters read once per execution (item 0), defaults from the description.
 * Per-item fields (the message, CC, BCC, attachments, tags, message key) are read in jobs.ts.
 */
export const sendParametersSchema = z.object({
	dryRun: booleanField(P, 'dryRun'),
	groupLimits: z
		.object({
			values: z
				.array(
					z.object({
						group: z.unknown(),
						customGroup: z.unknown(),
						messages: z.unknown(),
						per: choiceField(P, 'groupLimits.values.per', RATE_UNIT_NAMES),
					}),
				)
				.default([])
				// an entry without a group or a positive number of messages limits nothing
				.transform((entries) =>
					entries
						.map((g): GroupLimit => ({
							group: pickedGroup(g),
							limit: Number(g.messages),
							per: g.per,
						}))
						.filter((g) => g.group && g.limit > 0),
				),
		})
		.default({}),
	options: z
		.object({
			concurrency: numberField(P, 'options.concurrency'),
			maxAttempts: numberField(P, 'options.maxAttempts'),
			retryBaseMs: numberField(P, 'options.retryBaseMs'),
			retryMaxMs: numberField(P, 'options.retryMaxMs'),
			rateLimit: numberField(P, 'options.rateLimit'),
			rateLimitPer: choiceField(P, 'options.rateLimitPer', RATE_UNIT_NAMES),
			rateBurst: numberField(P, 'options.rateBurst'),
			campaignBurstSeconds: numberField(P, 'options.campaignBurstSeconds'),
			maxRateWaitSeconds: numberField(P, 'options.maxRateWaitSeconds'),
			failureThreshold: numberField(P, 'options.failureThreshold'),
			ejectionSeconds: numberField(P, 'options.ejectionSeconds'),
			maxEjectionSeconds: numberField(P, 'options.maxEjectionSeconds'),
			duplicateWindowDays: numberField(P, 'options.duplicateWindowDays'),
			idempotency: booleanField(P, 'options.idempotency'),
			inDoubt: choiceField(P, 'options.inDoubt', ['resend', 'skip'] as const),
			leaseSeconds: numberField(P, 'options.leaseSeconds'),
			smtpPoolSize: numberField(P, 'options.smtpPoolSize', { int: true }),
			allowUnauthorizedCerts: booleanField(P, 'options.allowUnauthorizedCerts'),
			skipSuppressed: booleanField(P, 'options.skipSuppressed'),
			suppressionList: stringField(P, 'options.suppressionList').transform((s) => s.trim()),
			feedbackTracking: booleanField(P, 'options.feedbackTracking'),
			ledgerDays: numberField(P, 'options.ledgerDays'),
			routeReputation: booleanField(P, 'options.routeReputation'),
			reputationRules: reputationRulesField(P, 'options.reputationRules'),
			pauseCampaign: booleanField(P, 'options.pauseCampaign'),
			campaignPauseHours: numberField(P, 'options.campaignPauseHours'),
			verpReturnPath: stringField(P, 'options.verpReturnPath').transform((s, ctx) => {
				const text = s.trim();
				if (!text) return undefined;
				const read = parseVerpTemplate(text);
				if (read.ok) return read.template;
				ctx.addIssue({ code: 'custom', message: read.problem });
				return z.NEVER;
			}),
		})
		.default({})
		.superRefine((o, ctx) => {
			if (o.verpReturnPath && !o.feedbackTracking)
				ctx.addIssue({
					code: 'custom',
					path: ['verpReturnPath'],
					message:
						'the bounce address carries the message’s reference, which only Feedback Tracking makes: turn Feedback Tracking on, or empty VERP Return Path',
				});
		}),
});

type Parsed = z.output<typeof sendParametersSchema>;
export type SendOptions = Parsed['options'];
export interface SendParameters {
	provider: string;
	dryRun: boolean;
	groupLimits: GroupLimit[];
	options: SendOptions;
}

/** Version 3 keeps the options in groups (description.ts OPTION_GROUPS); earlier versions in one list. */
export const groupsOptions = (ctx: IExecuteFunctions) => ctx.getNode().typeVersion >= 3;

/** The collection an item's message options (CC, Reply-To, attachments …) are in. */
export const messageOptionsOf = (ctx: IExecuteFunctions) =>
	groupsOptions(ctx) ? 'messageOptions' : 'options';

/** Every node-level option, from the one list or from the groups, as one object. */
function nodeOptions(ctx: IExecuteFunctions): unknown {
	if (!groupsOptions(ctx)) return nodeParameter(ctx, P, 'options');
	const merged: Record<string, unknown> = {};
	for (const g of OPTION_GROUPS)
		if (g.name !== 'messageOptions')
			Object.assign(merged, ctx.getNodeParameter(g.name, 0, {}) as Record<string, unknown>);
	return merged;
}

/** Reads and checks the node-level parameters; an error names the field as the node shows it. */
export function readSendParameters(ctx: IExecuteFunctions): SendParameters {
	const raw = {
		dryRun: nodeParameter(ctx, P, 'dryRun'),
		groupLimits: nodeParameter(ctx, P, 'groupLimits'),
		options: nodeOptions(ctx),
	};
	const { dryRun, groupLimits, options } = parseParameters(ctx, P, sendParametersSchema, raw);
	// the provider is checked against the credential types by connectionFor
	return {
		provider: String(ctx.getNodeParameter('provider', 0)),
		dryRun,
		groupLimits: groupLimits.values,
		options,
	};
}

/** The options as the delivery pipeline takes them; `owner` names this run to a later one. */
export function deliverySettings(
	o: SendOptions,
	owner: string,
): Pick<
	DeliveryOptions,
	| 'concurrency'
	| 'retry'
	| 'health'
	| 'maxRateWaitMs'
	| 'duplicates'
	| 'suppression'
	| 'feedback'
	| 'reputation'
> {
	return {
		...(o.skipSuppressed ? { suppression: { list: o.suppressionList } } : {}),
		...(o.feedbackTracking ? { feedback: { ledgerTtlMs: o.ledgerDays * 86_400_000 } } : {}),
		...(o.routeReputation
			? {
					reputation: {
						rules: o.reputationRules,
						...(o.pauseCampaign
							? { pauseCampaign: { pauseMs: o.campaignPauseHours * 3_600_000 } }
							: {}),
					},
				}
			: {}),
		duplicates: {
			ttlMs: o.duplicateWindowDays * 86_400_000,
			leaseMs: o.leaseSeconds * 1000,
			resendInDoubt: o.inDoubt === 'resend',
			owner,
		},
		concurrency: o.concurrency,
		retry: { maxAttempts: o.maxAttempts, baseDelayMs: o.retryBaseMs, maxDelayMs: o.retryMaxMs },
		// backoff and jitter are no options: doubling, ±10%
		health: {
			failureThreshold: o.failureThreshold,
			baseEjectionMs: o.ejectionSeconds * 1000,
			maxEjectionMs: o.maxEjectionSeconds * 1000,
			backoff: 2,
			jitterRatio: 0.1,
		},
		maxRateWaitMs: o.maxRateWaitSeconds * 1000,
	};
}
