/**
 * Sending to SQS: SendMessageBatch in groups of ≤ 10 entries and ≤ the batch payload limit, with the entries SQS
 * reports as failed by its own fault retried, and the rest reported.
 */
import type { MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import { SQS_MAX_MESSAGE_BYTES } from '../envelope/envelope.ts';
import { QueueSendError } from './errors.ts';

export interface QueueMessage {
  body: string;
  attributes?: Record<string, MessageAttributeValue>;
  /** FIFO queues: the ordering key (the grouping key, so one group is delivered in order). */
  groupId?: string;
  /** FIFO queues: SQS drops a second message with this id within 5 minutes. */
  deduplicationId?: string;
}

export interface SendOptions {
  /** Attempts per entry when SQS fails it by its own fault (`SenderFault: false`). */
  maxAttempts: number;
  /** SQS caps the sum of a batch's messages at the single message limit. */
  maxBatchBytes: number;
  /** Batches in flight at once. */
  concurrency: number;
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_SEND_OPTIONS: Readonly<SendOptions> = Object.freeze({
  maxAttempts: 3,
  maxBatchBytes: SQS_MAX_MESSAGE_BYTES,
  concurrency: 4,
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
});

export interface SqsClientOptions {
  region?: string;
  /** `AWS_ENDPOINT_URL_SQS`: a local SQS API (fauxqs), whose queue URLs name hosts that do not resolve. */
  endpoint?: string;
}

type SqsSdk = typeof import('@aws-sdk/client-sqs');
let sdk: Promise<SqsSdk> | undefined;

/**
 * The SDK is imported on first use, not with this module: the deliver function needs it only for dead letters,
 * and loading it is most of a cold start (~40 ms from the bundle's chunks). Ingest starts the load at its cold start
 * (createSqsClient).
 */
function loadSdk(): Promise<SqsSdk> {
  sdk ??= import('@aws-sdk/client-sqs');
  return sdk;
}

export async function createSqsClient(options: SqsClientOptions): Promise<SQSClient> {
  const { SQSClient } = await loadSdk();
  return new SQSClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint, useQueueUrlAsEndpoint: false } : {}),
  });
}

function messageBytes(m: QueueMessage): number {
  let n = Buffer.byteLength(m.body);
  for (const [k, v] of Object.entries(m.attributes ?? {})) {
    n += Buffer.byteLength(k) + Buffer.byteLength(v.DataType ?? '') + Buffer.byteLength(v.StringValue ?? '');
  }
  return n;
}

/** Splits messages into batches of at most 10 entries and `maxBytes` in total. */
export function planBatches(messages: readonly QueueMessage[], maxBytes: number): QueueMessage[][] {
  const batches: QueueMessage[][] = [];
  let current: QueueMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = messageBytes(m);
    if (current.length === 10 || (current.length > 0 && bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

async function sendBatch(
  client: SQSClient,
  queueUrl: string,
  batch: QueueMessage[],
  options: SendOptions,
): Promise<QueueSendError['failed']> {
  let pending = batch.map((m, i) => ({ id: String(i), message: m }));
  let failed: Array<{ id: string; code: string; message: string; senderFault: boolean }> = [];
  const { SendMessageBatchCommand } = await loadSdk();
  for (let attempt = 1; pending.length > 0 && attempt <= options.maxAttempts; attempt++) {
    if (attempt > 1) await options.sleep(100 * 2 ** (attempt - 2) * (0.5 + Math.random()));
    const out = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: pending.map(({ id, message }) => ({
          Id: id,
          MessageBody: message.body,
          ...(message.attributes ? { MessageAttributes: message.attributes } : {}),
          ...(message.groupId ? { MessageGroupId: message.groupId } : {}),
          ...(message.deduplicationId ? { MessageDeduplicationId: message.deduplicationId } : {}),
        })),
      }),
    );
    const failedIds = new Map((out.Failed ?? []).map((f) => [f.Id ?? '', f]));
    failed = [];
    const retry: typeof pending = [];
    for (const entry of pending) {
      const f = failedIds.get(entry.id);
      if (!f) continue;
      const record = { id: entry.id, code: f.Code ?? 'Unknown', message: f.Message ?? '', senderFault: f.SenderFault === true };
      failed.push(record);
      // SenderFault means the entry itself is wrong (too large, bad attribute): sending it again cannot help.
      if (!record.senderFault) retry.push(entry);
    }
    pending = retry;
  }
  return failed;
}

/** Sends every message; throws QueueSendError naming the entries SQS would not take. */
export async function sendMessages(
  client: SQSClient,
  queueUrl: string,
  messages: readonly QueueMessage[],
  options: SendOptions = DEFAULT_SEND_OPTIONS,
): Promise<void> {
  const batches = planBatches(messages, options.maxBatchBytes);
  const failed: Array<QueueSendError['failed'][number]> = [];
  let next = 0;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const index = next++;
      const batch = batches[index]!;
      try {
        for (const f of await sendBatch(client, queueUrl, batch, options)) {
          failed.push({ ...f, id: `${index}:${f.id}` });
        }
      } catch (cause) {
        firstError ??= cause;
        batch.forEach((_, i) => failed.push({ id: `${index}:${i}`, code: (cause as Error).name ?? 'Error', message: (cause as Error).message ?? String(cause), senderFault: false }));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, batches.length) }, worker));
  if (failed.length > 0) throw new QueueSendError(failed, messages.length - failed.length, { cause: firstError });
}
