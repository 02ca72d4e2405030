/**
 * The deliver runtime against a real Prometheus (DESIGN §4): what Prometheus already holds is recognised as
 * superseded and acknowledged, redelivery is a no-op, and one stale sample in a 2,000-series write request — which
 * makes Prometheus roll back the whole request — costs only itself. The fault server sits in front as a recording
 * proxy, so the requests the isolation took are counted.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { queryInstant, startPrometheus } from '../../dev/receivers.ts';
import { receiveAll, startSqs } from '../../dev/sqs.ts';
import { createDeliverRuntime } from '../../lib/deliver/runtime.ts';
import { snappyUncompress } from '../../lib/encoders/snappy.ts';
import { buildEnvelopes, envelopePoints, parseEnvelope } from '../../lib/envelope/envelope.ts';
import type { Logger } from '../../lib/log.ts';
import type { MetricFamily, Point } from '../../lib/model/series.ts';
import { startFaultServer } from '../support/fault-server.ts';
import { started } from '../support/lifecycle.ts';
import { decodeToObject, V1WriteRequest } from '../unit/encoders/prompb.ts';

interface Stats {
  samplesWritten: number;
  samplesSuperseded: number;
  samplesRejected: number;
  samplesFailed: number;
  requests: number;
  isolationRequests: number;
  reasons: Record<string, number>;
}

/** Runs one delivery and returns what the runtime reported and logged. */
async function deliver(
  runtime: ReturnType<typeof createDeliverRuntime>,
  lines: Array<Record<string, unknown>>,
  messages: Array<{ messageId: string; body: string }>,
): Promise<{ failed: string[]; stats: Stats; line: Record<string, unknown> }> {
  lines.length = 0;
  const failed = await runtime.deliver(messages);
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  const sinks = Object.values(line.sinks as Record<string, Stats>);
  assert.equal(sinks.length, 1);
  return { failed, stats: sinks[0]!, line };
}

const GAUGE = (name: string): MetricFamily => ({ name, type: 'gauge', help: 'deliver-prometheus test' });

function message(messageId: string, receivedAt: number, points: Point[], families: MetricFamily[]): { messageId: string; body: string } {
  const [body, ...more] = buildEnvelopes({ id: `req-${messageId}`, source: 'text', receivedAt, group: { job: 'deliver-test' }, labels: {} }, families, points);
  assert.equal(more.length, 0);
  return { messageId, body: body! };
}

/** Value of a single-series PromQL result at `timeMs`, or undefined when there is none. */
async function valueAt(url: string, promql: string, timeMs: number): Promise<number | undefined> {
  const result = await queryInstant(url, promql, { timeMs });
  assert.ok(result.length <= 1, JSON.stringify(result));
  return result[0]?.value;
}

describe('deliver against a real Prometheus', () => {
  const prometheus = started(() => startPrometheus());
  const sqs = started(() => startSqs());
  const proxy = started(() => startFaultServer({ upstream: prometheus().url }));

  const runtime = (extra: Record<string, string> = {}) => {
    const lines: Array<Record<string, unknown>> = [];
    const log: Logger = (_level, _msg, fields = {}) => lines.push(fields);
    const rt = createDeliverRuntime(
      { REMOTE_WRITE_URL: `${proxy().url}/api/v1/write`, DLQ_URL: sqs().dlqUrl, AWS_REGION: sqs().region, ...extra },
      { sqs: sqs().client, log },
    );
    return { rt, lines };
  };

  test('out-of-order and duplicate-timestamp samples are superseded and acknowledged, never dead-lettered', async () => {
    const { rt, lines } = runtime();
    const t = Date.now() - 60_000;
    const family = [GAUGE('deliver_superseded')];
    const point = (value: number): Point => ({ name: 'deliver_superseded', labels: {}, value });
    const first = await deliver(rt, lines, [message('m-first', t, [point(1)], family)]);
    assert.deepEqual(first.failed, []);
    assert.equal(first.stats.samplesWritten, 1);

    const older = await deliver(rt, lines, [message('m-older', t - 10_000, [point(5)], family)]);
    const conflicting = await deliver(rt, lines, [message('m-conflict', t, [point(2)], family)]);

    assert.deepEqual(older.failed, []);
    assert.deepEqual(older.stats.reasons, { 'superseded:out-of-order': 1 });
    assert.equal(older.stats.samplesSuperseded, 1);
    assert.deepEqual(conflicting.failed, []);
    assert.deepEqual(conflicting.stats.reasons, { 'superseded:duplicate-timestamp': 1 });
    assert.equal(conflicting.stats.samplesSuperseded, 1);
    assert.deepEqual(await receiveAll(sqs().client, sqs().dlqUrl), []);
    assert.equal(await valueAt(prometheus().url, 'deliver_superseded', t), 1);
    assert.equal(await valueAt(prometheus().url, 'count_over_time(deliver_superseded[5m])', t), 1);
  });

  test('redelivering the same message is a no-op: Prometheus unchanged, no error', async () => {
    const { rt, lines } = runtime();
    const t = Date.now() - 50_000;
    const m = message('m-again', t, [
      { name: 'deliver_redelivered', labels: { step: 'a' }, value: 3 },
      { name: 'deliver_redelivered', labels: { step: 'b' }, value: 4 },
    ], [GAUGE('deliver_redelivered')]);
    const first = await deliver(rt, lines, [m]);

    const again = await deliver(rt, lines, [m]);

    assert.deepEqual(first.failed, []);
    assert.deepEqual(again.failed, []);
    assert.deepEqual(again.stats.reasons, {});
    assert.equal(again.stats.samplesWritten, 2);
    assert.deepEqual(await receiveAll(sqs().client, sqs().dlqUrl), []);
    const counts = await queryInstant(prometheus().url, 'count_over_time(deliver_redelivered[5m])', { timeMs: t });
    assert.deepEqual(counts.map((c) => [c.metric.step, c.value]).sort(), [['a', 1], ['b', 1]]);
    assert.equal(await valueAt(prometheus().url, 'sum(deliver_redelivered)', t), 7);
  });

  test('version 1 to 3 envelopes queued before an upgrade still deliver, merged with version 4 ones of their series', async () => {
    const { rt, lines } = runtime();
    const t = Date.now() - 40_000;
    const v1 = {
      messageId: 'm-v1',
      body: JSON.stringify({
        v: 1, id: 'req-v1', part: 0, parts: 1, source: 'text', receivedAt: t - 5_000, group: { job: 'deliver-test' }, labels: {},
        families: [GAUGE('deliver_v1')],
        points: [{ name: 'deliver_v1', labels: { step: 'a' }, value: 1 }, { name: 'deliver_v1', labels: { step: 'b' }, value: 7, timestampMs: t - 4_000 }],
      }),
    };
    const v2 = {
      messageId: 'm-v2',
      body: JSON.stringify({
        v: 2, id: 'req-v2', part: 0, parts: 1, source: 'text', receivedAt: t - 2_000, group: { job: 'deliver-test' }, labels: {},
        families: [GAUGE('deliver_v1')],
        labelSets: [['step', 'a']],
        points: [['deliver_v1', 0, 3]],
      }),
    };
    const v3 = {
      messageId: 'm-v3',
      body: JSON.stringify({
        v: 3, id: 'req-v3', part: 0, parts: 1, source: 'text', receivedAt: t - 1_000, group: { job: 'deliver-test' }, labels: {},
        families: [GAUGE('deliver_v1')],
        labelSets: [['step', 'a'], ['step', 'b']],
        names: ['deliver_v1'],
        points: [0, 0, 5, 0, 1, 8],
        timestamps: [1, t - 500],
      }),
    };
    const v4 = message('m-v4', t, [{ name: 'deliver_v1', labels: { step: 'a' }, value: 2 }], [GAUGE('deliver_v1')]);
    assert.equal(JSON.parse(v4.body).v, 4);

    const { failed, stats } = await deliver(rt, lines, [v1, v2, v3, v4]);

    assert.deepEqual(failed, []);
    assert.equal(stats.samplesWritten, 6);
    assert.deepEqual(await receiveAll(sqs().client, sqs().dlqUrl), []);
    assert.equal(await valueAt(prometheus().url, 'deliver_v1{step="a"}', t - 5_000), 1);
    assert.equal(await valueAt(prometheus().url, 'deliver_v1{step="a"}', t - 2_000), 3);
    assert.equal(await valueAt(prometheus().url, 'deliver_v1{step="a"}', t - 1_000), 5);
    assert.equal(await valueAt(prometheus().url, 'deliver_v1{step="a"}', t), 2);
    assert.equal(await valueAt(prometheus().url, 'deliver_v1{step="b"}', t - 4_000), 7);
    assert.equal(await valueAt(prometheus().url, 'deliver_v1{step="b"}', t - 500), 8);
  });

  test('one stale sample in a 2,000-series request is isolated: the 1,999 others are written', async () => {
    const { rt, lines } = runtime();
    const held = Date.now() - 40_000;
    const now = held + 20_000;
    const family = [GAUGE('deliver_isolation')];
    const seed = await deliver(rt, lines, [message('m-seed', held, [{ name: 'deliver_isolation', labels: { i: 'stale' }, value: 100 }], family)]);
    assert.deepEqual(seed.failed, []);
    // 2,000 series over four messages, merged into one write request; the stale one is older than what is held.
    const messages = [0, 1, 2, 3].map((m) => {
      const points: Point[] = [];
      for (let k = 0; k < 500; k++) {
        const i = m * 500 + k;
        if (i === 1234) points.push({ name: 'deliver_isolation', labels: { i: 'stale' }, value: -1, timestampMs: held - 30_000 });
        else points.push({ name: 'deliver_isolation', labels: { i: String(i).padStart(4, '0') }, value: i });
      }
      return message(`m-batch-${m}`, now, points, family);
    });
    proxy().reset();

    const { failed, stats } = await deliver(rt, lines, messages);

    assert.deepEqual(failed, []);
    const first = decodeToObject(V1WriteRequest, snappyUncompress(proxy().requests[0]!.body)) as { timeseries: unknown[] };
    assert.equal(first.timeseries.length, 2_000, 'the batch went out as one write request');
    assert.equal(stats.samplesWritten, 1_999);
    assert.equal(stats.samplesSuperseded, 1);
    assert.equal(stats.samplesRejected, 0);
    assert.deepEqual(stats.reasons, { 'superseded:out-of-order': 1 });
    // Halving finds one series among 2,000 in ⌈log2 2000⌉ = 11 rounds of two requests.
    assert.ok(stats.isolationRequests <= 2 * Math.ceil(Math.log2(2_000)), `isolation took ${stats.isolationRequests} requests`);
    assert.equal(proxy().requests.length, 1 + stats.isolationRequests);
    assert.equal(stats.requests, proxy().requests.length);
    assert.deepEqual(await receiveAll(sqs().client, sqs().dlqUrl), []);
    assert.equal(await valueAt(prometheus().url, 'count(deliver_isolation{i!="stale"})', now), 1_999);
    assert.equal(await valueAt(prometheus().url, 'sum(deliver_isolation{i!="stale"})', now), (1_999 * 2_000) / 2 - 1_234);
    assert.equal(await valueAt(prometheus().url, 'deliver_isolation{i="stale"}', now), 100);
  });

  test('when the isolation budget runs out, the unresolved samples are dead-lettered, not dropped as superseded', async () => {
    const { rt, lines } = runtime({ REMOTE_WRITE_ISOLATION_REQUESTS: '4' });
    const held = Date.now() - 35_000;
    const now = held + 10_000;
    const family = [GAUGE('deliver_budget')];
    await deliver(rt, lines, [message('m-budget-seed', held, [{ name: 'deliver_budget', labels: { i: '07' }, value: 100 }], family)]);
    // 16 series; i=07 is stale. Two halvings (the budget of 4) leave it among 4 series.
    const points: Point[] = Array.from({ length: 16 }, (_, i) => ({
      name: 'deliver_budget',
      labels: { i: String(i).padStart(2, '0') },
      value: i,
      ...(i === 7 ? { timestampMs: held - 5_000 } : {}),
    }));
    const batch = message('m-budget', now, points, family);

    const { failed, stats } = await deliver(rt, lines, [batch]);

    assert.deepEqual(failed, []);
    assert.equal(stats.isolationRequests, 4);
    assert.equal(stats.samplesWritten, 12);
    assert.equal(stats.samplesSuperseded, 0);
    assert.deepEqual(stats.reasons, { 'permanent:isolation-budget': 4 });
    const dead = await receiveAll(sqs().client, sqs().dlqUrl);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.MessageAttributes?.reason?.StringValue, 'permanent:isolation-budget');
    assert.match(dead[0]!.MessageAttributes?.error?.StringValue ?? '', /out of order sample/);
    const parked = parseEnvelope(dead[0]!.Body!);
    assert.deepEqual(envelopePoints(parked).map((p) => p.labels.i), ['04', '05', '06', '07']);

    // What a redrive does: the parked body delivered again, with a budget large enough, isolates the stale one.
    const { rt: again, lines: againLines } = runtime();
    const redriven = await deliver(again, againLines, [{ messageId: 'm-budget-redriven', body: dead[0]!.Body! }]);

    assert.deepEqual(redriven.failed, []);
    assert.equal(redriven.stats.samplesWritten, 3);
    assert.deepEqual(redriven.stats.reasons, { 'superseded:out-of-order': 1 });
    assert.equal(await valueAt(prometheus().url, 'count(deliver_budget)', now), 16);
    assert.equal(await valueAt(prometheus().url, 'deliver_budget{i="07"}', now), 100);
  });

  test('SELF_METRICS=true makes the invocation\'s counts queryable next to the data', async () => {
    const { rt, lines } = runtime({ SELF_METRICS: 'true' });
    const t = Date.now() - 30_000;
    const points: Point[] = [1, 2, 3].map((v) => ({ name: 'deliver_self', labels: { step: `s${v}` }, value: v }));

    const { failed, line } = await deliver(rt, lines, [message('m-self', t, points, [GAUGE('deliver_self')])]);

    assert.deepEqual(failed, []);
    assert.equal((line.selfMetrics as { written: number }).written > 0, true);
    const written = await queryInstant(prometheus().url, 'beam_prom_relay_deliver_batch_samples{outcome="written",job="beam-prom-relay"}');
    assert.deepEqual(written.map((w) => w.value), [3]);
    const received = await queryInstant(prometheus().url, 'beam_prom_relay_deliver_batch_messages{outcome="received"}');
    assert.deepEqual(received.map((w) => w.value), [1]);
  });
});

describe('deliver against a Prometheus with an out-of-order window', () => {
  const prometheus = started(() => startPrometheus({ outOfOrderTimeWindow: '10m' }));
  const sqs = started(() => startSqs());

  test('a sample older than the window (500 too old sample) is isolated and dead-lettered, its neighbours written', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const rt = createDeliverRuntime(
      { REMOTE_WRITE_URL: prometheus().remoteWriteUrl, DLQ_URL: sqs().dlqUrl, AWS_REGION: sqs().region },
      { sqs: sqs().client, log: (_l, _m, f = {}) => lines.push(f) },
    );
    const t = Date.now() - 60_000;
    const family = [GAUGE('deliver_window')];
    // Too old is judged per series: b must already hold a sample newer than the window allows going back from.
    await deliver(rt, lines, [message('m-head', t, [{ name: 'deliver_window', labels: { step: 'b' }, value: 1 }], family)]);
    const tooOld = t - 20 * 60_000;
    const batch = message('m-window', t, [
      { name: 'deliver_window', labels: { step: 'a' }, value: 2 },
      { name: 'deliver_window', labels: { step: 'b' }, value: 3, timestampMs: tooOld },
      { name: 'deliver_window', labels: { step: 'c' }, value: 4 },
    ], family);

    const { failed, stats } = await deliver(rt, lines, [batch]);

    assert.deepEqual(failed, []);
    assert.equal(stats.samplesWritten, 2);
    assert.deepEqual(stats.reasons, { 'permanent:too-old': 1 });
    const dead = await receiveAll(sqs().client, sqs().dlqUrl);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.MessageAttributes?.reason?.StringValue, 'permanent:too-old');
    assert.equal(dead[0]!.MessageAttributes?.status?.StringValue, '500');
    assert.equal(dead[0]!.MessageAttributes?.sourceMessageId?.StringValue, 'm-window');
    assert.deepEqual(envelopePoints(parseEnvelope(dead[0]!.Body!)), [
      { name: 'deliver_window', labels: { job: 'deliver-test', step: 'b' }, value: 3, timestampMs: tooOld },
    ]);
    const written = await queryInstant(prometheus().url, 'deliver_window{step=~"a|c"}', { timeMs: t });
    assert.deepEqual(written.map((w) => w.value).sort(), [2, 4]);
  });
});
