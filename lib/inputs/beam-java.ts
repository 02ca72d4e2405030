/**
 * Beam Java's `MetricsHttpSink` body: the Jackson form of `MetricQueryResults` (DESIGN §4).
 */
import * as v from 'valibot';
import type { Conversion } from '../model/series.ts';
import {
  convertBeamMetrics,
  counterValue,
  distributionCount,
  emptyBeamMetrics,
  type BeamMetric,
  type BeamMetricName,
  type BeamMetrics,
} from './beam-metrics.ts';
import type { InputContext } from './options.ts';
import { finiteNumber, jsonObject, nonEmptyString, parseInput, type PathSegments } from './schema.ts';

const metricName = v.union(
  [v.object({ namespace: v.string(), name: nonEmptyString }), v.object({ urn: nonEmptyString })],
  'expected {"namespace", "name"} (a user metric) or {"urn"} (a system metric)',
);

/** Joda `Instant` as Jackson writes it with WRITE_DATES_AS_TIMESTAMPS off (ISO 8601), or on (epoch ms). */
const instant = v.union(
  [
    v.pipe(
      v.string(),
      v.check((s) => Number.isFinite(Date.parse(s)), 'expected an ISO 8601 timestamp'),
      v.transform((s) => Date.parse(s)),
    ),
    finiteNumber,
  ],
  'expected an ISO 8601 timestamp or epoch milliseconds',
);

/** One `MetricResult`, key inlined: `{attempted, committed?, name, step | pcollection}`. */
function result<T extends v.GenericSchema>(value: T) {
  return v.object({
    attempted: value,
    // Absent on runners without committed metrics (MetricsHttpSink filters the key out).
    committed: v.nullish(value),
    name: metricName,
    step: v.nullish(v.string()),
    pcollection: v.nullish(v.string()),
  });
}

/**
 * The body Beam's Java `MetricsHttpSink` POSTs (`--metricsSink=org.apache.beam.runners.extensions.metrics.MetricsHttpSink`),
 * keys sorted by Jackson. Every key is optional: older Beam sends only `counters`, `distributions`, `gauges`.
 * Unknown keys, at any level, are ignored so that newer Beam versions keep working; `boundedTries` and
 * `perWorkerHistograms` are accepted and skipped with a warning (HistogramData's Jackson form has no bucket
 * counts: only getters are serialised, and `getCount(int)` takes an argument).
 *
 * @example
 * {"counters":[{"attempted":20,"committed":10,"name":{"name":"n1","namespace":"ns1"},"step":"s1"}],
 *  "distributions":[{"attempted":{"count":4,"max":9,"mean":6.25,"min":3,"sum":25},"name":{"name":"n2","namespace":"ns1"},"step":"s2"}],
 *  "gauges":[{"attempted":{"timestamp":"1970-01-05T00:04:22.800Z","value":120},"name":{"name":"n3","namespace":"ns1"},"step":"s3"}],
 *  "perWorkerHistograms":[],
 *  "stringSets":[{"attempted":{"stringSet":["ab"]},"name":{"urn":"beam:metric:lineage:v1"},"pcollection":"out"}]}
 *
 * @see https://github.com/apache/beam/blob/master/runners/extensions-java/metrics/src/main/java/org/apache/beam/runners/extensions/metrics/MetricsHttpSink.java
 * @see https://github.com/apache/beam/blob/master/sdks/java/core/src/main/java/org/apache/beam/sdk/metrics/MetricQueryResults.java
 */
export const BeamJavaMetricsSchema = jsonObject({
  counters: v.nullish(v.array(result(counterValue))),
  distributions: v.nullish(
    v.array(result(v.object({ count: distributionCount, max: finiteNumber, min: finiteNumber, sum: finiteNumber }))),
  ),
  gauges: v.nullish(v.array(result(v.object({ timestamp: instant, value: finiteNumber })))),
  stringSets: v.nullish(v.array(result(v.object({ stringSet: v.array(v.string()) })))),
  boundedTries: v.nullish(v.array(v.unknown())),
  perWorkerHistograms: v.nullish(v.array(v.unknown())),
});

export type BeamJavaMetrics = v.InferOutput<typeof BeamJavaMetricsSchema>;

interface JavaResult<T> {
  attempted: T;
  committed?: T | null | undefined;
  name: BeamMetricName;
  step?: string | null | undefined;
  pcollection?: string | null | undefined;
}

function normalise<T, U>(entries: JavaResult<T>[] | null | undefined, key: string, at: PathSegments, map: (value: T) => U): BeamMetric<U>[] {
  return (entries ?? []).map((entry, i) => ({
    path: [...at, key, i],
    name: entry.name,
    step: entry.step ?? undefined,
    pcollection: entry.pcollection ?? undefined,
    attempted: map(entry.attempted),
    committed: entry.committed == null ? undefined : map(entry.committed),
  }));
}

/** Maps a validated MetricsHttpSink body into the shared Beam form. */
export function normaliseBeamJava(body: BeamJavaMetrics, at: PathSegments = []): BeamMetrics {
  const metrics = emptyBeamMetrics();
  metrics.counters = normalise(body.counters, 'counters', at, (n) => n);
  metrics.distributions = normalise(body.distributions, 'distributions', at, (d) => d);
  metrics.gauges = normalise(body.gauges, 'gauges', at, (g) => ({ value: g.value, timestampMs: g.timestamp }));
  metrics.stringSets = normalise(body.stringSets, 'stringSets', at, (s) => s.stringSet);
  if (body.boundedTries?.length) {
    metrics.warnings.push(`skipped ${body.boundedTries.length} boundedTries: bounded tries have no Prometheus form`);
  }
  if (body.perWorkerHistograms?.length) {
    metrics.warnings.push(
      `skipped ${body.perWorkerHistograms.length} perWorkerHistograms: their JSON form carries no bucket counts`,
    );
  }
  return metrics;
}

/**
 * Validates and converts a Beam Java MetricsHttpSink body. `at` is where the body sits inside a larger JSON
 * document (`['detail', 'metrics']` in an EventBridge event), for error paths. Throws `ValidationError` (400)
 * listing every fault with its path.
 */
export function convertBeamJava(body: unknown, ctx: InputContext, at: PathSegments = []): Conversion {
  return convertBeamMetrics(normaliseBeamJava(parseInput(BeamJavaMetricsSchema, body, at), at), ctx);
}
