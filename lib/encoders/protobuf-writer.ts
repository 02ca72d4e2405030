/**
 * The few protobuf wire-format primitives the remote-write encoders need
 * (https://protobuf.dev/programming-guides/encoding/).
 *
 * Length prefixes come before the bytes they cover. Either a sizing pass computes every message size and the
 * write pass fills a buffer of exactly that size (`finish()` checks that the two agreed), or the writer reserves
 * the varint of a guessed length and settles it once the message is written (`beginLength`/`endLength`),
 * moving the message in the rare case the guess had another varint size. No intermediate buffers or per-field
 * objects are created either way.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;

/** The key of a field: `(field_number << 3) | wire_type`. All our field numbers are < 16, so one byte. */
export function fieldKey(fieldNumber: number, wireType: number): number {
  return (fieldNumber << 3) | wireType;
}

/** Bytes a varint of a non-negative 32-bit integer takes (lengths, symbol refs, enum values). */
export function uint32Size(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/**
 * Bytes a varint of an int64 takes. Millisecond timestamps exceed 2^32, so this compares against powers of
 * 128 as doubles; a negative int64 is sign-extended to 64 bits and always takes 10 bytes.
 */
export function int64Size(n: number): number {
  // NaN is no int64; `int64` writes it as 0, one byte, and the two must agree.
  if (!(n >= 0)) return n < 0 ? 10 : 1;
  if (n < 0x10000000) return uint32Size(n);
  return n < 2 ** 35 ? 5 : n < 2 ** 42 ? 6 : n < 2 ** 49 ? 7 : n < 2 ** 56 ? 8 : n < 2 ** 63 ? 9 : 10;
}

/** Bytes of a length-delimited field carrying `len` bytes: key, length varint, payload. */
export function lenFieldSize(len: number): number {
  return 1 + uint32Size(len) + len;
}

/**
 * UTF-8 byte length of a string (lone surrogates count 3, as the encoder writes U+FFFD for them).
 * A result equal to `s.length` means the string is ASCII.
 */
export function utf8Length(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  }
  return n;
}

/**
 * Bytes of a string payload in a pass that is `exact`, or that assumes ASCII. Names and almost all values in
 * our series are ASCII, where the byte length is `s.length` with no scan; the one write pass then checks the
 * assumption (`ProtoWriter.sawNonAscii`), and only a message that broke it is encoded again exactly.
 */
export function stringBytes(s: string, exact: boolean): number {
  return exact ? utf8Length(s) : s.length;
}

/** Thrown when the write pass does not fill exactly the size the sizing pass computed: an encoder bug. */
export class EncoderSizeMismatchError extends Error {
  override name = 'EncoderSizeMismatchError';
  constructor(
    readonly expectedBytes: number,
    readonly writtenBytes: number,
  ) {
    super(`protobuf encoder wrote ${writtenBytes} bytes into a buffer sized ${expectedBytes}`);
  }
}

const utf8 = new TextEncoder();

/** A fresh buffer of `size` bytes, uninitialised: the writer fills every byte, and `finish()` proves it. */
export function allocBytes(size: number): Uint8Array {
  const backing = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(backing.buffer, backing.byteOffset, size);
}

/** `buf` with room for `needed` bytes: itself, or a copy of its first `used` bytes in one at least twice as long. */
export function grownBytes(buf: Uint8Array, used: number, needed: number): Uint8Array {
  if (needed <= buf.length) return buf;
  const grown = allocBytes(Math.max(64 * 1024, 2 * buf.length, needed));
  grown.set(buf.subarray(0, used));
  return grown;
}

/** Buffers above this size are not kept for reuse, so one huge request does not pin its memory for good. */
const SCRATCH_MAX_BYTES = 16 * 1024 * 1024;

/**
 * One buffer reused for bytes that are consumed before the next call (the protobuf bytes that snappy reads
 * right away): no allocation and no fresh pages per request.
 */
export class ScratchBuffer {
  private storage: Uint8Array = new Uint8Array(0);

  /** The whole buffer, at least `size` bytes, valid until the next call. */
  take(size: number): Uint8Array {
    if (size > SCRATCH_MAX_BYTES) return allocBytes(size);
    if (this.storage.length < size) {
      this.storage = allocBytes(Math.min(SCRATCH_MAX_BYTES, Math.max(size, this.storage.length * 2)));
    }
    return this.storage;
  }

  /** A view of exactly `size` bytes, valid until the next call. */
  view(size: number): Uint8Array {
    return this.take(size).subarray(0, size);
  }
}

/** Writes protobuf fields forward into a buffer sized beforehand. */
export class ProtoWriter {
  // A plain Uint8Array: element stores into a Buffer (a subclass) are markedly slower in V8.
  readonly buf: Uint8Array;
  private readonly view: DataView;
  pos = 0;
  /** Set when a pass that assumed ASCII met another char: the bytes are unusable, encode again exactly. */
  sawNonAscii = false;

  /**
   * `buf` has exactly the computed size, or an upper bound of it from `start` on (then take the bytes with
   * `written()`).
   */
  constructor(
    buf: Uint8Array,
    readonly exact: boolean,
    private readonly start = 0,
  ) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    this.pos = start;
  }

  /** One byte; used for field keys, which are all single-byte. */
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** Varint of a non-negative integer below 2^32. */
  uint32(n: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (n > 0x7f) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[pos++] = n;
    this.pos = pos;
  }

  /** Varint of an int64 given as an integral double (ms timestamps exceed 2^32; negatives take 10 bytes). */
  int64(n: number): void {
    if (n >= 0 && n < 0x80000000) {
      this.uint32(n);
      return;
    }
    if (n >= 34359738368 && n < 4398046511104) {
      // 2^35 ≤ n < 2^42, six bytes: every millisecond timestamp from 1971 to 2109, unrolled.
      const lo = n >>> 0;
      const hi = (n - lo) / 4294967296;
      const buf = this.buf;
      const pos = this.pos;
      buf[pos] = (lo & 0x7f) | 0x80;
      buf[pos + 1] = ((lo >>> 7) & 0x7f) | 0x80;
      buf[pos + 2] = ((lo >>> 14) & 0x7f) | 0x80;
      buf[pos + 3] = ((lo >>> 21) & 0x7f) | 0x80;
      buf[pos + 4] = (lo >>> 28) | ((hi & 0x07) << 4) | 0x80;
      buf[pos + 5] = hi >>> 3;
      this.pos = pos + 6;
      return;
    }
    // Split into 32-bit halves of the two's complement; ToUint32 keeps the low word of an integral double.
    let lo = n >>> 0;
    let hi = Math.floor(n / 4294967296) >>> 0;
    const buf = this.buf;
    let pos = this.pos;
    while (hi !== 0) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.pos = pos;
    this.uint32(lo);
  }

  /** Bytes encoded beforehand (a cached field), copied as they are. */
  raw(bytes: Uint8Array): void {
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Little-endian IEEE 754 double (wire type I64). */
  double(v: number): void {
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** Length-prefixed UTF-8 string, sized as `stringBytes(s, this.exact)` was in the sizing pass. */
  string(s: string): void {
    const n = s.length;
    const byteLength = this.exact ? utf8Length(s) : n;
    this.uint32(byteLength);
    const buf = this.buf;
    const pos = this.pos;
    if (byteLength === n) {
      let seen = 0;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        seen |= c;
        buf[pos + i] = c;
      }
      if (seen > 0x7f) this.sawNonAscii = true;
    } else {
      utf8.encodeInto(s, buf.subarray(pos, pos + byteLength));
    }
    this.pos = pos + byteLength;
  }

  /**
   * Reserves the length varint of a message about `guess` bytes long and returns where it starts; the message
   * follows, then `endLength` with that position writes the true length.
   */
  beginLength(guess: number): number {
    const at = this.pos;
    this.pos = at + uint32Size(guess);
    return at;
  }

  /** Writes the length of the message that began at `at` (see `beginLength`), moving it if the guess was off. */
  endLength(at: number, guess: number): void {
    const reserved = uint32Size(guess);
    const start = at + reserved;
    const length = this.pos - start;
    const needed = uint32Size(length);
    if (needed !== reserved) {
      this.buf.copyWithin(at + needed, start, this.pos);
      this.pos += needed - reserved;
    }
    const end = this.pos;
    this.pos = at;
    this.uint32(length);
    this.pos = end;
  }

  /** The bytes written so far, as a view (for a buffer sized by an upper bound). */
  written(): Uint8Array {
    return this.buf.subarray(this.start, this.pos);
  }

  /** The encoded message; throws if the sizing and writing passes disagree. */
  finish(): Uint8Array {
    if (this.pos !== this.buf.length) throw new EncoderSizeMismatchError(this.buf.length, this.pos);
    return this.buf;
  }
}

/**
 * Runs an encoder that sizes then writes a message, first assuming ASCII strings and, only if a string was not,
 * again with exact UTF-8 lengths.
 */
export function encodeAssumingAscii(encode: (exact: boolean) => ProtoWriter): Uint8Array {
  const w = encode(false);
  return (w.sawNonAscii ? encode(true) : w).finish();
}
