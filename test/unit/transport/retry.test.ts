import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../../lib/transport/backoff.ts';
import type { Outcome } from '../../../lib/transport/outcome.ts';
import { withRetry, type RetryClock } from '../../../lib/transport/retry.ts';

function fakeClock(start = 0): RetryClock & { slept: number[] } {
  let t = start;
  const slept: number[] = [];
  return { now: () => t, sleep: async (ms) => { slept.push(ms); t += ms; }, random: () => 0.5, slept };
}

const retryable: Outcome = { kind: 'retryable', reason: 'http-503', status: 503, detail: '' };
const success: Outcome = { kind: 'success', reason: 'http-204', status: 204, detail: '' };

describe('backoffDelay', () => {
  it('grows exponentially under the cap with jitter', () => {
    const o = { baseMs: 100, maxMs: 1000 };
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((r) => backoffDelay(r, o, () => 0.5)), [50, 100, 200, 400, 500, 500]);
  });
  it('waits at least what Retry-After asks', () => {
    assert.equal(backoffDelay(0, { baseMs: 100, maxMs: 1000 }, () => 0.5, 3000), 3000);
  });
});

describe('withRetry', () => {
  it('retries a retryable outcome until it succeeds', async () => {
    const clock = fakeClock();
    const answers = [retryable, retryable, success];
    const r = await withRetry(async () => answers.shift()!, { backoff: { baseMs: 100, maxMs: 1000 }, deadlineMs: 60_000, attemptTimeoutMs: 1000 }, clock);
    assert.equal(r.outcome.kind, 'success');
    assert.equal(r.attempts, 3);
    assert.deepEqual(clock.slept, [50, 100]);
  });

  it('never retries a permanent or fatal outcome', async () => {
    for (const kind of ['permanent', 'fatal', 'superseded'] as const) {
      let calls = 0;
      const r = await withRetry(async () => (calls++, { kind, reason: 'x', detail: '' }), { backoff: { baseMs: 1, maxMs: 1 }, deadlineMs: 1e9, attemptTimeoutMs: 1 }, fakeClock());
      assert.equal(calls, 1);
      assert.equal(r.outcome.kind, kind);
    }
  });

  it('gives up when the next attempt would end past the deadline', async () => {
    const clock = fakeClock();
    const r = await withRetry(async () => retryable, { backoff: { baseMs: 100, maxMs: 100 }, deadlineMs: 1_000, attemptTimeoutMs: 500 }, clock);
    assert.equal(r.outcome.kind, 'retryable');
    assert.ok(clock.now() + 50 + 500 > 1_000);
    assert.ok(r.attempts >= 2);
  });

  it('gives up at once when Retry-After is beyond the deadline', async () => {
    const clock = fakeClock();
    let calls = 0;
    const r = await withRetry(async () => (calls++, { ...retryable, retryAfterMs: 120_000 }), { backoff: { baseMs: 100, maxMs: 1000 }, deadlineMs: 60_000, attemptTimeoutMs: 1000 }, clock);
    assert.equal(calls, 1);
    assert.equal(r.outcome.retryAfterMs, 120_000);
    assert.deepEqual(clock.slept, []);
  });
});
