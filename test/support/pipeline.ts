/**
 * The product wired on real parts for a test file: a real Prometheus (and optionally VictoriaMetrics), fauxqs, and
 * the real handlers, imported after their environment is set (they read it once per process, and node's test
 * runner gives each test file a process of its own).
 */
import assert from 'node:assert/strict';
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { startPrometheus, startVictoriaMetrics, waitForQuery, type RemoteWriteReceiver } from '../../dev/receivers.ts';
import { DUMMY_CREDENTIALS, receiveAll, startSqs, type LocalSqs } from '../../dev/sqs.ts';
import { createDeliverRuntime } from '../../lib/deliver/runtime.ts';
import { sqsEventOf } from './events.ts';

type IngestHandler = typeof import('../../functions/ingest.ts').handler;
type DeliverHandler = typeof import('../../functions/deliver.ts').handler;

export interface Pipeline {
  prometheus: RemoteWriteReceiver;
  victoria?: RemoteWriteReceiver;
  sqs: LocalSqs;
  env: Record<string, string>;
  ingest: IngestHandler;
  deliver: DeliverHandler;
  /** Ingest one event (expecting success), then deliver what it enqueued to every receiver. */
  push(event: Parameters<IngestHandler>[0]): Promise<{ reply: unknown; messages: Message[]; sqsEvent: SQSEvent }>;
  /** Waits until each `selector → value` is what every receiver answers, with `extra` labels added to the selector. */
  expectSeries(expected: Record<string, number>, extra?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startPipeline(options: { victoria?: boolean; env?: Record<string, string> } = {}): Promise<Pipeline> {
  const [prometheus, victoria, sqs] = await Promise.all([
    startPrometheus(),
    options.victoria ? startVictoriaMetrics() : Promise.resolve(undefined),
    startSqs(),
  ]);
  const env: Record<string, string> = {
    QUEUE_URL: sqs.queueUrl,
    DLQ_URL: sqs.dlqUrl,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_REGION: sqs.region,
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    REMOTE_WRITE_URL: prometheus.remoteWriteUrl,
    ...options.env,
  };
  Object.assign(process.env, env);
  const [{ handler: ingest }, { handler: deliver }] = await Promise.all([import('../../functions/ingest.ts'), import('../../functions/deliver.ts')]);
  const vm = victoria ? createDeliverRuntime({ ...env, REMOTE_WRITE_URL: victoria.remoteWriteUrl }) : undefined;
  const receivers = victoria ? [prometheus, victoria] : [prometheus];

  return {
    prometheus,
    ...(victoria ? { victoria } : {}),
    sqs,
    env,
    ingest,
    deliver,
    async push(event) {
      const reply = await ingest(event);
      const status = (reply as { statusCode?: number }).statusCode;
      if (status !== undefined) assert.equal(status, 200, (reply as { body?: string }).body);
      else assert.equal((reply as { status?: string }).status, 'accepted', JSON.stringify(reply));
      const messages = await receiveAll(sqs.client, sqs.queueUrl);
      assert.ok(messages.length > 0, 'ingest enqueued nothing');
      const sqsEvent = sqsEventOf(messages, sqs.queueArn);
      assert.deepEqual((await deliver(sqsEvent)).batchItemFailures, []);
      if (vm) assert.deepEqual(await vm.deliver(sqsEvent.Records.map((r) => ({ messageId: r.messageId, body: r.body }))), []);
      return { reply, messages, sqsEvent };
    },
    async expectSeries(expected, extra = '') {
      for (const receiver of receivers) {
        for (const [selector, value] of Object.entries(expected)) {
          const promql: string = extra ? selector.replace(/}$/, `${selector.endsWith('{}') ? '' : ','}${extra}}`) : selector;
          const result = await waitForQuery(receiver.url, promql, (r) => r.length === 1, { timeoutMs: 15_000 });
          assert.equal(result[0]!.value, value, `${promql} on ${receiver.url}`);
        }
      }
    },
    async stop() {
      await Promise.all([prometheus.stop(), victoria?.stop(), sqs.stop()]);
    },
  };
}
