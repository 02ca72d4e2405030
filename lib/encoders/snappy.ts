import { uncompress } from 'snappyjs';
import { SnappyCompressor } from 'snappyjs/snappy_compressor.js';
import { ScratchBuffer } from './protobuf-writer.ts';

// snappyjs' own `compress` allocates and zero-fills a worst-case output buffer (~117% of the input) on every
// call; compressing into one reused buffer and copying out only the compressed bytes (~10% of the input for
// remote-write bodies) gives the same bytes for noticeably less time.
const output = new ScratchBuffer();

/**
 * Snappy-compresses a remote-write body. Both remote-write specs require the snappy *block* format and forbid
 * the framed (stream) format (1.0 spec, Protocol; 2.0 spec, Protocol): that is what snappyjs produces, a varint
 * of the uncompressed length followed by the compressed elements. Returns a fresh buffer.
 */
export function snappyCompress(bytes: Uint8Array): Uint8Array {
  const compressor = new SnappyCompressor(bytes);
  const out = output.view(compressor.maxCompressedLength());
  return out.slice(0, compressor.compressToBuffer(out));
}

/**
 * Inverse of `snappyCompress`. `maxLength` bounds the declared uncompressed size, so a corrupt or hostile body
 * cannot make us allocate an arbitrary amount of memory.
 */
export function snappyUncompress(compressed: Uint8Array, maxLength?: number): Uint8Array {
  return uncompress(compressed, maxLength);
}
