import fc from 'fast-check';
import { domainToASCII } from 'node:url';

/**
 * Recipient values a webhook caller could send: mostly address-shaped, built from an alphabet of
 * everything that has split, hidden or rewritten an address somewhere — quotes, commas, semicolons,
 * angle brackets, parentheses, backslashes, "@", Unicode spaces and line separators, zero-width and
 * bidi characters, IDN letters and look-alikes.
 */
export const ADVERSARIAL = [
	'"',
	',',
	';',
	'<',
	'>',
	'(',
	')',
	'\\',
	'@',
	':',
	'[',
	']',
	'.',
	' ',
	'\t',
	'/',
	'?',
	'#',
	'%',
	'+',
	'\u00a0',
	'\u2028',
	'\u2029',
	'\u200b',
	'\u202e',
	'\u3000',
	'\ufeff',
	'\r',
	'\n',
	'ä',
	'ü',
	'ß',
	'é',
	'ｇ',
	'。',
	'я',
	'日',
];
const PLAIN = 'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_'.split('');

const char = fc.oneof(
	{ weight: 5, arbitrary: fc.constantFrom(...PLAIN) },
	{ weight: 1, arbitrary: fc.constantFrom(...ADVERSARIAL) },
);
const word = (min: number, max: number) =>
	fc.array(char, { minLength: min, maxLength: max }).map((a) => a.join(''));
const label = fc.oneof(
	{
		weight: 4,
		arbitrary: fc.constantFrom('gmail', 'yahoo', 'x', 'exämple', 'mail-box', 'attacker', 'evil'),
	},
	{ weight: 2, arbitrary: word(1, 8) },
);
const domain = fc
	.tuple(
		fc.array(label, { minLength: 1, maxLength: 3 }),
		fc.constantFrom('com', 'test', 'de', 'example', 'co.uk'),
	)
	.map(([ls, tld]) => [...ls, tld].join('.'));
const local = fc.oneof(
	{ weight: 4, arbitrary: word(1, 12) },
	{ weight: 1, arbitrary: word(0, 10).map((w) => `"${w}"`) },
);
const addrSpec = fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`);
const name = fc.oneof(
	word(1, 12),
	word(0, 10).map((w) => `"${w}"`),
	addrSpec.map((a) => `"${a}"`),
	addrSpec,
);
const glue = fc.constantFrom(', ', ',', '; ', ' ', '\u00a0', '', ' (', ') ', '\r\n');

const mailbox = fc.oneof(
	{ weight: 4, arbitrary: addrSpec },
	{ weight: 2, arbitrary: fc.tuple(name, addrSpec).map(([n, a]) => `${n} <${a}>`) },
	{ weight: 1, arbitrary: fc.tuple(addrSpec, word(0, 12)).map(([a, c]) => `${a} (${c})`) },
);

/** One value for a To or Recipient field. */
export const adversarialRecipient: fc.Arbitrary<string> = fc.oneof(
	{ weight: 6, arbitrary: mailbox },
	// lists and tails glued on: each must be refused, never split
	{ weight: 3, arbitrary: fc.tuple(mailbox, glue, mailbox).map(([a, g, b]) => `${a}${g}${b}`) },
	{
		weight: 1,
		arbitrary: fc
			.tuple(mailbox, fc.constantFrom(...ADVERSARIAL), word(0, 8))
			.map(([a, c, w]) => `${a}${c}${w}`),
	},
	{
		weight: 1,
		arbitrary: fc
			.array(fc.constantFrom(...ADVERSARIAL, ...PLAIN), { maxLength: 40 })
			.map((a) => a.join('')),
	},
);

/** nodemailer writes the domain back as UTF-8 when the local part is non-ASCII (SMTPUTF8): compare mailboxes, not spellings. */
export function mailboxOf(address: string): string {
	const at = address.lastIndexOf('@');
	return `${address.slice(0, at)}@${domainToASCII(address.slice(at + 1)) || address.slice(at + 1)}`;
}
