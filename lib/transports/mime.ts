/**
 * Attachment MIME types, checked once for every transport. The type comes from item data and is
 * written into a header (SMTP, the SES raw message) or a multipart part (Mailgun) as is, so a CR/LF
 * or a quote in it could add headers or form fields: anything but a plain media type is refused.
 */

import type { MailAttachment } from './types';

/** RFC 2045 §5.1 token: printable US-ASCII except SPACE and tspecials ()<>@,;:\"/[]?= */
const TOKEN = "[!#$%&'*+\\-.^_`{|}~0-9A-Za-z]+";
/** a quoted parameter value without quotes, backslashes or control characters inside */
const QUOTED = '"[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]*"';
const MEDIA_TYPE = new RegExp(
	`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*[ \\t]*$`,
);

/** RFC 6838 allows 127 characters each for type and subtype; parameters stay short in practice. */
const MAX_LENGTH = 255;

/**
 * Why `value` is not a usable MIME type (`type/subtype`, optionally `; name=value` parameters),
 * or undefined when it is.
 */
export function checkMimeType(value: unknown): string | undefined {
	if (typeof value !== 'string' || value.trim() === '') return 'is empty';
	if (/[\r\n]/.test(value)) return 'contains a line break';
	if (value.length > MAX_LENGTH) return `is longer than ${MAX_LENGTH} characters`;
	if (!MEDIA_TYPE.test(value)) return 'is not of the form type/subtype (optionally ; name=value)';
	return undefined;
}

/** A file name for a message: quoted, control characters escaped, bounded. */
export function describeFilename(filename: string): string {
	const shown = filename.length > 80 ? `${filename.slice(0, 79)}…` : filename;
	return JSON.stringify(shown);
}

/** The first attachment whose MIME type is unusable, as a sentence naming its file; else undefined. */
export function attachmentTypeProblem(attachments: readonly MailAttachment[]): string | undefined {
	for (const attachment of attachments) {
		const reason = checkMimeType(attachment.contentType);
		if (reason)
			return `attachment ${describeFilename(attachment.filename)}: its MIME type ${reason}`;
	}
	return undefined;
}

/** For request builders: throws the problem, which the transport reports as this message's failure. */
export function assertAttachmentTypes(attachments: readonly MailAttachment[]): void {
	const problem = attachmentTypeProblem(attachments);
	if (problem) throw new Error(problem);
}
