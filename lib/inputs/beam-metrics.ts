/**
 * The form every Beam metrics input (Java MetricsHttpSink, Python `MetricResults.query()`, Dataflow JobMetrics)
 * is parsed into, and the one converter from it to Prometheus points (DESIGN §3).
 *
 * Naming: `<prefix><name>` sanitised with lib/model/names.ts, the user's case kept (`records-out` →
 * `records_out`). Colons are folded to `_` as well: the Prometheus data model reserves them for recording rules
 * ("They should not be used by exporters", https://prometheus.io/docs/concepts/data_model/), and URN-derived
 * names (`pardo_execution_time:start_bundle_msecs`) would otherwise carry them.
 *
 * Family names are the sample names, except for the summary (`<name>` over `<name>_sum` / `<name>_count`), as
 * the text exposition format 0.0.4 writes its `# TYPE` lines. HELP is derived from the family name alone, so it
 * stays the same whichever namespace or spelling (`records-out`, `records_out`) the samples came from.
 */
import * as v from 'valibot';
import type { Conversion, Labels, MetricFamily, MetricType, Point } from '../model/series.ts';
import { sanitizeLabelName, sanitizeMetricName } from '../model/names.ts';
import { jsonPath, ValidationError, type InputIssue } from './errors.ts';
import type { InputContext } from './options.ts';
import { capIssues, finiteNumber, type PathSegments } from './schema.ts';

/** A user metric is named by namespace and name; a system metric (Java SDK) by its URN. */
export type BeamMetricName = { namespace: string; name: string } | { urn: string };

/** One metric of one kind, with the attempted and/or committed value the runner reported. */
export interface BeamMetric<T> {
  /** Where the entry sits in the body, for messages about the entry as a whole. */
  path: PathSegments;
  name: BeamMetricName;
  /** The PTransform the metric belongs to. */
  step?: string | undefined;
  /** Set instead of `step` for PCollection metrics (element counts, sampled sizes). */
  pcollection?: string | undefined;
  /** Further labels the SDK attached (Beam Python `key.labels`), names not yet sanitised. */
  labels?: Readonly<Record<string, string>> | undefined;
  attempted?: T | undefined;
  committed?: T | undefined;
}

export interface BeamDistribution {
  count: number;
  sum: number;
  /** Absent when the source has none (Dataflow `Mean` metrics); ignored when `count` is 0. */
  min?: number | undefined;
  max?: number | undefined;
}

export interface BeamGauge {
  value: number;
  /** When the SDK last set the gauge (ms since the epoch). */
  timestampMs?: number | undefined;
}

export interface BeamMetrics {
  counters: BeamMetric<number>[];
  distributions: BeamMetric<BeamDistribution>[];
  gauges: BeamMetric<BeamGauge>[];
  stringSets: BeamMetric<readonly string[]>[];
  /** Notes from the parser (e.g. skipped histograms), passed on as conversion warnings. */
  warnings: string[];
}

/** An empty collection, for parsers to fill. */
export function emptyBeamMetrics(): BeamMetrics {
  return { counters: [], distributions: [], gauges: [], stringSets: [], warnings: [] };
}

/**
 * A counter value. Beam counters may be decremented, but a Prometheus counter must never go down (a drop reads
 * as a reset, and `rate()` then invents a spike), so a negative one is refused rather than exported.
 */
export const counterValue = v.config(
  v.pipe(
    finiteNumber,
    v.minValue(0, (issue) => `a counter cannot be negative (got ${issue.input}): Prometheus counters only go up; use a gauge for a value that decreases`),
  ),
  { abortPipeEarly: true },
);

/** A distribution's element count. */
export const distributionCount = v.config(
  v.pipe(finiteNumber, v.minValue(0, (issue) => `a distribution count cannot be negative (got ${issue.input})`)),
  { abortPipeEarly: true },
);

/** `beam:metric:element_count:v1` → `element_count`: the URN scheme and version say nothing about the metric. */
export function nameFromUrn(urn: string): string {
  return urn.replace(/^beam:metric:/, '').replace(/:v\d+$/, '');
}

/** `sanitizeMetricName` with colons folded to `_` (see the module comment). */
export function promMetricName(name: string): string {
  return sanitizeMetricName(name).replace(/:/g, '_');
}

/** Labels this converter sets itself; a Beam Python label of the same name is dropped with a warning. */
const OWN_LABELS: ReadonlySet<string> = new Set(['namespace', 'step', 'pcollection', 'urn', 'result', 'value']);

interface Help {
  /** Whose metric it is, first word of HELP ("Beam", "Dataflow system"). */
  source: string;
  /** The metric's name without prefix, sanitised: a function of the family name. */
  name: string;
}

/** Accumulates families, points, warnings and issues while converting. */
class ConversionBuilder {
  readonly families = new Map<string, { family: MetricFamily; path: PathSegments }>();
  readonly points: Point[] = [];
  readonly warnings: string[] = [];
  readonly issues: InputIssue[] = [];
  /** Families with at least one point; only these are returned. */
  readonly used = new Set<string>();

  /** Registers a family; a name already used with another type is an issue (Pushgateway and metadata reject it). */
  family(name: string, type: MetricType, help: string, path: PathSegments): boolean {
    const seen = this.families.get(name);
    if (seen === undefined) {
      this.families.set(name, { family: { name, type, help }, path });
      return true;
    }
    if (seen.family.type === type) return true;
    this.issues.push({
      path: jsonPath([...path, 'name']),
      message: `metric name "${name}" would be a ${type}, but ${jsonPath(seen.path)} already makes it a ${seen.family.type}`,
    });
    return false;
  }

  point(family: string, name: string, labels: Labels, value: number, timestampMs?: number): void {
    this.used.add(family);
    this.points.push(timestampMs === undefined ? { name, labels, value } : { name, labels, value, timestampMs });
  }
}

/** The values to export: the committed one when present (else attempted), or both, told apart by `result`. */
function selectValues<T>(metric: BeamMetric<T>, results: 'preferred' | 'both'): Array<{ value: T; labels: Labels }> {
  if (results === 'preferred') {
    const value = metric.committed ?? metric.attempted;
    return value === undefined ? [] : [{ value, labels: {} }];
  }
  const out: Array<{ value: T; labels: Labels }> = [];
  if (metric.committed !== undefined) out.push({ value: metric.committed, labels: { result: 'committed' } });
  if (metric.attempted !== undefined) out.push({ value: metric.attempted, labels: { result: 'attempted' } });
  return out;
}

/** `namespace`/`urn`, `step` or `pcollection`, then the SDK's own labels. Empty values are left out: Prometheus has none. */
function metricLabels(metric: BeamMetric<unknown>, warnings: string[]): Labels {
  const labels: Labels = {};
  if ('urn' in metric.name) labels.urn = metric.name.urn;
  else if (metric.name.namespace !== '') labels.namespace = metric.name.namespace;
  if (metric.pcollection) labels.pcollection = metric.pcollection;
  else if (metric.step) labels.step = metric.step;
  for (const [raw, value] of Object.entries(metric.labels ?? {})) {
    if (value === '') continue;
    const name = sanitizeLabelName(raw);
    if (OWN_LABELS.has(name) || Object.hasOwn(labels, name)) {
      warnings.push(`${jsonPath(metric.path)}: label "${raw}" dropped: "${name}" is already set`);
      continue;
    }
    labels[name] = value;
  }
  return labels;
}

function describe(metric: BeamMetric<unknown>): string {
  const name = 'urn' in metric.name ? metric.name.urn : `${metric.name.namespace}/${metric.name.name}`;
  const where = metric.pcollection ?? metric.step;
  return where ? `"${name}" (${where})` : `"${name}"`;
}

/** Converts parsed Beam metrics into points and families; throws a `ValidationError` listing every name clash. */
export function convertBeamMetrics(metrics: BeamMetrics, ctx: InputContext, source = 'Beam'): Conversion {
  const { prefix, results, stringSetCap, gaugeMaxAgeMs, gaugeMaxFutureMs } = ctx.options;
  const out = new ConversionBuilder();
  out.warnings.push(...metrics.warnings);

  const naming = (metric: BeamMetric<unknown>): { base: string; help: Help } => {
    const raw = 'urn' in metric.name ? nameFromUrn(metric.name.urn) : metric.name.name;
    return { base: promMetricName(prefix + raw), help: { source, name: promMetricName(raw) } };
  };

  for (const counter of metrics.counters) {
    const { base, help } = naming(counter);
    const name = base.endsWith('_total') ? base : `${base}_total`;
    if (!out.family(name, 'counter', `${help.source} counter ${help.name.replace(/_total$/, '')}`, counter.path)) continue;
    const labels = metricLabels(counter, out.warnings);
    for (const { value, labels: extra } of selectValues(counter, results)) out.point(name, name, { ...labels, ...extra }, value);
  }

  for (const distribution of metrics.distributions) {
    const { base, help } = naming(distribution);
    const values = selectValues(distribution, results);
    // An empty distribution carries Beam's identity element (min Long.MAX_VALUE, max Long.MIN_VALUE): not data.
    const hasMin = values.some(({ value }) => value.count > 0 && value.min !== undefined);
    const hasMax = values.some(({ value }) => value.count > 0 && value.max !== undefined);
    const ok =
      out.family(base, 'summary', `${help.source} distribution ${help.name}: sum and count of the values`, distribution.path) &&
      (!hasMin || out.family(`${base}_min`, 'gauge', `${help.source} distribution ${help.name}: smallest value`, distribution.path)) &&
      (!hasMax || out.family(`${base}_max`, 'gauge', `${help.source} distribution ${help.name}: largest value`, distribution.path));
    if (!ok) continue;
    const labels = metricLabels(distribution, out.warnings);
    for (const { value, labels: extra } of values) {
      const series = { ...labels, ...extra };
      out.point(base, `${base}_sum`, series, value.sum);
      out.point(base, `${base}_count`, series, value.count);
      if (value.count > 0 && value.min !== undefined) out.point(`${base}_min`, `${base}_min`, series, value.min);
      if (value.count > 0 && value.max !== undefined) out.point(`${base}_max`, `${base}_max`, series, value.max);
    }
  }

  for (const gauge of metrics.gauges) {
    const { base, help } = naming(gauge);
    if (!out.family(base, 'gauge', `${help.source} gauge ${help.name}`, gauge.path)) continue;
    const labels = metricLabels(gauge, out.warnings);
    for (const { value, labels: extra } of selectValues(gauge, results)) {
      const ts = value.timestampMs;
      // Outside the window Prometheus would refuse the sample (out of bounds / too far ahead): use ingest time.
      const plausible = ts !== undefined && ts >= ctx.nowMs - gaugeMaxAgeMs && ts <= ctx.nowMs + gaugeMaxFutureMs;
      out.point(base, base, { ...labels, ...extra }, value.value, plausible ? ts : undefined);
    }
  }

  for (const set of metrics.stringSets) {
    const { base, help } = naming(set);
    const info = `${base}_info`;
    const size = `${base}_size`;
    const ok =
      out.family(info, 'info', `${help.source} string set ${help.name}: one series per member, in label "value"`, set.path) &&
      out.family(size, 'gauge', `${help.source} string set ${help.name}: number of members`, set.path);
    if (!ok) continue;
    const labels = metricLabels(set, out.warnings);
    for (const { value, labels: extra } of selectValues(set, results)) {
      const series = { ...labels, ...extra };
      const members = [...new Set(value)].sort();
      // An empty label value is no label at all in Prometheus, so "" cannot be told apart from the bare series.
      const exportable = members.filter((m) => m !== '');
      if (exportable.length < members.length) {
        out.warnings.push(`string set ${describe(set)}: the empty string is counted in ${size} but has no ${info} series`);
      }
      if (exportable.length > stringSetCap) {
        out.warnings.push(
          `string set ${describe(set)} has ${exportable.length} members; exported the first ${stringSetCap} in sorted order (${size} has the full count)`,
        );
      }
      for (const member of exportable.slice(0, stringSetCap)) out.point(info, info, { ...series, value: member }, 1);
      out.point(size, size, series, members.length);
    }
  }

  if (out.issues.length > 0) throw new ValidationError(capIssues(out.issues));
  const conversion: Conversion = { families: [...out.families.values()].filter((f) => out.used.has(f.family.name)).map((f) => f.family), points: out.points };
  if (out.warnings.length > 0) conversion.warnings = out.warnings;
  return conversion;
}
