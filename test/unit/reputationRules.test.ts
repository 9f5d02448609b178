import {
	DEFAULT_RULES,
	LIST_RULES,
	listVerdict,
	matchReply,
	rateVerdict,
	rulesWith,
	wilsonLower,
	type RateRule,
} from '../../lib/reputation/rules';

const rule = (id: string) => DEFAULT_RULES.find((r) => r.id === id)!;

describe('reputation rules', () => {
	it('the Wilson lower bound matches the research brief’s worked figures (one-sided 90%)', () => {
		expect(wilsonLower(10, 200) * 100).toBeCloseTo(3.37, 2);
		expect(wilsonLower(50, 1000) * 100).toBeCloseTo(4.19, 2);
		expect(wilsonLower(2, 1000) * 100).toBeCloseTo(0.08, 2);
		expect(wilsonLower(4, 1000) * 100).toBeCloseTo(0.21, 2);
		expect(wilsonLower(0, 0)).toBe(0);
	});

	it('matches provider replies to their rules, the first one that matches', () => {
		expect(
			matchReply(
				'421 4.7.0 [TSS04] Messages from 1.2.3.4 temporarily deferred due to unexpected volume or user complaints',
				DEFAULT_RULES,
			)?.id,
		).toBe('yahoo-tss04');
		expect(
			matchReply('421 4.7.28 Our system has detected an unusual rate', DEFAULT_RULES)?.id,
		).toBe('gmail-rate-limit');
		expect(
			matchReply(
				'550 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using S3140',
				DEFAULT_RULES,
			)?.id,
		).toBe('provider-block');
		expect(matchReply('421 rate limited due to IP reputation', DEFAULT_RULES)?.id).toBe(
			'reputation-defer',
		);
		// a recipient's problem or a plain greylisting says nothing about reputation
		expect(matchReply('550 5.1.1 user unknown', DEFAULT_RULES)).toBeUndefined();
		expect(matchReply('451 4.7.1 greylisted, try again', DEFAULT_RULES)).toBeUndefined();
		// not the tail of an IP address or of another code
		expect(matchReply('421 try 10.4.7.28 later', DEFAULT_RULES)).toBeUndefined();
	});

	it('rate rules: nothing below the minimum sample, a throttle, a guarded suspension, a clear below 80%', () => {
		const r = rule('block-rate') as RateRule;
		expect(rateVerdict(r, { sent: 50, blocked: 40 }).verdict).toBe('none');
		const throttle = rateVerdict(r, { sent: 900, blocked: 100 });
		expect(throttle).toMatchObject({ verdict: 'act', action: { action: 'throttle', factor: 0.5 } });
		const suspend = rateVerdict(r, { sent: 600, blocked: 400 });
		expect(suspend).toMatchObject({ verdict: 'act', action: { action: 'suspend', guarded: true } });
		// 10/200: raw 5% but the lower bound 3.37% is below the bar, and above 4% (80%): nothing
		expect(rateVerdict({ ...r, minSample: 100 }, { sent: 195, blocked: 10 }).verdict).toBe('none');
		expect(rateVerdict(r, { sent: 990, blocked: 10 }).verdict).toBe('clear');
		if (throttle.verdict === 'act')
			expect(throttle.action.reason).toBe(
				'blocks in the last hour: 100 of 1000 (10.0%, at least 8.8% at 90% confidence) ≥ 5.0%',
			);
	});

	it('users change rules by name, turn them off, add reply rules; errors name the entry and field', () => {
		const rules = rulesWith(
			JSON.stringify([
				{ rule: 'yahoo-tss04', durationMinutes: 240 },
				{ rule: 'deferral-rate', enabled: false },
				{ rule: 'my-isp', match: 'RL9999', action: 'throttle', durationMinutes: 30, factor: 0.25 },
			]),
		);
		expect(rules.find((r) => r.id === 'yahoo-tss04')).toMatchObject({ durationMs: 240 * 60_000 });
		expect(rules.find((r) => r.id === 'deferral-rate')).toBeUndefined();
		expect(matchReply('421 rl9999 slow down', rules)).toMatchObject({ id: 'my-isp', factor: 0.25 });
		expect(rulesWith('')).toHaveLength(DEFAULT_RULES.length);
		expect(() => rulesWith('{')).toThrow(/^not valid JSON/);
		expect(() => rulesWith('[{"rule":"x","match":"a"}]')).toThrow(
			'entry 1 ("x"): a new rule needs "match" (a regular expression), "action" ("suspend" or "throttle") and "durationMinutes"',
		);
		expect(() => rulesWith('[{"rule":"block-rate","factor":2}]')).toThrow(
			/^entry 1 field "factor": /,
		);
		expect(() => rulesWith('[{"rule":"block-rate","match":"x"}]')).toThrow(
			'entry 1 ("block-rate"): "match" does not apply to a rate rule',
		);
		expect(() =>
			rulesWith('[{"rule":"x","match":"(","action":"suspend","durationMinutes":5}]'),
		).toThrow(/match is not a regular expression/);
	});

	it('list quality: warning and critical bars on the lower Wilson bound, nothing below the sample', () => {
		const [hard, complaints] = LIST_RULES;
		// 40 of 600: lower end (0.06804 − 0.013126) / 1.002737 = 5.48% ≥ 5%: critical
		expect(listVerdict(hard, { sent: 600, bounceHard: 40 })).toEqual({
			rule: 'hard-bounce-rate',
			severity: 'critical',
			reason:
				'hard bounces of the campaign in the last 24 hours: 40 of 600 (6.67%, at least 5.48% at 90% confidence) ≥ 5.00%',
		});
		expect(listVerdict(hard, { sent: 1000, bounceHard: 30 })?.severity).toBe('warning');
		expect(listVerdict(hard, { sent: 400, bounceHard: 100 })).toBeUndefined();
		// complaints over deliveries: 4 of 1,000 → lower end 0.21% (the brief's figure): a warning
		expect(listVerdict(complaints, { sent: 1000, delivered: 1000, complained: 4 })?.severity).toBe(
			'warning',
		);
		expect(listVerdict(complaints, { sent: 1000, delivered: 1000, complained: 2 })).toBeUndefined();
	});
});
