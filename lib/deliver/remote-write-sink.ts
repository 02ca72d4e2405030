/**
 * The remote-write destination: merge the batch, cut it into write requests, send each with retry, and isolate
 * what the receiver refuses.
 *
 * Prometheus rolls back the whole request when one sample is refused (DESIGN §4) and its own client then drops
 * the whole batch. We halve the request and resend the parts until the refused series are isolated, within a
 * budget of extra requests, so one stale sample does not cost its neighbours.
 */
import type { Dispatcher } from 'undici';
import { compressWriteRequestV1, REMOTE_WRITE_V1_HEADERS } from '../encoders/remote-write-v1.ts';
import { compressWriteRequestV2, REMOTE_WRITE_V2_HEADERS } from '../encoders/remote-write-v2.ts';
import { attemptOnce, createDispatcher } from '../transport/http.ts';
import { firstLine, type Outcome } from '../transport/outcome.ts';
import { withRetry, type RetryClock } from '../transport/retry.ts';
import type { BackoffOptions } from '../transport/backoff.ts';
import type { WriteRequest } from '../model/series.ts';
import { mergeEnvelopes, originsOf, planRequests, splitRequest, toWriteRequest, type PlannedRequest, type RequestLimits } from './merge.ts';
import type { DecodedRecord } from './records.ts';
import { countReason, emptyStats, type Sink, type SinkReport } from './sink.ts';

export type RemoteWriteProtocol = '1.0' | '2.0';

export interface Encoding {
  headers: Readonly<Record<string, string>>;
  encode: (req: WriteRequest) => Uint8Array;
  /** Whether a 2xx must carry the written-samples header (remote-write 2.0). */
  expectWrittenHeader: boolean;
}

export const REMOTE_WRITE_V1: Encoding = { headers: REMOTE_WRITE_V1_HEADERS, encode: compressWriteRequestV1, expectWrittenHeader: false };

/** A 2.0 receiver reports what it wrote; without that header the receiver is 1.0 (2.0 spec, "Response"). */
export const REMOTE_WRITE_V2: Encoding = { headers: REMOTE_WRITE_V2_HEADERS, encode: compressWriteRequestV2, expectWrittenHeader: true };

export interface RemoteWriteOptions {
  url: string;
  /** Auth and custom headers (already validated not to override protocol headers). */
  headers: Readonly<Record<string, string>>;
  /** Adds request-specific headers just before sending (SigV4 signs the body). */
  sign?: (url: string, headers: Record<string, string>, body: Uint8Array) => Promise<Record<string, string>>;
  encodings: { '1.0': Encoding; '2.0'?: Encoding };
  protocol: RemoteWriteProtocol;
  limits: RequestLimits;
  timeoutMs: number;
  retryOn429: boolean;
  backoff: BackoffOptions;
  /** Extra requests allowed per invocation to isolate refused series. */
  maxIsolationRequests: number;
  /** Write requests in flight at once. Series are never split across requests, so order within a series holds. */
  concurrency: number;
  userAgent: string;
}

/** Outcomes whose request is worth halving: the receiver refused some of the data, perhaps not all. */
function isolatable(o: Outcome): boolean {
  return o.kind === 'superseded' || (o.kind === 'permanent' && (o.status === 400 || o.status === 413 || o.status === 422 || o.reason === 'too-old'));
}

export class RemoteWriteSink implements Sink {
  readonly name: string;
  private readonly dispatcher: Dispatcher;
  /** Downgraded to 1.0 for the life of this (warm) instance once the receiver shows it lacks 2.0. */
  private protocol: RemoteWriteProtocol;

  constructor(private readonly options: RemoteWriteOptions, private readonly clock: RetryClock, dispatcher?: Dispatcher) {
    const u = new URL(options.url);
    this.name = `remote-write ${u.host}${u.pathname}`;
    this.dispatcher = dispatcher ?? createDispatcher();
    this.protocol = options.protocol === '2.0' && options.encodings['2.0'] ? '2.0' : '1.0';
  }

  get currentProtocol(): RemoteWriteProtocol {
    return this.protocol;
  }

  async deliver(records: readonly DecodedRecord[], deadlineMs: number): Promise<SinkReport> {
    const report: SinkReport = { failed: new Map(), rejected: [], stats: emptyStats() };
    const merged = mergeEnvelopes(records);
    report.stats.samplesSuperseded += merged.superseded;
    if (merged.superseded > 0) report.stats.reasons['superseded:same-timestamp-in-batch'] = merged.superseded;
    const queue = planRequests(merged.series, this.options.limits);
    let isolationBudget = this.options.maxIsolationRequests;
    let fatal: Outcome | undefined;
    const timeSplits: Array<{ p: PlannedRequest; outcome: Outcome }> = [];
    let timeSplitsWait = true;

    const fail = (p: PlannedRequest, outcome: Outcome): void => {
      for (const o of originsOf(p)) if (!report.failed.has(o)) report.failed.set(o, outcome);
      report.stats.samplesFailed += p.samples;
      countReason(report.stats, outcome, p.samples);
    };

    const send = async (p: PlannedRequest): Promise<void> => {
      if (fatal) return fail(p, fatal);
      const req = toWriteRequest(p, merged.families);
      const { outcome, attempts } = await this.sendWithFallback(req, deadlineMs, report.stats.requestMs);
      report.stats.requests += attempts;
      report.stats.retries += Math.max(0, attempts - 1);
      report.stats.samplesRetried += Math.max(0, attempts - 1) * p.samples;
      switch (outcome.kind) {
        case 'success':
          report.stats.samplesWritten += p.samples;
          return;
        case 'retryable':
          return fail(p, outcome);
        case 'fatal':
        case 'unsupported-protocol':
          // Every further request would fail the same way: stop hammering the receiver, keep the data in SQS.
          fatal = outcome;
          return fail(p, outcome);
        case 'superseded':
        case 'permanent':
          // Series first: one series is split by time only once every refused request is isolated down to its
          // series, so the budget is not spent halving a refused series while good series wait behind it.
          if (timeSplitsWait && p.series.length === 1 && isolatable(outcome)) return void timeSplits.push({ p, outcome });
          return isolate(p, outcome);
      }
    };

    const isolate = async (p: PlannedRequest, outcome: Outcome): Promise<void> => {
      const halves = isolatable(outcome) ? splitRequest(p) : undefined;
      // Not isolated in time: the refused and the good samples cannot be told apart yet; SQS redelivers them.
      if (halves && this.clock.now() >= deadlineMs) return fail(p, { kind: 'retryable', reason: 'deadline', detail: outcome.detail });
      if (halves && isolationBudget >= 2) {
        isolationBudget -= 2;
        report.stats.isolationRequests += 2;
        // In order: a series split by time must have its older half written first.
        await send(halves[0]);
        await send(halves[1]);
        return;
      }
      // Out of budget with good samples still mixed in: a superseded answer would drop them silently, so
      // dead-letter the lot instead; a redrive isolates them with a fresh budget.
      const final: Outcome = halves && outcome.kind === 'superseded' ? { ...outcome, kind: 'permanent', reason: 'isolation-budget' } : outcome;
      countReason(report.stats, final, p.samples);
      if (final.kind === 'superseded') report.stats.samplesSuperseded += p.samples;
      else {
        report.stats.samplesRejected += p.samples;
        report.rejected.push({ series: p.series, outcome: final });
      }
    };

    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queue.length) await send(queue[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, queue.length) }, worker));
    timeSplitsWait = false;
    for (const { p, outcome } of timeSplits) await isolate(p, outcome);
    return report;
  }

  private async sendWithFallback(req: WriteRequest, deadlineMs: number, durations: number[]): Promise<{ outcome: Outcome; attempts: number }> {
    let total = 0;
    for (;;) {
      // Past the deadline a request could outlive the Lambda, which would fail the whole batch: keep the data in SQS.
      if (this.clock.now() >= deadlineMs) {
        return { outcome: { kind: 'retryable', reason: 'deadline', detail: 'no time left before the invocation deadline' }, attempts: total };
      }
      const encoding = this.options.encodings[this.protocol] ?? this.options.encodings['1.0'];
      const body = encoding.encode(req);
      const unsigned: Record<string, string> = { ...this.options.headers, ...encoding.headers, 'User-Agent': this.options.userAgent };
      const { sign } = this.options;
      const result = await withRetry(
        async () => {
          const started = this.clock.now();
          let headers = unsigned;
          // Signed per attempt: a SigV4 signature carries its time (X-Amz-Date), and a retry may come minutes later.
          if (sign) {
            try {
              headers = await sign(this.options.url, unsigned, body);
            } catch (error) {
              // No credentials: every request would fail alike until an operator acts; the data stays in SQS.
              return { kind: 'fatal', reason: 'sign-failed', detail: firstLine(error instanceof Error ? error.message : String(error)) };
            }
          }
          const outcome = await attemptOnce(
            this.dispatcher,
            // An attempt never runs past the deadline, whatever REMOTE_WRITE_TIMEOUT_MS says.
            { url: this.options.url, method: 'POST', headers, body, timeoutMs: Math.max(1, Math.min(this.options.timeoutMs, deadlineMs - started)) },
            { retryOn429: this.options.retryOn429, expectWrittenHeader: encoding.expectWrittenHeader },
          );
          durations.push(this.clock.now() - started);
          return outcome;
        },
        { backoff: this.options.backoff, deadlineMs, attemptTimeoutMs: this.options.timeoutMs },
        this.clock,
      );
      total += result.attempts;
      if (result.outcome.kind === 'unsupported-protocol' && this.protocol === '2.0') {
        // Remote-write 2.0 spec: a receiver without 2.0 answers 415 or a 2xx without the written header; resend as 1.0.
        this.protocol = '1.0';
        continue;
      }
      return { outcome: result.outcome, attempts: total };
    }
  }
}
