import { suppressionDigest, recipientDigest } from '../../lib/state/keys';
import { maskAddress, mergeSuppression, readSuppression } from '../../lib/state/suppression';

describe('suppression entries', () => {
	it('are keyed by their own digest of the address, which shows nothing of it', () => {
		const d = suppressionDigest('secret', 'jane.doe@gmail.com');
		expect(d).toMatch(/^[A-Za-z0-9_-]{22}$/);
		expect(d).not.toBe(recipientDigest('secret', 'jane.doe@gmail.com'));
		expect(d).not.toBe(suppressionDigest('other secret', 'jane.doe@gmail.com'));
	});

	it('show a masked hint, never the address', () => {
		expect(maskAddress('jane.doe@gmail.com')).toBe('j***@gmail.com');
		expect(maskAddress('x@example.org')).toBe('x***@example.org');
		expect(maskAddress('not an address')).toBe('***');
	});

	it('merge as the rule says (the stores hold to it in the contract and the differential)', () => {
		const e = (reason: 'hard-bounce' | 'soft-bounce', at: number, until?: number) => ({
			key: 'k',
			reason,
			source: 's',
			hint: 'h',
			at,
			...(until === undefined ? {} : { until }),
		});
		const lasting = mergeSuppression(undefined, e('hard-bounce', 1), 10)!;
		expect(readSuppression('k', lasting, 10)).toEqual(e('hard-bounce', 1));
		expect(mergeSuppression(lasting, e('soft-bounce', 2, 100), 10)).toBeUndefined();
		const passing = mergeSuppression(undefined, e('soft-bounce', 1, 50), 10)!;
		expect(mergeSuppression(passing, e('soft-bounce', 2, 40), 10)).toBeUndefined();
		expect(
			readSuppression('k', mergeSuppression(passing, e('soft-bounce', 2, 60), 10), 10)?.until,
		).toBe(60);
		// lapsed: anything replaces it, and reading it gives nothing
		expect(readSuppression('k', passing, 50)).toBeNull();
		expect(mergeSuppression(passing, e('soft-bounce', 3, 55), 50)).toBeDefined();
	});
});
