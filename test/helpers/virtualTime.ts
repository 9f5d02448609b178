/**
 * A clock and a sleep for tests that pace many concurrent senders without waiting for real: each
 * sleep registers when it wakes, and `run` moves the clock from one wake-up to the next, letting
 * every async step in between finish first. `lateBy` makes every sleep oversleep, as timers on a
 * busy machine do.
 */
export class VirtualTime {
	now: number;
	private timers: Array<{ at: number; seq: number; wake: () => void }> = [];
	private seq = 0;

	constructor(
		start = 1_000_000,
		private readonly lateBy: (ms: number) => number = () => 0,
	) {
		this.now = start;
	}

	readonly clock = (): number => this.now;

	readonly sleep = (ms: number): Promise<void> =>
		new Promise<void>((wake) => {
			this.timers.push({ at: this.now + ms + this.lateBy(ms), seq: this.seq++, wake });
		});

	/** Runs until `done()` holds and nothing more is asleep, or nothing more can happen. */
	async run(done: () => boolean = () => false): Promise<void> {
		for (;;) {
			await settle();
			if (this.timers.length === 0 || done()) return;
			this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
			const next = this.timers.shift()!;
			this.now = Math.max(this.now, next.at);
			next.wake();
		}
	}
}

/** Lets every pending promise chain run (the memory store answers within microtasks). */
async function settle(): Promise<void> {
	for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
}
