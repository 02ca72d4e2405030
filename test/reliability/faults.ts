/**
 * The fault matrix: what each scenario breaks, with which settings, and how. Every fault is bounded (a window of a
 * few seconds, or a script of so many answers) so the system can recover by itself; what is measured is whether
 * every accepted sample then ends up stored or in the DLQ with a reason.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { snappyUncompress } from '../../lib/encoders/snappy.ts';
import { times, type FaultServerOptions, type ScriptEntry } from '../support/fault-server.ts';
import type { Harness } from './harness.ts';

export type Size = 'full' | 'fast';

export interface Volume {
  pushes: number;
  series: number;
  /** Milliseconds between pushes. */
  paceMs: number;
}

export const VOLUMES: Readonly<Record<Size, Volume>> = {
  full: { pushes: 30, series: 40, paceMs: 100 },
  fast: { pushes: 10, series: 10, paceMs: 60 },
};

/** Deliver settings every scenario starts from: fast retries and short timeouts, so a scenario takes seconds. */
export const BASE_ENV: Readonly<Record<string, string>> = {
  RETRY_BASE_MS: '50',
  RETRY_MAX_MS: '400',
  REMOTE_WRITE_TIMEOUT_MS: '1000',
  DELIVER_TIME_MARGIN_MS: '300',
};

/** How long a scenario waits for every sample to be accounted for, and when its process is ended regardless. */
export const SETTLE_MS: Readonly<Record<Size, number>> = { full: 60_000, fast: 40_000 };
export const HARD_DEADLINE_MS: Readonly<Record<Size, number>> = { full: 110_000, fast: 80_000 };

export interface StackSettings {
  /** The deliver function's timeout. */
  functionTimeoutMs: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  pollers: number;
}

export const BASE_STACK: Readonly<StackSettings> = {
  functionTimeoutMs: 2_000,
  visibilityTimeoutSeconds: 2,
  // High enough that no transient fault below makes SQS dead-letter a message without a reason.
  maxReceiveCount: 50,
  pollers: 2,
};

export interface Fault {
  /** The command-line name. */
  name: string;
  /** The matrix row. */
  title: string;
  env?: (size: Size) => Record<string, string>;
  stack?: Partial<StackSettings>;
  /** Series of the workload the receiver refuses for good. */
  refused?: number;
  rule?: FaultServerOptions['rule'];
  /**
   * Pushes the workload while injecting the fault; the pollers are already running unless it starts them itself.
   * Resolves with what was injected, for the report, and when the fault ended if not by a script (performance.now()).
   */
  run(h: Harness, size: Size): Promise<{ injected: string; endedAt?: number }>;
  /** Start the pollers only when `run` says so (the fault needs full batches waiting on the queue). */
  deferPollers?: boolean;
}

const scaled = (size: Size, full: number, fast: number) => (size === 'full' ? full : fast);

/**
 * Pushes the workload with the fault switched on from push ⌊n/4⌋+1 until `holdMs` after the last push, so the
 * fault ends after every sample was accepted and the time to recover starts there.
 */
async function withFaultWindow(
  h: Harness,
  size: Size,
  holdMs: number,
  on: () => Promise<void> | void,
  off: () => Promise<void> | void,
): Promise<{ endedAt: number; window: string }> {
  const from = Math.floor(h.workload.pushes / 4) + 1;
  let startedAt = 0;
  let switching: Promise<void> = Promise.resolve();
  await h.pushAll(VOLUMES[size].paceMs, (i) => {
    if (i !== from) return;
    startedAt = performance.now();
    switching = Promise.resolve(on());
  });
  await switching;
  await sleep(holdMs);
  await off();
  const endedAt = performance.now();
  const seconds = ((endedAt - startedAt) / 1000).toFixed(1);
  return { endedAt, window: `for ${seconds} s (push ${from} of ${h.workload.pushes} until ${holdMs / 1000} s after the last)` };
}

/** Every write request answered with `entries`, in turn, during the fault window. */
async function answerWindow(h: Harness, size: Size, entries: readonly ScriptEntry[], what: string): Promise<{ injected: string; endedAt: number }> {
  const { endedAt, window } = await withFaultWindow(h, size, scaled(size, 2_000, 1_000), () => h.faultOn(entries), () => h.faultOff());
  return { injected: `${what} ${window}`, endedAt };
}

export const FAULTS: readonly Fault[] = [
  {
    name: 'backend-down',
    title: '1. backend down for a while, then back',
    async run(h, size) {
      const { endedAt, window } = await withFaultWindow(h, size, scaled(size, 3_000, 1_500), () => h.proxyDown(), () => h.proxyUp());
      return { injected: `connections refused (the proxy's port closed) ${window}`, endedAt };
    },
  },
  {
    name: 'error-storm',
    title: '2. a storm of 500/503',
    run: (h, size) =>
      answerWindow(
        h,
        size,
        [
          { status: 503, body: 'service unavailable' },
          { status: 500, body: 'internal server error' },
          { status: 503, headers: { 'retry-after': '1' }, body: 'service unavailable, come back later' },
          { status: 502, body: 'bad gateway' },
        ],
        'every answer 503 / 500 / 502 (some with Retry-After: 1)',
      ),
  },
  {
    name: 'rate-limited',
    title: '3. 429 with Retry-After',
    run: (h, size) => answerWindow(h, size, [{ status: 429, headers: { 'retry-after': '1' }, body: 'too many requests' }], 'every answer 429 with Retry-After: 1'),
  },
  {
    name: 'slow-responses',
    title: '4. responses slower than the timeout',
    env: () => ({ REMOTE_WRITE_TIMEOUT_MS: '800' }),
    // Half of them written upstream before the late answer: the retry then writes the same samples again.
    run: (h, size) =>
      answerWindow(h, size, [{ proxy: true, delayMs: 1_500 }, { status: 503, delayMs: 1_500 }], 'every answer 1.5 s late (timeout 0.8 s), half of them after the write,'),
  },
  {
    name: 'connection-reset',
    title: '5. connection reset mid-request',
    // Half reset before the write, half after it: the sender cannot tell which.
    run: (h, size) => answerWindow(h, size, ['reset', { proxy: true, reset: true }], 'every connection reset, half of them after the write,'),
  },
  {
    name: 'lambda-timeout',
    title: '6. deliver runs out of Lambda time mid-batch',
    // Four write requests per full batch of ten messages, sent one at a time, each slow: the invocation's time
    // runs out after two or three of them.
    env: (size) => ({
      DELIVER_TIME_MARGIN_MS: '200',
      REMOTE_WRITE_CONCURRENCY: '1',
      REMOTE_WRITE_MAX_SAMPLES: String((10 * VOLUMES[size].series) / 4),
    }),
    stack: { functionTimeoutMs: 1_500 },
    deferPollers: true,
    async run(h, size) {
      const n = scaled(size, 12, 6);
      h.proxy.push(...times(n, { proxy: true, delayMs: 500 }));
      await h.pushAll(VOLUMES[size].paceMs);
      h.startPollers();
      return { injected: `function timeout 1.5 s, batches of 10 queued, ${n} writes answered 0.5 s late` };
    },
  },
  {
    name: 'duplicate-delivery',
    title: '7. the same messages delivered twice',
    // Visibility shorter than a slow invocation: a third poller receives the same messages while the first two
    // still work on them, on top of every message being on the queue twice.
    env: () => ({ REMOTE_WRITE_TIMEOUT_MS: '3000' }),
    stack: { functionTimeoutMs: 4_000, visibilityTimeoutSeconds: 1, pollers: 3 },
    deferPollers: true,
    async run(h, size) {
      // Fewer slow writes than pollers, so a poller is free when the slow batches' messages become visible again.
      const n = scaled(size, 2, 1);
      h.proxy.push(...times(n, { proxy: true, delayMs: 2_000 }));
      await h.pushAll(VOLUMES[size].paceMs);
      const messages = await h.duplicateQueued(2);
      const endedAt = performance.now();
      h.startPollers();
      return { injected: `each of ${messages} messages queued twice; ${n} writes answered 2 s late with visibility 1 s`, endedAt };
    },
  },
  {
    name: 'permanent-4xx',
    title: '8. permanent 4xx for some series',
    refused: 4,
    deferPollers: true,
    rule: ({ body }) => (refusesPoison(body) ? { status: 400, body: 'sample refused by policy: series poison' } : undefined),
    async run(h, size) {
      await h.pushAll(VOLUMES[size].paceMs);
      h.startPollers();
      return { injected: `400 for every write request holding a poison-* series (${h.workload.refused.size} of ${h.workload.series.length})` };
    },
  },
];

const POISON = Buffer.from('poison-');

/** Whether a remote-write body names a refused series: the label value's bytes appear as is once uncompressed. */
function refusesPoison(body: Buffer): boolean {
  try {
    return Buffer.from(snappyUncompress(body, 64 * 1024 * 1024)).includes(POISON);
  } catch {
    return false;
  }
}

/**
 * Not part of the matrix: a receiver that answers 204 without writing. Every sample it swallows is lost, and the
 * accounting must say so — the check that a row of zeros means something.
 */
export const CONTROLS: readonly Fault[] = [
  {
    name: 'control-lying-backend',
    title: 'control: 204 without writing',
    run: (h, size) => answerWindow(h, size, [{ status: 204 }], 'every answer 204 without the write'),
  },
];

export function faultNamed(name: string): Fault | undefined {
  return [...FAULTS, ...CONTROLS].find((f) => f.name === name);
}
