/**
 * Just enough MIME (RFC 2045/2046, RFC 5322 headers) to read delivery reports: a message's header
 * fields, its parts as a tree, each part's body decoded from its transfer encoding.
 *
 * Why our own walker: a report's machine-readable part (message/delivery-status,
 * message/feedback-report) is what matters, and general mail parsers fold it into the text body
 * (mailparser, behind n8n's IMAP trigger, does: research §1.8). Bytes are handled as latin1 text,
 * so no byte is lost before a part's charset is known. Limits keep a hostile message cheap: its
 * size is capped by the caller, parts and depth here.
 */

export interface HeaderField {
	/** lower-case */
	name: string;
	/** unfolded, trimmed */
	value: string;
}

export interface MimePart {
	headers: HeaderField[];
	/** type/subtype, lower-case; text/plain when absent (RFC 2045 §5.2) */
	type: string;
	params: Record<string, string>;
	/** the body after its transfer encoding was undone (bytes as latin1 text) */
	body: string;
	/** multipart: its parts; message/rfc822: the enclosed message as one part */
	parts: MimePart[];
}

const MAX_PARTS = 200;
const MAX_DEPTH = 10;

/** Header block and body, split at the first empty line (CRLF or bare LF). */
function splitHead(text: string): { head: string; body: string } {
	const m = /\r?\n\r?\n/.exec(text);
	if (!m) return { head: text, body: '' };
	// a message that starts with an empty line has no header fields
	if (m.index === 0) return { head: '', body: text.slice(m[0].length) };
	return { head: text.slice(0, m.index), body: text.slice(m.index + m[0].length) };
}

/** RFC 5322 §2.2.3: a line that starts with white space continues the field before it. */
export function parseHeaderBlock(head: string): HeaderField[] {
	const fields: HeaderField[] = [];
	for (const line of head.split(/\r?\n/)) {
		if (/^[ \t]/.test(line) && fields.length > 0) {
			const last = fields[fields.length - 1];
			last.value = `${last.value} ${line.trim()}`.trim();
			continue;
		}
		const colon = line.indexOf(':');
		if (colon <= 0) continue;
		fields.push({
			name: line.slice(0, colon).trim().toLowerCase(),
			value: line.slice(colon + 1).trim(),
		});
	}
	return fields;
}

export function header(fields: readonly HeaderField[], name: string): string | undefined {
	return fields.find((f) => f.name === name)?.value;
}

export function headers(fields: readonly HeaderField[], name: string): string[] {
	return fields.filter((f) => f.name === name).map((f) => f.value);
}

/** `type/subtype; a=b; c="d e"` → type and parameters (names lower-case; RFC 2231 not needed here) */
export function parseContentType(value: string | undefined): {
	type: string;
	params: Record<string, string>;
} {
	if (!value) return { type: 'text/plain', params: {} };
	const semi = value.indexOf(';');
	const type = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
	const params: Record<string, string> = {};
	const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
	for (let m; (m = re.exec(value));)
		params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
	return { type: /^[\w.+-]+\/[\w.+-]+$/.test(type) ? type : 'text/plain', params };
}

function decodeTransfer(body: string, encoding: string | undefined): string {
	switch ((encoding ?? '').trim().toLowerCase()) {
		case 'base64':
			return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
		case 'quoted-printable':
			return body
				.replace(/=\r?\n/g, '')
				.replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
		default:
			return body;
	}
}

/** The parts between `--boundary` lines (RFC 2046 §5.1.1); preamble and epilogue dropped. */
function splitMultipart(body: string, boundary: string): string[] {
	const parts: string[] = [];
	const delimiter = `--${boundary}`;
	const lines = body.split(/\r?\n/);
	let current: string[] | undefined;
	for (const line of lines) {
		if (line.startsWith(delimiter)) {
			const rest = line.slice(delimiter.length);
			if (rest.startsWith('--') && rest.slice(2).trim() === '') {
				if (current) parts.push(current.join('\r\n'));
				return parts;
			}
			if (rest.trim() === '') {
				if (current) parts.push(current.join('\r\n'));
				current = [];
				continue;
			}
		}
		current?.push(line);
	}
	// no closing delimiter (a truncated report): keep what came
	if (current) parts.push(current.join('\r\n'));
	return parts;
}

/** a first line that is a header field (RFC 5322 field name: printable, no colon, then a colon) */
const HEADER_LINE = /^[!-9;-~]+[ \t]*:/;
/** a delimiter line (RFC 2046 boundary: 1–70 characters, not ending in a space) */
const DELIMITER =
	/^--([0-9A-Za-z'()+_,./:=?-][0-9A-Za-z'()+_,./:=? -]{0,68}[0-9A-Za-z'()+_,./:=?-]|[0-9A-Za-z'()+_,./:=?-])[ \t]*$/m;

/**
 * Parses a whole message (bytes as latin1 text, or a Buffer). A body without its header block
 * (n8n's IMAP trigger in Raw format hands over the message's TEXT part only, without the
 * top-level Content-Type that names the boundary) is read as multipart when it has a first
 * delimiter line whose closing delimiter follows.
 */
export function parseMime(input: string | Buffer): MimePart {
	const text = typeof input === 'string' ? input : input.toString('latin1');
	const budget = { parts: 0 };
	const firstLine = /^[^\r\n]*/.exec(text.replace(/^(?:\r?\n)+/, ''))![0];
	if (!HEADER_LINE.test(firstLine)) {
		const delimiter = DELIMITER.exec(text);
		const boundary = delimiter?.[1];
		if (boundary && text.includes(`--${boundary}--`)) {
			budget.parts++;
			return {
				headers: [],
				type: 'multipart/mixed',
				params: { boundary },
				body: '',
				parts: splitMultipart(text, boundary).map((chunk) =>
					parsePart(chunk, 1, budget, 'text/plain'),
				),
			};
		}
	}
	return parsePart(text, 0, budget, 'text/plain');
}

function parsePart(
	text: string,
	depth: number,
	budget: { parts: number },
	defaultType: string,
): MimePart {
	budget.parts++;
	const { head, body: raw } = splitHead(text);
	const fields = parseHeaderBlock(head);
	const contentType = header(fields, 'content-type');
	const { type, params } = contentType
		? parseContentType(contentType)
		: { type: defaultType, params: {} };
	const part: MimePart = { headers: fields, type, params, body: '', parts: [] };
	const nested = depth < MAX_DEPTH && budget.parts < MAX_PARTS;
	if (type.startsWith('multipart/') && params.boundary && nested) {
		// RFC 2046 §5.1.5: in multipart/digest a part without a type is a message
		const inner = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
		for (const chunk of splitMultipart(raw, params.boundary)) {
			if (budget.parts >= MAX_PARTS) break;
			part.parts.push(parsePart(chunk, depth + 1, budget, inner));
		}
		return part;
	}
	part.body = decodeTransfer(raw, header(fields, 'content-transfer-encoding'));
	if ((type === 'message/rfc822' || type === 'message/global') && nested)
		part.parts.push(parsePart(part.body, depth + 1, budget, 'text/plain'));
	return part;
}

/** Every part of the tree, depth first, the part itself first. */
export function* walk(part: MimePart): Generator<MimePart> {
	yield part;
	for (const p of part.parts) yield* walk(p);
}

/** A part's body as text in its charset (UTF-8 when unknown or unsupported, latin1 as it was). */
export function partText(part: MimePart): string {
	const charset = (part.params.charset ?? 'utf-8').toLowerCase();
	const bytes = Buffer.from(part.body, 'latin1');
	try {
		return new TextDecoder(charset).decode(bytes);
	} catch {
		return bytes.toString('utf8');
	}
}

/**
 * The RFC 822-style field groups of a report part (RFC 3464 §2.1, RFC 5965 §3.1): groups of header
 * fields separated by empty lines.
 */
export function fieldGroups(text: string): HeaderField[][] {
	return text
		.split(/\r?\n[ \t]*\r?\n/)
		.map((block) => parseHeaderBlock(block.replace(/^\s*\r?\n/, '')))
		.filter((g) => g.length > 0);
}
