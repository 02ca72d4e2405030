/**
 * Per-request limits on what an input may produce, checked at ingest so that a request the receivers would
 * refuse (or silently drop) is answered 400 while the sender can still see why, instead of failing in delivery.
 */
import type { Labels, Point } from '../model/series.ts';
import { isValidLabelName, isValidMetricName } from '../model/names.ts';
import type { InputIssue } from './errors.ts';
import { capIssues } from './schema.ts';

export interface IngestLimits {
  /** Distinct series one request may produce. */
  maxSeries: number;
  /** Labels per series, `__name__` included (as Prometheus' `label_limit` and Cortex/Mimir count them). */
  maxLabelsPerSeries: number;
  /** Length in UTF-8 bytes of a metric name or a label name. */
  maxNameLength: number;
  /** Length in UTF-8 bytes of a label value. */
  maxLabelValueLength: number;
}

export const DEFAULT_INGEST_LIMITS: Readonly<IngestLimits> = Object.freeze({
  // A busy Beam pipeline reports a few hundred to a few thousand series; 10 000 leaves room while keeping one
  // request to a handful of 256 KiB envelopes and the ingest Lambda well inside its memory.
  maxSeries: 10_000,
  // Amazon Managed Prometheus refuses series with more than 70 labels (DESIGN §4). VictoriaMetrics drops
  // series over its -maxLabelsPerTimeseries (30 by default): lower this when it is the only receiver.
  maxLabelsPerSeries: 70,
  // Grafana Cloud / Mimir defaults: label names ≤ 1024, label values (and metric names) ≤ 2048.
  maxNameLength: 1024,
  maxLabelValueLength: 2048,
});

const SHOWN_VALUE_LENGTH = 60;
const SHOWN_SERIES_LENGTH = 200;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function byteLength(text: string, max: number): number {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no encoding to be known to fit.
  return text.length * 3 <= max ? text.length : Buffer.byteLength(text, 'utf8');
}

/** `name{a="x",b="y"}` as the text format writes it, long values and the whole cut short for a message. */
export function describeSeries(name: string, labels: Labels): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${JSON.stringify(truncate(labels[key] ?? '', SHOWN_VALUE_LENGTH))}`);
  return truncate(pairs.length === 0 ? name : `${name}{${pairs.join(',')}}`, SHOWN_SERIES_LENGTH);
}

/**
 * The labels a point is sent with: `extraLabels` under its own, `overridingLabels` over them; empty values
 * dropped (Prometheus has none).
 */
function seriesLabels(point: Point, extraLabels: Labels, overridingLabels: Labels): Labels {
  const merged: Labels = { ...extraLabels, ...point.labels, ...overridingLabels };
  for (const key of Object.keys(merged)) if (merged[key] === '') delete merged[key];
  return merged;
}

function seriesKey(name: string, labels: Labels): string {
  return JSON.stringify([name, ...Object.keys(labels).sort().map((key) => [key, labels[key]])]);
}

/**
 * Checks the points of one request against `limits`: distinct series count, labels per series, name and value
 * lengths, name validity, and a series given twice. Each point is checked with the labels it will be sent with:
 * `extraLabels` (e.g. static labels) where the point has no label of that name, and `overridingLabels` (e.g. the
 * grouping key, which delivery puts over a point's own labels) replacing its own. Points carry no body path, so
 * each issue is at `$` and names its series. At most `MAX_REPORTED_ISSUES` are returned.
 */
export function checkPoints(
  points: readonly Point[],
  extraLabels: Labels,
  limits: Readonly<IngestLimits>,
  overridingLabels: Labels = {},
): InputIssue[] {
  const issues: InputIssue[] = [];
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  const report = (series: string, message: string) => issues.push({ path: '$', message: `${series}: ${message}` });

  for (const point of points) {
    const labels = seriesLabels(point, extraLabels, overridingLabels);
    const key = seriesKey(point.name, labels);
    const series = describeSeries(point.name, labels);
    if (seen.has(key)) {
      if (!duplicates.has(key)) report(series, 'the same series appears more than once in this request');
      duplicates.add(key);
      continue;
    }
    seen.add(key);

    if (!isValidMetricName(point.name)) report(series, 'not a valid metric name (allowed: [a-zA-Z_:][a-zA-Z0-9_:]*)');
    const nameBytes = byteLength(point.name, limits.maxNameLength);
    if (nameBytes > limits.maxNameLength) {
      report(series, `metric name is ${nameBytes} bytes long; the limit is ${limits.maxNameLength}`);
    }
    const labelCount = Object.keys(labels).length + 1;
    if (labelCount > limits.maxLabelsPerSeries) {
      report(series, `${labelCount} labels counting __name__; the limit is ${limits.maxLabelsPerSeries} per series`);
    }
    for (const [name, value] of Object.entries(labels)) {
      if (!isValidLabelName(name)) {
        report(series, `label name ${JSON.stringify(name)} is not valid (allowed: [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)`);
      }
      const labelNameBytes = byteLength(name, limits.maxNameLength);
      if (labelNameBytes > limits.maxNameLength) {
        report(series, `a label name is ${labelNameBytes} bytes long; the limit is ${limits.maxNameLength}`);
      }
      const valueBytes = byteLength(value, limits.maxLabelValueLength);
      if (valueBytes > limits.maxLabelValueLength) {
        report(series, `the value of label "${truncate(name, SHOWN_VALUE_LENGTH)}" is ${valueBytes} bytes long; the limit is ${limits.maxLabelValueLength}`);
      }
    }
  }

  if (seen.size > limits.maxSeries) {
    issues.unshift({ path: '$', message: `the request makes ${seen.size} series; the limit is ${limits.maxSeries} per request` });
  }
  return capIssues(issues);
}
