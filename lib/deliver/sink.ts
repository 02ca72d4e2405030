import type { Outcome } from '../transport/outcome.ts';
import type { MergedSeries } from './merge.ts';
import type { DecodedRecord } from './records.ts';

/** Samples a destination refused for good, with why: they go to the DLQ. */
export interface Rejection {
  series: MergedSeries[];
  outcome: Outcome;
}

export interface SinkStats {
  samplesWritten: number;
  /** Already held by the receiver in a newer or equal form (out of order, duplicate timestamp, older snapshot). */
  samplesSuperseded: number;
  samplesRejected: number;
  /** Left for SQS to redeliver: retryable or fatal failures. */
  samplesFailed: number;
  requests: number;
  retries: number;
  /** Samples sent again after a retryable answer, once per resend (Prometheus' `samples_retried_total`). */
  samplesRetried: number;
  /** Extra requests made to isolate what a receiver refused. */
  isolationRequests: number;
  requestMs: number[];
  /** Outcome reasons of everything that did not succeed, counted. */
  reasons: Record<string, number>;
}

export interface SinkReport {
  /** Batch index of each record that must be redelivered, with the outcome that decided it. */
  failed: Map<number, Outcome>;
  rejected: Rejection[];
  stats: SinkStats;
}

/** A destination: remote-write or Pushgateway. */
export interface Sink {
  /** For logs and the DLQ's `destination` attribute; never holds credentials. */
  readonly name: string;
  deliver(records: readonly DecodedRecord[], deadlineMs: number): Promise<SinkReport>;
}

export function emptyStats(): SinkStats {
  return {
    samplesWritten: 0,
    samplesSuperseded: 0,
    samplesRejected: 0,
    samplesFailed: 0,
    requests: 0,
    retries: 0,
    samplesRetried: 0,
    isolationRequests: 0,
    requestMs: [],
    reasons: {},
  };
}

export function countReason(stats: SinkStats, outcome: Outcome, samples: number): void {
  const key = `${outcome.kind}:${outcome.reason}`;
  stats.reasons[key] = (stats.reasons[key] ?? 0) + samples;
}
