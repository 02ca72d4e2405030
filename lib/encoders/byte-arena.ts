import { grownBytes } from './protobuf-writer.ts';

/**
 * Byte strings kept one after another in one buffer and known by a number: the encoders keep there what they made
 * of a label set or a series (its protobuf fields, its text) to copy it into the next body. Looking one up touches no
 * per-entry object, and entries met in order are copied from memory in order.
 */
export class ByteArena {
  private buf: Uint8Array = new Uint8Array(0);
  private offsets = new Int32Array(1024);
  private lengths = new Int32Array(1024);
  private count = 0;
  /** Bytes held. */
  used = 0;

  /** A new entry of `size` bytes, to be filled through `view(id)`; ids stay valid until `clear`. */
  add(size: number): number {
    this.makeRoom(size);
    if (this.count === this.offsets.length) {
      const offsets = new Int32Array(this.count * 2);
      const lengths = new Int32Array(this.count * 2);
      offsets.set(this.offsets);
      lengths.set(this.lengths);
      this.offsets = offsets;
      this.lengths = lengths;
    }
    const id = this.count++;
    this.offsets[id] = this.used;
    this.lengths[id] = size;
    this.used += size;
    return id;
  }

  /**
   * The buffer, with at least `size` free bytes after the entries (from `used` on). Bytes written there can take
   * an entry's with `copyWithin`, which makes no view per copy. Valid until the next `add` or `clear`.
   */
  room(size: number): Uint8Array {
    this.makeRoom(size);
    return this.buf;
  }

  /** The buffer `room` returns. */
  get buffer(): Uint8Array {
    return this.buf;
  }

  /** Copies entry `id` to `at` in the buffer `room` returned; returns the position after it. */
  copyWithin(id: number, at: number): number {
    const offset = this.offsets[id]!;
    const end = offset + this.lengths[id]!;
    this.buf.copyWithin(at, offset, end);
    return at + end - offset;
  }

  private makeRoom(size: number): void {
    this.buf = grownBytes(this.buf, this.used, this.used + size);
  }

  length(id: number): number {
    return this.lengths[id]!;
  }

  /** The bytes of entry `id` (a view: valid until the next `add` or `clear`). */
  view(id: number): Uint8Array {
    const offset = this.offsets[id]!;
    return this.buf.subarray(offset, offset + this.lengths[id]!);
  }

  /** Drops every entry and the buffer. */
  clear(): void {
    this.buf = new Uint8Array(0);
    this.used = 0;
    this.count = 0;
  }
}
