import { parseAddress } from '../../lib/domains/address';

describe('parseAddress', () => {
	it.each([
		['ann@gmail.com', 'ann@gmail.com', 'gmail.com'],
		['  Ann@GMAIL.Com  ', 'Ann@gmail.com', 'gmail.com'],
		['Ann Smith <ann@Example.COM>', 'ann@example.com', 'example.com'],
		['"Smith, Ann" <ann@example.com>', 'ann@example.com', 'example.com'],
		['<ann@example.com>', 'ann@example.com', 'example.com'],
		['mailto:ann@example.com', 'ann@example.com', 'example.com'],
		['ann@example.com.', 'ann@example.com', 'example.com'],
		['jörg@müller.de', 'jörg@xn--mller-kva.de', 'xn--mller-kva.de'],
		['user@bücher.example', 'user@xn--bcher-kva.example', 'xn--bcher-kva.example'],
		['"quoted local"@example.com', '"quoted local"@example.com', 'example.com'],
		["o'brien+news@ex-ample.co.uk", "o'brien+news@ex-ample.co.uk", 'ex-ample.co.uk'],
	])('accepts %j', (input, address, domain) => {
		const r = parseAddress(input);
		expect(r.ok).toBe(true);
		if (r.ok) {
			expect(r.address).toBe(address);
			expect(r.domain).toBe(domain);
		}
	});

	it('keeps plus-addressing and reports the tag and display name', () => {
		const r = parseAddress('Ann <ann+promo@gmail.com>');
		expect(r).toEqual({ ok: true, address: 'ann+promo@gmail.com', local: 'ann+promo', domain: 'gmail.com', displayName: 'Ann', tag: 'promo' });
	});

	it.each([
		['', 'the address is empty'],
		['   ', 'the address is empty'],
		['ann.gmail.com', 'there is no "@"'],
		['@gmail.com', 'the part before "@" is empty'],
		['ann@', 'the domain after "@" is empty'],
		['ann@localhost', 'the domain has no dot (e.g. "example.com")'],
		['ann@gmail..com', 'the domain has an empty label (two dots in a row, or a leading dot)'],
		['ann@-gmail.com', 'a domain label starts or ends with a hyphen'],
		['ann@gmail.123', 'the domain ends in a number, not a top-level domain'],
		['ann@gm_ail.com', 'the character "_" is not allowed in a domain'],
		['.ann@gmail.com', 'the address starts with a dot'],
		['ann.@gmail.com', 'a dot right before "@"'],
		['an..n@gmail.com', 'two dots in a row before "@"'],
		['an n@gmail.com', 'the character " " is not allowed before "@"'],
		['ann@gmail.com\r\nBcc: x@y.com', 'line breaks are not allowed in an address'],
		['Ann <ann@gmail.com> extra', 'text after the closing ">"'],
		['ann@[10.0.0.1]', 'IP-address domains ([1.2.3.4]) are not supported'],
		[`${'a'.repeat(65)}@gmail.com`, 'the part before "@" is longer than 64 characters'],
	])('rejects %j with a reason', (input, reason) => {
		const r = parseAddress(input);
		expect(r).toEqual({ ok: false, input, reason });
	});

	it('rejects what is not text', () => {
		expect(parseAddress(undefined)).toMatchObject({ ok: false, reason: 'expected an email address as text, got nothing' });
		expect(parseAddress(42)).toMatchObject({ ok: false, reason: 'expected an email address as text, got number' });
	});
});
