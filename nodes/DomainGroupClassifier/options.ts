import type { IExecuteFunctions } from 'n8n-workflow';
import { z } from 'zod';
import {
	booleanField,
	choiceField,
	nodeParameter,
	numberField,
	parseParameters,
	stringField,
} from '../shared/parameters';
import { classifierProperties as P } from './description';

/** The classifier's parameters read once per execution (item 0), defaults from the description. */
export const classifierParametersSchema = z.object({
	fieldKey: stringField(P, 'fieldKey').transform((s) => s.trim()),
	checkSuppression: booleanField(P, 'checkSuppression'),
	suppressionList: stringField(P, 'suppressionList').transform((s) => s.trim()),
	suppressedAction: choiceField(P, 'suppressedAction', ['flag', 'output'] as const),
	customGroups: z.object({ values: z.array(z.record(z.unknown())).default([]) }).default({}),
	options: z
		.object({
			mxDetection: booleanField(P, 'options.mxDetection'),
			dnsServers: stringField(P, 'options.dnsServers'),
			mxTimeoutMs: numberField(P, 'options.mxTimeoutMs', { int: true }),
			mxConcurrency: numberField(P, 'options.mxConcurrency', { int: true }),
			mxCacheMinutes: numberField(P, 'options.mxCacheMinutes'),
			includeGateways: booleanField(P, 'options.includeGateways'),
		})
		.default({}),
});

export type ClassifierParameters = z.output<typeof classifierParametersSchema> & {
	outputMode: string;
};

/** Reads and checks the node-level parameters; an error names the field as the node shows it. */
export function readClassifierParameters(ctx: IExecuteFunctions): ClassifierParameters {
	const raw = {
		fieldKey: nodeParameter(ctx, P, 'fieldKey'),
		checkSuppression: nodeParameter(ctx, P, 'checkSuppression'),
		suppressionList: nodeParameter(ctx, P, 'suppressionList'),
		suppressedAction: nodeParameter(ctx, P, 'suppressedAction'),
		customGroups: nodeParameter(ctx, P, 'customGroups'),
		options: nodeParameter(ctx, P, 'options'),
	};
	return {
		outputMode: String(nodeParameter(ctx, P, 'outputMode')),
		...parseParameters(ctx, P, classifierParametersSchema, raw),
	};
}
