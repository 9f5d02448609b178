import { z } from 'zod';
import { parseCredentialData as parseShared } from '../../util/credential';

/** A required secret or setting: trimmed, because pasted keys often carry a stray space or newline. */
export const requiredString = z.string().trim().min(1);

/** n8n stores an untouched optional field as '' (or omits it): both mean "not set". */
export const optionalString = z
	.string()
	.trim()
	.optional()
	.transform((value) => (value ? value : undefined));

/** Parses a provider credential; errors read "<label> credential: <field> <problem>". */
export function parseCredentialData<S extends z.ZodTypeAny>(
	schema: S,
	data: unknown,
	label: string,
): z.output<S> {
	return parseShared(schema, data, `${label} credential`);
}
