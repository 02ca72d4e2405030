/**
 * The product's first proof: Beam MetricsHttpSink bodies go through the real handlers, a real SQS API (fauxqs) and
 * into a real Prometheus and a real VictoriaMetrics, and PromQL reads back every series with the right value.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { Message } from '@aws-sdk/client-sqs';
import { startPrometheus, startVictoriaMetrics, queryInstant, waitForQuery, type RemoteWriteReceiver } from '../../dev/receivers.ts';
import { receiveAll, startSqs, DUMMY_CREDENTIALS, type LocalSqs } from '../../dev/sqs.ts';
import { createDeliverRuntime } from '../../lib/deliver/runtime.ts';
import { httpApiV2Event, restApiV1Event, sqsEventOf } from '../support/events.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/beam-java/${name}`, import.meta.url), 'utf8');

type Handlers = {
  ingest: typeof import('../../functions/ingest.ts').handler;
  deliver: typeof import('../../functions/deliver.ts').handler;
};

let prometheus: RemoteWriteReceiver;
let victoria: RemoteWriteReceiver;
let sqs: LocalSqs;
let handlers: Handlers;
let env: Record<string, string>;

before(async () => {
  [prometheus, victoria, sqs] = await Promise.all([startPrometheus(), startVictoriaMetrics(), startSqs()]);
  env = {
    QUEUE_URL: sqs.queueUrl,
    DLQ_URL: sqs.dlqUrl,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_REGION: sqs.region,
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    REMOTE_WRITE_URL: prometheus.remoteWriteUrl,
    STATIC_LABELS: 'relay=e2e',
  };
  Object.assign(process.env, env);
  // The handlers read the environment on their first invocation, so they are imported after it is set.
  const [ingest, deliver] = await Promise.all([import('../../functions/ingest.ts'), import('../../functions/deliver.ts')]);
  handlers = { ingest: ingest.handler, deliver: deliver.handler };
});

after(async () => {
  await Promise.all([prometheus?.stop(), victoria?.stop(), sqs?.stop()]);
});

/** Ingest → queue → deliver to Prometheus (the handler) and to VictoriaMetrics (the same runtime, its own URL). */
async function push(event: Parameters<Handlers['ingest']>[0]): Promise<{ reply: { statusCode: number; body: string }; messages: Message[] }> {
  const reply = (await handlers.ingest(event)) as { statusCode: number; body: string };
  assert.equal(reply.statusCode, 200, reply.body);
  const messages = await receiveAll(sqs.client, sqs.queueUrl);
  assert.ok(messages.length > 0, 'ingest enqueued nothing');
  const event2 = sqsEventOf(messages, sqs.queueArn);
  const result = await handlers.deliver(event2);
  assert.deepEqual(result.batchItemFailures, []);
  const vm = createDeliverRuntime({ ...env, REMOTE_WRITE_URL: victoria.remoteWriteUrl });
  assert.deepEqual(await vm.deliver(event2.Records.map((r) => ({ messageId: r.messageId, body: r.body }))), []);
  return { reply, messages };
}

async function expectSeries(job: string, expected: Record<string, number>): Promise<void> {
  for (const receiver of [prometheus, victoria]) {
    for (const [selector, value] of Object.entries(expected)) {
      const promql = selector.replace('}', `,job="${job}",relay="e2e"}`);
      const result = await waitForQuery(receiver.url, promql, (r) => r.length === 1, { timeoutMs: 15_000 });
      assert.equal(result[0]!.value, value, `${promql} on ${receiver.url}`);
    }
  }
}

const WORDCOUNT_NS = 'org.apache.beam.examples.WordCount$ExtractWordsFn';

describe('Beam MetricsHttpSink → ingest → SQS → deliver → Prometheus and VictoriaMetrics', () => {
  it('writes every series of a body with committed values (counters, distribution, gauge, string set)', async () => {
    const { reply } = await push(httpApiV2Event('/metrics/job/wordcount/env/e2e', fixture('wordcount-committed.json')));
    const summary = JSON.parse(reply.body);
    assert.equal(summary.format, 'beam-java');
    assert.equal(summary.series, 9);
    await expectSeries('wordcount', {
      [`beam_emptyLines_total{namespace="${WORDCOUNT_NS}",step="ExtractWords",env="e2e"}`]: 1198,
      [`beam_wordsProcessed_total{step="WordCount.CountWords/ParDo(ExtractWords)"}`]: 58190,
      [`beam_lineLenDistro_sum{step="ExtractWords"}`]: 405720,
      [`beam_lineLenDistro_count{step="ExtractWords"}`]: 9800,
      [`beam_lineLenDistro_min{step="ExtractWords"}`]: 1,
      [`beam_lineLenDistro_max{step="ExtractWords"}`]: 212,
      [`beam_activeWorkers{namespace="pipeline",step="WriteCounts/WriteFiles"}`]: 36,
      [`beam_inputFiles_info{value="gs://bucket/in/a.txt",step="ReadLines"}`]: 1,
      [`beam_inputFiles_size{step="ReadLines"}`]: 1,
    });
    const notCommitted = await queryInstant(prometheus.url, 'beam_inputFiles_info{value="gs://bucket/in/b.txt"}');
    assert.deepEqual(notCommitted, [], 'only the committed string set members are exported');
  });

  it('uses attempted values where the runner has no committed ones, from a gzip body sent base64-encoded', async () => {
    const body = gzipSync(fixture('flink-attempted-only.json'));
    await push(httpApiV2Event('/metrics/job/flink-ingest', body, { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }));
    await expectSeries('flink-ingest', {
      [`beam_records_out_total{namespace="ingest",step="Read from Kafka/KafkaIO.Read/ReadFromKafka"}`]: 731,
      [`beam_parse_errors_total{step="Parse/ParMultiDo(ParseJson)"}`]: 12,
      [`beam_payloadBytes_sum{step="Parse/ParMultiDo(ParseJson)"}`]: 161551,
      [`beam_payloadBytes_count{step="Parse/ParMultiDo(ParseJson)"}`]: 731,
      [`beam_payloadBytes_min{step="Parse/ParMultiDo(ParseJson)"}`]: 18,
      [`beam_payloadBytes_max{step="Parse/ParMultiDo(ParseJson)"}`]: 1503,
    });
  });

  it('reads the older three-kind body through a REST API (v1) event', async () => {
    await push(restApiV1Event('/metrics/job/legacy/env@base64/' + Buffer.from('a/b').toString('base64url'), fixture('legacy-three-kinds.json')));
    await expectSeries('legacy', { [`beam_filesWritten_total{namespace="output",env="a/b"}`]: 5 });
  });

  it('leaves Prometheus unchanged and raises no error when the same SQS message is delivered twice', async () => {
    const { messages } = await push(httpApiV2Event('/metrics/job/redelivered', fixture('legacy-three-kinds.json')));
    const promql = 'count_over_time(beam_filesWritten_total{job="redelivered"}[1h])';
    const before = await waitForQuery(prometheus.url, promql, (r) => r.length === 1, { timeoutMs: 10_000 });
    const again = await handlers.deliver(sqsEventOf(messages, sqs.queueArn));
    assert.deepEqual(again.batchItemFailures, []);
    const afterwards = await queryInstant(prometheus.url, promql);
    assert.deepEqual(afterwards.map((r) => r.value), before.map((r) => r.value));
    assert.equal(afterwards[0]!.value, 1, 'one sample, not two');
  });
});
