/**
 * Moving dead-lettered messages back to the queue once their cause is fixed (`npm run redrive`).
 *
 * A DLQ body is a valid envelope (lib/deliver/dead-letters.ts), so it goes back unchanged; the attributes the
 * deliver function added to explain it (reason, status, …) are dropped, so a message that fails again is
 * dead-lettered with its new reason rather than two. A message is deleted from the DLQ only after SQS accepted
 * its copy: a crash in between duplicates a message, never loses one — and a duplicate envelope writes identical
 * samples, which receivers treat as a no-op (DESIGN §3).
 *
 * SQS' own StartMessageMoveTask would keep those attributes and cannot show what it is about to move; hence this.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { planBatches, type QueueMessage } from './sqs.ts';

/** The attributes lib/deliver/dead-letters.ts puts on a DLQ message; a unit test keeps the two in step. */
export const DEAD_LETTER_ATTRIBUTES: readonly string[] = Object.freeze(['reason', 'status', 'destination', 'error', 'sourceMessageId']);

/** The `reason` under which a message without one is counted: SQS' redrive policy moved it, not the deliver code. */
export const NO_REASON = 'none';

export interface RedriveOptions {
  dlqUrl: string;
  queueUrl: string;
  /** Count by reason and change nothing. */
  dryRun?: boolean;
  /** Messages to take at most (default: all). */
  max?: number;
  /**
   * How long received messages stay invisible (s): while moving, long enough to send and delete a batch; in a
   * dry run, long enough to count the whole DLQ without meeting a message twice (then they are released).
   */
  visibilityTimeoutSeconds?: number;
  /**
   * Receives are short polls (WaitTimeSeconds 0), which on SQS sample only some of its servers and may come back
   * empty while messages remain: stop after this many empty receives in a row (default 3).
   */
  emptyReceives?: number;
}

export interface RedriveResult {
  dryRun: boolean;
  /** Distinct messages received from the DLQ. */
  received: number;
  /** Sent to the queue and deleted from the DLQ. */
  moved: number;
  /** Received messages by their `reason` attribute. */
  byReason: Record<string, number>;
  /** Not accepted by the queue: left on the DLQ, visible again after the visibility timeout. */
  sendFailed: Array<{ messageId: string; code: string; message: string }>;
  /** Sent, but the DLQ did not delete them: they will be moved again by a later run (a harmless duplicate). */
  deleteFailed: Array<{ messageId: string; code: string; message: string }>;
}

/** The message as it goes back: the body untouched, the deliver function's DLQ attributes dropped. */
export function requeuedMessage(m: Message): QueueMessage {
  const kept: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(m.MessageAttributes ?? {})) {
    if (!DEAD_LETTER_ATTRIBUTES.includes(name)) kept[name] = value;
  }
  const groupId = m.Attributes?.MessageGroupId;
  return {
    body: m.Body ?? '',
    ...(Object.keys(kept).length > 0 ? { attributes: kept } : {}),
    // FIFO queues need the group; the DLQ's message id serves as the deduplication id of its one copy.
    ...(groupId ? { groupId, deduplicationId: m.MessageId ?? '' } : {}),
  };
}

export function reasonOf(m: Message): string {
  return m.MessageAttributes?.reason?.StringValue ?? NO_REASON;
}

/** Moves (or, with `dryRun`, counts) the DLQ's messages. Throws only when SQS itself cannot be reached. */
export async function redrive(client: SQSClient, options: RedriveOptions): Promise<RedriveResult> {
  const dryRun = options.dryRun ?? false;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const visibility = options.visibilityTimeoutSeconds ?? (dryRun ? 60 : 30);
  const result: RedriveResult = { dryRun, received: 0, moved: 0, byReason: {}, sendFailed: [], deleteFailed: [] };
  const seen = new Set<string>();
  const held: Message[] = [];
  let empty = 0;

  try {
    while (result.received < max && empty < (options.emptyReceives ?? 3)) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: options.dlqUrl,
          MaxNumberOfMessages: Math.min(10, max - result.received),
          WaitTimeSeconds: 0,
          VisibilityTimeout: visibility,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['MessageGroupId'],
        }),
      );
      const fresh = Messages.filter((m) => !seen.has(m.MessageId ?? ''));
      empty = fresh.length === 0 ? empty + 1 : 0;
      for (const m of fresh) {
        seen.add(m.MessageId ?? '');
        result.received++;
        const reason = reasonOf(m);
        result.byReason[reason] = (result.byReason[reason] ?? 0) + 1;
      }
      if (dryRun) held.push(...Messages);
      else if (fresh.length > 0) await move(client, options, fresh, result);
    }
  } finally {
    // A dry run changes nothing: what it made invisible is visible again at once.
    if (held.length > 0) await release(client, options.dlqUrl, held);
  }
  return result;
}

async function move(client: SQSClient, options: RedriveOptions, messages: Message[], result: RedriveResult): Promise<void> {
  const copies = messages.map((m) => ({ message: m, copy: requeuedMessage(m) }));
  const byCopy = new Map(copies.map((c) => [c.copy, c.message]));
  const sent: Message[] = [];
  // Ten DLQ messages may together exceed SQS' batch payload limit, so plan the sends as ingest does.
  for (const batch of planBatches(copies.map((c) => c.copy), 256 * 1024)) {
    const out = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: batch.map((q, i) => ({
          Id: String(i),
          MessageBody: q.body,
          ...(q.attributes ? { MessageAttributes: q.attributes } : {}),
          ...(q.groupId ? { MessageGroupId: q.groupId, MessageDeduplicationId: q.deduplicationId } : {}),
        })),
      }),
    );
    const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
    batch.forEach((q, i) => {
      const original = byCopy.get(q)!;
      const f = failed.get(String(i));
      if (f) result.sendFailed.push({ messageId: original.MessageId ?? '', code: f.Code ?? 'Unknown', message: f.Message ?? '' });
      else sent.push(original);
    });
  }
  if (sent.length === 0) return;
  const out = await client.send(
    new DeleteMessageBatchCommand({
      QueueUrl: options.dlqUrl,
      Entries: sent.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
    }),
  );
  const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
  sent.forEach((m, i) => {
    const f = failed.get(String(i));
    if (f) result.deleteFailed.push({ messageId: m.MessageId ?? '', code: f.Code ?? 'Unknown', message: f.Message ?? '' });
    else result.moved++;
  });
}

async function release(client: SQSClient, dlqUrl: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: dlqUrl,
        Entries: messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
}

/** What the CLI prints: one line per reason, then the total. */
export function formatRedrive(r: RedriveResult): string {
  const lines = Object.entries(r.byReason)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([reason, n]) => `${String(n).padStart(8)}  ${reason}`);
  if (r.dryRun) lines.push(`${r.received} message(s) on the DLQ by reason; dry run, nothing changed`);
  else lines.push(`moved ${r.moved} of ${r.received} message(s) to the queue`);
  for (const f of r.sendFailed) lines.push(`not moved (left on the DLQ): ${f.messageId} ${f.code}: ${f.message}`);
  for (const f of r.deleteFailed) lines.push(`moved but not deleted from the DLQ (a later run moves it again): ${f.messageId} ${f.code}: ${f.message}`);
  return lines.join('\n');
}
