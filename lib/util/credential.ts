import type { z } from 'zod';

/**
 * Parses credential data with `schema`. The error names each field and what is wrong with it, never
 * the value it received: a key pasted into the wrong field must not reach logs or execution data.
 * Shared by every credential (SMTP, Redis, the email APIs).
 */
export function parseCredentialData<S extends z.ZodTypeAny>(
	schema: S,
	data: unknown,
	errorPrefix: string,
): z.output<S> {
	const result = schema.safeParse(data ?? {});
	if (result.success) return result.data;
	const problems = result.error.issues.map(
		(issue) => `${issue.path.join('.') || 'credential'} ${describe(issue)}`,
	);
	throw new Error(`${errorPrefix}: ${problems.join('; ')}`);
}

function describe(issue: z.ZodIssue): string {
	switch (issue.code) {
		case 'invalid_type':
			return issue.received === 'undefined' || issue.received === 'null'
				? 'is required'
				: `must be a ${issue.expected}`;
		case 'too_small':
			return issue.type === 'string' && Number(issue.minimum) <= 1
				? 'is required'
				: `must be at least ${String(issue.minimum)}`;
		case 'too_big':
			return `must be at most ${String(issue.maximum)}`;
		case 'invalid_enum_value':
			return `must be one of ${issue.options.map((option) => `'${String(option)}'`).join(', ')}`;
		case 'invalid_string':
			return 'has an invalid format';
		case 'custom':
			return issue.message;
		default:
			return 'is invalid';
	}
}
