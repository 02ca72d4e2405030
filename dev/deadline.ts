/**
 * Bounded waiting. Every wait in the local stack and the tests goes through here so that nothing can hang CI:
 * each has a deadline and, when it passes, an error that says what was awaited and what was last seen.
 */

import { setTimeout as sleep } from 'node:timers/promises';

export class DeadlineError extends Error {
  override name = 'DeadlineError';
  readonly timeoutMs: number;
  readonly lastSeen: unknown;

  constructor(what: string, timeoutMs: number, lastSeen: unknown, options?: { cause?: unknown }) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${describeLastSeen(lastSeen)}`, options);
    this.timeoutMs = timeoutMs;
    this.lastSeen = lastSeen;
  }
}

function describeLastSeen(lastSeen: unknown): string {
  if (lastSeen === undefined) return '';
  if (lastSeen instanceof Error) return `; last error: ${lastSeen.message}`;
  const text = typeof lastSeen === 'string' ? lastSeen : JSON.stringify(lastSeen);
  return `; last seen: ${text.length > 500 ? `${text.slice(0, 500)}…` : text}`;
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Stops the wait early (e.g. the process being awaited has exited); its reason is thrown. */
  signal?: AbortSignal;
}

/**
 * Calls `attempt` until it returns `{ done: true, value }` or the deadline passes. An attempt that throws counts
 * as "not yet" (its error is kept for the timeout message).
 */
export async function pollUntil<T>(
  what: string,
  attempt: () => Promise<{ done: true; value: T } | { done: false; seen?: unknown }>,
  { timeoutMs, intervalMs = 100, signal }: PollOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastSeen: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const outcome = await attempt();
      if (outcome.done) return outcome.value;
      lastSeen = outcome.seen;
    } catch (error) {
      lastSeen = error;
    }
    signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) throw new DeadlineError(what, timeoutMs, lastSeen, { cause: lastSeen instanceof Error ? lastSeen : undefined });
    await sleep(Math.min(intervalMs, left), undefined, signal ? { signal } : undefined).catch(() => undefined);
  }
}

/** Resolves with `promise`, or rejects with a DeadlineError once `timeoutMs` has passed. */
export async function withDeadline<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, timeoutMs, undefined)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
