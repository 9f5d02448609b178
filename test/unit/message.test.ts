import * as address from '../../lib/domains/address';
import { buildMessage, type AddressMemo, type MessageInput } from '../../lib/delivery/message';

/** buildMessage with a per-run memo: a From / Reply-To that repeats is parsed once, with the same result. */
describe('buildMessage with an address memo', () => {
	const input = (i: number, patch: Partial<MessageInput> = {}): MessageInput => ({
		from: 'Shop <news@shop.example>',
		to: `user${i}@gmail.com`,
		replyTo: 'help@shop.example',
		subject: 'Hello',
		text: 'Hi',
		...patch,
	});

	afterEach(() => jest.restoreAllMocks());

	it('parses a From and Reply-To that repeat once, and gives what buildMessage gives without it', () => {
		const parse = jest.spyOn(address, 'parseAddress');
		const memo: AddressMemo = {};
		const withMemo = Array.from({ length: 100 }, (_, i) => buildMessage(input(i), memo));
		const parsedFrom = parse.mock.calls.filter(([v]) => v === 'Shop <news@shop.example>').length;
		const parsedReplyTo = parse.mock.calls.filter(([v]) => v === 'help@shop.example').length;
		expect([parsedFrom, parsedReplyTo]).toEqual([1, 1]);
		// every To is still read on its own
		expect(parse.mock.calls.filter(([v]) => String(v).endsWith('@gmail.com'))).toHaveLength(100);
		parse.mockRestore();
		expect(withMemo).toEqual(Array.from({ length: 100 }, (_, i) => buildMessage(input(i))));
	});

	it('follows a From that changes, and gives an invalid one the same error every time', () => {
		const memo: AddressMemo = {};
		const froms = [
			'a@x.example',
			'B <b@y.example>',
			'a@x.example',
			'not an address',
			'a@x.example',
		];
		for (const from of froms) {
			for (let k = 0; k < 2; k++)
				expect(buildMessage(input(k, { from }), memo)).toEqual(buildMessage(input(k, { from })));
		}
		expect(buildMessage(input(0, { from: 'not an address' }), memo)).toMatchObject({
			ok: false,
			field: 'From',
		});
	});

	it('reads a From that is not text (a list, a number) as before, without the memo', () => {
		const memo: AddressMemo = {};
		for (const from of [['a@x.example'], ['a@x.example', 'b@x.example'], 42, null, ''])
			expect(buildMessage(input(0, { from }), memo)).toEqual(buildMessage(input(0, { from })));
	});

	it('never shares an address object between two messages', () => {
		const memo: AddressMemo = {};
		const first = buildMessage(input(0), memo);
		const second = buildMessage(input(1), memo);
		if (!first.ok || !second.ok) throw new Error('both messages are valid');
		expect(second.message.from).toEqual(first.message.from);
		expect(second.message.from).not.toBe(first.message.from);
		expect(second.message.replyTo).not.toBe(first.message.replyTo);
	});
});
