/**
 * Runs an SQS-triggered handler the way Lambda's SQS event source mapping does, with `ReportBatchItemFailures`
 * on: long-poll, hand the batch over as an `SQSEvent`, delete what succeeded, leave the rest to come back after
 * the visibility timeout (and to the DLQ after `maxReceiveCount`, by the queue's RedrivePolicy).
 *
 * Which responses count as what (Lambda developer guide, "Handling errors for an SQS event source in Lambda",
 * partial batch responses): a throw or a timeout fails the whole batch; `null`, `{}`, and an empty or null
 * `batchItemFailures` succeed it; an `itemIdentifier` that is empty, null, missing or not a message of the batch
 * fails the whole batch. One batch at a time (Lambda runs several pollers; ordering tests do not need that).
 */

import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import { pollUntil, withDeadline } from './deadline.ts';
import { invocationContext } from './lambda-context.ts';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void | null | undefined>;

export interface PollerOptions {
  client: SQSClient;
  queueUrl: string;
  handler: SqsHandler;
  /** Messages per batch, 1–10 (default 10). */
  batchSize?: number;
  /** Long-poll wait (default 1 s; `stop()` cuts a wait short). */
  waitTimeSeconds?: number;
  /** Overrides the queue's VisibilityTimeout for received messages. */
  visibilityTimeoutSeconds?: number;
  /** The function timeout: the context counts down from it, and a handler still running then fails its batch. */
  functionTimeoutMs?: number;
  region?: string;
  /** `eventSourceARN` of the records (default: derived from the queue URL). */
  queueArn?: string;
  functionName?: string;
  /** Told of invocation failures and SQS errors (default: nothing; they are counted in `stats`). */
  onError?: (error: Error) => void;
}

export interface PollerStats {
  /** Handler invocations. */
  batches: number;
  received: number;
  deleted: number;
  /** Records left on the queue for a retry (reported failures, or every record of a failed invocation). */
  failed: number;
  /** Invocations that threw, timed out or answered with an invalid batch response. */
  invocationErrors: number;
}

export interface Poller {
  readonly stats: Readonly<PollerStats>;
  /** Resolves once no batch is being handled and the queue holds no message, visible, in flight or delayed. */
  idle(options: { timeoutMs: number }): Promise<void>;
  /** Stops polling; resolves after the batch being handled (if any) is finished. */
  stop(): Promise<void>;
}

/** A handler's outcome could not be read as a batch response, so Lambda fails the whole batch. */
export class InvalidBatchResponseError extends Error {
  override name = 'InvalidBatchResponseError';
  readonly response: unknown;
  constructor(reason: string, response: unknown) {
    super(`invalid batch response (${reason}): ${JSON.stringify(response)?.slice(0, 300)}`);
    this.response = response;
  }
}

/** Starts polling `queueUrl` and invoking `handler` with each batch. */
export function startPoller(options: PollerOptions): Poller {
  const {
    client,
    queueUrl,
    handler,
    batchSize = 10,
    waitTimeSeconds = 1,
    visibilityTimeoutSeconds,
    functionTimeoutMs = 30_000,
    region = 'us-east-1',
    functionName = 'deliver',
    onError = () => undefined,
  } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) throw new RangeError(`batchSize must be 1–10, got ${batchSize}`);
  const queueArn = options.queueArn ?? arnOfQueueUrl(queueUrl, region);
  const stats: PollerStats = { batches: 0, received: 0, deleted: 0, failed: 0, invocationErrors: 0 };
  const stopping = new AbortController();
  let handling = false;

  const handleBatch = async (messages: Message[]) => {
    const records = messages.map((m) => toRecord(m, queueArn, region));
    const context = invocationContext({ functionName, timeoutMs: functionTimeoutMs, region });
    stats.batches++;
    let failedIds: Set<string>;
    try {
      const invocation = Promise.resolve().then(() => handler({ Records: records }, context));
      const response = await withDeadline(`${functionName} to return (its function timeout)`, invocation, functionTimeoutMs);
      failedIds = failuresOf(response, records);
    } catch (error) {
      stats.invocationErrors++;
      onError(error instanceof Error ? error : new Error(String(error)));
      failedIds = new Set(records.map((r) => r.messageId));
    }
    stats.failed += failedIds.size;
    const done = records.filter((r) => !failedIds.has(r.messageId));
    if (done.length === 0) return;
    const result = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
    stats.deleted += result.Successful?.length ?? 0;
    for (const failure of result.Failed ?? []) onError(new Error(`DeleteMessageBatch failed for entry ${failure.Id}: ${failure.Code} ${failure.Message ?? ''}`));
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      let messages: Message[];
      try {
        const answer = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: waitTimeSeconds,
            VisibilityTimeout: visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: stopping.signal },
        );
        messages = answer.Messages ?? [];
      } catch (error) {
        if (stopping.signal.aborted) break;
        onError(error instanceof Error ? error : new Error(String(error)));
        await sleep(250);
        continue;
      }
      if (messages.length === 0) continue;
      stats.received += messages.length;
      handling = true;
      try {
        await handleBatch(messages);
      } catch (error) {
        onError(error instanceof Error ? error : new Error(String(error)));
      } finally {
        handling = false;
      }
    }
  })();

  return {
    stats,
    idle: ({ timeoutMs }) =>
      pollUntil(
        `${queueUrl} to be empty and its poller idle`,
        async () => {
          if (handling) return { done: false, seen: 'a batch is being handled' };
          const { Attributes = {} } = await client.send(
            new GetQueueAttributesCommand({
              QueueUrl: queueUrl,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
            }),
          );
          const left = Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
          return left === 0 && !handling ? { done: true, value: undefined } : { done: false, seen: Attributes };
        },
        { timeoutMs, intervalMs: 100 },
      ),
    stop: async () => {
      stopping.abort();
      await loop;
    },
  };
}

/** The message IDs to leave on the queue, from a handler's response (see the module comment for the rules). */
export function failuresOf(response: unknown, records: readonly Pick<SQSRecord, 'messageId'>[]): Set<string> {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) throw new InvalidBatchResponseError('not an object', response);
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) throw new InvalidBatchResponseError('batchItemFailures is not a list', response);
  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '') throw new InvalidBatchResponseError('an itemIdentifier is empty, null or missing', response);
    if (!ids.has(id)) throw new InvalidBatchResponseError(`itemIdentifier ${id} is not a message of this batch`, response);
    failed.add(id);
  }
  return failed;
}

/** A received message as Lambda hands it to the function (`SQSRecord`). */
export function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: { ...message.Attributes } as unknown as SQSRecordAttributes,
    messageAttributes: toLambdaAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
  if (message.MD5OfMessageAttributes) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

/** SDK attribute values (`StringValue`, bytes) in Lambda's event shape (`stringValue`, base64 `binaryValue`). */
function toLambdaAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    out[name] = {
      ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
      ...(value.BinaryValue !== undefined && { binaryValue: base64(value.BinaryValue) }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map(base64),
      dataType: (value.DataType ?? 'String') as SQSMessageAttributes[string]['dataType'],
    };
  }
  return out;
}

/** `arn:aws:sqs:<region>:<account>:<name>` from `https://host/<account>/<name>`. */
export function arnOfQueueUrl(queueUrl: string, region: string): string {
  const [account = '000000000000', name = ''] = new URL(queueUrl).pathname.split('/').filter(Boolean);
  return `arn:aws:sqs:${region}:${account}:${name}`;
}
