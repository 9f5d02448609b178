import { randomBytes } from 'node:crypto';

/** A multipart/form-data part (RFC 7578): a text field or a file. */
export type FormPart =
	| { name: string; value: string }
	| { name: string; filename: string; contentType: string; content: Buffer };

export interface MultipartBody {
	contentType: string;
	body: Buffer;
}

/** Built by hand so no form-data dependency is needed; the boundary is random and checked unused. */
export function buildMultipart(parts: FormPart[], boundary = randomBoundary()): MultipartBody {
	const chunks: Buffer[] = [];
	for (const part of parts) {
		const disposition = `form-data; name="${quote(part.name)}"`;
		const head =
			'value' in part
				? `--${boundary}\r\nContent-Disposition: ${disposition}\r\n\r\n`
				: `--${boundary}\r\nContent-Disposition: ${disposition}; filename="${quote(part.filename)}"\r\nContent-Type: ${part.contentType}\r\n\r\n`;
		const content = 'value' in part ? Buffer.from(part.value, 'utf8') : part.content;
		if (content.includes(boundary)) return buildMultipart(parts, randomBoundary());
		chunks.push(Buffer.from(head, 'utf8'), content, Buffer.from('\r\n'));
	}
	chunks.push(Buffer.from(`--${boundary}--\r\n`));
	return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) };
}

function randomBoundary(): string {
	return `----postal-routes-${randomBytes(12).toString('hex')}`;
}

/** RFC 7578 §4.2 leaves escaping to the HTML rule: `"` becomes %22, and CR/LF cannot appear. */
function quote(value: string): string {
	return value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
