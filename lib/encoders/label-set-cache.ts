import type { Label } from '../model/series.ts';

/**
 * One trie node per label-set prefix. Nearly every node sees one label name at its depth (labels are sorted
 * and the series of a job share their names) and many see one value (job, namespace), so the first name and
 * the first value get direct slots; maps are made only for the others.
 */
interface Node {
  name: string | undefined;
  firstValue: string | undefined;
  firstChild: Node | undefined;
  otherValues: Map<string, Node> | undefined;
  otherNames: Map<string, Map<string, Node>> | undefined;
  bytes: Uint8Array | undefined;
}

function newNode(): Node {
  return {
    name: undefined,
    firstValue: undefined,
    firstChild: undefined,
    otherValues: undefined,
    otherNames: undefined,
    bytes: undefined,
  };
}

/** Rough heap cost of a node and its map entry, so that the bound also holds for many small label sets. */
const NODE_OVERHEAD_BYTES = 160;

/**
 * Bytes encoded once per distinct label set, reused across requests. Beam jobs push the same series every few
 * seconds, so the deliver Lambda encodes the same label sets over and over; finding a set pair by pair in a
 * trie and copying its bytes is several times cheaper than writing its strings again. Bounded: the whole cache
 * is dropped once it holds `maxBytes`.
 *
 * A set met again as the very same array (the deliver merge hands out one array per series, batch after batch; a
 * retried or split request reuses its arrays) is found by identity first, without walking the trie. Those entries
 * live as long as the caller keeps the array, so they are not counted against the bound.
 */
export class EncodedLabelSetCache {
  private root = newNode();
  private heldBytes = 0;
  private byIdentity = new WeakMap<readonly Label[], Uint8Array>();

  constructor(
    private readonly encode: (labels: readonly Label[]) => Uint8Array,
    private readonly maxBytes: number,
  ) {}

  /** The encoding of `labels`, from the cache or freshly made. */
  get(labels: readonly Label[]): Uint8Array {
    const known = this.byIdentity.get(labels);
    if (known !== undefined) return known;
    let node = this.root;
    for (let i = 0; i < labels.length; i++) {
      const { name, value } = labels[i]!;
      let next: Node | undefined;
      if (node.name === name) {
        next = node.firstValue === value ? node.firstChild : node.otherValues?.get(value);
      }
      node = next ?? this.child(node, name, value);
    }
    const bytes = node.bytes ?? this.fill(node, labels);
    this.byIdentity.set(labels, bytes);
    return bytes;
  }

  /** Drops every entry. */
  clear(): void {
    this.clearTrie();
    this.byIdentity = new WeakMap();
  }

  private clearTrie(): void {
    this.root = newNode();
    this.heldBytes = 0;
  }

  private fill(node: Node, labels: readonly Label[]): Uint8Array {
    const bytes = this.encode(labels);
    this.heldBytes += bytes.length;
    if (this.heldBytes > this.maxBytes) this.clearTrie();
    else node.bytes = bytes;
    return bytes;
  }

  /** The child for `name=value`, made if missing (the slow path of `get`). */
  private child(node: Node, name: string, value: string): Node {
    if (node.name === undefined) {
      node.name = name;
      node.firstValue = value;
      return (node.firstChild = this.newChild());
    }
    let values: Map<string, Node>;
    if (node.name === name) {
      if (node.firstValue === value) return node.firstChild!;
      values = node.otherValues ??= new Map();
    } else {
      node.otherNames ??= new Map();
      let byName = node.otherNames.get(name);
      if (byName === undefined) {
        byName = new Map();
        node.otherNames.set(name, byName);
      }
      values = byName;
    }
    let next = values.get(value);
    if (next === undefined) {
      next = this.newChild();
      values.set(value, next);
    }
    return next;
  }

  private newChild(): Node {
    this.heldBytes += NODE_OVERHEAD_BYTES;
    return newNode();
  }
}
