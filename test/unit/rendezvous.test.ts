import { Partitioner } from '../../lib/routing/partitioner';
import { parseRoutePlan } from '../../lib/routing/plan';
import { rendezvousPick } from '../../lib/routing/rendezvous';
import { MemoryStateStore } from '../../lib/state/memory';

const keys = Array.from({ length: 20_000 }, (_, i) => `user${i}@example.com`);

describe('weighted rendezvous hashing', () => {
	it('follows the weights', () => {
		const counts = [0, 0, 0];
		for (const k of keys) counts[rendezvousPick(k, ['a', 'b', 'c'], [5, 3, 2])]++;
		expect(counts.map((n) => n / keys.length)).toEqual([
			expect.closeTo(0.5, 1),
			expect.closeTo(0.3, 1),
			expect.closeTo(0.2, 1),
		]);
		for (const [n, share] of [
			[counts[0], 0.5],
			[counts[1], 0.3],
			[counts[2], 0.2],
		] as const)
			expect(Math.abs(n / keys.length - share)).toBeLessThan(0.015);
	});

	it('moves only recipients to the route whose weight grew, and none between the others', () => {
		const before = keys.map((k) => rendezvousPick(k, ['a', 'b', 'c'], [5, 3, 2]));
		const after = keys.map((k) => rendezvousPick(k, ['a', 'b', 'c'], [5, 3, 6]));
		let moved = 0;
		before.forEach((r, i) => {
			if (r === after[i]) return;
			moved++;
			expect(after[i]).toBe(2);
		});
		// c's share goes from 20% to 43%: about 23% of recipients move, all of them to c
		expect(moved / keys.length).toBeGreaterThan(0.2);
		expect(moved / keys.length).toBeLessThan(0.26);
	});

	it('never picks a route of weight 0', () => {
		expect(keys.slice(0, 1000).every((k) => rendezvousPick(k, ['a', 'b'], [0, 1]) === 1)).toBe(
			true,
		);
		expect(rendezvousPick('x', ['a'], [0])).toBe(-1);
	});

	it('keeps recipients on their route in the partitioner with no stored assignment', async () => {
		const plan = parseRoutePlan({
			mode: 'weighted',
			stickyByHash: true,
			sticky: false,
			timeZone: 'UTC',
			routes: [
				{ name: 'a', weight: 3 },
				{ name: 'b', weight: 1 },
			],
		});
		const inputs = keys.slice(0, 4000).map((key) => ({ key, group: 'google' }));
		const first = await new Partitioner(plan, new MemoryStateStore(), {
			campaign: 'c',
			partition: 'p',
		}).assign(inputs);
		// a different process with empty state gives the same answer
		const second = await new Partitioner(plan, new MemoryStateStore(), {
			campaign: 'c',
			partition: 'p',
		}).assign([...inputs].reverse());
		expect(second.reverse().map((x) => x.route)).toEqual(first.map((x) => x.route));
		const share = first.filter((x) => x.route === 'a').length / first.length;
		expect(Math.abs(share - 0.75)).toBeLessThan(0.025);
	});

	it('still respects caps: a full route spills its hashed recipients', async () => {
		const plan = parseRoutePlan({
			mode: 'weighted',
			stickyByHash: true,
			timeZone: 'UTC',
			routes: [
				{ name: 'a', weight: 1, dailyCap: 10 },
				{ name: 'b', weight: 1 },
			],
		});
		const out = await new Partitioner(plan, new MemoryStateStore(), {
			campaign: 'c',
			partition: 'p',
		}).assign(keys.slice(0, 100).map((key) => ({ key })));
		expect(out.filter((x) => x.route === 'a')).toHaveLength(10);
		expect(out.filter((x) => x.via === 'spill').length).toBeGreaterThan(20);
	});
});
