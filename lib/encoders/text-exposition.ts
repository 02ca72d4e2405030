/**
 * Prometheus text exposition format 0.0.4, the body the Pushgateway takes
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details).
 */
import type { Labels, MetricFamily, MetricType } from '../model/series.ts';
import { LabelTrie, TRIE_NODE_BYTES, type TrieNode } from './label-trie.ts';
import { ByteArena } from './byte-arena.ts';
import { allocBytes, grownBytes } from './protobuf-writer.ts';

/** `Content-Type` of a text exposition body. */
export const TEXT_EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** One sample line: the full sample name (`x`, `x_total`, `x_sum`, `x_bucket`…), its labels and value. */
export interface ExpositionSample {
  name: string;
  labels: Labels;
  value: number;
}

/** A metric family with the samples to expose under it. */
export interface ExpositionFamily {
  family: MetricFamily;
  samples: ExpositionSample[];
}

/**
 * The text format knows counter, gauge, histogram, summary and untyped only. Info and state-set series are
 * gauges of value 1 (as client libraries expose them in 0.0.4); a gauge histogram's `_gsum`/`_gcount` samples
 * do not fit the histogram convention, so it goes out untyped.
 */
const TEXT_TYPE: Readonly<Record<MetricType, string>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  info: 'gauge',
  stateset: 'gauge',
  gaugehistogram: 'untyped',
  unknown: 'untyped',
};

/** A HELP/TYPE header and the samples under it, possibly gathered from several families. */
interface Block {
  name: string;
  family: MetricFamily;
  chunks: ExpositionSample[][];
}

/**
 * Only summaries and histograms spread one family over several sample names (`x`, `x_sum`, `x_count`,
 * `x_bucket`); for every other type, the parser takes each sample name as a family of its own, so a HELP/TYPE
 * line must name the sample itself (a counter family `x` with samples `x_total` is headed `x_total`).
 */
function usesFamilyName(family: MetricFamily): boolean {
  return family.type === 'summary' || family.type === 'histogram';
}

/**
 * Gathers the samples under the header names they need, in order of first appearance: all lines of a metric
 * must form one group with HELP/TYPE once (exposition formats, "Grouping and sorting"), even when the caller
 * passes two families of one name.
 */
function blocksOf(families: readonly ExpositionFamily[]): Iterable<Block> {
  const blocks = new Map<string, Block>();
  const add = (name: string, family: MetricFamily, chunk: ExpositionSample[]) => {
    const block = blocks.get(name);
    if (block) block.chunks.push(chunk);
    else blocks.set(name, { name, family, chunks: [chunk] });
  };
  for (const { family, samples } of families) {
    if (samples.length === 0) continue;
    if (usesFamilyName(family) || samples.every((s) => s.name === family.name)) {
      add(family.name, family, samples);
      continue;
    }
    const byName = new Map<string, ExpositionSample[]>();
    for (const s of samples) {
      const group = byName.get(s.name);
      if (group) group.push(s);
      else byName.set(s.name, [s]);
    }
    for (const [name, group] of byName) add(name, family, group);
  }
  return blocks.values();
}

/**
 * Label values escape `\`, `"` and line feed (exposition formats, "Text format details"). Three native
 * `indexOf` scans are markedly faster than a char loop on the short values that need nothing.
 */
function escapeLabelValue(s: string): string {
  if (s.indexOf('\\') === -1 && s.indexOf('"') === -1 && s.indexOf('\n') === -1) return s;
  return s.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

/** HELP text escapes `\` and line feed only. */
function escapeHelp(s: string): string {
  if (s.indexOf('\\') === -1 && s.indexOf('\n') === -1) return s;
  return s.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/**
 * A sample value as Go's `ParseFloat` reads it. JavaScript's number-to-string is the shortest string that
 * round-trips, with no exponent for integers below 1e21; the non-finite values have their own spellings.
 */
export function formatSampleValue(v: number): string {
  if (Number.isFinite(v)) return '' + v;
  return v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}

/**
 * `name{a="1",b="2"} `, label names in sorted order, empty values left out (an empty value means no label).
 */
function renderSeries(name: string, names: readonly string[], labels: Labels): string {
  // Joined rather than concatenated: `join` gives a flat string, where `+` would keep a rope of every piece,
  // walked again each time a body holding it is flattened for sending.
  const parts = [name];
  for (const label of names) {
    const value = labels[label]!;
    if (value === '') continue;
    parts.push(parts.length === 1 ? '{' : ',', label, '="', escapeLabelValue(value), '"');
  }
  parts.push(parts.length === 1 ? ' ' : '} ');
  return parts.join('');
}

/**
 * The rendered `name{labels} ` of every series met, as UTF-8 bytes in one arena, kept across calls and found
 * through a trie of its name and label pairs: the Pushgateway gets the same series push after push, and copying a
 * series' bytes is several times cheaper than escaping, joining and encoding its labels again. Bounded: dropped
 * whole, between calls, once it holds `SERIES_TEXT_MAX_BYTES`.
 */
const seriesText = new LabelTrie<number>();
const seriesBytes = new ByteArena();
const SERIES_TEXT_MAX_BYTES = 16 * 1024 * 1024;

function trimSeriesText(): void {
  if (seriesBytes.used + seriesText.nodes * TRIE_NODE_BYTES > SERIES_TEXT_MAX_BYTES) {
    seriesText.clear();
    seriesBytes.clear();
  }
}

/** The id of a series' rendered bytes. */
function seriesPrefix(name: string, labels: Labels): number {
  let node = seriesText.step(seriesText.root, '__name__', name);
  let previous = '';
  // for-in walks the names without allocating an array; label names are never integer-like, so it yields them
  // in insertion order, and only a set not inserted in order pays for a sort.
  for (const label in labels) {
    if (label < previous) return unsortedSeriesPrefix(name, labels);
    previous = label;
    const value = labels[label]!;
    if (value !== '') node = seriesText.step(node, label, value);
  }
  return node.payload ?? keep(node, renderSeries(name, Object.keys(labels), labels));
}

function unsortedSeriesPrefix(name: string, labels: Labels): number {
  const names = Object.keys(labels).sort();
  let node = seriesText.step(seriesText.root, '__name__', name);
  for (const label of names) {
    const value = labels[label]!;
    if (value !== '') node = seriesText.step(node, label, value);
  }
  return node.payload ?? keep(node, renderSeries(name, names, labels));
}

function keep(node: TrieNode<number>, text: string): number {
  const id = seriesBytes.add(Buffer.byteLength(text));
  utf8.encodeInto(text, seriesBytes.view(id));
  return (node.payload = id);
}

const utf8 = new TextEncoder();

/** Appends bytes to one reused buffer, grown as needed. */
class BodyWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  ensure(bytes: number): void {
    this.buf = grownBytes(this.buf, this.pos, this.pos + bytes);
  }

  /** Any text, as UTF-8. */
  text(s: string): void {
    this.ensure(3 * s.length);
    this.pos += utf8.encodeInto(s, this.buf.subarray(this.pos)).written;
  }

  /** Text known to be ASCII (sample values), char by char: cheaper than an encoder call for a dozen chars. */
  ascii(s: string): void {
    this.ensure(s.length);
    const { buf } = this;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  series(id: number): void {
    const bytes = seriesBytes.view(id);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
}

let scratch = allocBytes(64 * 1024);
const MAX_KEPT_SCRATCH_BYTES = 16 * 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * Encodes families as a text exposition body (format 0.0.4) in UTF-8, the bytes sent: per metric a `# HELP` line
 * (when the family has help text), a `# TYPE` line, then one line per sample, families in the order given and
 * labels sorted by name. Samples carry no timestamps: the Pushgateway rejects pushes that have them. Families
 * without samples are left out. Written as bytes rather than built as a string: a string of 30,000 concatenated
 * pieces is a rope that has to be flattened and encoded again before sending, a third of the encoder's time.
 */
export function encodeTextExposition(families: readonly ExpositionFamily[]): Uint8Array {
  trimSeriesText();
  const w = new BodyWriter(scratch);
  for (const { name, family, chunks } of blocksOf(families)) {
    if (family.help) w.text('# HELP ' + name + ' ' + escapeHelp(family.help) + '\n');
    w.text('# TYPE ' + name + ' ' + (TEXT_TYPE[family.type] ?? 'untyped') + '\n');
    for (const samples of chunks) {
      for (let i = 0; i < samples.length; i++) {
        const { name: sampleName, labels, value } = samples[i]!;
        w.series(seriesPrefix(sampleName, labels));
        w.ascii(formatSampleValue(value));
        w.byte(NEWLINE);
      }
    }
  }
  // The buffer is kept for the next body (unless one huge body grew it), and the caller gets its own copy: a request
  // may still be sending it.
  const body = w.buf.slice(0, w.pos);
  scratch = w.buf.length <= MAX_KEPT_SCRATCH_BYTES ? w.buf : allocBytes(64 * 1024);
  return body;
}
