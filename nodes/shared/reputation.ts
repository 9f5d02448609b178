import { z } from 'zod';
import { rulesWith } from '../../lib/reputation/rules';
import type { INodeProperties } from 'n8n-workflow';
import { stringField } from './parameters';

/** The Reputation Rules option as the rules in force; an error in the JSON names the option. */
export function reputationRulesField(properties: INodeProperties[], path: string) {
	return stringField(properties, path).transform((text, ctx) => {
		try {
			return rulesWith(text);
		} catch (error) {
			ctx.addIssue({ code: 'custom', message: (error as Error).message });
			return z.NEVER;
		}
	});
}
