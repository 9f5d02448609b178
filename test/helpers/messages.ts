import type { OutgoingMessage } from '../../lib/transports/types';

/** A plain text message to one address, from the shop used throughout the tests. */
export const plainMessage = (to: string): OutgoingMessage => ({
	from: { address: 'news@shop.example' },
	to: [{ address: to }],
	cc: [],
	bcc: [],
	subject: 'Hi',
	text: 'Hello',
	headers: {},
	attachments: [],
	tags: [],
	metadata: {},
});
