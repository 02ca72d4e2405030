/**
 * The FIFO deployment variant on fauxqs: ingest keys messages by grouping key, and dead letters reach a FIFO DLQ
 * (which refuses messages without a group id).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { receiveAll, startSqs, type LocalSqs } from '../../dev/sqs.ts';
import { createDeliverRuntime } from '../../lib/deliver/runtime.ts';
import { createIngestRuntime } from '../../lib/ingest/runtime.ts';
import { httpApiV2Event } from '../support/events.ts';

let sqs: LocalSqs;
let queueUrl: string;
let dlqUrl: string;

before(async () => {
  sqs = await startSqs();
  const fifo = { FifoQueue: 'true' };
  queueUrl = (await sqs.client.send(new CreateQueueCommand({ QueueName: 'relay.fifo', Attributes: fifo }))).QueueUrl!;
  dlqUrl = (await sqs.client.send(new CreateQueueCommand({ QueueName: 'relay-dlq.fifo', Attributes: fifo }))).QueueUrl!;
});
after(async () => sqs?.stop());

describe('FIFO queues', () => {
  it('ingest sends each message with the grouping key as its group id', async () => {
    const ingest = createIngestRuntime({ QUEUE_URL: queueUrl }, { sqs: sqs.client });
    const body = readFileSync(new URL('../fixtures/beam-java/legacy-three-kinds.json', import.meta.url), 'utf8');
    const reply = (await ingest.handle(httpApiV2Event('/metrics/job/orders/env/prod', body), 'req-1')) as { statusCode: number };
    assert.equal(reply.statusCode, 200);
    const out = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));
    assert.equal(out.Messages?.length, 1);
    assert.equal(out.Messages![0]!.Attributes?.MessageGroupId, 'env=prod,job=orders');
  });

  it('deliver dead-letters a malformed message into a FIFO DLQ with its reason', async () => {
    const deliver = createDeliverRuntime({ REMOTE_WRITE_URL: 'http://127.0.0.1:9/api/v1/write', DLQ_URL: dlqUrl }, { sqs: sqs.client });
    const failed = await deliver.deliver([{ messageId: 'm-1', body: 'not an envelope' }], 5_000);
    assert.deepEqual(failed, []);
    const dead = await receiveAll(sqs.client, dlqUrl);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.Body, 'not an envelope');
    assert.equal(dead[0]!.MessageAttributes?.reason?.StringValue, 'malformed-envelope');
  });
});
