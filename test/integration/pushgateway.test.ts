/**
 * The Pushgateway sink against a real Pushgateway 1.5.1 (DESIGN §4), behind the recording fault server so that
 * the exact requests are seen, and every body sent goes through `promtool check metrics`. The last test runs the
 * whole deliver core with remote-write to a real Prometheus alongside, to show the fan-out.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { INSTALL_COMMAND, readPushgatewayGroups, startPrometheus, startPushgateway, waitForQuery, type PushgatewayGroup } from '../../dev/receivers.ts';
import { loadDeliverConfig } from '../../lib/deliver/config.ts';
import { rejectionDeadLetters } from '../../lib/deliver/dead-letters.ts';
import { deliverBatch, type BatchRecord } from '../../lib/deliver/deliver.ts';
import { PushgatewaySink, type PushgatewayOptions } from '../../lib/deliver/pushgateway-sink.ts';
import type { DecodedRecord } from '../../lib/deliver/records.ts';
import { createSinks } from '../../lib/deliver/runtime.ts';
import { buildEnvelopes, type EnvelopeHeader, envelopePoints, parseEnvelope } from '../../lib/envelope/envelope.ts';
import { convertBeamJava } from '../../lib/inputs/beam-java.ts';
import { convertEventBridgeEvent } from '../../lib/inputs/eventbridge.ts';
import { DEFAULT_CONVERSION_OPTIONS } from '../../lib/inputs/options.ts';
import { samplesOf as seriesSamples, type Labels, type MetricFamily, type Point } from '../../lib/model/series.ts';
import { seriesOrigins } from '../../lib/deliver/merge.ts';
import { SYSTEM_CLOCK } from '../../lib/transport/retry.ts';
import { startFaultServer, times, type RecordedRequest } from '../support/fault-server.ts';
import { started } from '../support/lifecycle.ts';

const PROMTOOL = '/usr/bin/promtool';

/**
 * Runs `promtool check metrics` on a body. Its lint also flags camelCase metric names; Beam metric names are the
 * user's (`beam_payloadBytes`, kept as Beam spells them, DESIGN §3), so `allowBeamCamelCase` lets exactly that
 * finding through and nothing else.
 */
async function assertPromtoolAccepts(body: string, { allowBeamCamelCase = false } = {}): Promise<void> {
  if (!existsSync(PROMTOOL)) assert.fail(`${PROMTOOL} is missing; install it with: ${INSTALL_COMMAND}`);
  const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => {
    child.on('close', resolve);
    child.stdin.end(body);
  });
  const findings = output.split('\n').filter((l) => l.trim() !== '');
  const tolerated = (l: string) => allowBeamCamelCase && /^beam_\S+ metric names should be written in 'snake_case' not 'camelCase'$/.test(l);
  const problems = findings.filter((l) => !tolerated(l));
  assert.ok(code === 0 || (code === 3 && problems.length === 0), `promtool check metrics exited ${code}:\n${output}\n--- body ---\n${body}`);
}

/** Every body the sink sent (PUT / POST) passes promtool. */
async function assertBodiesPassPromtool(requests: readonly RecordedRequest[], options?: { allowBeamCamelCase?: boolean }): Promise<void> {
  const bodies = requests.filter((r) => r.method !== 'DELETE').map((r) => r.body.toString('utf8'));
  assert.ok(bodies.length > 0, 'no body was sent');
  for (const body of bodies) await assertPromtoolAccepts(body, options);
}

let requestCounter = 0;

interface RequestSpec {
  header?: Partial<EnvelopeHeader>;
  families?: MetricFamily[];
  points: Point[];
  /** Small enough to make ingest split the request into parts. */
  maxBytes?: number;
}

/** The envelopes ingest would enqueue for each request, as one SQS batch of decoded records. */
function batchOf(...specs: RequestSpec[]): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  for (const spec of specs) {
    const header: EnvelopeHeader = { id: `req-${++requestCounter}`, source: 'beam-java', receivedAt: Date.now(), group: { job: 'pg-test' }, labels: {}, ...spec.header };
    for (const body of buildEnvelopes(header, spec.families ?? [], spec.points, spec.maxBytes)) {
      out.push({ index: out.length, messageId: `msg-${out.length}`, envelope: parseEnvelope(body) });
    }
  }
  return out;
}

const gauge = (name: string): MetricFamily => ({ name, type: 'gauge', help: `pushgateway test ${name}` });
const point = (name: string, value: number, labels: Labels = {}): Point => ({ name, labels, value });

function fixture(path: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8'));
}

/** A group's samples as `name{labels}` → value string, summaries as `_sum` and `_count`; the Pushgateway's own metrics left out. */
function samplesOf(group: PushgatewayGroup | undefined): Record<string, string> {
  assert.ok(group, 'the group is not in the Pushgateway');
  const out: Record<string, string> = {};
  const key = (name: string, labels: Labels) =>
    name + '{' + Object.keys(labels).sort().filter((k) => labels[k] !== '').map((k) => `${k}="${labels[k]}"`).join(',') + '}';
  for (const [name, family] of Object.entries(group)) {
    if (name === 'labels' || name === 'last_push_successful' || name === 'push_time_seconds' || name === 'push_failure_time_seconds') continue;
    const { type, metrics } = family as { type: string; metrics: Array<{ labels: Labels; value?: string; sum?: string; count?: string }> };
    for (const m of metrics) {
      if (type === 'SUMMARY') {
        out[key(`${name}_sum`, m.labels)] = m.sum!;
        out[key(`${name}_count`, m.labels)] = m.count!;
      } else out[key(name, m.labels)] = m.value!;
    }
  }
  return out;
}

function groupWith(groups: PushgatewayGroup[], labels: Labels): PushgatewayGroup | undefined {
  return groups.find((g) => JSON.stringify(Object.entries(g.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
}

describe('PushgatewaySink against a real Pushgateway', () => {
  // Debian's Pushgateway persists to /var/lib/prometheus/pushgateway.data by default, shared by every instance.
  const pushgateway = started(() => startPushgateway());
  const proxy = started(() => startFaultServer({ upstream: pushgateway().url }));

  const sink = (options: Partial<PushgatewayOptions> = {}) =>
    new PushgatewaySink(
      { url: proxy().url, headers: {}, deleteOnJobEnd: false, timeoutMs: 5_000, backoff: { baseMs: 10, maxMs: 50 }, concurrency: 4, userAgent: 'pg-test', ...options },
      SYSTEM_CLOCK,
    );
  const soon = () => Date.now() + 20_000;

  test('pushes a Beam snapshot under a grouping key with / and ( in the step and an empty instance, and the group holds its exact values', async () => {
    const conversion = convertBeamJava(fixture('beam-java/flink-attempted-only.json'), { nowMs: Date.now(), options: DEFAULT_CONVERSION_OPTIONS });
    const group = { job: 'flink-ingest', step: 'Parse/ParMultiDo(ParseJson)', instance: '' };
    const records = batchOf({ header: { group }, families: conversion.families, points: conversion.points });
    proxy().reset();

    const report = await sink().deliver(records, soon());

    assert.deepEqual([report.failed.size, report.rejected.length], [0, 0]);
    assert.equal(report.stats.samplesWritten, conversion.points.length);
    assert.deepEqual(
      proxy().requests.map((r) => `${r.method} ${r.url}`),
      [`PUT /metrics/job/flink-ingest/instance@base64/=/step@base64/${Buffer.from(group.step).toString('base64url')}`],
    );
    assert.equal(proxy().requests[0]!.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const held = groupWith(await readPushgatewayGroups(pushgateway().url), group);
    const step = 'step="Parse/ParMultiDo(ParseJson)"';
    assert.deepEqual(samplesOf(held), {
      [`beam_records_out_total{job="flink-ingest",namespace="ingest",${step}}`]: '731',
      [`beam_parse_errors_total{job="flink-ingest",namespace="ingest",${step}}`]: '12',
      [`beam_payloadBytes_sum{job="flink-ingest",namespace="ingest",${step}}`]: '161551',
      [`beam_payloadBytes_count{job="flink-ingest",namespace="ingest",${step}}`]: '731',
      [`beam_payloadBytes_min{job="flink-ingest",namespace="ingest",${step}}`]: '18',
      [`beam_payloadBytes_max{job="flink-ingest",namespace="ingest",${step}}`]: '1503',
    });
    await assertBodiesPassPromtool(proxy().requests, { allowBeamCamelCase: true });
  });

  test('keeps two groups with the same metric name apart, NaN and infinities included', async () => {
    const families = [gauge('pg_rows')];
    const records = batchOf(
      { header: { group: { job: 'pg-two', shard: 'a' } }, families, points: [point('pg_rows', 1, { kind: 'x' }), point('pg_rows', NaN, { kind: 'nan' })] },
      { header: { group: { job: 'pg-two', shard: 'b' } }, families, points: [point('pg_rows', 2, { kind: 'x' }), point('pg_rows', -Infinity, { kind: 'inf' })] },
    );
    proxy().reset();

    const report = await sink().deliver(records, soon());

    assert.deepEqual([report.failed.size, report.rejected.length, report.stats.requests, report.stats.samplesWritten], [0, 0, 2, 4]);
    const groups = await readPushgatewayGroups(pushgateway().url);
    assert.deepEqual(samplesOf(groupWith(groups, { job: 'pg-two', shard: 'a' })), {
      'pg_rows{job="pg-two",kind="x",shard="a"}': '1',
      'pg_rows{job="pg-two",kind="nan",shard="a"}': 'NaN',
    });
    assert.deepEqual(samplesOf(groupWith(groups, { job: 'pg-two', shard: 'b' })), {
      'pg_rows{job="pg-two",kind="x",shard="b"}': '2',
      'pg_rows{job="pg-two",kind="inf",shard="b"}': '-Inf',
    });
    await assertBodiesPassPromtool(proxy().requests);
  });

  test('PUTs only the newest snapshot of a batch, replacing the group, and counts the older ones superseded', async () => {
    const group = { job: 'pg-newest' };
    const families = [gauge('pg_value'), gauge('pg_only_old'), gauge('pg_earlier')];
    await sink().deliver(batchOf({ header: { group }, families, points: [point('pg_earlier', 1)] }), soon());
    const t = Date.now();
    const records = batchOf(
      { header: { group, receivedAt: t + 2 }, families, points: [point('pg_value', 3)] },
      { header: { group, receivedAt: t }, families, points: [point('pg_value', 1), point('pg_only_old', 1)] },
      { header: { group, receivedAt: t + 1 }, families, points: [point('pg_value', 2)] },
    );
    proxy().reset();

    const report = await sink().deliver(records, soon());

    assert.deepEqual([report.failed.size, report.rejected.length, report.stats.requests], [0, 0, 1]);
    assert.deepEqual([report.stats.samplesWritten, report.stats.samplesSuperseded], [1, 3]);
    assert.deepEqual(report.stats.reasons, { 'superseded:older-snapshot-in-batch': 3 });
    assert.deepEqual(samplesOf(groupWith(await readPushgatewayGroups(pushgateway().url), group)), { 'pg_value{job="pg-newest"}': '3' });
    await assertBodiesPassPromtool(proxy().requests);
  });

  test('POSTs the parts present of a split snapshot, so the metrics of the missing parts stay', async () => {
    const group = { job: 'pg-split' };
    const names = ['pg_alpha', 'pg_beta', 'pg_gamma', 'pg_delta', 'pg_epsilon', 'pg_zeta'];
    const families = names.map(gauge);
    const snapshot = (value: number) => ({ header: { group }, families, points: names.map((n) => point(n, value)), maxBytes: 450 });
    await sink().deliver(batchOf(snapshot(1)), soon());
    const parts = batchOf(snapshot(2));
    assert.ok(parts.length >= 3, `the snapshot must split into 3 or more parts, got ${parts.length}`);
    const present = [parts[0]!, parts[2]!].map((r, index) => ({ ...r, index }));
    const updated = new Set(present.flatMap((r) => envelopePoints(r.envelope).map((p) => p.name)));
    proxy().reset();

    const report = await sink().deliver(present, soon());

    assert.deepEqual([report.failed.size, report.rejected.length], [0, 0]);
    assert.deepEqual(proxy().requests.map((r) => `${r.method} ${r.url}`), ['POST /metrics/job/pg-split']);
    const expected = Object.fromEntries(names.map((n) => [`${n}{job="pg-split"}`, updated.has(n) ? '2' : '1']));
    assert.deepEqual(samplesOf(groupWith(await readPushgatewayGroups(pushgateway().url), group)), expected);
    await assertBodiesPassPromtool(proxy().requests);
  });

  test('a TYPE conflict with another group ends in rejected with the Pushgateway\'s reason, ready for the DLQ', async () => {
    const direct = await fetch(`${pushgateway().url}/metrics/job/pg-other`, { method: 'PUT', body: '# TYPE pg_conflict_total gauge\npg_conflict_total 1\n' });
    assert.equal(direct.status, 200);
    const receivedAt = Date.now();
    const records = batchOf({
      header: { group: { job: 'pg-conflict' }, receivedAt },
      families: [{ name: 'pg_conflict', type: 'counter', help: 'conflicts with a gauge' }],
      points: [point('pg_conflict_total', 5, { kind: 'x' })],
    });
    proxy().reset();

    const report = await sink().deliver(records, soon());

    assert.equal(report.failed.size, 0);
    assert.equal(report.rejected.length, 1);
    const { outcome, series } = report.rejected[0]!;
    assert.deepEqual([outcome.kind, outcome.reason, outcome.status], ['permanent', 'http-400', 400]);
    assert.match(outcome.detail, /pushed metrics are invalid or inconsistent with existing metrics/);
    assert.deepEqual(series.map((s) => ({ labels: s.labels, samples: seriesSamples(s), origins: seriesOrigins(s) })), [
      {
        labels: [{ name: '__name__', value: 'pg_conflict_total' }, { name: 'job', value: 'pg-conflict' }, { name: 'kind', value: 'x' }],
        samples: [{ value: 5, timestampMs: receivedAt }],
        origins: [0],
      },
    ]);
    assert.deepEqual([report.stats.samplesRejected, report.stats.reasons], [1, { 'permanent:http-400': 1 }]);
    const dlq = rejectionDeadLetters(report.rejected, records, new Map(), sink().name, () => true).get(0)!;
    assert.equal(dlq.length, 1);
    assert.equal(dlq[0]!.attributes!.reason!.StringValue, 'permanent:http-400');
    assert.deepEqual(envelopePoints(parseEnvelope(dlq[0]!.body)), [{ name: 'pg_conflict_total', labels: { job: 'pg-conflict', kind: 'x' }, value: 5, timestampMs: receivedAt }]);
    await assertBodiesPassPromtool(proxy().requests);
  });

  const glueSucceeded = () => {
    const result = convertEventBridgeEvent(fixture('eventbridge/glue-job-succeeded.json'), { nowMs: Date.now(), options: DEFAULT_CONVERSION_OPTIONS });
    assert.equal(result.kind, 'converted');
    assert.equal(result.conversion.jobEnded, true);
    return result;
  };

  test('with deleteOnJobEnd, a job-end envelope deletes its group instead of being pushed', async () => {
    const ended = glueSucceeded();
    await sink().deliver(batchOf({ header: { group: ended.group }, families: [gauge('pg_before_end')], points: [point('pg_before_end', 1)] }), soon());
    assert.ok(groupWith(await readPushgatewayGroups(pushgateway().url), ended.group));
    const records = batchOf({
      header: { group: ended.group, source: 'eventbridge', jobEnded: true },
      families: ended.conversion.families,
      points: ended.conversion.points,
    });
    proxy().reset();

    const report = await sink({ deleteOnJobEnd: true }).deliver(records, soon());

    assert.deepEqual([report.failed.size, report.rejected.length], [0, 0]);
    assert.deepEqual(proxy().requests.map((r) => `${r.method} ${r.url}`), ['DELETE /metrics/job/beam-wordcount']);
    assert.deepEqual(report.stats.reasons, { 'superseded:group-deleted-on-job-end': ended.conversion.points.length });
    assert.equal(groupWith(await readPushgatewayGroups(pushgateway().url), ended.group), undefined);
  });

  test('without deleteOnJobEnd, a job event is merged into its group next to the Beam metrics', async () => {
    const ended = glueSucceeded();
    await sink().deliver(batchOf({ header: { group: ended.group }, families: [gauge('pg_beam_metric')], points: [point('pg_beam_metric', 7)] }), soon());
    const records = batchOf({
      header: { group: ended.group, source: 'eventbridge', jobEnded: true },
      families: ended.conversion.families,
      points: ended.conversion.points,
    });
    proxy().reset();

    const report = await sink().deliver(records, soon());

    assert.deepEqual([report.failed.size, report.rejected.length], [0, 0]);
    assert.deepEqual(proxy().requests.map((r) => r.method), ['POST']);
    const held = samplesOf(groupWith(await readPushgatewayGroups(pushgateway().url), ended.group));
    assert.equal(held['pg_beam_metric{job="beam-wordcount"}'], '7');
    assert.equal(held['beam_job_state{job="beam-wordcount",platform="glue",state="succeeded"}'], '1');
    assert.equal(held['beam_job_state{job="beam-wordcount",platform="glue",state="failed"}'], '0');
    await assertBodiesPassPromtool(proxy().requests);
  });

  test('a request still failing at the deadline fails its records and holds back the later requests of its group', async () => {
    const group = { job: 'pg-retry' };
    const t = Date.now();
    const records = batchOf(
      { header: { group, receivedAt: t }, families: [gauge('pg_retry')], points: [point('pg_retry', 1)] },
      { header: { group, receivedAt: t + 1, source: 'eventbridge' }, families: [gauge('pg_retry_event')], points: [point('pg_retry_event', 1)] },
    );
    proxy().reset(times(20, { status: 503, body: 'unavailable' }));

    // One attempt fits before the deadline, no retry.
    const report = await sink({ timeoutMs: 1_000 }).deliver(records, Date.now() + 1_000);

    assert.deepEqual(proxy().requests.map((r) => r.method), ['PUT']);
    assert.deepEqual([...report.failed.keys()], [0, 1]);
    assert.deepEqual([...report.failed.values()].map((o) => `${o.kind}:${o.reason}`), ['retryable:http-503', 'retryable:http-503']);
    assert.deepEqual([report.stats.samplesFailed, report.rejected.length], [2, 0]);
    proxy().reset();
  });
});

describe('deliverBatch with remote-write and Pushgateway together', () => {
  const prometheus = started(() => startPrometheus());
  const pushgateway = started(() => startPushgateway());

  test('writes one batch to both destinations and acknowledges every message', async () => {
    const sinks = createSinks(loadDeliverConfig({ REMOTE_WRITE_URL: prometheus().remoteWriteUrl, PUSHGATEWAY_URL: pushgateway().url }), SYSTEM_CLOCK);
    const group = { job: 'fan-out', step: 'Write/ParDo(Out)' };
    const body = buildEnvelopes(
      { id: 'fan-out-1', source: 'beam-java', receivedAt: Date.now(), group, labels: { env: 'test' } },
      [{ name: 'fan_out_rows', type: 'counter', help: 'rows written' }],
      [point('fan_out_rows_total', 42, { namespace: 'ns' })],
    );
    const batch: BatchRecord[] = body.map((b, i) => ({ messageId: `fan-${i}`, body: b }));

    const { failedMessageIds, summary } = await deliverBatch(batch, { sinks, now: Date.now }, Date.now() + 20_000);

    assert.deepEqual(failedMessageIds, []);
    assert.deepEqual(Object.values(summary.sinks).map((s) => s.samplesWritten), [1, 1]);
    const series = await waitForQuery(prometheus().url, 'fan_out_rows_total', (r) => r.length === 1, { timeoutMs: 5_000 });
    assert.deepEqual(series, [{ metric: { __name__: 'fan_out_rows_total', env: 'test', job: 'fan-out', namespace: 'ns', step: 'Write/ParDo(Out)' }, value: 42 }]);
    assert.deepEqual(samplesOf(groupWith(await readPushgatewayGroups(pushgateway().url), group)), {
      'fan_out_rows_total{env="test",job="fan-out",namespace="ns",step="Write/ParDo(Out)"}': '42',
    });
  });
});
