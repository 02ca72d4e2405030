/**
 * Timing on a noisy, shared machine: calibrate each case to a minimum round length, warm up, then run the cases
 * interleaved round by round so that a burst of load from elsewhere hits ours and the reference alike, and report
 * medians. Ratios are always taken between cases measured in the same run.
 *
 * CPU-bound cases are timed in CPU time (user + system of this process, all its threads, so garbage collection on
 * helper threads counts): time spent waiting for a core that another process holds is not work, and on a shared
 * machine it would swamp the figures. On a quiet machine CPU time and wall time agree for such cases.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface TimingOptions {
  /** Measured rounds; the median of them is reported. */
  rounds: number;
  /** Rounds run and thrown away first (JIT, caches, connection pools). */
  warmupRounds: number;
  /** Each case repeats within a round until it has run at least this long, so timer resolution does not matter. */
  minRoundMs: number;
}

export const DEFAULT_TIMING: Readonly<TimingOptions> = Object.freeze({ rounds: 7, warmupRounds: 2, minRoundMs: 40 });

/** Quick mode (smoke test): one short round, no warm-up beyond calibration. */
export const QUICK_TIMING: Readonly<TimingOptions> = Object.freeze({ rounds: 1, warmupRounds: 0, minRoundMs: 1 });

/**
 * A young-generation collection, run between cases outside the clock so that one case's short-lived garbage is not
 * collected on the next one's time (the flag is set at run time: `npm run bench` needs no node options). Not a
 * full one: that walks the whole heap, and for several calls after it a case whose data is scattered over the old
 * generation (ours: thousands of series) runs several times slower, which would measure the collection, not the
 * case. One untimed call follows before the clock starts.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
const collectGarbage = (): void => gc({ type: 'minor' });

/** Milliseconds of CPU this process has used. */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface Stats {
  /** Median time of one call, ms. */
  median: number;
  min: number;
  max: number;
  /** Per-call time of every measured round, ms. */
  rounds: number[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function statsOf(rounds: readonly number[]): Stats {
  return { median: median(rounds), min: Math.min(...rounds), max: Math.max(...rounds), rounds: [...rounds] };
}

type Case = () => unknown;

async function timeCalls(fn: Case, reps: number): Promise<number> {
  const started = cpuNow();
  for (let i = 0; i < reps; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
  return (cpuNow() - started) / reps;
}

/**
 * Times every case in CPU time, interleaved: each round runs each case (in turn) `reps` times, where `reps` is
 * fixed by a calibration call so that one case's round lasts at least `minRoundMs`. Returns per-call statistics
 * by case.
 */
export async function timeInterleaved<K extends string>(cases: Record<K, Case>, options: TimingOptions = DEFAULT_TIMING): Promise<Record<K, Stats>> {
  const names = Object.keys(cases) as K[];
  const reps = {} as Record<K, number>;
  for (const name of names) {
    const once = await timeCalls(cases[name], 1);
    reps[name] = Math.max(1, Math.ceil(options.minRoundMs / Math.max(once, 0.001)));
  }
  const rounds = {} as Record<K, number[]>;
  for (const name of names) rounds[name] = [];
  for (let r = 0; r < options.warmupRounds + options.rounds; r++) {
    for (const name of names) {
      collectGarbage();
      await timeCalls(cases[name], 1);
      const perCall = await timeCalls(cases[name], reps[name]);
      if (r >= options.warmupRounds) rounds[name].push(perCall);
    }
  }
  const out = {} as Record<K, Stats>;
  for (const name of names) out[name] = statsOf(rounds[name]);
  return out;
}
