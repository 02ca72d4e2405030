/**
 * Remote-write 2.0 (`io.prometheus.write.v2.Request`), https://prometheus.io/docs/specs/prw/remote_write_spec_2_0/:
 *
 *   Request    { repeated string symbols = 4; repeated TimeSeries timeseries = 5; }
 *   TimeSeries { repeated uint32 labels_refs = 1; repeated Sample samples = 2; Metadata metadata = 5; }
 *   Sample     { double value = 1; int64 timestamp = 2; }
 *   Metadata   { MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; }
 *
 * Every string is interned in `symbols`, which starts with "" (spec, Symbols); `labels_refs` holds name/value
 * index pairs, packed as proto3 does with repeated scalars. Histograms, exemplars and start timestamps are not
 * part of our model and never written (the last revision of the spec moved the start timestamp from
 * `TimeSeries` field 6, now reserved, to `Sample` field 3).
 */
import { familiesByName, familyOf } from '../model/families.ts';
import type { AnyTimeSeries, MetricFamily, WriteRequest } from '../model/series.ts';
import {
  ProtoWriter,
  ScratchBuffer,
  WIRE_LEN,
  WIRE_VARINT,
  allocBytes,
  encodeAssumingAscii,
  fieldKey,
  lenFieldSize,
  stringBytes,
  uint32Size,
} from './protobuf-writer.ts';
import { METRIC_TYPE_NUMBER, samplesSize, writeSamples } from './remote-write-common.ts';
import { snappyCompress } from './snappy.ts';

/** Request headers for a remote-write 2.0 body (spec, Protocol). The transport adds `User-Agent`. */
export const REMOTE_WRITE_V2_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
  'X-Prometheus-Remote-Write-Version': '2.0.0',
});

const REQUEST_SYMBOLS = fieldKey(4, WIRE_LEN);
const REQUEST_TIMESERIES = fieldKey(5, WIRE_LEN);
const TIMESERIES_LABELS_REFS = fieldKey(1, WIRE_LEN);
const TIMESERIES_METADATA = fieldKey(5, WIRE_LEN);
const METADATA_TYPE = fieldKey(1, WIRE_VARINT);
const METADATA_HELP_REF = fieldKey(3, WIRE_VARINT);
const METADATA_UNIT_REF = fieldKey(4, WIRE_VARINT);

/** A family's `Metadata` message, its strings already interned. */
interface SeriesMetadata {
  type: number;
  helpRef: number;
  unitRef: number;
  size: number;
}

/** The string table of one request: each distinct string once, "" first. */
class Symbols {
  readonly list: string[] = [''];
  private readonly refs = new Map<string, number>([['', 0]]);

  ref(s: string): number {
    let ref = this.refs.get(s);
    if (ref === undefined) {
      ref = this.list.length;
      this.list.push(s);
      this.refs.set(s, ref);
    }
    return ref;
  }
}

function metadataMessage(family: MetricFamily, symbols: Symbols): SeriesMetadata | undefined {
  const type = METRIC_TYPE_NUMBER[family.type] ?? 0;
  const helpRef = family.help ? symbols.ref(family.help) : 0;
  const unitRef = family.unit ? symbols.ref(family.unit) : 0;
  const size =
    (type === 0 ? 0 : 1 + uint32Size(type)) +
    (helpRef === 0 ? 0 : 1 + uint32Size(helpRef)) +
    (unitRef === 0 ? 0 : 1 + uint32Size(unitRef));
  return size === 0 ? undefined : { type, helpRef, unitRef, size };
}

function metricName(series: AnyTimeSeries): string | undefined {
  const { labels } = series;
  for (let i = 0; i < labels.length; i++) if (labels[i]!.name === '__name__') return labels[i]!.value;
  return undefined;
}

/** Everything about a request except the byte lengths of its symbols, which each write pass sizes itself. */
interface Interned {
  symbols: string[];
  /** Label refs of all series, back to back. */
  refs: Uint32Array;
  /** Per series: how many refs, their packed size, its metadata, and its message size. */
  refCounts: Int32Array;
  refBytes: Int32Array;
  metadata: (SeriesMetadata | undefined)[];
  seriesSizes: Int32Array;
}

function intern(req: WriteRequest): Interned {
  const { timeseries } = req;
  const symbols = new Symbols();
  const families = familiesByName(req.metadata);
  const metadataByName = new Map<string, SeriesMetadata | undefined>();
  let refs = new Uint32Array(64);
  let n = 0;
  const refCounts = new Int32Array(timeseries.length);
  const refBytes = new Int32Array(timeseries.length);
  const seriesSizes = new Int32Array(timeseries.length);
  const metadata = new Array<SeriesMetadata | undefined>(timeseries.length);

  for (let s = 0; s < timeseries.length; s++) {
    const series = timeseries[s]!;
    const { labels } = series;
    if (refs.length < n + 2 * labels.length) {
      const grown = new Uint32Array(Math.max(refs.length * 2, n + 2 * labels.length));
      grown.set(refs);
      refs = grown;
    }
    const start = n;
    let packed = 0;
    for (let i = 0; i < labels.length; i++) {
      const { name, value } = labels[i]!;
      // Empty names and values are forbidden (spec, Series Labels).
      if (name.length === 0 || value.length === 0) continue;
      const nameRef = symbols.ref(name);
      const valueRef = symbols.ref(value);
      refs[n++] = nameRef;
      refs[n++] = valueRef;
      packed += uint32Size(nameRef) + uint32Size(valueRef);
    }
    refCounts[s] = n - start;
    refBytes[s] = packed;

    const name = metricName(series);
    let meta: SeriesMetadata | undefined;
    if (name !== undefined) {
      if (metadataByName.has(name)) {
        meta = metadataByName.get(name);
      } else {
        const family = familyOf(name, families);
        meta = family && metadataMessage(family, symbols);
        metadataByName.set(name, meta);
      }
    }
    metadata[s] = meta;

    seriesSizes[s] =
      (packed === 0 ? 0 : lenFieldSize(packed)) + samplesSize(series) + (meta ? lenFieldSize(meta.size) : 0);
  }
  return { symbols: symbols.list, refs, refCounts, refBytes, metadata, seriesSizes };
}

/** Sizes the whole request (symbols as `exact` says) and writes it. */
function writePass(
  req: WriteRequest,
  interned: Interned,
  exact: boolean,
  buffer: (size: number) => Uint8Array,
): ProtoWriter {
  const { symbols, refs, refCounts, refBytes, metadata, seriesSizes } = interned;
  let size = 0;
  for (let i = 0; i < symbols.length; i++) size += lenFieldSize(stringBytes(symbols[i]!, exact));
  for (let s = 0; s < seriesSizes.length; s++) size += lenFieldSize(seriesSizes[s]!);

  const w = new ProtoWriter(buffer(size), exact);
  for (let i = 0; i < symbols.length; i++) {
    w.byte(REQUEST_SYMBOLS);
    w.string(symbols[i]!);
  }
  let r = 0;
  for (let s = 0; s < seriesSizes.length; s++) {
    w.byte(REQUEST_TIMESERIES);
    w.uint32(seriesSizes[s]!);
    if (refBytes[s] !== 0) {
      w.byte(TIMESERIES_LABELS_REFS);
      w.uint32(refBytes[s]!);
      for (const end = r + refCounts[s]!; r < end; r++) w.uint32(refs[r]!);
    }
    writeSamples(w, req.timeseries[s]!);
    const meta = metadata[s];
    if (meta) {
      w.byte(TIMESERIES_METADATA);
      w.uint32(meta.size);
      if (meta.type !== 0) {
        w.byte(METADATA_TYPE);
        w.uint32(meta.type);
      }
      if (meta.helpRef !== 0) {
        w.byte(METADATA_HELP_REF);
        w.uint32(meta.helpRef);
      }
      if (meta.unitRef !== 0) {
        w.byte(METADATA_UNIT_REF);
        w.uint32(meta.unitRef);
      }
    }
  }
  return w;
}

function encode(req: WriteRequest, buffer: (size: number) => Uint8Array): Uint8Array {
  const interned = intern(req);
  return encodeAssumingAscii((exact) => writePass(req, interned, exact, buffer));
}

/**
 * Encodes a write request as remote-write 2.0 protobuf bytes (uncompressed).
 *
 * Symbols are numbered in order of first use: per series its label names and values, then its family's help
 * and unit. Each series carries the metadata of its family in `req.metadata` (`familyOf`: the exact name, else
 * the name without a `_total`, `_sum`, `_count`, `_bucket`, `_info` or `_created` suffix), or none when it has
 * no family. As for 1.0, the caller guarantees sorted labels and time-ordered samples; labels with an empty
 * name or value are left out.
 */
export function encodeWriteRequestV2(req: WriteRequest): Uint8Array {
  return encode(req, allocBytes);
}

const protobufScratch = new ScratchBuffer();
const scratchView = (size: number): Uint8Array => protobufScratch.view(size);

/** Encodes a write request as a remote-write 2.0 body: protobuf (as `encodeWriteRequestV2`), then snappy. */
export function compressWriteRequestV2(req: WriteRequest): Uint8Array {
  return snappyCompress(encode(req, scratchView));
}
