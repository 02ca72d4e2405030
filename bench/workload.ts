/**
 * Realistic Beam workloads, deterministic so that every run measures the same bytes.
 *
 * A job pushes 100 series every 5 s (Beam's default `metricsPushPeriod`): 5 steps × (10 counters, 2 distributions
 * as `_sum`/`_count`/`_min`/`_max`, 2 gauges). Each series carries 9 labels, as a job behind
 * `/metrics/job/<job>/pipeline/<p>/env/prod/region/eu-west-1` with `STATIC_LABELS=team=…,runner=…` gets them:
 * `__name__`, the grouping key (job, pipeline, env, region), the point's `namespace` and `step`, and the static
 * `team` and `runner`.
 */
import { buildEnvelopes, parseEnvelope, type EnvelopeHeader } from '../lib/envelope/envelope.ts';
import type { BatchRecord } from '../lib/deliver/deliver.ts';
import { mergeEnvelopes, toWriteRequest, type MergedSeries } from '../lib/deliver/merge.ts';
import type { ExpositionFamily } from '../lib/encoders/text-exposition.ts';
import { familyOf, familiesByName } from '../lib/model/families.ts';
import { samplesOf, type Labels, type MetricFamily, type Point, type WriteRequest } from '../lib/model/series.ts';

export const SERIES_PER_PUSH = 100;
export const PUSH_PERIOD_MS = 5_000;

export const STATIC_LABELS: Labels = Object.freeze({ team: 'data-platform', runner: 'FlinkRunner' });

const STEPS = [
  'ReadFromKafka/KafkaIO.Read/KafkaIO.Read.ReadFromKafkaViaSDF/ParDo(ReadFromKafka)',
  'ParseEvents/ParDo(ParseEventFn)/ParMultiDo(ParseEvent)',
  'EnrichWithCustomer/ParDo(LookupCustomerFn)/ParMultiDo(LookupCustomer)',
  'Window.Into()/Window.Assign',
  'WriteToBigQuery/BatchLoads/WriteBundlesToFiles',
] as const;

const NAMESPACES = [
  'org.apache.beam.sdk.io.kafka.KafkaIO$Read',
  'com.example.orders.ParseEventFn',
  'com.example.orders.LookupCustomerFn',
  'org.apache.beam.sdk.transforms.windowing.Window$Assign',
  'org.apache.beam.sdk.io.gcp.bigquery.BatchLoads',
] as const;

const COUNTERS = [
  'elements_read',
  'elements_written',
  'bytes_read',
  'bytes_written',
  'records_skipped',
  'parse_errors',
  'lookup_misses',
  'retries',
  'late_elements',
  'dropped_elements',
] as const;

const DISTRIBUTIONS = ['bundle_latency_ms', 'element_size_bytes'] as const;
const GAUGES = ['backlog_elements', 'active_workers'] as const;

interface SeriesTemplate {
  name: string;
  stepIndex: number;
  kind: 'counter' | 'sum' | 'count' | 'min' | 'max' | 'gauge';
}

const TEMPLATES: readonly SeriesTemplate[] = STEPS.flatMap((_, stepIndex) => [
  ...COUNTERS.map((c): SeriesTemplate => ({ name: `beam_${c}_total`, stepIndex, kind: 'counter' })),
  ...DISTRIBUTIONS.flatMap((d): SeriesTemplate[] => [
    { name: `beam_${d}_sum`, stepIndex, kind: 'sum' },
    { name: `beam_${d}_count`, stepIndex, kind: 'count' },
    { name: `beam_${d}_min`, stepIndex, kind: 'min' },
    { name: `beam_${d}_max`, stepIndex, kind: 'max' },
  ]),
  ...GAUGES.map((g): SeriesTemplate => ({ name: `beam_${g}`, stepIndex, kind: 'gauge' })),
]);

/** The families ingest declares for these series (counters and summaries by their base name). */
export const FAMILIES: readonly MetricFamily[] = [
  ...COUNTERS.map((c): MetricFamily => ({ name: `beam_${c}`, type: 'counter', help: `Beam counter ${c}` })),
  ...DISTRIBUTIONS.flatMap((d): MetricFamily[] => [
    { name: `beam_${d}`, type: 'summary', help: `Beam distribution ${d}` },
    { name: `beam_${d}_min`, type: 'gauge', help: `Beam distribution ${d}, minimum` },
    { name: `beam_${d}_max`, type: 'gauge', help: `Beam distribution ${d}, maximum` },
  ]),
  ...GAUGES.map((g): MetricFamily => ({ name: `beam_${g}`, type: 'gauge', help: `Beam gauge ${g}` })),
];

if (TEMPLATES.length !== SERIES_PER_PUSH) throw new Error(`workload has ${TEMPLATES.length} series per push, expected ${SERIES_PER_PUSH}`);

/** The grouping key of job `j`, as the path `/metrics/job/<job>/pipeline/…/env/…/region/…` gives it. */
export function jobGroup(j: number): Labels {
  return { job: `orders-enrichment-${String(j).padStart(4, '0')}`, pipeline: 'com.example.orders.EnrichOrdersPipeline', env: 'prod', region: 'eu-west-1' };
}

/** A deterministic value for series `s` of job `j` at push `k`: counters grow, gauges wander. */
function valueOf(t: SeriesTemplate, j: number, s: number, k: number): number {
  const base = ((j * 7919 + s * 104729) % 100_000) + 1;
  switch (t.kind) {
    case 'counter':
    case 'count':
      return base * (k + 1) + k * 13;
    case 'sum':
      return (base * (k + 1) * 41.37) / 1.7;
    case 'min':
      return 1 + (base % 7);
    case 'max':
      return 200 + (base % 97) + k;
    case 'gauge':
      return (base % 500) + ((k * 31) % 17) + 0.25;
  }
}

/** One push of job `j` (the `k`-th): 100 points without timestamps (the envelope's `receivedAt` applies). */
export function pushPoints(j: number, k: number): Point[] {
  return TEMPLATES.map((t, s) => ({
    name: t.name,
    labels: { namespace: NAMESPACES[t.stepIndex]!, step: STEPS[t.stepIndex]! },
    value: valueOf(t, j, s, k),
  }));
}

/**
 * SQS records for `jobs` jobs × `pushes` pushes 5 s apart: one envelope of 100 samples per push (each push is one
 * ingest request), made by the envelope builder ingest uses. `startMs` is the first push's ingest time.
 */
export function deliverBatch(jobs: number, pushes: number, startMs: number): BatchRecord[] {
  const records: BatchRecord[] = [];
  for (let k = 0; k < pushes; k++) {
    for (let j = 0; j < jobs; j++) {
      const header: EnvelopeHeader = { id: `bench-${j}-${k}`, source: 'beam-java', receivedAt: startMs + k * PUSH_PERIOD_MS, group: jobGroup(j), labels: STATIC_LABELS };
      const bodies = buildEnvelopes(header, FAMILIES, pushPoints(j, k));
      bodies.forEach((body, part) => records.push({ messageId: `m-${j}-${k}-${part}`, body }));
    }
  }
  return records;
}

/** The merged series of a batch, exactly as the deliver function hands them to the remote-write encoder. */
export function mergedSeries(records: readonly BatchRecord[]): { series: MergedSeries[]; families: Map<string, MetricFamily> } {
  const decoded = records.map((r, index) => ({ index, messageId: r.messageId, envelope: parseEnvelope(r.body) }));
  const { series, families } = mergeEnvelopes(decoded);
  return { series, families };
}

/** One write request holding `jobs × 100` series of `pushes` samples each. */
export function writeRequest(jobs: number, pushes: number, startMs: number): WriteRequest {
  const { series, families } = mergedSeries(deliverBatch(jobs, pushes, startMs));
  return toWriteRequest({ series, samples: jobs * SERIES_PER_PUSH * pushes }, families);
}

/** The same series in the input shape of npm `prometheus-remote-write`: labels as an object, `timestamp` in ms. */
export interface ReferenceTimeseries {
  labels: { __name__: string; [name: string]: string };
  samples: Array<{ value: number; timestamp: number }>;
}

export function toReferenceTimeseries(req: WriteRequest): ReferenceTimeseries[] {
  return req.timeseries.map((s) => {
    const labels: Record<string, string> = {};
    for (const l of s.labels) labels[l.name] = l.value;
    return {
      labels: labels as ReferenceTimeseries['labels'],
      samples: samplesOf(s).map((x) => ({ value: x.value, timestamp: x.timestampMs })),
    };
  });
}

/** One sample line per series for the text exposition encoder: one push of each of `jobs` jobs. */
export function expositionFamilies(jobs: number): ExpositionFamily[] {
  const byName = familiesByName(FAMILIES);
  const out = new Map<string, ExpositionFamily>();
  for (let j = 0; j < jobs; j++) {
    const group = jobGroup(j);
    for (const p of pushPoints(j, 0)) {
      const family = familyOf(p.name, byName)!;
      let entry = out.get(family.name);
      if (!entry) out.set(family.name, (entry = { family, samples: [] }));
      // Sorted names, as the merge sorts them; the encoder then skips its own sort.
      const all: Labels = { ...STATIC_LABELS, ...p.labels, ...group };
      const labels: Labels = {};
      for (const name of Object.keys(all).sort()) labels[name] = all[name]!;
      entry.samples.push({ name: p.name, labels, value: p.value });
    }
  }
  return [...out.values()];
}

/**
 * A Beam MetricsHttpSink body (Jackson form of MetricQueryResults, keys sorted) with `metrics` metrics:
 * 70% counters, 20% distributions, 10% gauges, attempted and committed values.
 */
export function metricsHttpSinkBody(metrics: number, nowMs: number): string {
  const counters: unknown[] = [];
  const distributions: unknown[] = [];
  const gauges: unknown[] = [];
  for (let i = 0; i < metrics; i++) {
    const step = STEPS[i % STEPS.length]!;
    const namespace = NAMESPACES[i % NAMESPACES.length]!;
    const r = i % 10;
    if (r < 7) {
      const attempted = 1000 + i * 37;
      counters.push({ attempted, committed: attempted - 3, name: { name: `counter${i}`, namespace }, step });
    } else if (r < 9) {
      const d = (n: number) => ({ count: 9812 + n, max: 212 + n, mean: 41.37, min: 1, sum: 405922 + n * 40 });
      distributions.push({ attempted: d(i), committed: d(i - 1), name: { name: `distribution${i}`, namespace }, step });
    } else {
      const timestamp = new Date(nowMs - 120).toISOString();
      gauges.push({ attempted: { timestamp, value: 37 + i }, committed: { timestamp, value: 36 + i }, name: { name: `gauge${i}`, namespace }, step });
    }
  }
  return JSON.stringify({ counters, distributions, gauges, perWorkerHistograms: [], stringSets: [] });
}
