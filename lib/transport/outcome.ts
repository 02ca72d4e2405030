/**
 * The one place that decides what a delivery attempt's result means. Everything downstream (retry loop, DLQ,
 * batchItemFailures, self-metrics) reads `Outcome.kind`; nothing else looks at status codes or error text.
 */

export type OutcomeKind =
  /** Written (2xx). */
  | 'success'
  /** Worth trying again later: the receiver or the network is unwell. */
  | 'retryable'
  /** The receiver already holds a newer or the same sample for the series: nothing to do, nothing lost. */
  | 'superseded'
  /** The data itself is refused; retrying cannot help. Goes to the DLQ with the reason. */
  | 'permanent'
  /** Our configuration is wrong (auth, URL, protocol). Keep the data: SQS redelivers, the DLQ catches it later. */
  | 'fatal'
  /** The receiver does not speak the protocol version we sent (remote-write 2.0 to a 1.0 receiver). */
  | 'unsupported-protocol';

export interface Outcome {
  kind: OutcomeKind;
  /** Short machine-readable reason: `http-503`, `out-of-order`, `network`, `timeout`… */
  reason: string;
  status?: number;
  /** First line of the receiver's answer or of the error, for logs and DLQ attributes. */
  detail: string;
  retryAfterMs?: number;
}

export interface ResponseFacts {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The start of the response body (a few KiB at most). */
  body: string;
}

export interface ClassifyOptions {
  /** Prometheus' `retry_on_http_429`: off makes a 429 permanent. */
  retryOn429: boolean;
  /** Remote-write 2.0 expects the written-samples header on success (spec, "Response"). */
  expectWrittenHeader: boolean;
  nowMs: number;
}

function header(facts: ResponseFacts, name: string): string | undefined {
  const v = facts.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function firstLine(text: string, max = 300): string {
  const line = text.split('\n', 1)[0]!.trim();
  return line.length > max ? line.slice(0, max) + '…' : line;
}

/**
 * Prometheus' answers for samples it already has something newer or equal for (tsdb storage errors, DESIGN §4).
 * The request is rolled back whole, so these still need the isolating split; once isolated they are acknowledged.
 */
const SUPERSEDED_400: ReadonlyArray<[RegExp, string]> = [
  [/out of order sample/i, 'out-of-order'],
  [/duplicate sample for timestamp/i, 'duplicate-timestamp'],
  [/out of bounds/i, 'out-of-bounds'],
];

export function classifyResponse(facts: ResponseFacts, options: ClassifyOptions): Outcome {
  const { status } = facts;
  const detail = firstLine(facts.body);
  if (status >= 200 && status < 300) {
    // A 1.0 receiver answers a 2.0 request with a 2xx and no written-samples header (remote-write 2.0 spec):
    // it decoded nothing, so this is a fallback signal, not a success.
    if (options.expectWrittenHeader && header(facts, 'x-prometheus-remote-write-samples-written') === undefined) {
      return { kind: 'unsupported-protocol', reason: 'no-written-header', status, detail };
    }
    return { kind: 'success', reason: `http-${status}`, status, detail };
  }
  const retryAfterMs = parseRetryAfter(header(facts, 'retry-after'), options.nowMs);
  const withRetry = (o: Outcome): Outcome => (retryAfterMs === undefined ? o : { ...o, retryAfterMs });

  if (status === 400) {
    for (const [pattern, reason] of SUPERSEDED_400) {
      if (pattern.test(facts.body)) return { kind: 'superseded', reason, status, detail };
    }
    return { kind: 'permanent', reason: 'http-400', status, detail };
  }
  // Credentials, URL or content type are wrong: every message would fail the same way until an operator acts.
  if (status === 401 || status === 403 || status === 404) return { kind: 'fatal', reason: `http-${status}`, status, detail };
  if (status === 415) {
    return options.expectWrittenHeader
      ? { kind: 'unsupported-protocol', reason: 'http-415', status, detail }
      : { kind: 'fatal', reason: 'http-415', status, detail };
  }
  if (status === 408) return withRetry({ kind: 'retryable', reason: 'http-408', status, detail });
  if (status === 429) {
    return options.retryOn429
      ? withRetry({ kind: 'retryable', reason: 'http-429', status, detail })
      : { kind: 'permanent', reason: 'http-429', status, detail };
  }
  // Prometheus answers 500 for a sample older than its out-of-order window: it will never be accepted (DESIGN §4).
  if (status === 500 && /too old sample/i.test(facts.body)) return { kind: 'permanent', reason: 'too-old', status, detail };
  // 501 Not Implemented does not change with time.
  if (status === 501) return { kind: 'permanent', reason: 'http-501', status, detail };
  if (status >= 500) return withRetry({ kind: 'retryable', reason: `http-${status}`, status, detail });
  // Redirects and other statuses: remote-write defines none; the URL is most likely wrong.
  if (status < 400) return { kind: 'fatal', reason: `http-${status}`, status, detail };
  return { kind: 'permanent', reason: `http-${status}`, status, detail };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

/** Errors thrown before a response arrived: all worth retrying — the receiver may be restarting. */
export function classifyError(error: unknown): Outcome {
  const e = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? e?.name ?? 'Error';
  const detail = firstLine(String(e?.message ?? error));
  if (/TIMEOUT/i.test(code) || e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return { kind: 'retryable', reason: 'timeout', detail };
  }
  return { kind: 'retryable', reason: NETWORK_CODES.has(code) ? 'network' : 'network-other', detail: `${code}: ${detail}` };
}

/**
 * `Retry-After` in both forms of RFC 9110 §10.2.3: delta-seconds or an HTTP-date. Returns milliseconds from
 * `nowMs` (never negative), or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date always names its weekday or month; without letters Date.parse would read "-1" as a year.
  const date = /[A-Za-z]/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
