import { checkMimeType, describeFilename } from '../mime';

/** A multipart/form-data part (RFC 7578): a text field or a file. */
export type FormPart =
	| { name: string; value: string }
	| { name: string; filename: string; contentType: string; content: Buffer };

export interface MultipartBody {
	contentType: string;
	body: Buffer;
}

/**
 * Serialized by Node's own FormData (the WHATWG algorithm), not by hand: field names and file
 * names have CR, LF and `"` escaped as %0D, %0A, %22, the boundary is random and the part headers
 * are written by undici alone. The file types are checked here too (Blob would quietly drop a type
 * with control characters). As in a browser, text values have their line ends sent as CRLF.
 */
export async function buildMultipart(parts: FormPart[]): Promise<MultipartBody> {
	const form = new FormData();
	for (const part of parts) {
		if ('value' in part) {
			form.append(part.name, part.value);
			continue;
		}
		const reason = checkMimeType(part.contentType);
		if (reason)
			throw new Error(`attachment ${describeFilename(part.filename)}: its MIME type ${reason}`);
		form.append(part.name, new Blob([part.content], { type: part.contentType }), part.filename);
	}
	const encoded = new Response(form);
	const contentType = encoded.headers.get('content-type');
	if (!contentType?.startsWith('multipart/form-data; boundary='))
		throw new Error('FormData gave no multipart content type');
	return { contentType, body: Buffer.from(await encoded.arrayBuffer()) };
}
