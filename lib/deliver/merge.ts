/**
 * Merging a batch's envelopes into remote-write series, and cutting them into write requests.
 *
 * Remote-write 1.0 spec, "Labels": label names sorted, no duplicates, no empty values; "Samples": the samples of a
 * series in timestamp order. Each series remembers which records its samples came from, sample by sample, so a
 * failure reports exactly the messages concerned and a rejection sends exactly the rejected samples to the DLQ.
 */
import { fromEnvelopeValue } from '../envelope/envelope.ts';
import { familyOf } from '../model/families.ts';
import type { Label, MetricFamily, Sample, TimeSeries, WriteRequest } from '../model/series.ts';
import type { DecodedRecord } from './records.ts';

export interface MergedSeries extends TimeSeries {
  /** `origins[i]` is the batch index of the record `samples[i]` came from. */
  origins: number[];
}

export interface MergeResult {
  series: MergedSeries[];
  families: Map<string, MetricFamily>;
  /** Samples dropped because another sample of the same series and timestamp came later in the batch. */
  superseded: number;
  samples: number;
}

const SEP = '\u0000';

/**
 * Label precedence: the grouping key (URL path) over the point's own labels (the Pushgateway's rule: path labels
 * override body labels) over static labels (like Prometheus' external_labels, they never replace a series' own).
 */
export function mergeEnvelopes(records: readonly DecodedRecord[]): MergeResult {
  const byKey = new Map<string, MergedSeries>();
  const families = new Map<string, MetricFamily>();
  let samples = 0;
  for (const { index, envelope } of records) {
    for (const f of envelope.families) if (!families.has(f.name)) families.set(f.name, f);
    const { group, labels: statics, receivedAt } = envelope;
    for (const p of envelope.points) {
      const all: Record<string, string> = { ...statics, ...p.labels, ...group };
      const names = Object.keys(all).sort();
      let key = p.name;
      const labels: Label[] = [];
      let nameInserted = false;
      for (const n of names) {
        const v = all[n]!;
        if (v === '' || n === '__name__') continue;
        if (!nameInserted && n > '__name__') {
          labels.push({ name: '__name__', value: p.name });
          nameInserted = true;
        }
        labels.push({ name: n, value: v });
        key += SEP + n + SEP + v;
      }
      if (!nameInserted) labels.push({ name: '__name__', value: p.name });
      let series = byKey.get(key);
      if (!series) {
        series = { labels, samples: [], origins: [] };
        byKey.set(key, series);
      }
      series.samples.push({ value: fromEnvelopeValue(p.value), timestampMs: p.timestampMs ?? receivedAt });
      series.origins.push(index);
      samples++;
    }
  }
  let superseded = 0;
  const series = [...byKey.values()];
  for (const s of series) superseded += orderSamples(s);
  series.sort(compareSeries);
  return { series, families, superseded, samples };
}

function sameValue(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * Sorts a series' samples by time and keeps one per timestamp: an identical repeat (a redelivered message) is
 * dropped silently; a different value at the same millisecond keeps the later record's and counts the other as
 * superseded — Prometheus would refuse it anyway ("duplicate sample for timestamp").
 */
function orderSamples(s: MergedSeries): number {
  const n = s.samples.length;
  if (n < 2) return 0;
  let sorted = true;
  for (let i = 1; i < n; i++) {
    if (s.samples[i]!.timestampMs <= s.samples[i - 1]!.timestampMs) {
      sorted = false;
      break;
    }
  }
  if (sorted) return 0;
  const order = s.samples.map((_, i) => i).sort((a, b) => s.samples[a]!.timestampMs - s.samples[b]!.timestampMs || a - b);
  const samples: Sample[] = [];
  const origins: number[] = [];
  let superseded = 0;
  for (const i of order) {
    const sample = s.samples[i]!;
    const last = samples[samples.length - 1];
    if (last && last.timestampMs === sample.timestampMs) {
      if (!sameValue(last.value, sample.value)) superseded++;
      samples[samples.length - 1] = sample;
      origins[origins.length - 1] = s.origins[i]!;
      continue;
    }
    samples.push(sample);
    origins.push(s.origins[i]!);
  }
  s.samples = samples;
  s.origins = origins;
  return superseded;
}

function compareSeries(a: TimeSeries, b: TimeSeries): number {
  const n = Math.min(a.labels.length, b.labels.length);
  for (let i = 0; i < n; i++) {
    const x = a.labels[i]!;
    const y = b.labels[i]!;
    if (x.name !== y.name) return x.name < y.name ? -1 : 1;
    if (x.value !== y.value) return x.value < y.value ? -1 : 1;
  }
  return a.labels.length - b.labels.length;
}

export interface RequestLimits {
  /** Samples per write request (Prometheus' `max_samples_per_send` defaults to 2000). */
  maxSamples: number;
  /** Estimated uncompressed bytes per write request. */
  maxBytes: number;
}

export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = Object.freeze({ maxSamples: 2000, maxBytes: 1024 * 1024 });

/** A write request to send, with the series it holds (to split it, and to know whose messages it concerns). */
export interface PlannedRequest {
  series: MergedSeries[];
  samples: number;
}

function estimateBytes(s: MergedSeries): number {
  let n = 4;
  for (const l of s.labels) n += l.name.length + l.value.length + 6;
  return n + s.samples.length * 20;
}

/**
 * Packs series into as few requests as the limits allow. A series is never split across requests here (its samples
 * must arrive in order); one with more samples than the limit gets a request of its own.
 */
export function planRequests(series: readonly MergedSeries[], limits: RequestLimits): PlannedRequest[] {
  const out: PlannedRequest[] = [];
  let current: PlannedRequest = { series: [], samples: 0 };
  let bytes = 0;
  for (const s of series) {
    const b = estimateBytes(s);
    if (current.series.length > 0 && (current.samples + s.samples.length > limits.maxSamples || bytes + b > limits.maxBytes)) {
      out.push(current);
      current = { series: [], samples: 0 };
      bytes = 0;
    }
    current.series.push(s);
    current.samples += s.samples.length;
    bytes += b;
  }
  if (current.series.length > 0) out.push(current);
  return out;
}

/**
 * Halves a request to isolate what a receiver refused: by series, or a single series by time (older half first,
 * since the halves are sent in order). Returns undefined for one sample, which cannot be split.
 */
export function splitRequest(p: PlannedRequest): [PlannedRequest, PlannedRequest] | undefined {
  if (p.series.length > 1) {
    const mid = p.series.length >> 1;
    const a = p.series.slice(0, mid);
    const b = p.series.slice(mid);
    const count = (xs: MergedSeries[]) => xs.reduce((n, s) => n + s.samples.length, 0);
    return [{ series: a, samples: count(a) }, { series: b, samples: count(b) }];
  }
  const s = p.series[0];
  if (!s || s.samples.length < 2) return undefined;
  const mid = s.samples.length >> 1;
  const part = (from: number, to: number): PlannedRequest => ({
    series: [{ labels: s.labels, samples: s.samples.slice(from, to), origins: s.origins.slice(from, to) }],
    samples: to - from,
  });
  return [part(0, mid), part(mid, s.samples.length)];
}

/** The records a request concerns. */
export function originsOf(p: PlannedRequest): Set<number> {
  const set = new Set<number>();
  for (const s of p.series) for (const o of s.origins) set.add(o);
  return set;
}

/** The remote-write message for a planned request, with the metadata of the families its series belong to. */
export function toWriteRequest(p: PlannedRequest, families: ReadonlyMap<string, MetricFamily>): WriteRequest {
  const metadata = new Map<string, MetricFamily>();
  for (const s of p.series) {
    const name = s.labels.find((l) => l.name === '__name__')!.value;
    const f = familyOf(name, families);
    if (f) metadata.set(f.name, f);
  }
  return { timeseries: p.series, metadata: [...metadata.values()] };
}

