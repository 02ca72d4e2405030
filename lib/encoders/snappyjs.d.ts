// snappyjs 0.7 ships no types. `compress`/`uncompress` return the kind of object they are given.
declare module 'snappyjs' {
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
}

// The block compressor behind `compress`, used directly so that its output buffer can be reused.
declare module 'snappyjs/snappy_compressor.js' {
  export class SnappyCompressor {
    constructor(uncompressed: Uint8Array);
    maxCompressedLength(): number;
    /** Writes the compressed block into `out` (at least `maxCompressedLength()` bytes); returns its length. */
    compressToBuffer(out: Uint8Array): number;
  }
}
