import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { Outcome } from './outcome.ts';

export interface RetryClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export const SYSTEM_CLOCK: RetryClock = {
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

export interface RetryPolicy {
  backoff: BackoffOptions;
  /** Stop retrying so that the last attempt ends before this (ms since the epoch). */
  deadlineMs: number;
  /** How long one attempt may take; a retry starts only if it can finish before the deadline. */
  attemptTimeoutMs: number;
}

export interface RetryResult {
  outcome: Outcome;
  attempts: number;
}

/**
 * Repeats `attempt` while its outcome is retryable and another attempt fits before the deadline. What is still
 * failing at the deadline is returned as retryable: the caller reports it to SQS, which redelivers it later.
 */
export async function withRetry(attempt: () => Promise<Outcome>, policy: RetryPolicy, clock: RetryClock): Promise<RetryResult> {
  let attempts = 0;
  for (;;) {
    const outcome = await attempt();
    attempts++;
    if (outcome.kind !== 'retryable') return { outcome, attempts };
    const delay = backoffDelay(attempts - 1, policy.backoff, clock.random, outcome.retryAfterMs);
    if (clock.now() + delay + policy.attemptTimeoutMs > policy.deadlineMs) return { outcome, attempts };
    await clock.sleep(delay);
  }
}
