import {
	mailboxKey,
	parseAddress,
	parseAddressList,
	type ParsedAddress,
} from '../../lib/domains/address';

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
		expect(r).toEqual({
			ok: true,
			address: 'ann+promo@gmail.com',
			local: 'ann+promo',
			domain: 'gmail.com',
			displayName: 'Ann',
			tag: 'promo',
		});
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
		['an n@gmail.com', 'a name without <…> around the address: write it as Name <address>'],
		['ann@gmail.com\r\nBcc: x@y.com', 'line breaks are not allowed in an address'],
		['Ann <ann@gmail.com> extra', 'text after the closing ">"'],
		['ann@[10.0.0.1]', 'IP-address domains ([1.2.3.4]) are not supported'],
		[`${'a'.repeat(65)}@gmail.com`, 'the part before "@" is longer than 64 characters'],
	])('rejects %j with a reason', (input, reason) => {
		const r = parseAddress(input);
		expect(r).toEqual({ ok: false, input, reason });
	});

	it('rejects what is not text', () => {
		expect(parseAddress(undefined)).toMatchObject({
			ok: false,
			reason: 'expected an email address as text, got nothing',
		});
		expect(parseAddress(42)).toMatchObject({
			ok: false,
			reason: 'expected an email address as text, got number',
		});
	});
});

describe('one item, exactly the recipients it names', () => {
	it.each([
		// a quoted local part hid a list: the classifier took it as one address, the send node split it into 4
		[
			'"eve"@attacker.test, victim1@gmail.com, victim2@yahoo.com, "z"@attacker.test',
			'it holds more than one address (a "," outside quotes): put one address per item',
		],
		[
			'a@x.test; victim@evil.test',
			'it holds more than one address (a ";" outside quotes): put one address per item',
		],
		// NBSP became a space in one reader and a separator in the other: the envelope went to b@x.com
		['a\u00a0b@x.com', 'the character U+00A0 (a no-break space) is not allowed in an address'],
		['a\u2028b@x.com', 'the character U+2028 (a line separator) is not allowed in an address'],
		['a\u200bb@x.com', 'the character U+200B (a zero-width space) is not allowed in an address'],
		[
			'ann@gmail.com\u202e',
			'the character U+202E (an invisible or control character) is not allowed in an address',
		],
		['a\tb@x.com', 'the character U+0009 (a tab) is not allowed in an address'],
		// a URL parser cut the domain at "/", "?" or "#" and kept the prefix
		['a@exämple.com/evil', 'the character "/" is not allowed in a domain'],
		['a@exämple.com?x=1', 'the character "?" is not allowed in a domain'],
		['a@exämple.com#frag', 'the character "#" is not allowed in a domain'],
		['a@example.com\\evil', 'the character "\\" is not allowed in a domain'],
		['a@ｇmail.com', '"ｇmail" is not a valid international domain name'],
		// the second address became a display name
		['a@x.test victim@evil.test', 'it holds more than one address: put one address per item'],
		[
			'a@x.test (victim@evil.test)',
			'the comment "(victim@evil.test)" holds another address: put one address per item',
		],
		[
			'b@y.com <ann@x.com>',
			'the name before "<" holds another address: put it in quotes, or put one address per item',
		],
		['Ann <a@x.com> <b@y.com>', 'it holds more than one <address>: put one address per item'],
		['a@b@c.com', 'it holds more than one "@": put one address per item'],
		[
			'"a,b"@c.com',
			'an address that needs quotes before "@" (spaces, commas or unusual dots) is not supported: mail servers read it differently',
		],
		[
			'"a@b"@c.com',
			'an address that needs quotes before "@" (spaces, commas or unusual dots) is not supported: mail servers read it differently',
		],
		// a real SMTP server refused this one as bad syntax after the classifier had accepted it
		[
			'"quoted local"@example.com',
			'an address that needs quotes before "@" (spaces, commas or unusual dots) is not supported: mail servers read it differently',
		],
		[
			'"C% B\\f"@mail-box.evil.yahoo.test',
			'an address that needs quotes before "@" (spaces, commas or unusual dots) is not supported: mail servers read it differently',
		],
		['Team: a@x.com;', 'a ";" outside quotes: write exactly one address, without list separators'],
	])('refuses %j', (input, reason) => {
		expect(parseAddress(input)).toMatchObject({ ok: false, reason });
	});

	it.each([
		['"Ann <b@y.com>" <ann@x.com>', 'ann@x.com', 'Ann <b@y.com>'],
		['ann@x.com (Ann Smith)', 'ann@x.com', 'Ann Smith'],
		['Ann Smith <ann@x.com> (work)', 'ann@x.com', 'Ann Smith'],
		['ann@x.com <ann@x.com>', 'ann@x.com', undefined],
		['"z"@attacker.test', 'z@attacker.test', undefined],
		['"J. R." Smith <jr@x.com>', 'jr@x.com', 'J. R. Smith'],
	])('accepts %j as the one mailbox %j', (input, address, displayName) => {
		const r = parseAddress(input);
		expect(r).toMatchObject({ ok: true, address });
		if (r.ok) expect(r.displayName).toBe(displayName);
	});

	it('never echoes a huge value whole', () => {
		const r = parseAddress(`${'a'.repeat(100_000)}@x.com`);
		expect(r.ok).toBe(false);
		if (!r.ok) {
			expect(r.reason).toBe('the value is longer than 1000 characters');
			expect(r.input.length).toBeLessThanOrEqual(80);
		}
	});

	it('reads an explicit list, each address checked, up to its limit', () => {
		const r = parseAddressList(['a@x.com; "Smith, Bob" <bob@y.com>', 'c@z.com'], { max: 3 });
		expect(r.ok && r.addresses.map((a) => a.address)).toEqual(['a@x.com', 'bob@y.com', 'c@z.com']);
		expect(parseAddressList('a@x.com, b@y.com, c@z.com, d@w.com', { max: 3 })).toMatchObject({
			ok: false,
			reason: 'more than 3 addresses (the limit is set in the options)',
		});
		expect(parseAddressList('a@x.com, a\u00a0b@y.com', { max: 3 })).toMatchObject({
			ok: false,
			reason: 'the character U+00A0 (a no-break space) is not allowed in an address',
		});
		expect(parseAddressList('a@x.com, (b@y.com)', { max: 3 })).toMatchObject({ ok: false });
	});
});

describe('mailboxKey', () => {
	// the parser hands back the input text itself where it is the mailbox already, and the key is
	// the address where the local part has no capitals: the same characters either way
	it.each([
		['ann@gmail.com', 'ann@gmail.com', 'ann@gmail.com'],
		['Ann@Gmail.COM', 'Ann@gmail.com', 'ann@gmail.com'],
		['  ann@gmail.com ', 'ann@gmail.com', 'ann@gmail.com'],
		['Ann <ann@gmail.com>', 'ann@gmail.com', 'ann@gmail.com'],
		['mailto:ann@gmail.com', 'ann@gmail.com', 'ann@gmail.com'],
		['"ann"@gmail.com', 'ann@gmail.com', 'ann@gmail.com'],
		['ann@gmail.com.', 'ann@gmail.com', 'ann@gmail.com'],
		['ann@exämple.com', 'ann@xn--exmple-cua.com', 'ann@xn--exmple-cua.com'],
		['Jörg@Müller.de', 'Jörg@xn--mller-kva.de', 'jörg@xn--mller-kva.de'],
	])('%j: address %j, key %j', (input, address, key) => {
		const p = parseAddress(input) as ParsedAddress;
		expect([p.address, mailboxKey(p)]).toEqual([address, key]);
	});
});
