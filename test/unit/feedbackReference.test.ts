import fc from 'fast-check';
import {
	decodeReference,
	encodeReference,
	hashedReference,
	isHashedReference,
	MAX_REFERENCE_LENGTH,
	referenceFromVerp,
} from '../../lib/feedback/reference';

describe('the reference a message carries', () => {
	it('round-trips any names, in the alphabet SES tags and ENVID accept', () => {
		fc.assert(
			fc.property(
				fc.string({ minLength: 1, maxLength: 20 }),
				fc.string({ maxLength: 12 }),
				fc.string({ minLength: 1, maxLength: 20 }),
				(route, group, campaign) => {
					const { token, full } = encodeReference({ route, group, campaign });
					expect(token).toMatch(/^[A-Za-z0-9_.-]+$/);
					expect(token.length).toBeLessThanOrEqual(MAX_REFERENCE_LENGTH);
					if (full) expect(decodeReference(token)).toEqual({ route, group, campaign });
					else expect(token).toBe(hashedReference({ route, group, campaign }));
				},
			),
		);
	});

	it('keeps separators and percent signs in names', () => {
		const ref = { route: 'Relay|B %7C', group: 'google', campaign: 'spring|sale%25' };
		expect(decodeReference(encodeReference(ref).token)).toEqual(ref);
	});

	it('is a digest when the names are too long for an ENVID (or a VERP local part)', () => {
		const ref = { route: 'r'.repeat(80), group: 'yahoo', campaign: 'c' };
		const long = encodeReference(ref);
		expect(long.full).toBe(false);
		expect(isHashedReference(long.token)).toBe(true);
		expect(decodeReference(long.token)).toBeUndefined();
		const short = { route: 'SendGrid', group: 'google', campaign: 'wf1' };
		expect(encodeReference(short, 40).full).toBe(true);
		expect(encodeReference({ ...short, campaign: 'x'.repeat(40) }, 40).full).toBe(false);
	});

	it('reads nothing from a stranger’s text', () => {
		for (const text of [
			undefined,
			'',
			'hello',
			Buffer.from('2|a|b|c').toString('base64url'),
			Buffer.from('1|a|b').toString('base64url'),
			Buffer.from('1||g|c').toString('base64url'),
			'not base64!',
		])
			expect(decodeReference(text)).toBeUndefined();
	});

	it('is found in a VERP bounce address', () => {
		const { token } = encodeReference({ route: 'A', group: 'yahoo', campaign: 'wf' });
		expect(referenceFromVerp(`bounces+${token}@bounce.example.com`)).toBe(token);
		expect(referenceFromVerp('bounces+list+x@bounce.example.com')).toBeUndefined();
		expect(referenceFromVerp('bounces@bounce.example.com')).toBeUndefined();
	});
});
