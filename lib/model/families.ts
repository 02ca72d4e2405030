import type { MetricFamily } from './series.ts';

/**
 * Suffixes by which a series name belongs to a family of another name (OpenMetrics: counters `_total`,
 * summaries/histograms `_sum` `_count` `_bucket`, info `_info`; Beam distributions add `_min` `_max` gauges,
 * which are families of their own and so match exactly first).
 */
const FAMILY_SUFFIXES = ['_total', '_sum', '_count', '_bucket', '_info', '_created'] as const;

/** The family a series name belongs to: the exact name first, then the name without a known suffix. */
export function familyOf(seriesName: string, families: ReadonlyMap<string, MetricFamily>): MetricFamily | undefined {
  const exact = families.get(seriesName);
  if (exact) return exact;
  for (const suffix of FAMILY_SUFFIXES) {
    if (seriesName.endsWith(suffix)) {
      const family = families.get(seriesName.slice(0, -suffix.length));
      if (family) return family;
    }
  }
  return undefined;
}

export function familiesByName(families: Iterable<MetricFamily>): Map<string, MetricFamily> {
  const map = new Map<string, MetricFamily>();
  for (const f of families) map.set(f.name, f);
  return map;
}
