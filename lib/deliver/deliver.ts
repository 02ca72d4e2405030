/**
 * The deliver core: an SQS batch in, the messages SQS must redeliver out. No AWS types: the handler adapts.
 *
 * A record is reported failed when any destination failed it retryably or fatally, or when its rejected samples
 * could not be put on the DLQ. Everything else is acknowledged: written, superseded (the receiver holds newer),
 * or dead-lettered with the reason. Redelivery is safe: timestamps were stamped at ingest.
 */
import { parseEnvelope, pointCount } from '../envelope/envelope.ts';
import type { MetricFamily } from '../model/series.ts';
import type { QueueMessage } from '../queue/sqs.ts';
import { malformedDeadLetter, rejectionDeadLetters } from './dead-letters.ts';
import type { DecodedRecord } from './records.ts';
import type { Sink, SinkStats } from './sink.ts';

export interface BatchRecord {
  messageId: string;
  body: string;
}

export interface DeliverDeps {
  sinks: readonly Sink[];
  /** Puts messages on the DLQ; undefined when no DLQ_URL is set (SQS' own redrive policy then catches failures). */
  deadLetter?: (messages: QueueMessage[]) => Promise<void>;
  now: () => number;
}

export interface DeliverSummary {
  messages: number;
  malformed: number;
  samples: number;
  deadLettered: number;
  sinks: Record<string, SinkStats>;
  failedMessageIds: string[];
  failureReasons: Record<string, string>;
  durationMs: number;
}

export interface DeliverResult {
  failedMessageIds: string[];
  summary: DeliverSummary;
}

export async function deliverBatch(batch: readonly BatchRecord[], deps: DeliverDeps, deadlineMs: number): Promise<DeliverResult> {
  const started = deps.now();
  const records: DecodedRecord[] = [];
  const deadLetters: Array<{ index: number; message: QueueMessage }> = [];
  const failed = new Map<number, string>();
  let samples = 0;

  batch.forEach((r, index) => {
    try {
      const envelope = parseEnvelope(r.body);
      records.push({ index, messageId: r.messageId, envelope });
      samples += pointCount(envelope);
    } catch (error) {
      deadLetters.push({ index, message: malformedDeadLetter(r.messageId, r.body, (error as Error).message) });
    }
  });
  const malformed = deadLetters.length;

  const reports = await Promise.all(deps.sinks.map((sink) => sink.deliver(records, deadlineMs)));
  reports.forEach((report, i) => {
    for (const [index, outcome] of report.failed) {
      if (!failed.has(index)) failed.set(index, `${deps.sinks[i]!.name}: ${outcome.kind}:${outcome.reason}`);
    }
  });

  // Only rejected samples need their families (for the dead letter's metadata); most batches have none.
  let families: Map<string, MetricFamily> | undefined;
  reports.forEach((report, i) => {
    if (report.rejected.length === 0) return;
    families ??= familiesOf(records);
    const byRecord = rejectionDeadLetters(report.rejected, records, families, deps.sinks[i]!.name, (index) => !failed.has(index));
    for (const [index, messages] of byRecord) for (const message of messages) deadLetters.push({ index, message });
  });

  let deadLettered = 0;
  if (deadLetters.length > 0) {
    if (deps.deadLetter) {
      try {
        await deps.deadLetter(deadLetters.map((d) => d.message));
        deadLettered = deadLetters.length;
      } catch (error) {
        // Keep the data: SQS redelivers these, and its own redrive policy catches them if this persists.
        for (const d of deadLetters) if (!failed.has(d.index)) failed.set(d.index, `dlq: ${(error as Error).message}`);
      }
    } else {
      for (const d of deadLetters) if (!failed.has(d.index)) failed.set(d.index, 'no DLQ_URL: left to the queue redrive policy');
    }
  }

  const failedIndices = [...failed.keys()].sort((a, b) => a - b);
  const failedMessageIds = failedIndices.map((i) => batch[i]!.messageId);
  const failureReasons: Record<string, string> = {};
  for (const i of failedIndices) failureReasons[batch[i]!.messageId] = failed.get(i)!;
  const sinks: Record<string, SinkStats> = {};
  reports.forEach((r, i) => (sinks[deps.sinks[i]!.name] = r.stats));
  return {
    failedMessageIds,
    summary: {
      messages: batch.length,
      malformed,
      samples,
      deadLettered,
      sinks,
      failedMessageIds,
      failureReasons,
      durationMs: deps.now() - started,
    },
  };
}

function familiesOf(records: readonly DecodedRecord[]): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  for (const r of records) for (const f of r.envelope.families) families.set(f.name, f);
  return families;
}
