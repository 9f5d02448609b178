/**
 * VERP Return Path (lib/feedback/verp.ts): the template a send node's option takes, checked so
 * that every address it makes is one the Bounce Parser reads back (referenceFromVerp), within a
 * local part's 64 characters; and the option's errors through the send node's schema.
 */
import fc from 'fast-check';
import { NodeHelpers, NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';
import { BatchFeedback } from '../../lib/delivery/feedback';
import type { DeliveryJob } from '../../lib/delivery/types';
import {
	decodeReference,
	encodeReference,
	isHashedReference,
	referenceFromVerp,
} from '../../lib/feedback/reference';
import { parseVerpTemplate, verpAddress, type VerpTemplate } from '../../lib/feedback/verp';
import { sendProperties } from '../../nodes/LoadBalancedSend/description';
import { LoadBalancedSend } from '../../nodes/LoadBalancedSend/LoadBalancedSend.node';
import { sendParametersSchema } from '../../nodes/LoadBalancedSend/options';
import { parseParameters } from '../../nodes/shared/parameters';

const VERP_EXAMPLE = 'bounces+{ref}@bounce.example.com';
const template = (text: string): VerpTemplate => {
	const read = parseVerpTemplate(text);
	if (!read.ok) throw new Error(read.problem);
	return read.template;
};
const problem = (text: string): string => {
	const read = parseVerpTemplate(text);
	if (read.ok) throw new Error(`"${text}" was taken`);
	return read.problem;
};

describe('VERP Return Path: the template', () => {
	it('reads prefix and domain (lower-cased, punycode) of a template', () => {
		expect(template('bounces+{ref}@bounce.example.com')).toEqual({
			prefix: 'bounces+',
			domain: 'bounce.example.com',
		});
		expect(template('b.list+x+{ref}@Bounce.Example.COM')).toEqual({
			prefix: 'b.list+x+',
			domain: 'bounce.example.com',
		});
		expect(template('bounces+{ref}@bounce.bücher.de').domain).toBe('bounce.xn--bcher-kva.de');
	});

	it('refuses a template the Bounce Parser could not read back, naming why and with an example', () => {
		expect(problem('bounces@bounce.example.com')).toBe(
			'"bounces@bounce.example.com" has no {ref}: put it where the message\'s reference goes, at the end of the part before the "@" (e.g. bounces+{ref}@bounce.example.com)',
		);
		expect(problem('b+{ref}{ref}@x.example')).toMatch(/has \{ref\} 2 times: it takes exactly one/);
		expect(problem('{ref}+bounces@x.example')).toMatch(
			/must end the part before the "@" with \+\{ref\}/,
		);
		expect(problem('bounces-{ref}@x.example')).toMatch(/must end the part before the "@" with/);
		expect(problem('bounces+{ref}@{ref}.example')).toMatch(/has \{ref\} 2 times/);
		expect(problem('+{ref}@x.example')).toMatch(/needs a mailbox name before \+\{ref\}/);
		expect(problem('bounces+{ref}')).toMatch(/is no address: it needs an "@"/);
		expect(problem('bounces+{ref}@localhost')).toMatch(
			/is not a valid address: the domain has no dot/,
		);
		expect(problem('bounces+{ref}@bad_domain..example')).toMatch(/is not a valid address: /);
		expect(problem('Bounces <bounces+{ref}@x.example>')).toMatch(/is no address|plain address/);
		expect(problem('bo unces+{ref}@x.example')).toMatch(/not a valid address|plain address/);
		expect(problem(`${'b'.repeat(40)}+{ref}@x.example`)).toMatch(
			/leaves no room for the reference: .* so at most 40 before \{ref\}/,
		);
		expect(() => template(`${'b'.repeat(39)}+{ref}@x.example`)).not.toThrow();
	});

	it('makes addresses whose reference the Bounce Parser reads back, within 64 characters', () => {
		fc.assert(
			fc.property(
				fc.stringMatching(/^[a-z0-9][a-z0-9.=_-]{0,37}[a-z0-9]$/),
				fc.string({ minLength: 1, maxLength: 60 }),
				fc.string({ maxLength: 12 }),
				fc.string({ minLength: 1, maxLength: 60 }),
				(box, route, group, campaign) => {
					fc.pre(!box.includes('..'));
					const t = template(`${box}+{ref}@bounce.example.com`);
					const job = {
						index: 0,
						route,
						group,
						campaign,
						limits: [],
						verp: t,
						message: {
							from: { address: 'news@shop.example' },
							to: [{ address: 'a@gmail.com' }],
							cc: [],
							bcc: [],
							subject: 's',
							headers: {},
							attachments: [],
							tags: [],
							metadata: {},
						},
					} as DeliveryJob;
					const sent = new BatchFeedback('smtp', 1000, Date.now).message(job, job.message);
					const address = sent.returnPath!;
					expect(address.slice(0, address.indexOf('@')).length).toBeLessThanOrEqual(64);
					// one token everywhere: the header, the envelope id and the bounce address
					expect(referenceFromVerp(address)).toBe(sent.reference);
					expect(sent.headers['X-Postal-Ref']).toBe(sent.reference);
					const token = sent.reference!;
					if (!isHashedReference(token))
						expect(decodeReference(token)).toEqual({ route, group, campaign });
					expect(sent.from.address).toBe('news@shop.example');
				},
			),
		);
	});

	it('never writes a token that does not fit', () => {
		const t = template(`${'b'.repeat(39)}+{ref}@x.example`);
		const { token } = encodeReference({ route: 'Relay A', group: 'yahoo', campaign: 'spring' });
		expect(token.length).toBeGreaterThan(25);
		expect(() => verpAddress(t, token)).toThrow(/does not fit/);
		expect(() => verpAddress(template('b+{ref}@x.example'), 'a b')).toThrow(/does not fit/);
	});
});

describe('VERP Return Path: the send node option', () => {
	const ctx = {
		getNode: () => ({ id: 'n', name: 'Send', type: 't', typeVersion: 1, position: [0, 0] }),
	} as unknown as IExecuteFunctions;
	const errorOf = (options: object): string => {
		try {
			parseParameters(ctx, sendProperties, sendParametersSchema, { options });
		} catch (error) {
			expect(error).toBeInstanceOf(NodeOperationError);
			return (error as Error).message;
		}
		throw new Error('expected an error');
	};

	it('is off when empty, a template when set, and names itself when it is wrong', () => {
		expect(sendParametersSchema.parse({}).options.verpReturnPath).toBeUndefined();
		expect(
			sendParametersSchema.parse({ options: { verpReturnPath: ' bounces+{ref}@b.example ' } })
				.options.verpReturnPath,
		).toEqual({ prefix: 'bounces+', domain: 'b.example' });
		expect(errorOf({ verpReturnPath: 'bounces@b.example' })).toBe(
			'Options › VERP Return Path: "bounces@b.example" has no {ref}: put it where the message\'s reference goes, at the end of the part before the "@" (e.g. bounces+{ref}@bounce.example.com)',
		);
		expect(errorOf({ verpReturnPath: 'bounces+{ref}@b.example', feedbackTracking: false })).toBe(
			'Options › VERP Return Path: the bounce address carries the message’s reference, which only Feedback Tracking makes: turn Feedback Tracking on, or empty VERP Return Path',
		);
	});

	it('is on the panel of an SMTP route only, in Delivery & Retries (version 3) and in Options (1, 2)', () => {
		const d = new LoadBalancedSend().description;
		for (const [version, group] of [
			[3, 'deliveryOptions'],
			[1, 'options'],
			[2, 'options'],
		] as const)
			for (const provider of ['smtp', 'sendgrid', 'ses']) {
				const values = { provider, [group]: { verpReturnPath: VERP_EXAMPLE, maxAttempts: 2 } };
				const kept = NodeHelpers.getNodeParameters(
					d.properties,
					values as never,
					false,
					false,
					{ typeVersion: version } as never,
					d,
				) as Record<string, Record<string, unknown>>;
				// n8n keeps a shown option's value and drops a hidden one's
				expect([version, provider, kept[group]]).toEqual([
					version,
					provider,
					provider === 'smtp'
						? { verpReturnPath: VERP_EXAMPLE, maxAttempts: 2 }
						: { maxAttempts: 2 },
				]);
			}
	});
});
