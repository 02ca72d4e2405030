/**
 * Remote-write 1.0 (`prometheus.WriteRequest`), https://prometheus.io/docs/specs/prw/remote_write_spec/:
 *
 *   WriteRequest   { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
 *   TimeSeries     { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label          { string name = 1; string value = 2; }
 *   Sample         { double value = 1; int64 timestamp = 2; }
 *   MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
 *
 * The spec reserves field 3 of WriteRequest for metadata; Prometheus' own `prompb/remote.proto` sends it there
 * and receivers (Prometheus, Mimir, VictoriaMetrics) read it, so we do the same.
 *
 * Fields holding their proto3 default (0, "", UNKNOWN) are left out, as every proto3 encoder does.
 */
import { sampleCount, type MetricFamily, type WriteRequest } from '../model/series.ts';
import { EncodedLabelSetCache, type LabelSetEncoding } from './label-set-cache.ts';
import { MAX_SAMPLE_FIELD_BYTES, METRIC_TYPE_NUMBER, writeSample } from './remote-write-common.ts';
import { snappyCompress } from './snappy.ts';
import {
  ProtoWriter,
  WIRE_LEN,
  WIRE_VARINT,
  fieldKey,
  lenFieldSize,
  uint32Size,
  utf8Length,
} from './protobuf-writer.ts';

/** Request headers for a remote-write 1.0 body (spec, Protocol). The transport adds `User-Agent`. */
export const REMOTE_WRITE_V1_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
});

const WRITE_REQUEST_TIMESERIES = fieldKey(1, WIRE_LEN);
const WRITE_REQUEST_METADATA = fieldKey(3, WIRE_LEN);
const TIMESERIES_LABELS = fieldKey(1, WIRE_LEN);
const LABEL_NAME = fieldKey(1, WIRE_LEN);
const LABEL_VALUE = fieldKey(2, WIRE_LEN);
const METADATA_TYPE = fieldKey(1, WIRE_VARINT);
const METADATA_FAMILY_NAME = fieldKey(2, WIRE_LEN);
const METADATA_HELP = fieldKey(4, WIRE_LEN);
const METADATA_UNIT = fieldKey(5, WIRE_LEN);

/** The `TimeSeries.labels` fields of a label set, encoded together. */
const labelFieldsEncoding: LabelSetEncoding = {
  size(labels) {
    let size = 0;
    for (let i = 0; i < labels.length; i++) {
      const { name, value } = labels[i]!;
      // Empty names and values are forbidden (spec, Labels); an empty value means "no such label" in Prometheus.
      if (name.length === 0 || value.length === 0) continue;
      size += lenFieldSize(lenFieldSize(utf8Length(name)) + lenFieldSize(utf8Length(value)));
    }
    return size;
  },
  write(labels, w) {
    for (let i = 0; i < labels.length; i++) {
      const { name, value } = labels[i]!;
      if (name.length === 0 || value.length === 0) continue;
      w.byte(TIMESERIES_LABELS);
      w.uint32(lenFieldSize(utf8Length(name)) + lenFieldSize(utf8Length(value)));
      w.byte(LABEL_NAME);
      w.string(name);
      w.byte(LABEL_VALUE);
      w.string(value);
    }
  },
};

// 32 MiB holds the label sets of some 70,000 series (about 400 bytes each, and their index entries); a busy deliver
// function (512 MB) meets fewer.
const labelFieldsCache = new EncodedLabelSetCache(labelFieldsEncoding, 32 * 1024 * 1024);

function metadataSize(family: MetricFamily): number {
  const type = METRIC_TYPE_NUMBER[family.type] ?? 0;
  let size = type === 0 ? 0 : 1 + uint32Size(type);
  if (family.name) size += lenFieldSize(utf8Length(family.name));
  if (family.help) size += lenFieldSize(utf8Length(family.help));
  if (family.unit) size += lenFieldSize(utf8Length(family.unit));
  return size;
}

function writeMetadata(w: ProtoWriter, family: MetricFamily, size: number): void {
  w.byte(WRITE_REQUEST_METADATA);
  w.uint32(size);
  const type = METRIC_TYPE_NUMBER[family.type] ?? 0;
  if (type !== 0) {
    w.byte(METADATA_TYPE);
    w.uint32(type);
  }
  if (family.name) {
    w.byte(METADATA_FAMILY_NAME);
    w.string(family.name);
  }
  if (family.help) {
    w.byte(METADATA_HELP);
    w.string(family.help);
  }
  if (family.unit) {
    w.byte(METADATA_UNIT);
    w.string(family.unit);
  }
}

/** What a sample usually takes (+0 value or timestamp aside): key, length, 9 bytes of value, 7 of timestamp. */
const TYPICAL_SAMPLE_FIELD_BYTES = 18;

let gatheredValues = new Float64Array(4096);
let gatheredTimestamps = new Float64Array(4096);
/** Above this many samples, the gathering arrays are made for the request and not kept. */
const GATHER_KEEP_MAX = 1 << 18;

/**
 * Writes the request into the label-set cache's room (`writer`), returning a view valid until the next request.
 * A first pass only reads: each series' label bytes and its samples' values and timestamps, gathered into flat
 * arrays. Its loads do not depend on each other, so the CPU overlaps their cache misses (the series, arrays and
 * samples of a merged batch lie all over the heap); the write pass then streams. Each series' length varint is
 * reserved from a guess and settled after its samples.
 */
function encodeIntoScratch(req: WriteRequest): Uint8Array {
  const { timeseries, metadata } = req;
  labelFieldsCache.trim();
  const labelIds = new Int32Array(timeseries.length);
  const counts = new Int32Array(timeseries.length);
  let total = 0;
  for (let s = 0; s < timeseries.length; s++) total += sampleCount(timeseries[s]!);
  if (gatheredValues.length < total && total <= GATHER_KEEP_MAX) {
    gatheredValues = new Float64Array(Math.min(GATHER_KEEP_MAX, total * 2));
    gatheredTimestamps = new Float64Array(gatheredValues.length);
  }
  const values = total <= gatheredValues.length ? gatheredValues : new Float64Array(total);
  const timestamps = total <= gatheredTimestamps.length ? gatheredTimestamps : new Float64Array(total);
  labelFieldsCache.idsOf(timeseries, labelIds);
  let bound = 0;
  let k = 0;
  for (let s = 0; s < timeseries.length; s++) {
    const series = timeseries[s]!;
    const id = labelIds[s]!;
    const count = sampleCount(series);
    counts[s] = count;
    bound += 6 + labelFieldsCache.length(id) + MAX_SAMPLE_FIELD_BYTES * count;
    if ('samples' in series) {
      for (let i = 0; i < count; i++, k++) {
        const sample = series.samples[i]!;
        values[k] = sample.value;
        timestamps[k] = sample.timestampMs;
      }
    } else {
      const { columns, start } = series;
      for (let i = start; i < start + count; i++, k++) {
        values[k] = columns.values[i]!;
        timestamps[k] = columns.timestampsMs[i]!;
      }
    }
  }
  const metadataSizes = metadata.map(metadataSize);
  for (const m of metadataSizes) bound += lenFieldSize(m);

  const w = labelFieldsCache.writer(bound);
  k = 0;
  for (let s = 0; s < timeseries.length; s++) {
    const id = labelIds[s]!;
    const count = counts[s]!;
    const guess = labelFieldsCache.length(id) + TYPICAL_SAMPLE_FIELD_BYTES * count;
    w.byte(WRITE_REQUEST_TIMESERIES);
    const at = w.beginLength(guess);
    labelFieldsCache.copyTo(id, w);
    for (const end = k + count; k < end; k++) writeSample(w, values[k]!, timestamps[k]!);
    w.endLength(at, guess);
  }
  for (let i = 0; i < metadata.length; i++) writeMetadata(w, metadata[i]!, metadataSizes[i]!);
  return w.written();
}

/**
 * Encodes a write request as remote-write 1.0 protobuf bytes (uncompressed).
 *
 * Trusts the caller for what the deliver merge already guarantees (spec, Labels and Ordering): labels sorted
 * by name with `__name__` among them and no name twice, samples of a series in time order, integral
 * millisecond timestamps. Labels with an empty name or value are left out, as the spec forbids them.
 * A series' `labels` array must not change once encoded: its bytes are kept, by identity among others.
 */
export function encodeWriteRequestV1(req: WriteRequest): Uint8Array {
  return encodeIntoScratch(req).slice();
}

/** Encodes a write request as a remote-write 1.0 body: protobuf (as `encodeWriteRequestV1`), then snappy. */
export function compressWriteRequestV1(req: WriteRequest): Uint8Array {
  return snappyCompress(encodeIntoScratch(req));
}
