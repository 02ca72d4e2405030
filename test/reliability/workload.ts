/**
 * The known set of samples a fault scenario pushes: `pushes` requests of `series` gauges each, in the Prometheus
 * text format, to `/metrics/job/<job>`. Push `i` gives every series the value `i`, so a sample is identified by
 * (series, value) whatever timestamp ingest stamped on it — and the same (series, value) found at two timestamps
 * means a sample was written twice under different times.
 */

export const METRIC = 'rel_value';

export interface Workload {
  job: string;
  pushes: number;
  /** Series names (the `series` label), ordinary ones first. */
  series: readonly string[];
  /** Series a fault refuses for good (fault 8); a subset of `series`. */
  refused: ReadonlySet<string>;
}

/** `series` ordinary series plus `refused` ones named `poison-<n>` (the marker the refusing proxy looks for). */
export function workload(job: string, pushes: number, series: number, refused = 0): Workload {
  const names = Array.from({ length: series }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const poison = Array.from({ length: refused }, (_, i) => `poison-${i}`);
  return { job, pushes, series: [...names, ...poison], refused: new Set(poison) };
}

/** The text exposition body of push `i` (1-based). */
export function pushBody(w: Workload, i: number): string {
  const lines = [`# HELP ${METRIC} reliability matrix sample: the value is the push number`, `# TYPE ${METRIC} gauge`];
  for (const s of w.series) lines.push(`${METRIC}{series="${s}"} ${i}`);
  return lines.join('\n') + '\n';
}

/** `series@value`: one sample of the workload. */
export function sampleKey(series: string, value: number): string {
  return `${series}@${value}`;
}

/** Every sample the workload pushes, by key. */
export function expectedSamples(w: Workload): Set<string> {
  const keys = new Set<string>();
  for (let i = 1; i <= w.pushes; i++) for (const s of w.series) keys.add(sampleKey(s, i));
  return keys;
}
