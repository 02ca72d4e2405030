/**
 * From the bytes API Gateway handed over to text: size caps before and after decompression, gzip, UTF-8.
 */
import { gunzipSync } from 'node:zlib';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../inputs/errors.ts';

export interface BodyLimits {
  /** Bytes as received (compressed). */
  maxBodyBytes: number;
  /** Bytes after decompression: a gzip bomb stops here, before it is in memory. */
  maxDecompressedBytes: number;
}

export const DEFAULT_BODY_LIMITS: Readonly<BodyLimits> = Object.freeze({
  maxBodyBytes: 5 * 1024 * 1024,
  // A 10 MiB JSON body takes ~50-125 MB to parse and convert: room enough in a 256-512 MB function.
  maxDecompressedBytes: 10 * 1024 * 1024,
});

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeBody(raw: Buffer, contentEncoding: string | undefined, limits: BodyLimits): string {
  if (raw.length > limits.maxBodyBytes) {
    throw new PayloadTooLargeError(`body is ${raw.length} bytes; the limit is ${limits.maxBodyBytes} (MAX_BODY_BYTES)`);
  }
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  let bytes: Buffer = raw;
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    try {
      // maxOutputLength makes zlib stop at the cap instead of inflating a bomb into memory.
      bytes = gunzipSync(raw, { maxOutputLength: limits.maxDecompressedBytes });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new PayloadTooLargeError(`body decompresses to more than ${limits.maxDecompressedBytes} bytes (MAX_DECOMPRESSED_BYTES)`);
      }
      throw new ValidationError([{ path: '$', message: `Content-Encoding is gzip but the body is not valid gzip (${(error as Error).message})` }]);
    }
  } else if (encoding !== 'identity') {
    throw new UnsupportedMediaTypeError(`Content-Encoding "${encoding}" is not supported: send gzip or no encoding`);
  } else if (raw.length > limits.maxDecompressedBytes) {
    throw new PayloadTooLargeError(`body is ${raw.length} bytes; the limit is ${limits.maxDecompressedBytes} (MAX_DECOMPRESSED_BYTES)`);
  }
  try {
    // A leading BOM is dropped: RFC 8259 §8.1 lets parsers ignore it, and some Windows tools add one.
    return utf8.decode(bytes);
  } catch {
    throw new ValidationError([{ path: '$', message: 'body is not valid UTF-8' }]);
  }
}
