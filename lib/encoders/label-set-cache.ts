import type { Label } from '../model/series.ts';
import { LabelTrie, TRIE_NODE_BYTES } from './label-trie.ts';
import { ProtoWriter, allocBytes } from './protobuf-writer.ts';

/** How a label set is encoded: its size first, then the bytes written into exactly that much room. */
export interface LabelSetEncoding {
  size(labels: readonly Label[]): number;
  write(labels: readonly Label[], w: ProtoWriter): void;
}

/**
 * Bytes encoded once per distinct label set, reused across requests. Beam jobs push the same series every few
 * seconds, so the deliver Lambda encodes the same label sets over and over; copying their bytes is several
 * times cheaper than writing their strings again.
 *
 * A set met again as the very same array (the deliver merge hands out one array per series, batch after batch;
 * a retried or split request reuses its arrays) is found by identity; any other is found pair by pair in a trie.
 * The bytes of all sets lie in one arena, in the order the sets were first met, and a set is known by a number:
 * looking one up touches no per-set object, and the copies of consecutive series read memory in order.
 *
 * Label arrays must not be changed once encoded. Bounded: `trim`, called between requests, drops everything once
 * the arena and the trie hold more than `maxBytes`; within a request, ids stay valid.
 */
export class EncodedLabelSetCache {
  private readonly trie = new LabelTrie<number>();
  private byIdentity = new WeakMap<readonly Label[], number>();
  private arena: Uint8Array = new Uint8Array(0);
  private used = 0;
  private offsets = new Int32Array(1024);
  private lengths = new Int32Array(1024);
  private count = 0;
  private heldBytes = 0;

  constructor(
    private readonly encoding: LabelSetEncoding,
    private readonly maxBytes: number,
  ) {}

  /** The id of `labels`' bytes, from the cache or freshly encoded; valid until the next `trim`. */
  get(labels: readonly Label[]): number {
    const known = this.byIdentity.get(labels);
    if (known !== undefined) return known;
    const trie = this.trie;
    let node = trie.root;
    for (let i = 0; i < labels.length; i++) {
      const { name, value } = labels[i]!;
      node = trie.step(node, name, value);
    }
    const id = (node.payload ??= this.add(labels));
    this.byIdentity.set(labels, id);
    return id;
  }

  /** Bytes of the set `id`. */
  length(id: number): number {
    return this.lengths[id]!;
  }

  /** Copies the bytes of the set `id` into `w`. */
  copyTo(id: number, w: ProtoWriter): void {
    const offset = this.offsets[id]!;
    w.raw(this.arena.subarray(offset, offset + this.lengths[id]!));
  }

  /** Drops everything if the cache holds more than its bound. */
  trim(): void {
    if (this.heldBytes + this.trie.nodes * TRIE_NODE_BYTES > this.maxBytes) this.clear();
  }

  /** Drops every entry. */
  clear(): void {
    this.trie.clear();
    this.byIdentity = new WeakMap();
    this.arena = new Uint8Array(0);
    this.used = 0;
    this.count = 0;
    this.heldBytes = 0;
  }

  private add(labels: readonly Label[]): number {
    const size = this.encoding.size(labels);
    this.heldBytes += size;
    if (this.used + size > this.arena.length) {
      const grown = allocBytes(Math.max(64 * 1024, this.arena.length * 2, this.used + size));
      grown.set(this.arena.subarray(0, this.used));
      this.arena = grown;
    }
    if (this.count === this.offsets.length) {
      const offsets = new Int32Array(this.count * 2);
      const lengths = new Int32Array(this.count * 2);
      offsets.set(this.offsets);
      lengths.set(this.lengths);
      this.offsets = offsets;
      this.lengths = lengths;
    }
    const w = new ProtoWriter(this.arena.subarray(this.used, this.used + size), true);
    this.encoding.write(labels, w);
    w.finish();
    const id = this.count++;
    this.offsets[id] = this.used;
    this.lengths[id] = size;
    this.used += size;
    return id;
  }
}
