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
 * dropped (Prometheus has none). Built only to describe a series in a message: the check itself never merges.
 */
function seriesLabels(point: Point, extraLabels: Labels, overridingLabels: Labels): Labels {
  const merged: Labels = {};
  for (const labels of [extraLabels, point.labels, overridingLabels]) {
    for (const key in labels) merged[key] = labels[key]!;
  }
  const kept: Labels = {};
  for (const key in merged) if (merged[key] !== '') kept[key] = merged[key]!;
  return kept;
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
  // The request-wide labels are the same for every point: sort them once. This runs for every request on the
  // ingest hot path, so per point it only walks the point's own labels and builds one key string.
  const overriding = Object.keys(overridingLabels).filter((k) => overridingLabels[k] !== '').sort();
  const extra = Object.keys(extraLabels).filter((k) => extraLabels[k] !== '' && !Object.hasOwn(overridingLabels, k));
  const sharedChecked = new Set<string>();

  // Closures made once, not per point: this loop is on every request's path.
  let current: Point = points[0]!;
  let description: string | undefined;
  const report = (message: string) => {
    description ??= describeSeries(current.name, seriesLabels(current, extraLabels, overridingLabels));
    issues.push({ path: '$', message: `${description}: ${message}` });
  };
  const checkLabel = (name: string, value: string) => {
    if (!isValidLabelName(name)) {
      report(`label name ${JSON.stringify(name)} is not valid (allowed: [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)`);
    }
    const labelNameBytes = byteLength(name, limits.maxNameLength);
    if (labelNameBytes > limits.maxNameLength) report(`a label name is ${labelNameBytes} bytes long; the limit is ${limits.maxNameLength}`);
    const valueBytes = byteLength(value, limits.maxLabelValueLength);
    if (valueBytes > limits.maxLabelValueLength) {
      report(`the value of label "${truncate(name, SHOWN_VALUE_LENGTH)}" is ${valueBytes} bytes long; the limit is ${limits.maxLabelValueLength}`);
    }
  };

  for (const point of points) {
    current = point;
    description = undefined;
    // Key: the name, the point's own labels that reach the receiver, then the extra labels it does not shadow.
    let key = point.name;
    let labelCount = 1 + overriding.length;
    const counted: string[] = [];
    for (const name in point.labels) {
      if (Object.hasOwn(overridingLabels, name) || point.labels[name] === '') continue;
      labelCount++;
      counted.push(name);
    }
    // Faults are reported in the body's label order; the key needs a canonical one.
    for (const name of counted.length > 1 ? [...counted].sort() : counted) key += `\u0000${name}\u0000${point.labels[name]}`;
    for (const name of extra) {
      if (Object.hasOwn(point.labels, name)) continue;
      key += `\u0001${name}`;
      labelCount++;
    }
    if (seen.has(key)) {
      if (!duplicates.has(key)) report('the same series appears more than once in this request');
      duplicates.add(key);
      continue;
    }
    seen.add(key);

    if (!isValidMetricName(point.name)) report('not a valid metric name (allowed: [a-zA-Z_:][a-zA-Z0-9_:]*)');
    const nameBytes = byteLength(point.name, limits.maxNameLength);
    if (nameBytes > limits.maxNameLength) report(`metric name is ${nameBytes} bytes long; the limit is ${limits.maxNameLength}`);
    if (labelCount > limits.maxLabelsPerSeries) {
      report(`${labelCount} labels counting __name__; the limit is ${limits.maxLabelsPerSeries} per series`);
    }
    for (const name of counted) checkLabel(name, point.labels[name]!);
    // Request-wide labels are checked once, and a fault reported on the first series that carries them.
    for (const name of overriding) {
      if (sharedChecked.has(name)) continue;
      sharedChecked.add(name);
      checkLabel(name, overridingLabels[name]!);
    }
    for (const name of extra) {
      if (Object.hasOwn(point.labels, name) || sharedChecked.has(name)) continue;
      sharedChecked.add(name);
      checkLabel(name, extraLabels[name]!);
    }
  }

  if (seen.size > limits.maxSeries) {
    issues.unshift({ path: '$', message: `the request makes ${seen.size} series; the limit is ${limits.maxSeries} per request` });
  }
  return capIssues(issues);
}
