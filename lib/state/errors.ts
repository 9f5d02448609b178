/**
 * A store could not reach its state or was refused (Redis down, a script error, a locked state
 * file): routing must stop, not guess. Part of the contract, so callers and the local fallback need
 * not know which store threw. `store` says which kind did when it is not Redis, whose messages the
 * nodes complete with Redis advice; the embedded store's messages say what to do themselves.
 */
export class StateUnavailableError extends Error {
	constructor(
		message: string,
		readonly cause?: Error,
		readonly store?: 'memory' | 'redis' | 'sqlite',
	) {
		super(message);
		this.name = 'StateUnavailableError';
	}
}
