/**
 * A trie of label pairs, one level per label in name order, holding one payload per label set: the text encoder
 * keeps there what it made of a set (its text) to reuse it when the set comes again with fresh strings, as Beam
 * jobs push the same series every few seconds.
 *
 * Nearly every node sees one label name at its depth (labels are sorted, and the series of a job share their
 * names) and many see one value (job, namespace), so the first name and the first value get direct slots;
 * maps are made only for the others.
 */
export interface TrieNode<T> {
  name: string | undefined;
  firstValue: string | undefined;
  firstChild: TrieNode<T> | undefined;
  otherValues: Map<string, TrieNode<T>> | undefined;
  otherNames: Map<string, Map<string, TrieNode<T>>> | undefined;
  payload: T | undefined;
}

function newNode<T>(): TrieNode<T> {
  return {
    name: undefined,
    firstValue: undefined,
    firstChild: undefined,
    otherValues: undefined,
    otherNames: undefined,
    payload: undefined,
  };
}

/** Rough heap cost of a node and its map entry, for callers that bound their memory. */
export const TRIE_NODE_BYTES = 120;

export class LabelTrie<T> {
  root: TrieNode<T> = newNode();
  /** Nodes made since the last `clear`. */
  nodes = 0;

  /** The child of `node` for the pair `name=value`, made if missing. */
  step(node: TrieNode<T>, name: string, value: string): TrieNode<T> {
    if (node.name === name) {
      const next = node.firstValue === value ? node.firstChild : node.otherValues?.get(value);
      if (next !== undefined) return next;
    }
    return this.child(node, name, value);
  }

  clear(): void {
    this.root = newNode();
    this.nodes = 0;
  }

  private child(node: TrieNode<T>, name: string, value: string): TrieNode<T> {
    if (node.name === undefined) {
      node.name = name;
      node.firstValue = value;
      return (node.firstChild = this.newChild());
    }
    let values: Map<string, TrieNode<T>>;
    if (node.name === name) {
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

  private newChild(): TrieNode<T> {
    this.nodes++;
    return newNode();
  }
}
