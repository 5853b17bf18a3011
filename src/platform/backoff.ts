/**
 * Capped exponential backoff with full jitter, and a retry loop built on it, for waiting on
 * a dependency that is not up yet without crash-looping or hammering it.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

const defaults: BackoffOptions = { initialMs: 100, maxMs: 5_000 };

/** The delay before retry number `attempt` (0-based): random in [0, min(max, initial * 2^n)]. */
export function backoffDelay(attempt: number, options: Partial<BackoffOptions> = {}): number {
  const { initialMs, maxMs } = { ...defaults, ...options };
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(Math.random() * ceiling);
}

export interface RetryOptions extends Partial<BackoffOptions> {
  /** Stops retrying (rejecting with the signal's reason) when aborted. */
  signal?: AbortSignal;
  /** Told about each failure before the wait, e.g. to log it or mark readiness. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Calls `work` until it resolves, waiting a backoff delay after each failure. */
export async function retryWithBackoff<T>(
  work: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await work();
    } catch (error) {
      options.signal?.throwIfAborted();
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, undefined, { signal: options.signal }).catch((error: unknown) => {
        // Reject with the signal's reason, as promised, not the timer's generic AbortError.
        options.signal?.throwIfAborted();
        throw error;
      });
    }
  }
}
