/** An SQS message body that is not an envelope this version can read. It can never succeed: it goes to the DLQ. */
export class MalformedEnvelopeError extends Error {
  override name = 'MalformedEnvelopeError';
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, options);
    this.path = path;
  }
}

/** One point alone is larger than a queue message may be (a label value of hundreds of KiB). */
export class EnvelopeTooLargeError extends Error {
  override name = 'EnvelopeTooLargeError';
  readonly bytes: number;
  readonly limit: number;

  constructor(bytes: number, limit: number) {
    super(`a single series serialises to ${bytes} bytes, over the ${limit}-byte queue message limit`);
    this.bytes = bytes;
    this.limit = limit;
  }
}
