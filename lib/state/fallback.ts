import { StateUnavailableError } from './redis';
import type { StateStore } from './types';

/**
 * "Continue on local state": calls go to the primary (Redis); when it is unreachable, that call
 * goes to the local store instead and `usedFallback` is set, so the node can say so on its items.
 */
export function withLocalFallback(primary: StateStore, local: StateStore): StateStore & { readonly usedFallback: boolean } {
	let usedFallback = false;
	const wrapped = {} as StateStore & { usedFallback: boolean };
	for (const name of ['now', 'hashSecret', 'allocate', 'capUsage', 'consumeRate', 'claimOnce', 'confirmOnce', 'releaseOnce', 'recordHealth', 'getCircuits', 'setCircuit', 'getMx', 'setMx', 'clearScope', 'close'] as const) {
		(wrapped as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
			try {
				return await (primary[name] as (...a: unknown[]) => Promise<unknown>)(...args);
			} catch (error) {
				if (!(error instanceof StateUnavailableError)) throw error;
				usedFallback = true;
				return (local[name] as (...a: unknown[]) => Promise<unknown>)(...args);
			}
		};
	}
	Object.defineProperty(wrapped, 'kind', { value: primary.kind });
	Object.defineProperty(wrapped, 'usedFallback', { get: () => usedFallback });
	return wrapped;
}
