import type { Label } from '../model/series.ts';
import { LabelTrie, TRIE_NODE_BYTES } from './label-trie.ts';
import { ByteArena } from './byte-arena.ts';
import { ProtoWriter } from './protobuf-writer.ts';

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
  private readonly arena = new ByteArena();

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
    return this.arena.length(id);
  }

  /** Copies the bytes of the set `id` into `w`. */
  copyTo(id: number, w: ProtoWriter): void {
    w.raw(this.arena.view(id));
  }

  /** Drops everything if the cache holds more than its bound. */
  trim(): void {
    if (this.arena.used + this.trie.nodes * TRIE_NODE_BYTES > this.maxBytes) this.clear();
  }

  /** Drops every entry. */
  clear(): void {
    this.trie.clear();
    this.byIdentity = new WeakMap();
    this.arena.clear();
  }

  private add(labels: readonly Label[]): number {
    const size = this.encoding.size(labels);
    const id = this.arena.add(size);
    const w = new ProtoWriter(this.arena.view(id), true);
    this.encoding.write(labels, w);
    w.finish();
    return id;
  }
}
