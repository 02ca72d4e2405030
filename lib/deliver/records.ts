import type { Envelope } from '../envelope/envelope.ts';

/** An SQS record whose body parsed as an envelope; `index` is its position in the batch. */
export interface DecodedRecord {
  index: number;
  messageId: string;
  envelope: Envelope;
}
