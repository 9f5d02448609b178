/** A tiny concurrency limiter: at most `concurrency` tasks run at once, the rest wait in FIFO order. */
export function createLimiter(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
	if (!Number.isInteger(concurrency) || concurrency < 1)
		throw new RangeError('concurrency must be a whole number ≥ 1');
	let active = 0;
	const waiting: Array<() => void> = [];
	const next = () => {
		active--;
		const wake = waiting.shift();
		if (wake) wake();
	};
	return async <T>(task: () => Promise<T>): Promise<T> => {
		if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
		active++;
		try {
			return await task();
		} finally {
			next();
		}
	};
}
