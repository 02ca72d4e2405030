/**
 * The local runtime itself, on the real parts: the receivers accept what we will send them and answer PromQL,
 * fauxqs and the poller retry and dead-letter as Lambda + SQS do, and the gateway builds HTTP API v2 events.
 */

import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { gzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';
import { compressWriteRequestV1, REMOTE_WRITE_V1_HEADERS } from '../../lib/encoders/remote-write-v1.ts';
import type { WriteRequest } from '../../lib/model/series.ts';
import { startGateway, type HttpHandler } from '../../dev/http-gateway.ts';
import {
  INSTALL_COMMAND,
  readPushgatewayGroups,
  readPushgatewayMetrics,
  ReceiverMissingError,
  startPrometheus,
  startPushgateway,
  startVictoriaMetrics,
  waitForQuery,
} from '../../dev/receivers.ts';
import { failuresOf, startPoller, type SqsHandler } from '../../dev/sqs-poller.ts';
import { receiveAll, startSqs } from '../../dev/sqs.ts';
import { started } from '../support/lifecycle.ts';

function probeWriteRequest(name: string, value: number): WriteRequest {
  return {
    timeseries: [
      {
        labels: [
          { name: '__name__', value: name },
          { name: 'job', value: 'harness' },
        ],
        samples: [{ value, timestampMs: Date.now() }],
      },
    ],
    metadata: [{ name, type: 'gauge', help: 'harness probe' }],
  };
}

async function remoteWrite(url: string, request: WriteRequest): Promise<Response> {
  return fetch(url, { method: 'POST', headers: REMOTE_WRITE_V1_HEADERS, body: compressWriteRequestV1(request) });
}

describe('receivers', () => {
  const prometheus = started(() => startPrometheus());
  const victoriaMetrics = started(() => startVictoriaMetrics());
  const pushgateway = started(() => startPushgateway());

  test('Prometheus stores a remote-write 1.0 body and answers PromQL for it', async () => {
    const response = await remoteWrite(prometheus().remoteWriteUrl, probeWriteRequest('harness_probe_prometheus', 42));

    assert.equal(response.status, 204, await response.text());
    const result = await waitForQuery(prometheus().url, 'harness_probe_prometheus', (r) => r.length === 1, { timeoutMs: 5_000 });
    assert.deepEqual(result, [{ metric: { __name__: 'harness_probe_prometheus', job: 'harness' }, value: 42 }]);
  });

  test('VictoriaMetrics stores a remote-write 1.0 body and answers PromQL for it once flushed', async () => {
    const response = await remoteWrite(victoriaMetrics().remoteWriteUrl, probeWriteRequest('harness_probe_vm', 7.5));

    assert.equal(response.status, 204, await response.text());
    const result = await waitForQuery(victoriaMetrics().url, 'harness_probe_vm', (r) => r.length === 1, { timeoutMs: 15_000 });
    assert.deepEqual(result, [{ metric: { __name__: 'harness_probe_vm', job: 'harness' }, value: 7.5 }]);
  });

  test('Pushgateway keeps a PUT group under its grouping labels', async () => {
    const body = '# TYPE harness_pushed counter\nharness_pushed{step="a"} 3\n';

    const response = await fetch(`${pushgateway().url}/metrics/job/harness/env/test`, { method: 'PUT', body });

    assert.equal(response.status, 200);
    const groups = await readPushgatewayGroups(pushgateway().url);
    assert.ok(groups.some((g) => isDeepStrictEqual(g.labels, { job: 'harness', env: 'test' })), JSON.stringify(groups.map((g) => g.labels)));
    const text = await readPushgatewayMetrics(pushgateway().url);
    assert.match(text, /^harness_pushed\{env="test",instance="",job="harness",step="a"\} 3$/m);
  });

  test('a stopped receiver no longer answers', async () => {
    const extra = await startPushgateway();

    await extra.stop();

    await assert.rejects(fetch(`${extra.url}/-/ready`));
  });

  test('a missing receiver binary fails with the apt-get command that installs it', async (t) => {
    const path = process.env.PATH;
    t.after(() => {
      process.env.PATH = path;
    });
    process.env.PATH = '/nonexistent';

    await assert.rejects(startPrometheus(), (error: unknown) => {
      assert.ok(error instanceof ReceiverMissingError);
      assert.equal(error.binary, 'prometheus');
      assert.ok(error.message.includes(INSTALL_COMMAND), error.message);
      return true;
    });
  });
});

describe('SQS and the poller', () => {
  test('an unreported message is deleted; a reported one comes back and lands in the DLQ after maxReceiveCount', async (t) => {
    const sqs = await startSqs({ maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
    const deliveries: string[] = [];
    const handler: SqsHandler = async (event) => {
      deliveries.push(...event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
      return { batchItemFailures: event.Records.filter((r) => r.body === 'fails').map((r) => ({ itemIdentifier: r.messageId })) };
    };
    const poller = startPoller({ client: sqs.client, queueUrl: sqs.queueUrl, handler, functionTimeoutMs: 2_000 });
    t.after(async () => {
      await poller.stop();
      await sqs.stop();
    });

    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.queueUrl,
        Entries: [
          { Id: 'ok', MessageBody: 'succeeds' },
          { Id: 'bad', MessageBody: 'fails' },
        ],
      }),
    );
    await poller.idle({ timeoutMs: 10_000 });

    assert.deepEqual(deliveries.sort(), ['fails#1', 'fails#2', 'succeeds#1']);
    assert.deepEqual((await receiveAll(sqs.client, sqs.dlqUrl)).map((m) => m.Body), ['fails']);
    assert.deepEqual(poller.stats, { batches: 2, received: 3, deleted: 1, failed: 2, invocationErrors: 0 });
  });

  test('a handler that throws leaves its whole batch on the queue for a retry', async (t) => {
    const sqs = await startSqs({ maxReceiveCount: 5, visibilityTimeoutSeconds: 1 });
    let invocations = 0;
    const errors: Error[] = [];
    const handler: SqsHandler = async () => {
      invocations++;
      if (invocations === 1) throw new Error('first invocation fails');
    };
    const poller = startPoller({ client: sqs.client, queueUrl: sqs.queueUrl, handler, onError: (e) => errors.push(e) });
    t.after(async () => {
      await poller.stop();
      await sqs.stop();
    });

    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.queueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'a' },
          { Id: 'b', MessageBody: 'b' },
        ],
      }),
    );
    await poller.idle({ timeoutMs: 10_000 });

    assert.equal(poller.stats.received, 4);
    assert.equal(poller.stats.deleted, 2);
    assert.equal(poller.stats.invocationErrors, 1);
    assert.deepEqual(errors.map((e) => e.message), ['first invocation fails']);
    assert.deepEqual(await receiveAll(sqs.client, sqs.dlqUrl), []);
  });

  test('the handler gets Lambda-shaped records and a context counting down from the function timeout', async (t) => {
    const sqs = await startSqs();
    let seen: { event: SQSEvent; remainingMs: number } | undefined;
    const handler: SqsHandler = async (event: SQSEvent, context: Context) => {
      seen = { event, remainingMs: context.getRemainingTimeInMillis() };
    };
    const poller = startPoller({ client: sqs.client, queueUrl: sqs.queueUrl, handler, functionTimeoutMs: 5_000, region: 'us-east-1' });
    t.after(async () => {
      await poller.stop();
      await sqs.stop();
    });

    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: sqs.queueUrl,
        MessageBody: '{"v":1}',
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: 'why' },
          raw: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
        },
      }),
    );
    await poller.idle({ timeoutMs: 10_000 });

    assert.ok(seen);
    const [record] = seen.event.Records;
    assert.ok(record);
    assert.equal(record.body, '{"v":1}');
    assert.equal(record.eventSource, 'aws:sqs');
    assert.equal(record.eventSourceARN, sqs.queueArn);
    assert.equal(record.awsRegion, 'us-east-1');
    assert.equal(record.attributes.ApproximateReceiveCount, '1');
    assert.match(record.attributes.SentTimestamp, /^\d{13}$/);
    assert.match(record.md5OfBody, /^[0-9a-f]{32}$/);
    assert.deepEqual(record.messageAttributes, {
      reason: { stringValue: 'why', stringListValues: [], binaryListValues: [], dataType: 'String' },
      raw: { binaryValue: 'AQID', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
    });
    assert.ok(seen.remainingMs > 4_000 && seen.remainingMs <= 5_000, String(seen.remainingMs));
  });

  test('batch responses are read as Lambda reads them', () => {
    const records = [{ messageId: 'm1' }, { messageId: 'm2' }];

    assert.deepEqual(failuresOf(undefined, records), new Set());
    assert.deepEqual(failuresOf(null, records), new Set());
    assert.deepEqual(failuresOf({}, records), new Set());
    assert.deepEqual(failuresOf({ batchItemFailures: null }, records), new Set());
    assert.deepEqual(failuresOf({ batchItemFailures: [] }, records), new Set());
    assert.deepEqual(failuresOf({ batchItemFailures: [{ itemIdentifier: 'm2' }] }, records), new Set(['m2']));
    for (const invalid of [
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ itemIdentifier: null }] },
      { batchItemFailures: [{ id: 'm1' }] },
      { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] },
      { batchItemFailures: 'm1' },
      'm1',
    ]) {
      assert.throws(() => failuresOf(invalid, records), { name: 'InvalidBatchResponseError' }, JSON.stringify(invalid));
    }
  });
});

describe('HTTP gateway', () => {
  const events: APIGatewayProxyEventV2[] = [];
  const handler: HttpHandler = async (event) => {
    events.push(event);
    if (event.rawPath === '/throws') throw new Error('handler failure');
    if (event.rawPath === '/inferred') return { accepted: 1 };
    if (event.rawPath === '/binary') return { statusCode: 201, cookies: ['a=b'], body: Buffer.from('bytes').toString('base64'), isBase64Encoded: true };
    return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"ok":true}' };
  };
  const gateway = started(() => startGateway({ handler, maxBodyBytes: 1_024, onError: () => undefined }));

  test('a webhook POST becomes an HTTP API v2 event with the decoded path, the proxy parameter and the raw query', async () => {
    events.length = 0;

    const response = await fetch(`${gateway().url}/metrics/job/word%20count/env/local?token=a%20b&x=1&x=2`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: 'c1=v1; c2=v2', 'X-Dup': 'a' },
      body: '{"counters":[]}',
    });

    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{"ok":true}');
    const [event] = events;
    assert.ok(event);
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, 'POST /metrics/job/{proxy+}');
    assert.equal(event.requestContext.routeKey, 'POST /metrics/job/{proxy+}');
    assert.equal(event.rawPath, '/metrics/job/word count/env/local');
    assert.deepEqual(event.pathParameters, { proxy: 'word count/env/local' });
    assert.equal(event.rawQueryString, 'token=a%20b&x=1&x=2');
    assert.deepEqual(event.queryStringParameters, { token: 'a b', x: '1,2' });
    assert.deepEqual(event.cookies, ['c1=v1', 'c2=v2']);
    assert.equal(event.headers['content-type'], 'application/json');
    assert.equal(event.headers['x-dup'], 'a');
    assert.equal(event.headers.cookie, undefined);
    assert.equal(event.requestContext.http.method, 'POST');
    assert.equal(event.requestContext.http.sourceIp, '127.0.0.1');
    assert.match(event.requestContext.time, /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    assert.equal(event.body, '{"counters":[]}');
    assert.equal(event.isBase64Encoded, false);
  });

  test('a gzip-encoded or binary body arrives base64-encoded, and other paths route to $default', async () => {
    events.length = 0;
    const gzipped = gzipSync('{"counters":[]}');

    await fetch(`${gateway().url}/metrics/job/x`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: gzipped,
    });
    await fetch(`${gateway().url}/other`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: new Uint8Array([0, 1]) });

    const [gzipEvent, binaryEvent] = events;
    assert.equal(gzipEvent?.isBase64Encoded, true);
    assert.deepEqual(Buffer.from(gzipEvent?.body ?? '', 'base64'), gzipped);
    assert.equal(binaryEvent?.routeKey, '$default');
    assert.equal(binaryEvent?.pathParameters, undefined);
    assert.equal(binaryEvent?.body, 'AAE=');
  });

  test('a body over the cap gets 413 without reaching the handler', async () => {
    events.length = 0;

    const response = await fetch(`${gateway().url}/metrics/job/x`, { method: 'POST', body: 'x'.repeat(2_000) });

    assert.equal(response.status, 413);
    assert.equal(events.length, 0);
  });

  test('results are answered as HTTP API does: inferred 200 JSON, decoded base64, 500 for a throw', async () => {
    const inferred = await fetch(`${gateway().url}/inferred`);
    const binary = await fetch(`${gateway().url}/binary`);
    const thrown = await fetch(`${gateway().url}/throws`);

    assert.equal(inferred.status, 200);
    assert.equal(inferred.headers.get('content-type'), 'application/json');
    assert.deepEqual(await inferred.json(), { accepted: 1 });
    assert.equal(binary.status, 201);
    assert.equal(binary.headers.get('set-cookie'), 'a=b');
    assert.equal(await binary.text(), 'bytes');
    assert.equal(thrown.status, 500);
    assert.deepEqual(await thrown.json(), { message: 'Internal Server Error' });
  });
});
