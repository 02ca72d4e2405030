/**
 * What one deliver invocation did, for operators: one structured log line per invocation (always), and with
 * `SELF_METRICS=true` the same counts written as series to the remote-write destination(s).
 *
 * Log line (`msg: "deliver"`): samples received / written / superseded / rejected (dead-lettered) / failed (left
 * to SQS) / retried, summed over destinations and per destination; every sample that did not arrive counted under
 * `kind:reason` (Prometheus splits its own counters the same way: `samples_total`, `_failed_total`,
 * `_retried_total`, `_dropped_total`); request durations as count / p50 / p99 / max; the message ids reported
 * failed with why. No URLs with credentials or queries, no headers: destinations are `host/path`.
 *
 * Series (all gauges: one snapshot per invocation, stamped with the invocation's end; `job="beam-prom-relay"`,
 * `destination` where per destination):
 *
 *   beam_prom_relay_deliver_batch_samples{destination, outcome="written|superseded|rejected|failed|retried"}
 *   beam_prom_relay_deliver_batch_messages{outcome="received|malformed|dead_lettered|failed"}
 *   beam_prom_relay_deliver_batch_requests{destination, kind="total|retry|isolation"}
 *   beam_prom_relay_deliver_request_duration_seconds{destination, quantile="0.5|0.99|1"}
 *   beam_prom_relay_deliver_batch_duration_seconds
 *
 * A gauge per invocation rather than a counter: Lambda keeps no state that a counter could live in. Sum them
 * with `sum_over_time(...[5m])`. Two concurrent invocations finishing in the same millisecond collide; the later
 * write is answered "duplicate sample" and counted superseded — a rare, bounded loss, preferred over a
 * per-instance label that would mint new series on every cold start.
 */
import { boolean, type Env } from '../config/env.ts';
import { buildEnvelopes, parseEnvelope } from '../envelope/envelope.ts';
import type { LogLevel } from '../log.ts';
import type { MetricFamily, Point } from '../model/series.ts';
import type { DeliverSummary } from './deliver.ts';
import type { DecodedRecord } from './records.ts';
import { RemoteWriteSink } from './remote-write-sink.ts';
import type { Sink, SinkStats } from './sink.ts';

export interface DurationSummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Nearest-rank percentiles of request durations (ms): a log line carries three numbers, not thousands. */
export function summarizeDurations(durationsMs: readonly number[]): DurationSummary {
  if (durationsMs.length === 0) return { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
  return { count: sorted.length, p50Ms: rank(0.5), p99Ms: rank(0.99), maxMs: sorted[sorted.length - 1]! };
}

/**
 * `error` when a destination failed fatally (credentials, URL, content type: nothing gets through until an
 * operator acts — the spec says log loudly), `warn` when anything was left to SQS or dead-lettered, else `info`.
 */
export function invocationLogLevel(summary: DeliverSummary): LogLevel {
  const reasons = Object.values(summary.sinks).flatMap((s) => Object.keys(s.reasons));
  if (reasons.some((r) => r.startsWith('fatal:') || r.startsWith('unsupported-protocol:'))) return 'error';
  return summary.failedMessageIds.length > 0 || summary.deadLettered > 0 || summary.malformed > 0 ? 'warn' : 'info';
}

export interface SampleTotals {
  received: number;
  written: number;
  superseded: number;
  rejected: number;
  failed: number;
  retried: number;
}

function totals(summary: DeliverSummary): SampleTotals {
  const t: SampleTotals = { received: summary.samples, written: 0, superseded: 0, rejected: 0, failed: 0, retried: 0 };
  for (const s of Object.values(summary.sinks)) {
    t.written += s.samplesWritten;
    t.superseded += s.samplesSuperseded;
    t.rejected += s.samplesRejected;
    t.failed += s.samplesFailed;
    t.retried += s.samplesRetried;
  }
  return t;
}

type LoggedStats = Omit<SinkStats, 'requestMs'> & { requestMs: DurationSummary };

/** The fields of the invocation's log line (see the module comment). */
export function invocationLogFields(summary: DeliverSummary, selfMetrics?: SelfMetricsResult): Record<string, unknown> {
  const sinks: Record<string, LoggedStats> = {};
  for (const [name, s] of Object.entries(summary.sinks)) sinks[name] = { ...s, requestMs: summarizeDurations(s.requestMs) };
  return {
    ...summary,
    samples: totals(summary),
    sinks,
    ...(selfMetrics ? { selfMetrics } : {}),
  };
}

/** `SELF_METRICS` (default false); a value that is not a boolean fails the cold start naming the variable. */
export function selfMetricsEnabled(env: Env): boolean {
  return boolean(env, 'SELF_METRICS', false);
}

const PREFIX = 'beam_prom_relay_deliver_';

const FAMILIES: MetricFamily[] = [
  { name: `${PREFIX}batch_samples`, type: 'gauge', help: 'Samples of one deliver invocation, by destination and outcome.' },
  { name: `${PREFIX}batch_messages`, type: 'gauge', help: 'SQS messages of one deliver invocation, by outcome.' },
  { name: `${PREFIX}batch_requests`, type: 'gauge', help: 'Write requests of one deliver invocation, by destination and kind.' },
  { name: `${PREFIX}request_duration_seconds`, type: 'gauge', help: 'Request durations of one deliver invocation, by destination, as quantiles.', unit: 'seconds' },
  { name: `${PREFIX}batch_duration_seconds`, type: 'gauge', help: 'Duration of one deliver invocation.', unit: 'seconds' },
];

/** The invocation's counts as points (see the module comment for the series). */
export function selfMetricsPoints(summary: DeliverSummary): Point[] {
  const points: Point[] = [];
  const add = (name: string, labels: Record<string, string>, value: number) => points.push({ name: PREFIX + name, labels, value });
  for (const [destination, s] of Object.entries(summary.sinks)) {
    const outcomes = { written: s.samplesWritten, superseded: s.samplesSuperseded, rejected: s.samplesRejected, failed: s.samplesFailed, retried: s.samplesRetried };
    for (const [outcome, value] of Object.entries(outcomes)) add('batch_samples', { destination, outcome }, value);
    for (const [kind, value] of Object.entries({ total: s.requests, retry: s.retries, isolation: s.isolationRequests })) {
      add('batch_requests', { destination, kind }, value);
    }
    const d = summarizeDurations(s.requestMs);
    if (d.count > 0) {
      for (const [quantile, ms] of [['0.5', d.p50Ms], ['0.99', d.p99Ms], ['1', d.maxMs]] as const) {
        add('request_duration_seconds', { destination, quantile }, ms / 1000);
      }
    }
  }
  const messages = { received: summary.messages, malformed: summary.malformed, dead_lettered: summary.deadLettered, failed: summary.failedMessageIds.length };
  for (const [outcome, value] of Object.entries(messages)) add('batch_messages', { outcome }, value);
  add('batch_duration_seconds', {}, summary.durationMs / 1000);
  return points;
}

export interface SelfMetricsResult {
  written: number;
  /** Outcomes other than written, as the sinks count them. */
  reasons: Record<string, number>;
}

/**
 * Writes the invocation's self-metrics to every remote-write sink, stamped `nowMs`, within `deadlineMs`. Never
 * throws and never fails the batch: self-metrics are best effort.
 */
export async function writeSelfMetrics(sinks: readonly Sink[], summary: DeliverSummary, nowMs: number, deadlineMs: number): Promise<SelfMetricsResult> {
  const [body] = buildEnvelopes(
    { id: `self-metrics-${nowMs}`, source: 'self-metrics', receivedAt: nowMs, group: { job: 'beam-prom-relay' }, labels: {} },
    FAMILIES,
    selfMetricsPoints(summary),
  );
  const record: DecodedRecord = { index: 0, messageId: 'self-metrics', envelope: parseEnvelope(body!) };
  const result: SelfMetricsResult = { written: 0, reasons: {} };
  for (const sink of sinks) {
    if (!(sink instanceof RemoteWriteSink)) continue;
    try {
      const report = await sink.deliver([record], deadlineMs);
      result.written += report.stats.samplesWritten;
      for (const [reason, n] of Object.entries(report.stats.reasons)) result.reasons[reason] = (result.reasons[reason] ?? 0) + n;
    } catch (error) {
      result.reasons[`error:${(error as Error).name}`] = 1;
    }
  }
  return result;
}
