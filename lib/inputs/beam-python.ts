/**
 * Beam Python metrics: `PipelineResult.metrics().query()` dumped key by key. Beam Python has no HTTP metrics sink,
 * so this shape is ours; the snippet below produces it (the README reuses it):
 *
 * ```python
 * import json, urllib.request
 *
 * def post_metrics(result, url):  # result: PipelineResult; url: https://…/metrics/job/<job>
 *     def plain(v):
 *         if v is None or isinstance(v, (int, float)): return v
 *         if isinstance(v, (set, frozenset)): return sorted(v)
 *         return {k: getattr(v, k) for k in ('value', 'timestamp', 'sum', 'count', 'min', 'max') if hasattr(v, k)}
 *     body = {kind: [{'key': {'step': r.key.step,
 *                             'metric': {'namespace': r.key.metric.namespace, 'name': r.key.metric.name},
 *                             'labels': dict(getattr(r.key, 'labels', None) or {})},
 *                     'committed': plain(r.committed), 'attempted': plain(r.attempted)} for r in results]
 *             for kind, results in result.metrics().query().items()}
 *     request = urllib.request.Request(url, json.dumps(body).encode(), {'Content-Type': 'application/json'})
 *     urllib.request.urlopen(request).read()
 * ```
 */
import * as v from 'valibot';
import type { Conversion } from '../model/series.ts';
import { convertBeamMetrics, counterValue, distributionCount, emptyBeamMetrics, type BeamMetric, type BeamMetrics } from './beam-metrics.ts';
import type { InputContext } from './options.ts';
import { finiteNumber, jsonObject, jsonRecord, nonEmptyString, parseInput, type PathSegments } from './schema.ts';

/** `MetricKey`: the step, the `MetricName` and (newer Beam) the metric's labels. */
const metricKey = v.object({
  step: v.nullish(v.string()),
  metric: v.object({ namespace: v.string(), name: nonEmptyString }),
  labels: v.nullish(jsonRecord(v.string())),
});

/** One `MetricResult`; `committed` is None on runners without committed metrics. */
function result<T extends v.GenericSchema>(value: T) {
  return v.object({ key: metricKey, attempted: value, committed: v.nullish(value) });
}

/**
 * The JSON form of Beam Python's `MetricResults.query()` that the snippet in this module's comment posts: one
 * list per kind, each entry `{key: {step, metric: {namespace, name}, labels}, committed, attempted}`. Gauge
 * timestamps are epoch seconds (Python's `time.time()`), string sets plain lists. `bounded_tries` and
 * `histograms` are accepted and skipped with a warning; unknown keys are ignored, so newer SDKs keep working.
 *
 * @example
 * {"counters":[{"key":{"step":"split","metric":{"namespace":"__main__.WordExtractingDoFn","name":"words"},"labels":{}},"committed":4023,"attempted":4023}],
 *  "distributions":[{"key":{"step":"split","metric":{"namespace":"__main__.WordExtractingDoFn","name":"word_len_dist"},"labels":{}},"committed":{"sum":18502,"count":4023,"min":1,"max":14},"attempted":{"sum":18502,"count":4023,"min":1,"max":14}}],
 *  "gauges":[{"key":{"step":"format","metric":{"namespace":"__main__","name":"last_batch_size"},"labels":{}},"committed":{"value":250,"timestamp":1763633700.5},"attempted":{"value":250,"timestamp":1763633700.5}}],
 *  "string_sets":[],"bounded_tries":[],"histograms":[]}
 *
 * @see https://github.com/apache/beam/blob/master/sdks/python/apache_beam/metrics/metric.py (MetricResults.query)
 * @see https://github.com/apache/beam/blob/master/sdks/python/apache_beam/metrics/execution.py (MetricKey, MetricResult)
 */
export const BeamPythonMetricsSchema = jsonObject({
  counters: v.nullish(v.array(result(counterValue))),
  distributions: v.nullish(
    v.array(result(v.object({ sum: finiteNumber, count: distributionCount, min: v.nullish(finiteNumber), max: v.nullish(finiteNumber) }))),
  ),
  gauges: v.nullish(v.array(result(v.object({ value: finiteNumber, timestamp: v.nullish(finiteNumber) })))),
  string_sets: v.nullish(v.array(result(v.array(v.string())))),
  bounded_tries: v.nullish(v.array(v.unknown())),
  histograms: v.nullish(v.array(v.unknown())),
});

export type BeamPythonMetrics = v.InferOutput<typeof BeamPythonMetricsSchema>;

interface PythonResult<T> {
  key: v.InferOutput<typeof metricKey>;
  attempted: T;
  committed?: T | null | undefined;
}

function normalise<T, U>(entries: PythonResult<T>[] | null | undefined, kind: string, at: PathSegments, map: (value: T) => U): BeamMetric<U>[] {
  return (entries ?? []).map((entry, i) => ({
    path: [...at, kind, i],
    name: { namespace: entry.key.metric.namespace, name: entry.key.metric.name },
    step: entry.key.step ?? undefined,
    labels: entry.key.labels ?? undefined,
    attempted: map(entry.attempted),
    committed: entry.committed == null ? undefined : map(entry.committed),
  }));
}

/** Maps a validated Beam Python body into the shared Beam form. */
export function normaliseBeamPython(body: BeamPythonMetrics, at: PathSegments = []): BeamMetrics {
  const metrics = emptyBeamMetrics();
  metrics.counters = normalise(body.counters, 'counters', at, (n) => n);
  metrics.distributions = normalise(body.distributions, 'distributions', at, (d) => ({
    count: d.count,
    sum: d.sum,
    min: d.min ?? undefined,
    max: d.max ?? undefined,
  }));
  metrics.gauges = normalise(body.gauges, 'gauges', at, (g) => ({
    value: g.value,
    timestampMs: g.timestamp == null ? undefined : Math.round(g.timestamp * 1000),
  }));
  metrics.stringSets = normalise(body.string_sets, 'string_sets', at, (s) => s);
  if (body.bounded_tries?.length) {
    metrics.warnings.push(`skipped ${body.bounded_tries.length} bounded_tries: bounded tries have no Prometheus form`);
  }
  if (body.histograms?.length) {
    metrics.warnings.push(`skipped ${body.histograms.length} histograms: histogram results are not converted`);
  }
  return metrics;
}

/**
 * Validates and converts a Beam Python `MetricResults.query()` body. `at` prefixes error paths as in
 * `convertBeamJava`. Throws `ValidationError` (400) listing every fault with its path.
 */
export function convertBeamPython(body: unknown, ctx: InputContext, at: PathSegments = []): Conversion {
  return convertBeamMetrics(normaliseBeamPython(parseInput(BeamPythonMetricsSchema, body, at), at), ctx);
}
