/** Entries SQS did not take after the retries we allow; the caller decides (ingest: 503, deliver DLQ: fail). */
export class QueueSendError extends Error {
  override name = 'QueueSendError';
  readonly failed: ReadonlyArray<{ id: string; code: string; message: string; senderFault: boolean }>;
  readonly sent: number;

  constructor(failed: QueueSendError['failed'], sent: number, options?: { cause?: unknown }) {
    const first = failed[0];
    super(`${failed.length} message(s) not accepted by SQS${first ? ` (${first.code}: ${first.message})` : ''}`, options);
    this.failed = failed;
    this.sent = sent;
  }
}
