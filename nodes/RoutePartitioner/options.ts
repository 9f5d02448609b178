import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { z } from 'zod';
import {
	booleanDefault,
	booleanField,
	choiceField,
	looseNumberField,
	looseStringField,
	nodeParameter,
	numberDefault,
	parseParameters,
	stringDefault,
	stringField,
} from '../shared/parameters';
import { partitionerProperties as P } from './description';

/**
 * The Options collection, defaults from the description. The values that make the route plan are
 * checked by lib's parseRoutePlan, which names its own errors, so here they are only defaulted.
 */
export const partitionerOptionsSchema = z
	.object({
		fieldKey: stringField(P, 'options.fieldKey'),
		/** 0 = none */
		campaignRate: looseNumberField(P, 'options.campaignRate'),
		campaignRatePer: looseStringField(P, 'options.campaignRatePer'),
		dayStart: stringField(P, 'options.dayStart'),
		stateTtlDays: looseNumberField(P, 'options.stateTtlDays'),
		/** '' = the workflow's */
		timeZone: stringField(P, 'options.timeZone'),
		capacity: choiceField(P, 'options.capacity', ['exact', 'move'] as const),
	})
	.default({});

export type PartitionerOptions = z.output<typeof partitionerOptionsSchema>;

const parametersSchema = z.object({
	dryRun: booleanField(P, 'dryRun'),
	options: partitionerOptionsSchema,
});

/** A route's fields where the parameters have none: n8n fills them in, a direct caller may not. */
export const ROUTE_DEFAULTS = {
	enabled: booleanDefault(P, 'routes.values.enabled'),
	weight: numberDefault(P, 'routes.values.weight'),
	warmup: stringDefault(P, 'routes.values.warmup'),
	warmupStartCap: numberDefault(P, 'routes.values.warmupStartCap'),
	warmupGrowth: numberDefault(P, 'routes.values.warmupGrowth'),
	warmupStartPercent: numberDefault(P, 'routes.values.warmupStartPercent'),
	warmupDays: numberDefault(P, 'routes.values.warmupDays'),
};

export interface PartitionerParameters {
	mode: string;
	outputMode: string;
	dryRun: boolean;
	routes: IDataObject;
	groupRoutes: IDataObject;
	/** checked by parseRoutePlan; undefined in the modes that hide them */
	roundRobinBatch?: unknown;
	sticky?: unknown;
	stickyByHash?: unknown;
	options: PartitionerOptions;
}

/** Reads the node-level parameters (item 0); an error names the field as the node shows it. */
export function readPartitionerParameters(ctx: IExecuteFunctions): PartitionerParameters {
	const get = (name: string) => nodeParameter(ctx, P, name);
	const mode = String(ctx.getNodeParameter('mode', 0));
	const { dryRun, options } = parseParameters(ctx, P, parametersSchema, {
		dryRun: get('dryRun'),
		options: get('options'),
	});
	return {
		mode,
		outputMode: String(get('outputMode')),
		dryRun,
		routes: get('routes') as IDataObject,
		groupRoutes: get('groupRoutes') as IDataObject,
		// hidden in the other modes, where lib's defaults (a batch of 1, not sticky) are what they do
		roundRobinBatch: mode === 'roundRobin' ? get('roundRobinBatch') : undefined,
		sticky: mode === 'percentage' || mode === 'weighted' ? get('sticky') : undefined,
		stickyByHash: mode === 'weighted' ? get('stickyByHash') : undefined,
		options,
	};
}
