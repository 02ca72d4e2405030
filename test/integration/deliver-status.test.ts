/**
 * Every answer a remote-write receiver can give, through the deliver runtime as the Lambda builds it: a scripted
 * receiver (test/support/fault-server.ts) in front, fauxqs as the DLQ. Per case: the attempts made, the waits
 * between them, the exact URL and headers sent, the message ids reported failed, and what reached the DLQ.
 *
 * The clock is virtual: `sleep` records the wait and moves `now` forward without waiting, so backoff and
 * Retry-After are asserted exactly and the suite stays fast. Timeouts are real (and short).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Message } from '@aws-sdk/client-sqs';
import { receiveAll, startSqs } from '../../dev/sqs.ts';
import { createDeliverRuntime } from '../../lib/deliver/runtime.ts';
import { buildEnvelopes, envelopePoints, parseEnvelope } from '../../lib/envelope/envelope.ts';
import type { Logger } from '../../lib/log.ts';
import type { MetricFamily, Point } from '../../lib/model/series.ts';
import type { RetryClock } from '../../lib/transport/retry.ts';
import { snappyUncompress } from '../../lib/encoders/snappy.ts';
import { startFaultServer, times, type RecordedRequest, type ScriptEntry } from '../support/fault-server.ts';
import { started } from '../support/lifecycle.ts';
import { decodeToObject, V1WriteRequest } from '../unit/encoders/prompb.ts';

interface VirtualClock extends RetryClock {
  slept: number[];
}

/** Time moves only when the code under test sleeps; jitter draws 0.5, so a backoff wait is half its ceiling. */
function virtualClock(startMs = Date.now()): VirtualClock {
  let now = startMs;
  const slept: number[] = [];
  return {
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    random: () => 0.5,
    slept,
  };
}

interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { log: (level, msg, fields = {}) => lines.push({ level, msg, fields }), lines };
}

const RECEIVED_AT = Date.UTC(2026, 10, 2, 12, 0, 0);
const FAMILY: MetricFamily = { name: 'beam_elements', type: 'counter', help: 'elements read' };

/** One SQS message holding one sample (or `values.length` samples of distinct series). */
function message(messageId: string, values: number[] = [7]): { messageId: string; body: string } {
  const points: Point[] = values.map((value, i) => ({ name: 'beam_elements_total', labels: { step: `s${i}` }, value }));
  const [body] = buildEnvelopes({ id: `req-${messageId}`, source: 'beam-java', receivedAt: RECEIVED_AT, group: { job: 'wordcount' }, labels: {} }, [FAMILY], points);
  return { messageId, body: body! };
}

const EXPECTED_HEADERS = {
  'content-encoding': 'snappy',
  'content-type': 'application/x-protobuf',
  'x-prometheus-remote-write-version': '0.1.0',
  'user-agent': 'beam-prom-relay/0.1',
};

/** Every request is the same remote-write 1.0 POST of the message's series, to the configured path. */
function assertRemoteWrite(requests: readonly RecordedRequest[], steps: string[]): void {
  for (const r of requests) {
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/api/v1/write?tenant=team-a');
    for (const [name, value] of Object.entries(EXPECTED_HEADERS)) assert.equal(r.headers[name], value, name);
    const decoded = decodeToObject(V1WriteRequest, snappyUncompress(r.body)) as {
      timeseries: Array<{ labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: number }> }>;
    };
    assert.deepEqual(
      decoded.timeseries.map((s) => s.labels.find((l) => l.name === 'step')!.value),
      steps,
    );
    for (const s of decoded.timeseries) {
      assert.deepEqual(s.labels.map((l) => l.name), ['__name__', 'job', 'step']);
      assert.equal(s.samples[0]!.timestamp, RECEIVED_AT);
    }
  }
}

function attribute(m: Message, name: string): string | undefined {
  return m.MessageAttributes?.[name]?.StringValue;
}

interface Case {
  name: string;
  /** A function when the script depends on the time of the test (an HTTP-date). */
  script: ScriptEntry[] | (() => ScriptEntry[]);
  env?: Record<string, string>;
  remainingMs?: number;
  attempts: number;
  /** Exact waits, or bounds for each wait (Retry-After as an HTTP-date has one-second resolution). */
  sleeps: number[] | { min: number; max: number }[];
  failed: boolean;
  /** The outcome counted in the log line (`kind:reason`), absent for a success. */
  reason?: string;
  /** The DLQ message expected, if any. */
  dlq?: { reason: string; status: number; error: string };
}

const ok: ScriptEntry = { status: 204 };

const CASES: Case[] = [
  { name: '200 is written once', script: [{ status: 200, body: 'ok' }], attempts: 1, sleeps: [], failed: false },
  { name: '204 is written once', script: [ok], attempts: 1, sleeps: [], failed: false },
  {
    name: '400 out of order sample is superseded and acknowledged',
    script: [{ status: 400, body: 'out of order sample\n' }],
    attempts: 1, sleeps: [], failed: false, reason: 'superseded:out-of-order',
  },
  {
    name: '400 duplicate sample for timestamp is superseded and acknowledged',
    script: [{ status: 400, body: 'duplicate sample for timestamp' }],
    attempts: 1, sleeps: [], failed: false, reason: 'superseded:duplicate-timestamp',
  },
  {
    name: '400 out of bounds is superseded and acknowledged',
    script: [{ status: 400, body: 'out of bounds' }],
    attempts: 1, sleeps: [], failed: false, reason: 'superseded:out-of-bounds',
  },
  {
    name: 'a plain 400 is dead-lettered with its reason and never retried',
    script: [{ status: 400, body: 'invalid label name "0x"\nmore detail' }],
    attempts: 1, sleeps: [], failed: false, reason: 'permanent:http-400',
    dlq: { reason: 'permanent:http-400', status: 400, error: 'invalid label name "0x"' },
  },
  ...[401, 403, 404, 415].map(
    (status): Case => ({
      name: `${status} is fatal: reported failed, kept out of the DLQ, not retried`,
      script: [{ status, body: `status ${status}` }],
      attempts: 1, sleeps: [], failed: true, reason: `fatal:http-${status}`,
    }),
  ),
  {
    name: '429 without Retry-After is retried with backoff',
    script: [{ status: 429 }, { status: 429 }, ok],
    attempts: 3, sleeps: [50, 100], failed: false,
  },
  {
    name: '429 honours Retry-After in delta-seconds',
    script: [{ status: 429, headers: { 'Retry-After': '2' } }, ok],
    attempts: 2, sleeps: [2000], failed: false,
  },
  {
    name: '429 honours Retry-After as an HTTP-date',
    script: () => [{ status: 429, headers: { 'Retry-After': new Date(Date.now() + 4_000).toUTCString() } }, ok],
    // Second resolution, and the header is read a little after the script was written.
    attempts: 2, sleeps: [{ min: 2_000, max: 4_000 }], failed: false,
  },
  {
    name: '429 with REMOTE_WRITE_RETRY_ON_429=false is dead-lettered',
    script: [{ status: 429, body: 'rate limited' }],
    env: { REMOTE_WRITE_RETRY_ON_429: 'false' },
    attempts: 1, sleeps: [], failed: false, reason: 'permanent:http-429',
    dlq: { reason: 'permanent:http-429', status: 429, error: 'rate limited' },
  },
  {
    // Deadline: 1500 ms remaining − 500 ms margin. A wait happens only when the next 300 ms attempt still ends by it.
    name: '500 is retried until the deadline, then reported failed',
    script: times(10, { status: 500, body: 'internal error' }),
    remainingMs: 1_500,
    attempts: 5, sleeps: [50, 100, 200, 200], failed: true, reason: 'retryable:http-500',
  },
  {
    name: '500 too old sample is permanent: dead-lettered, not retried',
    script: [{ status: 500, body: 'too old sample' }],
    attempts: 1, sleeps: [], failed: false, reason: 'permanent:too-old',
    dlq: { reason: 'permanent:too-old', status: 500, error: 'too old sample' },
  },
  {
    name: '501 is permanent: dead-lettered, not retried',
    script: [{ status: 501, body: 'not implemented' }],
    attempts: 1, sleeps: [], failed: false, reason: 'permanent:http-501',
    dlq: { reason: 'permanent:http-501', status: 501, error: 'not implemented' },
  },
  { name: '503 then 204 is retried once and written', script: [{ status: 503 }, ok], attempts: 2, sleeps: [50], failed: false },
  { name: '503 honours Retry-After', script: [{ status: 503, headers: { 'Retry-After': '1' } }, ok], attempts: 2, sleeps: [1000], failed: false },
  { name: 'a reset connection is retried', script: ['reset', ok], attempts: 2, sleeps: [50], failed: false },
  {
    name: 'a connection reset on every attempt is reported failed at the deadline',
    script: times(10, 'reset'),
    remainingMs: 1_500,
    attempts: 5, sleeps: [50, 100, 200, 200], failed: true, reason: 'retryable:network',
  },
  { name: 'a timed-out attempt is retried', script: ['hang', ok], attempts: 2, sleeps: [50], failed: false },
  {
    // Deadline 500 ms ahead: 50 + 300 and 150 + 300 fit, 350 + 300 does not.
    name: 'a receiver that never answers is reported failed at the deadline',
    script: times(5, 'hang'),
    remainingMs: 1_000,
    attempts: 3, sleeps: [50, 100], failed: true, reason: 'retryable:timeout',
  },
  {
    // Deadline 200 ms ahead: not even one 50 ms wait plus a 300 ms attempt fits.
    name: 'a retryable error with little time left is reported failed without sleeping',
    script: times(5, { status: 503 }),
    remainingMs: 400,
    attempts: 1, sleeps: [], failed: true, reason: 'retryable:http-503',
  },
];

describe('deliver: receiver answers, through createDeliverRuntime', () => {
  const sqs = started(() => startSqs());
  const fault = started(() => startFaultServer({ lifetimeMs: 120_000 }));

  const env = (extra: Record<string, string> = {}) => ({
    REMOTE_WRITE_URL: `${fault().url}/api/v1/write?tenant=team-a`,
    DLQ_URL: sqs().dlqUrl,
    AWS_ENDPOINT_URL_SQS: sqs().endpoint,
    AWS_REGION: sqs().region,
    RETRY_BASE_MS: '100',
    RETRY_MAX_MS: '400',
    REMOTE_WRITE_TIMEOUT_MS: '300',
    DELIVER_TIME_MARGIN_MS: '500',
    ...extra,
  });

  for (const c of CASES) {
    test(c.name, async () => {
      const clock = virtualClock();
      const { log, lines } = captureLog();
      const runtime = createDeliverRuntime(env(c.env), { sqs: sqs().client, clock, log });
      const destination = `remote-write ${new URL(fault().url).host}/api/v1/write`;
      fault().reset(typeof c.script === 'function' ? c.script() : c.script);
      const m = message(`msg-${CASES.indexOf(c)}`);

      const failed = await runtime.deliver([m], c.remainingMs);

      assert.equal(fault().requests.length, c.attempts, 'attempts');
      assertRemoteWrite(fault().requests, ['s0']);
      if (c.sleeps.every((s) => typeof s === 'number')) assert.deepEqual(clock.slept, c.sleeps);
      else {
        assert.equal(clock.slept.length, c.sleeps.length);
        c.sleeps.forEach((bound, i) => {
          const { min, max } = bound as { min: number; max: number };
          assert.ok(clock.slept[i]! >= min && clock.slept[i]! <= max, `wait ${clock.slept[i]} within ${min}..${max}`);
        });
      }
      if (c.remainingMs !== undefined) {
        const total = clock.slept.reduce((a, b) => a + b, 0);
        assert.ok(total + 300 <= c.remainingMs, `waits (${total} ms) plus an attempt stay within the remaining time`);
      }
      assert.deepEqual(failed, c.failed ? [m.messageId] : []);

      const dead = await receiveAll(sqs().client, sqs().dlqUrl);
      if (!c.dlq) assert.deepEqual(dead, []);
      else {
        assert.equal(dead.length, 1);
        const d = dead[0]!;
        assert.equal(attribute(d, 'reason'), c.dlq.reason);
        assert.equal(attribute(d, 'status'), String(c.dlq.status));
        assert.equal(d.MessageAttributes?.status?.DataType, 'Number');
        assert.equal(attribute(d, 'destination'), destination);
        assert.equal(attribute(d, 'error'), c.dlq.error);
        assert.equal(attribute(d, 'sourceMessageId'), m.messageId);
        const envelope = parseEnvelope(d.Body!);
        assert.deepEqual(envelopePoints(envelope), [
          { name: 'beam_elements_total', labels: { job: 'wordcount', step: 's0' }, value: 7, timestampMs: RECEIVED_AT },
        ]);
        assert.deepEqual(envelope.families, [FAMILY]);
      }

      assert.equal(lines.length, 1);
      const line = lines[0]!;
      assert.equal(line.msg, 'deliver');
      assert.equal(line.level, c.reason?.startsWith('fatal:') ? 'error' : c.failed || c.dlq ? 'warn' : 'info');
      const stats = (line.fields.sinks as Record<string, { reasons: Record<string, number>; requests: number; retries: number }>)[destination]!;
      assert.equal(stats.requests, c.attempts);
      assert.equal(stats.retries, c.attempts - 1);
      assert.deepEqual(stats.reasons, c.reason ? { [c.reason]: 1 } : {});
      const superseded = c.reason?.startsWith('superseded:') ? 1 : 0;
      const rejected = c.dlq ? 1 : 0;
      const lost = c.failed ? 1 : 0;
      assert.deepEqual(line.fields.samples, {
        received: 1,
        written: 1 - superseded - rejected - lost,
        superseded,
        rejected,
        failed: lost,
        retried: c.attempts - 1,
      });
      assert.equal((line.fields.sinks as Record<string, { requestMs: { count: number } }>)[destination]!.requestMs.count, c.attempts);
      assert.deepEqual(line.fields.failedMessageIds, failed);
    });
  }

  test('a plain 400 on a two-series request isolates the refused series and dead-letters only it', async () => {
    const clock = virtualClock();
    const runtime = createDeliverRuntime(env(), { sqs: sqs().client, clock, log: () => {} });
    fault().reset([{ status: 400, body: 'bad sample' }, ok, { status: 400, body: 'bad sample' }]);
    const m = message('msg-pair', [1, 2]);

    const failed = await runtime.deliver([m]);

    assert.deepEqual(failed, []);
    assert.equal(fault().requests.length, 3);
    assertRemoteWrite(fault().requests.slice(0, 1), ['s0', 's1']);
    assertRemoteWrite(fault().requests.slice(1, 2), ['s0']);
    assertRemoteWrite(fault().requests.slice(2, 3), ['s1']);
    const dead = await receiveAll(sqs().client, sqs().dlqUrl);
    assert.equal(dead.length, 1);
    assert.deepEqual(envelopePoints(parseEnvelope(dead[0]!.Body!)), [
      { name: 'beam_elements_total', labels: { job: 'wordcount', step: 's1' }, value: 2, timestampMs: RECEIVED_AT },
    ]);
  });

  test('SELF_METRICS=true writes the invocation\'s counts as gauges after the batch, stamped at its end', async () => {
    const clock = virtualClock();
    const { log, lines } = captureLog();
    const runtime = createDeliverRuntime(env({ SELF_METRICS: 'true' }), { sqs: sqs().client, clock, log });
    fault().reset([{ status: 503 }, ok, ok]);
    const destination = `remote-write ${new URL(fault().url).host}/api/v1/write`;

    const failed = await runtime.deliver([message('msg-self', [1, 2])]);

    assert.deepEqual(failed, []);
    assert.equal(fault().requests.length, 3);
    const decoded = decodeToObject(V1WriteRequest, snappyUncompress(fault().requests[2]!.body)) as {
      timeseries: Array<{ labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: number }> }>;
    };
    const series = new Map(
      decoded.timeseries.map((t) => [t.labels.filter((l) => l.name !== 'job').map((l) => `${l.name}=${l.value}`).join(','), t.samples]),
    );
    const value = (key: string) => series.get(key)?.[0]?.value;
    const name = '__name__=beam_prom_relay_deliver_batch_samples';
    assert.equal(value(`${name},destination=${destination},outcome=written`), 2);
    assert.equal(value(`${name},destination=${destination},outcome=retried`), 2);
    assert.equal(value(`${name},destination=${destination},outcome=superseded`), 0);
    assert.equal(value('__name__=beam_prom_relay_deliver_batch_messages,outcome=received'), 1);
    assert.equal(value(`__name__=beam_prom_relay_deliver_batch_requests,destination=${destination},kind=retry`), 1);
    assert.ok(series.has(`__name__=beam_prom_relay_deliver_request_duration_seconds,destination=${destination},quantile=0.99`));
    for (const t of decoded.timeseries) {
      assert.deepEqual(t.labels.find((l) => l.name === 'job'), { name: 'job', value: 'beam-prom-relay' });
      assert.equal(t.samples[0]!.timestamp, clock.now());
    }
    assert.deepEqual(lines[0]!.fields.selfMetrics, { written: decoded.timeseries.length, reasons: {} });
  });

  test('a hung receiver is abandoned at the deadline, not after the full attempt timeout', async () => {
    const runtime = createDeliverRuntime(env({ REMOTE_WRITE_TIMEOUT_MS: '10000' }), { sqs: sqs().client, log: () => {} });
    fault().reset(times(3, 'hang'));
    const m = message('msg-deadline');
    const started = performance.now();

    const failed = await runtime.deliver([m], 1_000);

    const elapsed = performance.now() - started;
    assert.deepEqual(failed, [m.messageId]);
    assert.equal(fault().requests.length, 1);
    assert.ok(elapsed < 1_000, `returned after ${Math.round(elapsed)} ms, within the 1000 ms remaining`);
  });
});
