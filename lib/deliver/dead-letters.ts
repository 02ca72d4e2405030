/**
 * What goes to the DLQ, and with which attributes. A DLQ body is itself a valid envelope (or, for a malformed
 * message, the original body untouched), so `npm run redrive` can move it back to the queue once the cause is fixed.
 * Rejected samples keep their timestamps explicitly, and the envelope keeps its grouping key, so a redriven message
 * writes exactly what was refused, to the same Pushgateway group.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { buildEnvelopes, DEFAULT_MAX_ENVELOPE_BYTES } from '../envelope/envelope.ts';
import type { MetricFamily, Point } from '../model/series.ts';
import { familyOf } from '../model/families.ts';
import type { QueueMessage } from '../queue/sqs.ts';
import type { Outcome } from '../transport/outcome.ts';
import type { DecodedRecord } from './records.ts';
import type { Rejection } from './sink.ts';

export interface DeadLetterReason {
  /** `malformed-envelope`, or the outcome's kind and reason (`permanent:http-400`). */
  reason: string;
  status?: number;
  destination: string;
  /** The first line of the receiver's answer or of the parse error. */
  error: string;
  sourceMessageId: string;
}

function text(value: string): MessageAttributeValue {
  // SQS refuses empty attribute values and caps the whole message; keep each attribute short.
  return { DataType: 'String', StringValue: value === '' ? '-' : value.slice(0, 1024) };
}

export function deadLetterAttributes(r: DeadLetterReason): Record<string, MessageAttributeValue> {
  const attrs: Record<string, MessageAttributeValue> = {
    reason: text(r.reason),
    destination: text(r.destination),
    error: text(r.error),
    sourceMessageId: text(r.sourceMessageId),
  };
  if (r.status !== undefined) attrs.status = { DataType: 'Number', StringValue: String(r.status) };
  return attrs;
}

export function malformedDeadLetter(messageId: string, body: string, error: string): QueueMessage {
  return {
    body,
    attributes: deadLetterAttributes({ reason: 'malformed-envelope', destination: 'none', error, sourceMessageId: messageId }),
  };
}

/**
 * Turns a sink's rejections into DLQ messages, one set per source record (only for records in `keep`: a record
 * that will be redelivered anyway is rejected again on its last pass), as envelopes of the rejected points.
 */
export function rejectionDeadLetters(
  rejections: readonly Rejection[],
  records: readonly DecodedRecord[],
  families: ReadonlyMap<string, MetricFamily>,
  destination: string,
  keep: (recordIndex: number) => boolean,
): Map<number, QueueMessage[]> {
  const byIndex = new Map(records.map((r) => [r.index, r]));
  const out = new Map<number, QueueMessage[]>();
  for (const { series, outcome } of rejections) {
    const points = new Map<number, Point[]>();
    for (const s of series) {
      let name = '';
      const labels: Record<string, string> = {};
      for (const l of s.labels) {
        if (l.name === '__name__') name = l.value;
        else labels[l.name] = l.value;
      }
      const { values, timestampsMs, origins } = s.columns;
      for (let r = s.start; r < s.start + s.count; r++) {
        const origin = origins[r]!;
        if (!keep(origin)) continue;
        let list = points.get(origin);
        if (!list) points.set(origin, (list = []));
        list.push({ name, labels, value: values[r]!, timestampMs: timestampsMs[r]! });
      }
    }
    for (const [origin, list] of points) {
      const record = byIndex.get(origin)!;
      const used = new Map<string, MetricFamily>();
      for (const p of list) {
        const f = familyOf(p.name, families);
        if (f) used.set(f.name, f);
      }
      const bodies = buildEnvelopes(
        { id: record.envelope.id, source: record.envelope.source, receivedAt: record.envelope.receivedAt, group: record.envelope.group, labels: {} },
        [...used.values()],
        list,
        DEFAULT_MAX_ENVELOPE_BYTES - 2048,
      );
      const attributes = deadLetterAttributes(reasonOf(outcome, destination, record.messageId));
      const messages = out.get(origin) ?? [];
      for (const body of bodies) messages.push({ body, attributes });
      out.set(origin, messages);
    }
  }
  return out;
}

export function reasonOf(outcome: Outcome, destination: string, sourceMessageId: string): DeadLetterReason {
  return {
    reason: `${outcome.kind}:${outcome.reason}`,
    ...(outcome.status !== undefined ? { status: outcome.status } : {}),
    destination,
    error: outcome.detail,
    sourceMessageId,
  };
}
