/**
 * The product's first proof: Beam MetricsHttpSink bodies go through the real handlers, a real SQS API (fauxqs) and
 * into a real Prometheus and a real VictoriaMetrics, and PromQL reads back every series with the right value.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { queryInstant, waitForQuery } from '../../dev/receivers.ts';
import { httpApiV2Event, restApiV1Event, sqsEventOf } from '../support/events.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/beam-java/${name}`, import.meta.url), 'utf8');
const WORDCOUNT_NS = 'org.apache.beam.examples.WordCount$ExtractWordsFn';

let pipeline: Pipeline;
before(async () => {
  pipeline = await startPipeline({ victoria: true, env: { STATIC_LABELS: 'relay=e2e' } });
});
after(async () => pipeline?.stop());

describe('Beam MetricsHttpSink → ingest → SQS → deliver → Prometheus and VictoriaMetrics', () => {
  it('writes every series of a body with committed values (counters, distribution, gauge, string set)', async () => {
    const { reply } = await pipeline.push(httpApiV2Event('/metrics/job/wordcount/env/e2e', fixture('wordcount-committed.json')));
    const summary = JSON.parse((reply as { body: string }).body);
    assert.equal(summary.format, 'beam-java');
    assert.equal(summary.series, 9);
    await pipeline.expectSeries(
      {
        [`beam_emptyLines_total{namespace="${WORDCOUNT_NS}",step="ExtractWords",env="e2e"}`]: 1198,
        [`beam_wordsProcessed_total{step="WordCount.CountWords/ParDo(ExtractWords)"}`]: 58190,
        [`beam_lineLenDistro_sum{step="ExtractWords"}`]: 405720,
        [`beam_lineLenDistro_count{step="ExtractWords"}`]: 9800,
        [`beam_lineLenDistro_min{step="ExtractWords"}`]: 1,
        [`beam_lineLenDistro_max{step="ExtractWords"}`]: 212,
        [`beam_activeWorkers{namespace="pipeline",step="WriteCounts/WriteFiles"}`]: 36,
        [`beam_inputFiles_info{value="gs://bucket/in/a.txt",step="ReadLines"}`]: 1,
        [`beam_inputFiles_size{step="ReadLines"}`]: 1,
      },
      'job="wordcount",relay="e2e"',
    );
    const notCommitted = await queryInstant(pipeline.prometheus.url, 'beam_inputFiles_info{value="gs://bucket/in/b.txt"}');
    assert.deepEqual(notCommitted, [], 'only the committed string set members are exported');
  });

  it('uses attempted values where the runner has no committed ones, from a gzip body sent base64-encoded', async () => {
    const body = gzipSync(fixture('flink-attempted-only.json'));
    await pipeline.push(httpApiV2Event('/metrics/job/flink-ingest', body, { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }));
    await pipeline.expectSeries(
      {
        [`beam_records_out_total{namespace="ingest",step="Read from Kafka/KafkaIO.Read/ReadFromKafka"}`]: 731,
        [`beam_parse_errors_total{step="Parse/ParMultiDo(ParseJson)"}`]: 12,
        [`beam_payloadBytes_sum{step="Parse/ParMultiDo(ParseJson)"}`]: 161551,
        [`beam_payloadBytes_count{step="Parse/ParMultiDo(ParseJson)"}`]: 731,
        [`beam_payloadBytes_min{step="Parse/ParMultiDo(ParseJson)"}`]: 18,
        [`beam_payloadBytes_max{step="Parse/ParMultiDo(ParseJson)"}`]: 1503,
      },
      'job="flink-ingest"',
    );
  });

  it('reads the older three-kind body through a REST API (v1) event, with a base64 path label', async () => {
    await pipeline.push(restApiV1Event('/metrics/job/legacy/env@base64/' + Buffer.from('a/b').toString('base64url'), fixture('legacy-three-kinds.json')));
    await pipeline.expectSeries({ [`beam_filesWritten_total{namespace="output",env="a/b"}`]: 5 }, 'job="legacy"');
  });

  it('leaves Prometheus unchanged and raises no error when the same SQS message is delivered twice', async () => {
    const { messages } = await pipeline.push(httpApiV2Event('/metrics/job/redelivered', fixture('legacy-three-kinds.json')));
    const promql = 'count_over_time(beam_filesWritten_total{job="redelivered"}[1h])';
    const before = await waitForQuery(pipeline.prometheus.url, promql, (r) => r.length === 1, { timeoutMs: 10_000 });
    const again = await pipeline.deliver(sqsEventOf(messages, pipeline.sqs.queueArn));
    assert.deepEqual(again.batchItemFailures, []);
    const afterwards = await queryInstant(pipeline.prometheus.url, promql);
    assert.deepEqual(afterwards.map((r) => r.value), before.map((r) => r.value));
    assert.equal(afterwards[0]!.value, 1, 'one sample, not two');
  });
});
