import { buildMessage, type MessageInput } from '../../lib/delivery/message';

const base: MessageInput = {
	from: 'Shop <news@shop.example>',
	to: 'ann@example.org',
	subject: 'Hi',
	text: 'Hello',
};

describe('List-Unsubscribe (RFC 2369) with one-click (RFC 8058)', () => {
	it('sends the HTTPS URL with List-Unsubscribe-Post, and the mailto form beside it', () => {
		const built = buildMessage({
			...base,
			listUnsubscribe: {
				url: 'https://shop.example/unsubscribe?u=42&t=abc',
				mailto: 'unsubscribe@shop.example',
			},
		});
		if (!built.ok) throw new Error(built.reason);
		expect(built.message.headers).toEqual({
			'List-Unsubscribe':
				'<https://shop.example/unsubscribe?u=42&t=abc>, <mailto:unsubscribe@shop.example>',
			'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
		});
	});

	it('a mailto alone has no one-click header; nothing set adds nothing', () => {
		const mailto = buildMessage({ ...base, listUnsubscribe: { mailto: 'mailto:u@shop.example' } });
		expect(mailto.ok && mailto.message.headers).toEqual({
			'List-Unsubscribe': '<mailto:u@shop.example>',
		});
		const none = buildMessage({ ...base, listUnsubscribe: { url: '', mailto: '' } });
		expect(none.ok && none.message.headers).toEqual({});
	});

	it('replaces a List-Unsubscribe typed under Headers: one header, not two', () => {
		const built = buildMessage({
			...base,
			headers: { 'List-Unsubscribe': '<https://old.example/u>' },
			listUnsubscribe: { url: 'https://shop.example/u' },
		});
		expect(built.ok && built.message.headers['List-Unsubscribe']).toBe('<https://shop.example/u>');
	});

	it('refuses what one-click cannot use, naming the field', () => {
		for (const url of [
			'http://shop.example/u',
			'shop.example/u',
			'https://shop.example/u>x',
			'https://a b',
		])
			expect(buildMessage({ ...base, listUnsubscribe: { url } })).toMatchObject({
				ok: false,
				field: 'List-Unsubscribe URL (One-Click)',
			});
		expect(
			buildMessage({ ...base, listUnsubscribe: { mailto: 'not an address, x@y.z' } }),
		).toMatchObject({ ok: false, field: 'List-Unsubscribe Email' });
	});
});
