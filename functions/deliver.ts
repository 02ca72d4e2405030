/**
 * Deliver Lambda: an SQS batch of envelopes → remote-write and/or Pushgateway, reporting partial failures
 * (`functionResponseType: ReportBatchItemFailures`). An adapter: the rules live in lib/deliver.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDeliverRuntime, type DeliverRuntime } from '../lib/deliver/runtime.ts';

let runtime: DeliverRuntime | undefined;

/**
 * Lambda's Node.js runtime starts `node` with `--expose-gc`. A young-generation collection as a batch starts, while
 * the young generation holds the event just parsed and the last batch's garbage, costs a copy of the event (a few ms
 * for 1,000 messages). Without it the young generation fills in the middle of the batch, and its collection then
 * copies and promotes everything the batch still holds — bodies, envelopes, series — to the old generation, which
 * needs a full mark-compact every batch or two (BENCHMARKS.md, section 15). Absent outside Lambda unless node is
 * started with the flag; the call then does nothing.
 */
const collectYoungGeneration = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;

export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  // Not on a cold start: there is no last batch's garbage yet, and the copy would only lengthen the cold start.
  if (runtime) collectYoungGeneration?.({ type: 'minor' });
  runtime ??= createDeliverRuntime(process.env);
  const records = event.Records.map((r) => ({ messageId: r.messageId, body: r.body }));
  const failed = await runtime.deliver(records, context?.getRemainingTimeInMillis());
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
