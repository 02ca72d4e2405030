/**
 * Merging a batch's envelopes into remote-write series, and cutting them into write requests.
 *
 * Remote-write 1.0 spec, "Labels": label names sorted, no duplicates, no empty values; "Samples": the samples of a
 * series in timestamp order. Each series remembers which records its samples came from, sample by sample, so a
 * failure reports exactly the messages concerned and a rejection sends exactly the rejected samples to the DLQ.
 */
import { fromEnvelopeValue, pointCount, type Envelope } from '../envelope/envelope.ts';
import { familyOf } from '../model/families.ts';
import type { ColumnSeries, Label, Labels, MetricFamily, SampleColumns, WriteRequest } from '../model/series.ts';
import type { DecodedRecord } from './records.ts';

/** A batch's samples, one row each, with the batch index of the record each came from. */
export interface MergedColumns extends SampleColumns {
  readonly origins: Int32Array;
}

export interface MergedSeries extends ColumnSeries {
  columns: MergedColumns;
  /**
   * Facts of the label set the merge keeps with it, so that planning need not walk the labels again (with
   * thousands of series, those walks are mostly cache misses). Absent on series made elsewhere.
   */
  metricName?: string;
  labelBytes?: number;
}

export interface MergeResult {
  series: MergedSeries[];
  families: Map<string, MetricFamily>;
  /** Samples dropped because another sample of the same series and timestamp came later in the batch. */
  superseded: number;
  samples: number;
}

const SEP = '\u0000';

/**
 * The grouping key and static labels of the envelopes that share them, merged once: a sorted base every point's
 * label set is built from, and the points' label sets found through a trie of the points' own labels.
 */
interface Context {
  group: Labels;
  /** Static labels overridden by the grouping key, empty values and `__name__` left out, sorted by name. */
  base: Label[];
  /**
   * Label by label (in name order) through the point's labels the group does not override, then by metric name at
   * the node reached: the points of one label set walk the labels once and differ only in the name.
   */
  root: PointNode;
  /** The shape of the context's last envelope, and the series its points resolved to. */
  shape: Shape | undefined;
}

/**
 * An envelope's label sets, names and layout (each point's name and set indices), and the id of the series each point
 * resolved to. A job pushes the same metrics in the same order every period, so its next envelope nearly always
 * has the same shape — for envelopes parsed from one metadata section, the very same arrays: identity checks then
 * replace a trie walk per label set and a name lookup per point.
 */
interface Shape {
  labelSets: Labels[];
  names: string[];
  layout: Int32Array;
  ids: Int32Array;
}

/**
 * One trie node. Nearly every node sees a single label name after it (converters emit the same names for a metric)
 * and many a single value, so the first name and value get direct slots and maps are made only for the others.
 */
interface PointNode {
  /** The ids of the label sets of the points whose own labels end here, by metric name. */
  byName: Map<string, number> | undefined;
  name: string | undefined;
  firstValue: string | undefined;
  firstChild: PointNode | undefined;
  otherValues: Map<string, PointNode> | undefined;
  otherNames: Map<string, Map<string, PointNode>> | undefined;
}

function newPointNode(): PointNode {
  return { byName: undefined, name: undefined, firstValue: undefined, firstChild: undefined, otherValues: undefined, otherNames: undefined };
}

function childNode(node: PointNode, name: string, value: string): PointNode {
  let values: Map<string, PointNode>;
  if (node.name === name) {
    if (node.firstValue === value) return node.firstChild!;
    values = node.otherValues ??= new Map();
  } else if (node.name === undefined) {
    node.name = name;
    node.firstValue = value;
    return (node.firstChild = newPointNode());
  } else {
    node.otherNames ??= new Map();
    let byName = node.otherNames.get(name);
    if (byName === undefined) node.otherNames.set(name, (byName = new Map()));
    values = byName;
  }
  let next = values.get(value);
  if (next === undefined) values.set(value, (next = newPointNode()));
  return next;
}

/**
 * A context's key, in the order the labels come: ingest writes one job's labels in the same order every push. Two
 * orders of the same labels make two contexts, which yield the same series: `KnownLabelSets.entry` finds a set by its
 * labels, not by its context. Not sorting saves a sort and its arrays per envelope.
 */
function pairsKey(labels: Labels): string {
  let key = '';
  for (const n in labels) key += n + SEP + labels[n] + SEP;
  return key;
}

/**
 * One `Label` object per name and value: the 25,000 series of a busy function share a few thousand pairs (names,
 * steps, jobs), and the kept label sets are what every old-generation collection marks. Labels are never mutated.
 */
type LabelPool = Map<string, Label>;

function pooled(pool: LabelPool, name: string, value: string): Label {
  const key = name + SEP + value;
  let label = pool.get(key);
  if (label === undefined) pool.set(key, (label = { name, value }));
  return label;
}

function newContext(group: Labels, statics: Labels, pool: LabelPool): Context {
  const all: Labels = { ...statics, ...group };
  const base: Label[] = [];
  for (const n of Object.keys(all).sort()) if (all[n] !== '' && n !== '__name__') base.push(pooled(pool, n, all[n]!));
  return { group, base, root: newPointNode(), shape: undefined };
}

/** The trie node of a point's own labels: those the grouping key does not override, in name order. */
function labelsNode(context: Context, labels: Labels): PointNode {
  let node = context.root;
  let previous = '';
  // for-in yields insertion order, which converters keep sorted; only a point that is not pays for a sort.
  for (const n in labels) {
    if (n < previous) return unsortedPointNode(context.root, context.group, labels);
    previous = n;
    if (!Object.hasOwn(context.group, n)) node = childNode(node, n, labels[n]!);
  }
  return node;
}

function unsortedPointNode(node: PointNode, group: Labels, labels: Labels): PointNode {
  for (const n of Object.keys(labels).sort()) if (!Object.hasOwn(group, n)) node = childNode(node, n, labels[n]!);
  return node;
}

/**
 * The merged label set of a point, built once per series: the context's base and the point's labels merged in
 * name order, the point's value winning over a static one, empty values dropped, `__name__` in its byte-order place.
 */
function mergedLabels(context: Context, name: string, point: Labels, pool: LabelPool): Label[] {
  const { base, group } = context;
  const own = Object.keys(point)
    .filter((n) => !Object.hasOwn(group, n))
    .sort();
  const labels: Label[] = [];
  let nameInserted = false;
  let i = 0;
  let j = 0;
  while (i < base.length || j < own.length) {
    const b = base[i];
    const n = own[j];
    let next: Label | undefined;
    if (n !== undefined && (b === undefined || n <= b.name)) {
      if (b !== undefined && n === b.name) i++;
      const v = point[n]!;
      if (v !== '' && n !== '__name__') next = pooled(pool, n, v);
      j++;
    } else {
      next = b!;
      i++;
    }
    if (next === undefined) continue;
    if (!nameInserted && next.name > '__name__') {
      labels.push(pooled(pool, '__name__', name));
      nameInserted = true;
    }
    labels.push(next);
  }
  if (!nameInserted) labels.push(pooled(pool, '__name__', name));
  // Kept for the life of the function and marked by every old-generation collection: `push` left room for 17
  // elements, a copy holds exactly the set's.
  return labels.slice();
}

/** FNV-1a over a set's names and values, framed by values no UTF-16 unit takes; equal sets hash equal. */
function labelsHash(labels: readonly Label[]): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < labels.length; i++) {
    const { name, value } = labels[i]!;
    for (let k = 0; k < name.length; k++) h = Math.imul(h ^ name.charCodeAt(k), 0x01000193);
    h = Math.imul(h ^ 0x10000, 0x01000193);
    for (let k = 0; k < value.length; k++) h = Math.imul(h ^ value.charCodeAt(k), 0x01000193);
    h = Math.imul(h ^ 0x10001, 0x01000193);
  }
  // A small integer: as a Map key it is stored inline, where a number past 2^31 takes a heap object of its own.
  return h & 0x3fffffff;
}

function sameLabels(a: readonly Label[], b: readonly Label[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.name !== b[i]!.name || a[i]!.value !== b[i]!.value) return false;
  return true;
}

/** Label sets kept across batches before everything is dropped (under 1 KB of heap each). */
const MAX_KNOWN_LABEL_SETS = 50_000;

/**
 * The label sets of recent batches. A deliver Lambda meets the same series batch after batch (Beam pushes every few
 * seconds), so the contexts, the tries and the merged sets are kept: a point then finds its series without
 * allocating, and a series gets the very same `labels` array every time, which lets an encoder keep its bytes by
 * identity. The arrays are shared across batches and never mutated. Bounded: everything is dropped, between
 * batches, once it holds MAX_KNOWN_LABEL_SETS sets.
 */
class KnownLabelSets {
  private contexts = new Map<string, Context>();
  /**
   * The context of a grouping-key object, with the static labels it was met with: the envelope parser shares one
   * object for every envelope with the same header context, so most envelopes need no key string built.
   */
  private byGroup = new WeakMap<Labels, { statics: Labels; context: Context }>();
  private labelPool: LabelPool = new Map();
  // Set ids by hash rather than by a key string: a key of every label is as long as the set, and there are thousands.
  private byHash = new Map<number, number | number[]>();
  /**
   * The known sets, by id, in parallel arrays rather than an object each: every old-generation collection of a warm
   * function marks what is kept, and 25,000 objects more cost it more than two arrays of 25,000 slots.
   */
  labelsOf: Label[][] = [];
  metricNameOf: (string | undefined)[] = [];
  labelBytesOf = new Int32Array(1024);
  /** By id: the set's position among all known sets in label order (remote-write's series order); -1 until ranked. */
  private rankOf = new Int32Array(1024);
  /** By id: the batch a set was last met in, and its index among that batch's sets. */
  batchOf = new Int32Array(1024);
  slotOf = new Int32Array(1024);
  /** Every known set's id in label order, and the ids of those met since it was last ordered. */
  private ranked = new Int32Array(0);
  private fresh: number[] = [];

  context(group: Labels, statics: Labels): Context {
    const met = this.byGroup.get(group);
    if (met !== undefined && met.statics === statics) return met.context;
    const key = pairsKey(group) + SEP + pairsKey(statics);
    let context = this.contexts.get(key);
    if (context === undefined) this.contexts.set(key, (context = newContext(group, statics, this.labelPool)));
    this.byGroup.set(group, { statics, context });
    return context;
  }

  /** The merged label set of a point met for the first time in its context. */
  labels(context: Context, name: string, point: Labels): Label[] {
    return mergedLabels(context, name, point, this.labelPool);
  }

  /** The id of a label set; two contexts that yield the same set share one. */
  entry(labels: Label[]): number {
    const hash = labelsHash(labels);
    const found = this.byHash.get(hash);
    if (found !== undefined) {
      for (const id of typeof found === 'number' ? [found] : found) if (sameLabels(this.labelsOf[id]!, labels)) return id;
    }
    const id = this.labelsOf.length;
    this.byHash.set(hash, found === undefined ? id : [...(typeof found === 'number' ? [found] : found), id]);
    if (id === this.batchOf.length) {
      this.labelBytesOf = grown(this.labelBytesOf);
      this.rankOf = grown(this.rankOf);
      this.batchOf = grown(this.batchOf);
      this.slotOf = grown(this.slotOf);
    }
    this.labelsOf.push(labels);
    this.metricNameOf.push(metricName(labels));
    this.labelBytesOf[id] = labelBytes(labels);
    this.rankOf[id] = -1;
    this.fresh.push(id);
    return id;
  }

  /**
   * The ids of a batch's sets in label order. The order of known sets is kept across batches, so a batch of known series
   * is placed by rank rather than sorted by labels again (25,000 label comparisons sorts, mostly cache misses);
   * sets met since are sorted among themselves and merged in.
   */
  ordered(ids: Int32Array): Int32Array {
    if (this.fresh.length > 0) this.rank();
    const met = new Uint8Array(this.ranked.length);
    for (let i = 0; i < ids.length; i++) met[this.rankOf[ids[i]!]!] = 1;
    const out = new Int32Array(ids.length);
    for (let r = 0, n = 0; n < ids.length; r++) if (met[r] === 1) out[n++] = this.ranked[r]!;
    return out;
  }

  private rank(): void {
    const { labelsOf } = this;
    const fresh = this.fresh.sort((a, b) => compareLabels(labelsOf[a]!, labelsOf[b]!));
    const old = this.ranked;
    const all = new Int32Array(old.length + fresh.length);
    let i = 0;
    let j = 0;
    for (let k = 0; k < all.length; k++) {
      const id = j >= fresh.length || (i < old.length && compareLabels(labelsOf[old[i]!]!, labelsOf[fresh[j]!]!) < 0) ? old[i++]! : fresh[j++]!;
      this.rankOf[id] = k;
      all[k] = id;
    }
    this.ranked = all;
    this.fresh = [];
  }

  trimBetweenBatches(): void {
    if (this.labelsOf.length <= MAX_KNOWN_LABEL_SETS) return;
    this.contexts = new Map();
    this.byGroup = new WeakMap();
    this.labelPool = new Map();
    this.byHash = new Map();
    this.labelsOf = [];
    this.metricNameOf = [];
    this.labelBytesOf = new Int32Array(1024);
    this.rankOf = new Int32Array(1024);
    this.batchOf = new Int32Array(1024);
    this.slotOf = new Int32Array(1024);
    this.ranked = new Int32Array(0);
    this.fresh = [];
  }
}

const known = new KnownLabelSets();
let lastBatch = 0;

/** The id of each point's series: from the context's last shape when the envelope has it, else resolved. */
function seriesIds(context: Context, envelope: Envelope): Int32Array {
  const shape = context.shape;
  if (shape !== undefined && sameShape(shape, envelope)) return shape.ids;
  const { layout, names, labelSets } = envelope;
  const ids = new Int32Array(layout.length / 2);
  // A label set is walked through the trie once per envelope, however many points it has; each point then only
  // looks its name up among the set's series.
  const setNodes = new Array<Map<string, number> | undefined>(labelSets.length);
  for (let i = 0; i < ids.length; i++) {
    const set = layout[2 * i + 1]!;
    let byName = setNodes[set];
    if (byName === undefined) byName = setNodes[set] = labelsNode(context, labelSets[set]!).byName ??= new Map();
    const name = names[layout[2 * i]!]!;
    let id = byName.get(name);
    if (id === undefined) byName.set(name, (id = known.entry(known.labels(context, name, labelSets[set]!))));
    ids[i] = id;
  }
  context.shape = { labelSets, names, layout, ids };
  return ids;
}

function sameShape(shape: Shape, envelope: Envelope): boolean {
  const { layout, names, labelSets } = envelope;
  // Envelopes that carry one metadata section share its arrays (lib/envelope), so this is mostly identity checks.
  if (shape.layout === layout && shape.names === names && shape.labelSets === labelSets) return true;
  if (shape.layout.length !== layout.length || shape.names.length !== names.length || shape.labelSets.length !== labelSets.length) return false;
  if (shape.names !== names) for (let i = 0; i < names.length; i++) if (shape.names[i] !== names[i]) return false;
  if (shape.labelSets !== labelSets) for (let i = 0; i < labelSets.length; i++) if (!sameLabelSet(shape.labelSets[i]!, labelSets[i]!)) return false;
  if (shape.layout !== layout) for (let k = 0; k < layout.length; k++) if (shape.layout[k] !== layout[k]) return false;
  return true;
}

/** The same names with the same values, in the same order (the order decides the trie path). */
function sameLabelSet(a: Labels, b: Labels): boolean {
  const names = Object.keys(a);
  const other = Object.keys(b);
  if (names.length !== other.length) return false;
  for (let i = 0; i < names.length; i++) if (names[i] !== other[i] || a[names[i]!] !== b[names[i]!]) return false;
  return true;
}

/**
 * Label precedence: the grouping key (URL path) over the point's own labels (the Pushgateway's rule: path labels
 * override body labels) over static labels (like Prometheus' external_labels, they never replace a series' own).
 *
 * Points find their series without building their label set: by their envelope's context (grouping key and static
 * labels), then through a trie of their own labels, both kept across batches (KnownLabelSets) — or, when the
 * envelope is shaped like the context's last one, from that one's shape. The samples go into
 * columns, one row each, laid out series by series in label order: a first pass finds every point's series and
 * counts each series' samples, a second writes the rows. No object per sample, and a write request's samples are
 * consecutive rows.
 */
export function mergeEnvelopes(records: readonly DecodedRecord[]): MergeResult {
  known.trimBetweenBatches();
  const batch = ++lastBatch;
  let total = 0;
  for (const r of records) total += pointCount(r.envelope);
  // Per point, the slot of its series; per slot (a series of this batch, in order of first appearance), its sample
  // count here and its label set's id.
  const pointSlots = new Int32Array(total);
  const counts = new Int32Array(total);
  const slotIds = new Int32Array(total);
  let slots = 0;
  const families = new Map<string, MetricFamily>();
  // Envelopes that carry one metadata section share its families array: walk each array once.
  let lastFamilies: readonly MetricFamily[] | undefined;
  let p = 0;
  for (let e = 0; e < records.length; e++) {
    const { envelope } = records[e]!;
    if (envelope.families !== lastFamilies) {
      lastFamilies = envelope.families;
      for (let i = 0; i < lastFamilies.length; i++) if (!families.has(lastFamilies[i]!.name)) families.set(lastFamilies[i]!.name, lastFamilies[i]!);
    }
    const ids = seriesIds(known.context(envelope.group, envelope.labels), envelope);
    // Per-batch state by id, in arrays: most points then touch no object of their series at all.
    const { batchOf, slotOf } = known;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      let slot: number;
      if (batchOf[id] === batch) {
        slot = slotOf[id]!;
      } else {
        batchOf[id] = batch;
        slot = slotOf[id] = slots;
        slotIds[slots++] = id;
      }
      counts[slot] = counts[slot]! + 1;
      pointSlots[p++] = slot;
    }
  }

  const ordered = known.ordered(slotIds.subarray(0, slots));
  const next = new Int32Array(slots);
  let row = 0;
  const columns: MergedColumns = { values: new Float64Array(total), timestampsMs: new Float64Array(total), origins: new Int32Array(total) };
  const { labelsOf, metricNameOf, labelBytesOf, slotOf } = known;
  // Indexed, into an array made at its size: this runs once per batch, mostly before V8 optimises it.
  const series = new Array<MergedSeries>(slots);
  for (let i = 0; i < slots; i++) {
    const id = ordered[i]!;
    const slot = slotOf[id]!;
    const start = row;
    next[slot] = row;
    row += counts[slot]!;
    series[i] = { labels: labelsOf[id]!, columns, start, count: counts[slot]!, metricName: metricNameOf[id], labelBytes: labelBytesOf[id]! };
  }
  const { values, timestampsMs, origins } = columns;
  p = 0;
  for (let e = 0; e < records.length; e++) {
    const { index, envelope } = records[e]!;
    const { receivedAt, values: pointValues, timestampsMs: own } = envelope;
    for (let i = 0; i < pointValues.length; i++) {
      const slot = pointSlots[p++]!;
      const r = next[slot]!;
      next[slot] = r + 1;
      const value = pointValues[i]!;
      values[r] = typeof value === 'number' ? value : fromEnvelopeValue(value);
      timestampsMs[r] = own === undefined || Number.isNaN(own[i]) ? receivedAt : own[i]!;
      origins[r] = index;
    }
  }
  let superseded = 0;
  for (let i = 0; i < series.length; i++) superseded += orderSamples(series[i]!);
  return { series, families, superseded, samples: total };
}

function sameValue(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * Sorts a series' rows by time and keeps one per timestamp: an identical repeat (a redelivered message) is
 * dropped silently; a different value at the same millisecond keeps the later record's and counts the other as
 * superseded — Prometheus would refuse it anyway ("duplicate sample for timestamp"). Rows given up stay unused.
 */
function orderSamples(s: MergedSeries): number {
  const { values, timestampsMs, origins } = s.columns;
  const { start, count } = s;
  if (count < 2) return 0;
  let sorted = true;
  for (let r = start + 1; r < start + count; r++) {
    if (timestampsMs[r]! <= timestampsMs[r - 1]!) {
      sorted = false;
      break;
    }
  }
  if (sorted) return 0;
  // Rows in batch order on a tie, so the later record's sample is the one kept.
  const rows = Array.from({ length: count }, (_, i) => start + i).sort((a, b) => timestampsMs[a]! - timestampsMs[b]! || a - b);
  const v = rows.map((r) => values[r]!);
  const t = rows.map((r) => timestampsMs[r]!);
  const o = rows.map((r) => origins[r]!);
  let kept = 0;
  let superseded = 0;
  for (let i = 0; i < count; i++) {
    const last = start + kept - 1;
    if (kept > 0 && timestampsMs[last] === t[i]) {
      if (!sameValue(values[last]!, v[i]!)) superseded++;
      values[last] = v[i]!;
      origins[last] = o[i]!;
      continue;
    }
    values[start + kept] = v[i]!;
    timestampsMs[start + kept] = t[i]!;
    origins[start + kept] = o[i]!;
    kept++;
  }
  s.count = kept;
  return superseded;
}

/** `a` copied into an array twice its length. */
function grown(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(2 * a.length);
  b.set(a);
  return b;
}

function compareLabels(a: readonly Label[], b: readonly Label[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return x.name < y.name ? -1 : 1;
    if (x.value !== y.value) return x.value < y.value ? -1 : 1;
  }
  return a.length - b.length;
}

export interface RequestLimits {
  /** Samples per write request (Prometheus' `max_samples_per_send` defaults to 2000). */
  maxSamples: number;
  /** Estimated uncompressed bytes per write request. */
  maxBytes: number;
}

export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = Object.freeze({ maxSamples: 2000, maxBytes: 1024 * 1024 });

/** A write request to send, with the series it holds (to split it, and to know whose messages it concerns). */
export interface PlannedRequest {
  series: MergedSeries[];
  samples: number;
}

function labelBytes(labels: readonly Label[]): number {
  let n = 0;
  for (const l of labels) n += l.name.length + l.value.length + 6;
  return n;
}

function estimateBytes(s: MergedSeries): number {
  return 4 + (s.labelBytes ?? labelBytes(s.labels)) + s.count * 20;
}

/**
 * Packs series into as few requests as the limits allow. A series is never split across requests here (its samples
 * must arrive in order); one with more samples than the limit gets a request of its own.
 */
export function planRequests(series: readonly MergedSeries[], limits: RequestLimits): PlannedRequest[] {
  const out: PlannedRequest[] = [];
  let current: PlannedRequest = { series: [], samples: 0 };
  let bytes = 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    const b = estimateBytes(s);
    if (current.series.length > 0 && (current.samples + s.count > limits.maxSamples || bytes + b > limits.maxBytes)) {
      out.push(current);
      current = { series: [], samples: 0 };
      bytes = 0;
    }
    current.series.push(s);
    current.samples += s.count;
    bytes += b;
  }
  if (current.series.length > 0) out.push(current);
  return out;
}

/**
 * Halves a request to isolate what a receiver refused: by series, or a single series by time (older half first,
 * since the halves are sent in order). Returns undefined for one sample, which cannot be split.
 */
export function splitRequest(p: PlannedRequest): [PlannedRequest, PlannedRequest] | undefined {
  if (p.series.length > 1) {
    const mid = p.series.length >> 1;
    const a = p.series.slice(0, mid);
    const b = p.series.slice(mid);
    const count = (xs: MergedSeries[]) => xs.reduce((n, s) => n + s.count, 0);
    return [{ series: a, samples: count(a) }, { series: b, samples: count(b) }];
  }
  const s = p.series[0];
  if (!s || s.count < 2) return undefined;
  const mid = s.count >> 1;
  const part = (from: number, to: number): PlannedRequest => ({
    series: [{ labels: s.labels, columns: s.columns, start: s.start + from, count: to - from }],
    samples: to - from,
  });
  return [part(0, mid), part(mid, s.count)];
}

/** The batch index of the record each of a series' samples came from, in sample order. */
export function seriesOrigins(s: MergedSeries): number[] {
  return Array.from(s.columns.origins.subarray(s.start, s.start + s.count));
}

/** The records a request concerns. */
export function originsOf(p: PlannedRequest): Set<number> {
  const set = new Set<number>();
  for (const s of p.series) for (let r = s.start; r < s.start + s.count; r++) set.add(s.columns.origins[r]!);
  return set;
}

/** The remote-write message for a planned request, with the metadata of the families its series belong to. */
export function toWriteRequest(p: PlannedRequest, families: ReadonlyMap<string, MetricFamily>): WriteRequest {
  const metadata = new Map<string, MetricFamily>();
  // A request holds hundreds of series of a few dozen names: look each name up once.
  const seen = new Set<string>();
  for (let i = 0; i < p.series.length; i++) {
    const s = p.series[i]!;
    const name = s.metricName ?? metricName(s.labels);
    if (name === undefined || seen.has(name)) continue;
    seen.add(name);
    const f = familyOf(name, families);
    if (f) metadata.set(f.name, f);
  }
  return { timeseries: p.series, metadata: [...metadata.values()] };
}

function metricName(labels: readonly Label[]): string | undefined {
  for (let i = 0; i < labels.length; i++) if (labels[i]!.name === '__name__') return labels[i]!.value;
  return undefined;
}

