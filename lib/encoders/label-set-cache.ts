import type { Label } from '../model/series.ts';
import { ByteArena } from './byte-arena.ts';
import { ProtoWriter, ScratchBuffer } from './protobuf-writer.ts';

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
 * a retried or split request reuses its arrays) is found by identity. Any other is encoded and found by its bytes,
 * so equal sets share one entry: a caller that builds fresh arrays every time (self-metrics) does not grow the
 * cache. The bytes of all sets lie in one arena, in the order the sets were first met, and a set is known by a
 * number: looking one up touches no per-set object, and the copies of consecutive series read memory in order.
 * A lookup by bytes rather than by a trie of label pairs keeps no object per label: for 25,000 series the trie was
 * 130,000 nodes (9 MB) that every old-generation collection of the deliver Lambda had to mark.
 *
 * Label arrays must not be changed once encoded. Bounded: `trim`, called between requests, drops everything once
 * the arena and the index hold more than `maxBytes`; within a request, ids stay valid.
 */
export class EncodedLabelSetCache {
  private byIdentity = new WeakMap<readonly Label[], number>();
  /** Entry ids by a hash of their bytes; a list only when hashes collide. */
  private byHash = new Map<number, number | number[]>();
  private readonly arena = new ByteArena();
  private readonly scratch = new ScratchBuffer();
  private readonly largeRequest = new ScratchBuffer();
  /** Requests' label sets and their ids, by the request's first set (`idsOf`). */
  private runs = new WeakMap<readonly Label[], { sets: (readonly Label[])[]; ids: Int32Array }>();

  constructor(
    private readonly encoding: LabelSetEncoding,
    private readonly maxBytes: number,
  ) {}

  /** The id of `labels`' bytes, from the cache or freshly encoded; valid until the next `trim`. */
  get(labels: readonly Label[]): number {
    const known = this.byIdentity.get(labels);
    if (known !== undefined) return known;
    const size = this.encoding.size(labels);
    const bytes = this.scratch.view(size);
    const w = new ProtoWriter(bytes, true);
    this.encoding.write(labels, w);
    w.finish();
    const hash = hashBytes(bytes);
    const found = this.byHash.get(hash);
    let id = found === undefined ? undefined : typeof found === 'number' ? (this.holds(found, bytes) ? found : undefined) : found.find((c) => this.holds(c, bytes));
    if (id === undefined) {
      id = this.arena.add(size);
      this.arena.view(id).set(bytes);
      this.byHash.set(hash, found === undefined ? id : [...(typeof found === 'number' ? [found] : found), id]);
    }
    this.byIdentity.set(labels, id);
    return id;
  }

  /**
   * The ids of the label sets of a request's series, into `out`. The deliver merge plans the same requests batch after
   * batch, so a request's sets are remembered by its first set: when they come again as the same arrays in the same
   * order, each is matched by one comparison in order instead of an identity-map lookup (a hash probe and cache
   * misses across a scattered heap, per series).
   */
  idsOf(series: readonly { labels: readonly Label[] }[], out: Int32Array): void {
    const n = series.length;
    if (n === 0) return;
    const run = this.runs.get(series[0]!.labels);
    if (run !== undefined && run.sets.length === n) {
      let s = 0;
      while (s < n && series[s]!.labels === run.sets[s]) s++;
      if (s === n) {
        out.set(run.ids);
        return;
      }
    }
    const sets = new Array<readonly Label[]>(n);
    for (let s = 0; s < n; s++) out[s] = this.get((sets[s] = series[s]!.labels));
    this.runs.set(sets[0]!, { sets, ids: out.slice(0, n) });
  }

  /** Bytes of the set `id`. */
  length(id: number): number {
    return this.arena.length(id);
  }

  /**
   * A writer for a message of at most `size` bytes that will take sets' bytes (`copyTo`), placed after the kept
   * bytes in the same buffer: a copy is then one `copyWithin`, where a copy from another buffer needs a view of the
   * set made per series, ~2 MB of garbage for a 25,000-series batch. Above WRITER_ROOM_MAX_BYTES, a buffer of its own,
   * so that one huge request does not pin its room for good. Valid until the next `get`, `idsOf`, `trim` or
   * `clear`; take the bytes with `written()`.
   */
  writer(size: number): ProtoWriter {
    if (size > WRITER_ROOM_MAX_BYTES) return new ProtoWriter(this.largeRequest.take(size), true);
    return new ProtoWriter(this.arena.room(size), true, this.arena.used);
  }

  /** Copies the bytes of the set `id` into `w`. */
  copyTo(id: number, w: ProtoWriter): void {
    if (w.buf === this.arena.buffer) w.pos = this.arena.copyWithin(id, w.pos);
    else w.raw(this.arena.view(id));
  }

  /** Drops everything if the cache holds more than its bound. */
  trim(): void {
    if (this.arena.used + this.byHash.size * INDEX_ENTRY_BYTES > this.maxBytes) this.clear();
  }

  /** Drops every entry. */
  clear(): void {
    this.byHash = new Map();
    this.byIdentity = new WeakMap();
    this.runs = new WeakMap();
    this.arena.clear();
  }

  private holds(id: number, bytes: Uint8Array): boolean {
    if (this.arena.length(id) !== bytes.length) return false;
    const kept = this.arena.view(id);
    for (let i = 0; i < bytes.length; i++) if (kept[i] !== bytes[i]) return false;
    return true;
  }
}

/** The largest room `writer` keeps after the kept bytes (a 2,000-sample request needs ~200 KB). */
const WRITER_ROOM_MAX_BYTES = 4 * 1024 * 1024;

/** Rough heap cost of one entry of the hash index and of the identity map, for the bound. */
const INDEX_ENTRY_BYTES = 64;

/** FNV-1a, 32 bits, of which 30 are kept. */
function hashBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  // A small integer, stored inline as a Map key (a number past 2^31 would take a heap object per entry).
  return h & 0x3fffffff;
}
