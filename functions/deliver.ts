/**
 * Deliver Lambda: an SQS batch of envelopes → remote-write and/or Pushgateway, reporting partial failures
 * (`functionResponseType: ReportBatchItemFailures`). An adapter: the rules live in lib/deliver.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDeliverRuntime, type DeliverRuntime } from '../lib/deliver/runtime.ts';

let runtime: DeliverRuntime | undefined;

export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  runtime ??= createDeliverRuntime(process.env);
  const records = event.Records.map((r) => ({ messageId: r.messageId, body: r.body }));
  const failed = await runtime.deliver(records, context?.getRemainingTimeInMillis());
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
