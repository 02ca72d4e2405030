/**
 * Remote-write 2.0 with fallback to 1.0 (REMOTE_WRITE_PROTOCOL=2.0). Debian's Prometheus 2.42 speaks 1.0 only: it
 * reads a 2.0 body as an empty 1.0 request and answers 204 without `X-Prometheus-Remote-Write-Samples-Written`,
 * which the 2.0 spec says to treat as a 1.0 receiver. A recording proxy in front of it keeps the bodies, so the
 * tests can decode what was sent; a scripted server stands in for a 2.0 receiver (none is installed).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { uncompress } from 'snappyjs';
import { Agent } from 'undici';
import { buildEnvelopes, type EnvelopeHeader } from '../../lib/envelope/envelope.ts';
import { DEFAULT_REQUEST_LIMITS } from '../../lib/deliver/merge.ts';
import type { DecodedRecord } from '../../lib/deliver/records.ts';
import { REMOTE_WRITE_V1, REMOTE_WRITE_V2, RemoteWriteSink, type RemoteWriteOptions } from '../../lib/deliver/remote-write-sink.ts';
import { createDeliverRuntime } from '../../lib/deliver/runtime.ts';
import { parseEnvelope } from '../../lib/envelope/envelope.ts';
import type { MetricFamily, Point } from '../../lib/model/series.ts';
import type { RetryClock } from '../../lib/transport/retry.ts';
import { startPrometheus, waitForQuery } from '../../dev/receivers.ts';
import { decodeToObject, V1WriteRequest, V2Request } from '../unit/encoders/prompb.ts';
import { started } from '../support/lifecycle.ts';
import { startFaultServer, type RecordedRequest } from '../support/fault-server.ts';

const V2_CONTENT_TYPE = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';
const FAMILIES: MetricFamily[] = [
  { name: 'beam_bytes_read_total', type: 'counter', help: 'Bytes read by the step', unit: 'bytes' },
  { name: 'beam_queue_depth', type: 'gauge', help: 'Elements waiting' },
];

/** One envelope as ingest would enqueue it, stamped now (Prometheus refuses samples older than its head block). */
function envelopeBody(job: string, receivedAt: number): string {
  const header: EnvelopeHeader = { id: `req-${job}`, source: 'beam-java', receivedAt, group: { job }, labels: {} };
  const points: Point[] = [
    { name: 'beam_bytes_read_total', labels: { namespace: 'io', step: 'Read/Parse' }, value: 1024 },
    { name: 'beam_queue_depth', labels: { namespace: 'io', step: 'Write' }, value: 7 },
  ];
  return buildEnvelopes(header, FAMILIES, points)[0]!;
}

function record(job: string, receivedAt = Date.now()): DecodedRecord {
  return { index: 0, messageId: `m-${job}`, envelope: parseEnvelope(envelopeBody(job, receivedAt)) };
}

const instantClock: RetryClock = { now: Date.now, sleep: async () => {}, random: () => 0 };

function sinkOptions(url: string): RemoteWriteOptions {
  return {
    url,
    headers: { 'X-Scope-OrgID': 'team-a' },
    encodings: { '1.0': REMOTE_WRITE_V1, '2.0': REMOTE_WRITE_V2 },
    protocol: '2.0',
    limits: { ...DEFAULT_REQUEST_LIMITS },
    timeoutMs: 5_000,
    retryOn429: true,
    backoff: { baseMs: 1, maxMs: 1 },
    maxIsolationRequests: 0,
    concurrency: 1,
    userAgent: 'beam-prom-relay/test',
  };
}

const body = (r: RecordedRequest): Uint8Array => uncompress(new Uint8Array(r.body));

type V1Decoded = { timeseries: Array<{ labels: Array<{ name: string; value: string }> }>; metadata: Array<Record<string, unknown>> };
type V2Decoded = { symbols: string[]; timeseries: Array<{ labels_refs: number[]; metadata: { type: string; help_ref: number; unit_ref: number } }> };

function assertHeaders(r: RecordedRequest, expected: Record<string, string>): void {
  for (const [name, value] of Object.entries(expected)) assert.equal(r.headers[name.toLowerCase()], value, name);
}

describe('remote-write 2.0 against Prometheus 2.42, a 1.0 receiver', () => {
  const prometheus = started(() => startPrometheus());
  const dispatcher = new Agent({ keepAliveTimeout: 1_000 });
  after(() => dispatcher.close());

  test('falls back to 1.0 on a 204 without the written-samples header, and the data is queryable', async () => {
    const proxy = await startFaultServer({ upstream: prometheus().url, lifetimeMs: 60_000 });
    try {
      const sink = new RemoteWriteSink(sinkOptions(`${proxy.url}/api/v1/write`), instantClock, dispatcher);

      const report = await sink.deliver([record('fallback-204')], Date.now() + 30_000);

      assert.equal(report.stats.samplesWritten, 2);
      assert.equal(report.failed.size, 0);
      assert.equal(sink.currentProtocol, '1.0');
      // Both answered by Prometheus itself: the 2.0 request's 204 without the written header triggered the fallback.
      assert.deepEqual(proxy.requests.map((r) => [r.headers['content-type'], r.answer]), [[V2_CONTENT_TYPE, 'proxy'], ['application/x-protobuf', 'proxy']]);
      const result = await waitForQuery(prometheus().url, '{job="fallback-204"}', (r) => r.length === 2, { timeoutMs: 5_000 });
      assert.deepEqual(
        result.map((s) => [s.metric['__name__'], s.metric['step'], s.value]).sort(),
        [['beam_bytes_read_total', 'Read/Parse', 1024], ['beam_queue_depth', 'Write', 7]],
      );
    } finally {
      await proxy.stop();
    }
  });

  test('sends the 1.0 fallback with TYPE, HELP and unit metadata', async () => {
    const proxy = await startFaultServer({ upstream: prometheus().url, lifetimeMs: 60_000 });
    try {
      const sink = new RemoteWriteSink(sinkOptions(`${proxy.url}/api/v1/write`), instantClock, dispatcher);

      await sink.deliver([record('metadata')], Date.now() + 30_000);

      const v1 = proxy.requests[1]!;
      assertHeaders(v1, { 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0', 'X-Scope-OrgID': 'team-a' });
      const decoded = decodeToObject(V1WriteRequest, body(v1)) as V1Decoded;
      assert.equal(decoded.timeseries.length, 2);
      assert.deepEqual(
        decoded.metadata.map((m) => [m['metric_family_name'], m['type'], m['help'], m['unit']]).sort(),
        [['beam_bytes_read_total', 'COUNTER', 'Bytes read by the step', 'bytes'], ['beam_queue_depth', 'GAUGE', 'Elements waiting', '']],
      );
    } finally {
      await proxy.stop();
    }
  });

  test('falls back to 1.0 on a 415 and stays on 1.0 for the next batch', async () => {
    const proxy = await startFaultServer({ upstream: prometheus().url, lifetimeMs: 60_000 });
    try {
      proxy.reset([{ status: 415, body: 'unsupported content type' }]);
      const sink = new RemoteWriteSink(sinkOptions(`${proxy.url}/api/v1/write`), instantClock, dispatcher);

      const first = await sink.deliver([record('fallback-415')], Date.now() + 30_000);
      const second = await sink.deliver([record('fallback-415-again')], Date.now() + 30_000);

      assert.equal(first.stats.samplesWritten, 2);
      assert.equal(second.stats.samplesWritten, 2);
      assert.equal(sink.currentProtocol, '1.0');
      assert.deepEqual(
        proxy.requests.map((r) => [r.headers['x-prometheus-remote-write-version'], r.answer === 'proxy' ? 'prometheus' : 'scripted']),
        [['2.0.0', 'scripted'], ['0.1.0', 'prometheus'], ['0.1.0', 'prometheus']],
      );
      await waitForQuery(prometheus().url, '{job=~"fallback-415.*"}', (r) => r.length === 4, { timeoutMs: 5_000 });
    } finally {
      await proxy.stop();
    }
  });

  test('REMOTE_WRITE_PROTOCOL=2.0 in the deliver runtime sends 2.0 first and lands the data through the fallback', async () => {
    const proxy = await startFaultServer({ upstream: prometheus().url, lifetimeMs: 60_000 });
    try {
      const runtime = createDeliverRuntime(
        { REMOTE_WRITE_URL: `${proxy.url}/api/v1/write`, REMOTE_WRITE_PROTOCOL: '2.0', REMOTE_WRITE_HEADERS: 'X-Scope-OrgID=team-b' },
        { log: () => {} },
      );

      const failed = await runtime.deliver([{ messageId: 'm-runtime', body: envelopeBody('runtime-v2', Date.now()) }], 30_000);

      assert.deepEqual(failed, []);
      assert.deepEqual(proxy.requests.map((r) => r.headers['x-prometheus-remote-write-version']), ['2.0.0', '0.1.0']);
      assert.ok(proxy.requests.every((r) => r.headers['x-scope-orgid'] === 'team-b'));
      await waitForQuery(prometheus().url, '{job="runtime-v2"}', (r) => r.length === 2, { timeoutMs: 5_000 });
    } finally {
      await proxy.stop();
    }
  });
});

describe('remote-write 2.0 against a 2.0 receiver', () => {
  const dispatcher = new Agent({ keepAliveTimeout: 1_000 });
  after(() => dispatcher.close());

  test('sends 2.0 bytes with the 2.0 headers and does not fall back when the receiver reports what it wrote', async () => {
    const receiver = await startFaultServer({ lifetimeMs: 60_000 });
    try {
      const written = { 'X-Prometheus-Remote-Write-Samples-Written': '2', 'X-Prometheus-Remote-Write-Histograms-Written': '0', 'X-Prometheus-Remote-Write-Exemplars-Written': '0' };
      receiver.reset([{ status: 204, headers: written }, { status: 204, headers: written }]);
      const sink = new RemoteWriteSink(sinkOptions(`${receiver.url}/api/v1/write`), instantClock, dispatcher);

      const first = await sink.deliver([record('v2-receiver')], Date.now() + 30_000);
      const second = await sink.deliver([record('v2-receiver-again')], Date.now() + 30_000);

      assert.equal(first.stats.samplesWritten, 2);
      assert.equal(second.stats.samplesWritten, 2);
      assert.equal(sink.currentProtocol, '2.0');
      assert.equal(receiver.requests.length, 2);
      const sent = receiver.requests[0]!;
      assertHeaders(sent, {
        'Content-Type': V2_CONTENT_TYPE,
        'Content-Encoding': 'snappy',
        'X-Prometheus-Remote-Write-Version': '2.0.0',
        'User-Agent': 'beam-prom-relay/test',
        'X-Scope-OrgID': 'team-a',
      });
      const decoded = decodeToObject(V2Request, body(sent)) as V2Decoded;
      const { symbols } = decoded;
      assert.equal(symbols[0], '', 'symbols[0] is the empty string (2.0 spec, Symbols)');
      const series = decoded.timeseries.map((ts) => {
        const labels: Record<string, string> = {};
        for (let i = 0; i < ts.labels_refs.length; i += 2) labels[symbols[ts.labels_refs[i]!]!] = symbols[ts.labels_refs[i + 1]!]!;
        return { labels, type: ts.metadata.type, help: symbols[ts.metadata.help_ref], unit: symbols[ts.metadata.unit_ref] };
      });
      assert.deepEqual(series, [
        { labels: { __name__: 'beam_bytes_read_total', job: 'v2-receiver', namespace: 'io', step: 'Read/Parse' }, type: 'METRIC_TYPE_COUNTER', help: 'Bytes read by the step', unit: 'bytes' },
        { labels: { __name__: 'beam_queue_depth', job: 'v2-receiver', namespace: 'io', step: 'Write' }, type: 'METRIC_TYPE_GAUGE', help: 'Elements waiting', unit: '' },
      ]);
    } finally {
      await receiver.stop();
    }
  });
});
