export interface BackoffOptions {
  /** First retry waits up to this long. */
  baseMs: number;
  /** No single wait is longer. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ baseMs: 100, maxMs: 5_000 });

/**
 * "Full jitter" exponential backoff: a uniform draw in [0, min(max, base·2^retry)), so that many consumers
 * retrying the same outage do not hit the receiver in lockstep. A receiver's Retry-After wins when it asks for more.
 */
export function backoffDelay(retry: number, options: BackoffOptions, random: () => number, retryAfterMs?: number): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** retry);
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}
