import { uncompress } from 'snappyjs';
import { ScratchBuffer } from './protobuf-writer.ts';

/*
 * Snappy block compression, written for V8 and byte-for-byte equal to snappyjs 0.7's `compress` (the same hash,
 * 64 KiB fragments, skip heuristic and element choice; a property test compares the two on random inputs).
 *
 * Why not snappyjs' own compressor: remote-write bodies are label bytes repeated series after series, so nearly
 * every byte is inside a long match, and snappyjs extends matches one byte at a time: that loop was 60 % of its
 * time. Here matches are extended four bytes per step (one unaligned load each through a DataView, the first
 * differing byte found from the XOR's trailing zeros), long literals are copied with `set`, and the output goes
 * into one reused buffer (snappyjs' `compress` allocates and zero-fills ~117 % of the input on every call).
 *
 * Format: https://github.com/google/snappy/blob/main/format_description.txt — a varint of the uncompressed length,
 * then literal and copy elements. Both remote-write specs require this block format, not the framed one.
 */

const BLOCK_SIZE = 1 << 16;
const MAX_HASH_TABLE_BITS = 14;
const INPUT_MARGIN = 15;
const hashTables: Array<Uint16Array | undefined> = [];

/** snappyjs' hash: a float multiply (not Math.imul) whose low bits survive `>>>`; kept for identical output. */
function hash(key: number, shift: number): number {
  return (key * 0x1e35a7bd) >>> shift;
}

/**
 * The 32-bit little-endian word at `pos`, as snappyjs reads it (bytes summed, the top one signed): equal to
 * `getInt32`. Past the end of the input snappyjs reads `undefined` bytes, which make NaN (hash 0) or count as 0.
 */
function load32Guarded(input: Uint8Array, view: DataView, pos: number): number {
  if (pos + 4 <= input.length) return view.getInt32(pos, true);
  if (pos >= input.length) return NaN;
  let key = 0;
  for (let i = 0; i < 4 && pos + i < input.length; i++) key |= input[pos + i]! << (8 * i);
  return key;
}

function emitLiteral(input: Uint8Array, from: number, len: number, out: Uint8Array, op: number): number {
  if (len <= 60) {
    out[op++] = (len - 1) << 2;
  } else if (len < 256) {
    out[op++] = 60 << 2;
    out[op++] = len - 1;
  } else {
    out[op++] = 61 << 2;
    out[op++] = (len - 1) & 0xff;
    out[op++] = (len - 1) >>> 8;
  }
  if (len > 32) out.set(input.subarray(from, from + len), op);
  else for (let i = 0; i < len; i++) out[op + i] = input[from + i]!;
  return op + len;
}

function emitCopyAtMost64(out: Uint8Array, op: number, offset: number, len: number): number {
  if (len < 12 && offset < 2048) {
    out[op] = 1 + ((len - 4) << 2) + ((offset >>> 8) << 5);
    out[op + 1] = offset & 0xff;
    return op + 2;
  }
  out[op] = 2 + ((len - 1) << 2);
  out[op + 1] = offset & 0xff;
  out[op + 2] = offset >>> 8;
  return op + 3;
}

function emitCopy(out: Uint8Array, op: number, offset: number, len: number): number {
  while (len >= 68) {
    op = emitCopyAtMost64(out, op, offset, 64);
    len -= 64;
  }
  if (len > 64) {
    op = emitCopyAtMost64(out, op, offset, 60);
    len -= 60;
  }
  return emitCopyAtMost64(out, op, offset, len);
}

/** Bytes equal at `a + n` and `b + n` from n = 4 on (the first four are known equal), up to `end` for `a`. */
function matchLength(input: Uint8Array, view: DataView, a: number, b: number, end: number): number {
  let n = 4;
  // Two words per turn: remote-write matches run for dozens of bytes, so the loop's own cost counts.
  while (a + n + 8 <= end) {
    let diff = view.getInt32(a + n, true) ^ view.getInt32(b + n, true);
    // Little-endian: the lowest set bit of the XOR lies in the first differing byte.
    if (diff !== 0) return n + ((31 - Math.clz32(diff & -diff)) >>> 3);
    diff = view.getInt32(a + n + 4, true) ^ view.getInt32(b + n + 4, true);
    if (diff !== 0) return n + 4 + ((31 - Math.clz32(diff & -diff)) >>> 3);
    n += 8;
  }
  while (a + n + 4 <= end) {
    const diff = view.getInt32(a + n, true) ^ view.getInt32(b + n, true);
    if (diff !== 0) return n + ((31 - Math.clz32(diff & -diff)) >>> 3);
    n += 4;
  }
  while (a + n < end && input[a + n] === input[b + n]) n++;
  return n;
}

function compressFragment(input: Uint8Array, view: DataView, start: number, size: number, out: Uint8Array, op: number): number {
  let bits = 1;
  while (1 << bits <= size && bits <= MAX_HASH_TABLE_BITS) bits++;
  bits--;
  const shift = 32 - bits;
  const table = (hashTables[bits] ??= new Uint16Array(1 << bits));
  table.fill(0);

  const end = start + size;
  let ip = start;
  let nextEmit = start;
  if (size >= INPUT_MARGIN) {
    const limit = end - INPUT_MARGIN;
    ip++;
    let nextHash = hash(view.getInt32(ip, true), shift);
    outer: for (;;) {
      // Look for a 4-byte match, stepping further the longer none is found (snappy's skip heuristic).
      let skip = 32;
      let nextIp = ip;
      let candidate: number;
      do {
        ip = nextIp;
        const h = nextHash;
        nextIp = ip + (skip >>> 5);
        skip++;
        if (ip > limit) break outer;
        nextHash = hash(load32Guarded(input, view, nextIp), shift);
        candidate = start + table[h]!;
        table[h] = ip - start;
      } while (view.getInt32(ip, true) !== view.getInt32(candidate, true));

      op = emitLiteral(input, nextEmit, ip - nextEmit, out, op);
      do {
        const matched = matchLength(input, view, ip, candidate, end);
        const base = ip;
        ip += matched;
        op = emitCopy(out, op, base - candidate, matched);
        nextEmit = ip;
        if (ip >= limit) break outer;
        table[hash(view.getInt32(ip - 1, true), shift)] = ip - 1 - start;
        const h = hash(view.getInt32(ip, true), shift);
        candidate = start + table[h]!;
        table[h] = ip - start;
      } while (view.getInt32(ip, true) === view.getInt32(candidate, true));
      ip++;
      nextHash = hash(view.getInt32(ip, true), shift);
    }
  }
  if (nextEmit < end) op = emitLiteral(input, nextEmit, end - nextEmit, out, op);
  return op;
}

/** The most bytes `snappyCompress` can produce for `n` input bytes (the format's bound, as snappyjs sizes it). */
function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

const output = new ScratchBuffer();

/** Snappy-compresses a remote-write body (block format). Returns a fresh buffer. */
export function snappyCompress(bytes: Uint8Array): Uint8Array {
  const out = output.view(maxCompressedLength(bytes.length));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let op = 0;
  let n = bytes.length;
  do {
    out[op++] = (n & 0x7f) | (n > 0x7f ? 0x80 : 0);
    n >>>= 7;
  } while (n > 0);
  for (let pos = 0; pos < bytes.length; pos += BLOCK_SIZE) {
    op = compressFragment(bytes, view, pos, Math.min(bytes.length - pos, BLOCK_SIZE), out, op);
  }
  return out.slice(0, op);
}

/**
 * Inverse of `snappyCompress` (snappyjs). `maxLength` bounds the declared uncompressed size, so a corrupt or
 * hostile body cannot make us allocate an arbitrary amount of memory.
 */
export function snappyUncompress(compressed: Uint8Array, maxLength?: number): Uint8Array {
  return uncompress(compressed, maxLength);
}
