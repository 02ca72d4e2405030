/**
 * Counting where every pushed sample ended up: stored on the receivers (raw samples, read back from Prometheus with
 * a range selector and from VictoriaMetrics with `/api/v1/export`, so duplicates are seen as stored), or in the
 * DLQ with a reason. `account` is pure; the readers fetch.
 */

import type { Message } from '@aws-sdk/client-sqs';
import { envelopePoints, parseEnvelope } from '../../lib/envelope/envelope.ts';
import { METRIC, sampleKey, type Workload } from './workload.ts';

/** A sample as a receiver stores it. */
export interface StoredSample {
  series: string;
  timestampMs: number;
  value: number;
}

/** A sample found in a DLQ message, with the message's `reason` attribute. */
export interface DeadLetteredSample {
  series: string;
  value: number;
  reason: string | undefined;
}

export interface Accounting {
  /** Samples ingest answered 200 for. */
  accepted: number;
  /** Accepted samples each receiver holds. */
  queryable: { prometheus: number; victoriaMetrics: number };
  /** Accepted samples in the DLQ with a `reason` attribute. */
  deadLettered: number;
  /** Accepted samples in the DLQ without one (SQS' own redrive after maxReceiveCount): not accounted for. */
  deadLetteredWithoutReason: number;
  /** DLQ samples by reason. */
  reasons: Record<string, number>;
  /** Accepted samples neither on both receivers nor in the DLQ with a reason. */
  lost: number;
  /** Accepted samples not in the DLQ with a reason and missing from that receiver. */
  missing: { prometheus: number; victoriaMetrics: number };
  /**
   * Accepted samples Prometheus holds and VictoriaMetrics does not show (yet): it is sent everything Prometheus is,
   * and refuses nothing, so these are writes it has not made queryable.
   */
  victoriaMetricsBehind: number;
  /** Refused series found on a receiver, or deliverable series found in the DLQ. */
  misrouted: number;
  /** Stored samples that were never pushed. */
  unexpected: number;
  /** Samples stored under two timestamps (a push written twice with different times). */
  restamped: number;
  /** Series + timestamp stored with two different values (VictoriaMetrics keeps both; Prometheus refuses). */
  conflicting: number;
  /** The same series, timestamp and value stored more than once (harmless; VictoriaMetrics keeps copies). */
  exactDuplicates: number;
}

/** Where each of `accepted` ended up; see `Accounting`. */
export function account(
  w: Workload,
  accepted: ReadonlySet<string>,
  stored: { prometheus: readonly StoredSample[]; victoriaMetrics: readonly StoredSample[] },
  dlq: readonly DeadLetteredSample[],
): Accounting {
  const byReceiver = [stored.prometheus, stored.victoriaMetrics].map(index);
  const [prometheus, victoria] = byReceiver as [Stored, Stored];
  const withReason = new Set<string>();
  const withoutReason = new Set<string>();
  const reasons: Record<string, number> = {};
  let misrouted = 0;
  for (const d of dlq) {
    const key = sampleKey(d.series, d.value);
    if (d.reason === undefined) withoutReason.add(key);
    else {
      withReason.add(key);
      reasons[d.reason] = (reasons[d.reason] ?? 0) + 1;
    }
    if (!w.refused.has(d.series)) misrouted++;
  }
  let lost = 0;
  const missing = { prometheus: 0, victoriaMetrics: 0 };
  let victoriaMetricsBehind = 0;
  for (const key of accepted) {
    if (withReason.has(key)) continue;
    const onPrometheus = prometheus.samples.has(key);
    const onVictoria = victoria.samples.has(key);
    if (!onPrometheus) missing.prometheus++;
    if (!onVictoria) missing.victoriaMetrics++;
    if (!onPrometheus || !onVictoria) lost++;
    if (onPrometheus && !onVictoria) victoriaMetricsBehind++;
  }
  let unexpected = 0;
  let restamped = 0;
  let conflicting = 0;
  let exactDuplicates = 0;
  for (const r of byReceiver) {
    for (const [key, times] of r.samples) {
      if (!accepted.has(key)) unexpected++;
      if (times.size > 1) restamped += times.size - 1;
      if (w.refused.has(key.slice(0, key.lastIndexOf('@')))) misrouted++;
    }
    conflicting += r.conflicting;
    exactDuplicates += r.exactDuplicates;
  }
  return {
    accepted: accepted.size,
    queryable: { prometheus: count(prometheus, accepted), victoriaMetrics: count(victoria, accepted) },
    deadLettered: [...withReason].filter((k) => accepted.has(k)).length,
    deadLetteredWithoutReason: [...withoutReason].filter((k) => accepted.has(k) && !withReason.has(k)).length,
    reasons,
    lost,
    missing,
    victoriaMetricsBehind,
    misrouted,
    unexpected,
    restamped,
    conflicting,
    exactDuplicates,
  };
}

interface Stored {
  /** sample key → the timestamps it is stored under */
  samples: Map<string, Set<number>>;
  conflicting: number;
  exactDuplicates: number;
}

function index(samples: readonly StoredSample[]): Stored {
  const out: Stored = { samples: new Map(), conflicting: 0, exactDuplicates: 0 };
  const valuesAt = new Map<string, number[]>();
  for (const s of samples) {
    const key = sampleKey(s.series, s.value);
    let times = out.samples.get(key);
    if (!times) out.samples.set(key, (times = new Set()));
    times.add(s.timestampMs);
    const at = `${s.series}@@${s.timestampMs}`;
    const values = valuesAt.get(at);
    if (values) values.push(s.value);
    else valuesAt.set(at, [s.value]);
  }
  for (const values of valuesAt.values()) {
    const distinct = new Set(values).size;
    out.conflicting += distinct - 1;
    out.exactDuplicates += values.length - distinct;
  }
  return out;
}

function count(r: Stored, accepted: ReadonlySet<string>): number {
  let n = 0;
  for (const key of accepted) if (r.samples.has(key)) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Readers

function selector(job: string): string {
  return `${METRIC}{job="${job}"}`;
}

/** Raw samples of the workload's job on Prometheus: an instant query of a range selector returns them all. */
export async function readPrometheus(baseUrl: string, job: string, lookback = '1h'): Promise<StoredSample[]> {
  const params = new URLSearchParams({ query: `${selector(job)}[${lookback}]` });
  const response = await fetch(`${baseUrl}/api/v1/query?${params}`, { signal: AbortSignal.timeout(5_000) });
  const answer = (await response.json()) as {
    status: string;
    data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
  };
  if (!response.ok || answer.status !== 'success') throw new Error(`Prometheus query failed: HTTP ${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
  return (answer.data?.result ?? []).flatMap((r) =>
    r.values.map(([t, v]) => ({ series: r.metric.series ?? '', timestampMs: Math.round(t * 1000), value: Number(v) })),
  );
}

/** Raw samples of the workload's job on VictoriaMetrics, after a flush so recent writes are included. */
export async function readVictoriaMetrics(baseUrl: string, job: string): Promise<StoredSample[]> {
  await fetch(`${baseUrl}/internal/force_flush`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.arrayBuffer());
  const params = new URLSearchParams({ 'match[]': selector(job) });
  const response = await fetch(`${baseUrl}/api/v1/export?${params}`, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`VictoriaMetrics export failed: HTTP ${response.status} ${text.slice(0, 300)}`);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      const row = JSON.parse(line) as { metric: Record<string, string>; values: (number | string)[]; timestamps: number[] };
      return row.values.map((v, i) => ({ series: row.metric.series ?? '', timestampMs: row.timestamps[i]!, value: Number(v) }));
    });
}

/** The samples of DLQ messages (envelopes: the deliver engine's rejections, or whole messages SQS redrove). */
export function deadLetteredSamples(messages: readonly Message[]): DeadLetteredSample[] {
  return messages.flatMap((m) => {
    const reason = m.MessageAttributes?.reason?.StringValue;
    const envelope = parseEnvelope(m.Body ?? '');
    return envelopePoints(envelope)
      .filter((p) => p.name === METRIC)
      .map((p) => ({
        // Label precedence as delivery merges them (lib/deliver/merge.ts): group over point over static labels.
        series: { ...envelope.labels, ...p.labels, ...envelope.group }.series ?? '',
        value: Number(p.value),
        reason,
      }));
  });
}
