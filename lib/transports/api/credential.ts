import { z } from 'zod';

/** A required secret or setting: trimmed, because pasted keys often carry a stray space or newline. */
export const requiredString = z.string().trim().min(1);

/** n8n stores an untouched optional field as '' (or omits it): both mean "not set". */
export const optionalString = z
	.string()
	.trim()
	.optional()
	.transform((value) => (value ? value : undefined));

/**
 * Parses credential data with `schema`. The error names the field and what is wrong with it, but never
 * the value it received: a key pasted into the wrong field must not end up in logs or execution data.
 */
export function parseCredentialData<S extends z.ZodTypeAny>(schema: S, data: unknown, label: string): z.output<S> {
	const result = schema.safeParse(data ?? {});
	if (result.success) return result.data;
	const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'credential'} ${describe(issue)}`);
	throw new Error(`${label} credential: ${problems.join('; ')}`);
}

function describe(issue: z.ZodIssue): string {
	switch (issue.code) {
		case 'invalid_type':
			return issue.received === 'undefined' || issue.received === 'null' ? 'is required' : `must be a ${issue.expected}`;
		case 'too_small':
			return 'is required';
		case 'invalid_enum_value':
			return `must be one of ${issue.options.map((option) => JSON.stringify(option)).join(', ')}`;
		case 'invalid_string':
			return 'has an invalid format';
		default:
			return 'is invalid';
	}
}
