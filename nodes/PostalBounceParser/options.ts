import type { IExecuteFunctions } from 'n8n-workflow';
import { z } from 'zod';
import { reputationRulesField } from '../shared/reputation';
import {
	booleanField,
	choiceField,
	nodeParameter,
	numberField,
	parseParameters,
	stringField,
} from '../shared/parameters';
import { FEEDBACK_INPUT_FORMATS } from '../../lib/feedback/input';
import { bounceParserProperties as P } from './description';

/** The Bounce Parser's node-level parameters (read once per execution), defaults from the description. */
export const bounceParserSchema = z.object({
	operation: choiceField(P, 'operation', ['parse', 'record']),
	inputFormat: choiceField(P, 'inputFormat', FEEDBACK_INPUT_FORMATS),
	eventField: stringField(P, 'eventField').transform((s) => s.trim()),
	payloadField: stringField(P, 'payloadField').transform((s) => s.trim()),
	input: choiceField(P, 'input', ['field', 'binary']),
	field: stringField(P, 'field').transform((s) => s.trim()),
	binaryProperty: stringField(P, 'binaryProperty').transform((s) => s.trim()),
	updateSuppression: booleanField(P, 'updateSuppression'),
	suppressionList: stringField(P, 'suppressionList').transform((s) => s.trim()),
	options: z
		.object({
			minConfidence: numberField(P, 'options.minConfidence'),
			nonStandard: booleanField(P, 'options.nonStandard'),
			softBounceDays: numberField(P, 'options.softBounceDays'),
			routeReputation: booleanField(P, 'options.routeReputation'),
			reputationRules: reputationRulesField(P, 'options.reputationRules'),
		})
		.default({}),
});

export type BounceParserParameters = z.output<typeof bounceParserSchema>;

/** Reads and checks the node-level parameters; an error names the field as the node shows it. */
export function readBounceParserParameters(ctx: IExecuteFunctions): BounceParserParameters {
	const names = [
		'operation',
		'inputFormat',
		'eventField',
		'payloadField',
		'input',
		'field',
		'binaryProperty',
		'updateSuppression',
		'suppressionList',
		'options',
	];
	return parseParameters(
		ctx,
		P,
		bounceParserSchema,
		Object.fromEntries(names.map((n) => [n, nodeParameter(ctx, P, n)])),
	);
}
