import fc from 'fast-check';
import MailComposer from 'nodemailer/lib/mail-composer';
import { buildMessage } from '../../lib/delivery/message';
import { envelopeRecipients } from '../../lib/delivery/pipeline';
import { DomainClassifier } from '../../lib/domains/classify';
import { GroupCatalog } from '../../lib/domains/groups';
import { toMailOptions } from '../../lib/transports/smtp';
import { parseAddress, readMailbox } from '../../lib/domains/address';
import { adversarialRecipient, mailboxOf } from '../helpers/adversarial';

const classifier = new DomainClassifier(new GroupCatalog());

/** What each reader of one To value makes of it: the classifier, the send node and nodemailer's envelope. */
function readings(value: string) {
	const classified = classifier.classifyOne(value);
	const built = buildMessage({
		from: 'Shop <news@shop.example>',
		to: value,
		subject: 'Hi',
		text: 'Hello',
	});
	if (!built.ok) return { classified, built, envelope: undefined };
	const envelope = (
		new MailComposer(toMailOptions(built.message)).compile().getEnvelope() as { to: string[] }
	).to.map(mailboxOf);
	return { classified, built, envelope };
}

describe('one To value: exactly one mailbox for every reader, or invalid for all (fast-check)', () => {
	it('classifier, send node and the SMTP envelope agree on 10,000 adversarial values', () => {
		fc.assert(
			fc.property(adversarialRecipient, (value) => {
				const { classified, built, envelope } = readings(value);
				if (!built.ok) {
					// the send node refuses it: so does the classifier (Invalid output), for the same reason
					expect(built.field).toBe('To');
					expect(classified.group).toBe('invalid');
					return;
				}
				expect(classified.group).not.toBe('invalid');
				expect(built.message.to).toHaveLength(1);
				expect(envelope).toEqual([built.message.to[0].address]);
				expect(envelopeRecipients(built.message)).toEqual(envelope);
				expect(classified.address!.address).toBe(built.message.to[0].address);
			}),
			{ numRuns: 10_000, seed: 20261201 },
		);
	});

	// counterexamples fast-check shrank to while the parser was written, kept as plain cases
	it.each([
		['"eve"@attacker.test, victim1@gmail.com, victim2@yahoo.com, "z"@attacker.test', false],
		['a\u00a0b@x.com', false],
		['a@exämple.com/evil', false],
		['a@x.test victim@evil.test', false],
		['a@x.test (victim@evil.test)', false],
		['"a@a.com" <a@a.com>', true],
		['a@a.com <a@a.com>', true],
		['"<"@a.com', false],
		['a@a.com (', false],
		['a <a@a.com>,', false],
		['"a"@a.com', true],
		['"C% B\\f"@mail-box.evil.yahoo.test', false],
		['"a\\b"@a.com', true],
		['a@a.com.', true],
		['a@ä.com', true],
		['ä@ä.com', true],
	])('%j: valid=%s, and every reader sees the same one mailbox', (value, valid) => {
		const { classified, built, envelope } = readings(value);
		expect(built.ok).toBe(valid);
		expect(classified.group !== 'invalid').toBe(valid);
		if (built.ok) expect(envelope).toEqual([classified.address!.address]);
	});
});

describe('the fast path for plain addresses', () => {
	it('answers exactly as the full reading does (fast-check, 10,000 address-like values)', () => {
		const ch = fc.constantFrom(..."abcXYZ09.-_+!#$%&'*/=?^`{|}~@ ".split(''));
		const plainish = fc
			.tuple(
				fc.array(ch, { maxLength: 12 }),
				fc.constantFrom('@', '@@', ''),
				fc.array(fc.constantFrom(...'abXY09.-'.split('')), { maxLength: 14 }),
			)
			.map(([l, at, d]) => `${l.join('')}${at}${d.join('')}`);
		fc.assert(
			fc.property(plainish, (value) => {
				expect(parseAddress(value)).toEqual(readMailbox(value));
			}),
			{ numRuns: 10_000, seed: 7 },
		);
	});
});
