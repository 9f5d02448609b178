/**
 * A store could not reach its state or was refused (Redis down, a script error): routing must stop,
 * not guess. Part of the contract, so callers and the local fallback need not know which store threw.
 */
export class StateUnavailableError extends Error {
	constructor(
		message: string,
		readonly cause?: Error,
	) {
		super(message);
		this.name = 'StateUnavailableError';
	}
}
