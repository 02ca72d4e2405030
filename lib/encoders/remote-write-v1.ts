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
import type { Label, MetricFamily, WriteRequest } from '../model/series.ts';
import { EncodedLabelSetCache } from './label-set-cache.ts';
import { METRIC_TYPE_NUMBER, samplesSize, writeSamples } from './remote-write-common.ts';
import { snappyCompress } from './snappy.ts';
import {
  ProtoWriter,
  ScratchBuffer,
  allocBytes,
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
function encodeLabelFields(labels: readonly Label[]): Uint8Array {
  let size = 0;
  for (let i = 0; i < labels.length; i++) {
    const { name, value } = labels[i]!;
    // Empty names and values are forbidden (spec, Labels); an empty value means "no such label" in Prometheus.
    if (name.length === 0 || value.length === 0) continue;
    size += lenFieldSize(lenFieldSize(utf8Length(name)) + lenFieldSize(utf8Length(value)));
  }
  const w = new ProtoWriter(allocBytes(size), true);
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
  return w.finish();
}

const labelFieldsCache = new EncodedLabelSetCache(encodeLabelFields, 8 * 1024 * 1024);

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

function encode(req: WriteRequest, buffer: (size: number) => Uint8Array): Uint8Array {
  const { timeseries, metadata } = req;

  // Sizing pass; the label fields are encoded (or found) here and copied in the write pass.
  const labelFields = new Array<Uint8Array>(timeseries.length);
  const seriesSizes = new Int32Array(timeseries.length);
  let size = 0;
  for (let s = 0; s < timeseries.length; s++) {
    const { labels, samples } = timeseries[s]!;
    const fields = labelFieldsCache.get(labels);
    labelFields[s] = fields;
    const seriesSize = fields.length + samplesSize(samples);
    seriesSizes[s] = seriesSize;
    size += lenFieldSize(seriesSize);
  }
  const metadataSizes = metadata.map(metadataSize);
  for (const m of metadataSizes) size += lenFieldSize(m);

  const w = new ProtoWriter(buffer(size), true);
  for (let s = 0; s < timeseries.length; s++) {
    w.byte(WRITE_REQUEST_TIMESERIES);
    w.uint32(seriesSizes[s]!);
    w.raw(labelFields[s]!);
    writeSamples(w, timeseries[s]!.samples);
  }
  for (let i = 0; i < metadata.length; i++) writeMetadata(w, metadata[i]!, metadataSizes[i]!);
  return w.finish();
}

/**
 * Encodes a write request as remote-write 1.0 protobuf bytes (uncompressed).
 *
 * Trusts the caller for what the deliver merge already guarantees (spec, Labels and Ordering): labels sorted
 * by name with `__name__` among them and no name twice, samples of a series in time order, integral
 * millisecond timestamps. Labels with an empty name or value are left out, as the spec forbids them.
 */
export function encodeWriteRequestV1(req: WriteRequest): Uint8Array {
  return encode(req, allocBytes);
}

const protobufScratch = new ScratchBuffer();
const scratchView = (size: number): Uint8Array => protobufScratch.view(size);

/** Encodes a write request as a remote-write 1.0 body: protobuf (as `encodeWriteRequestV1`), then snappy. */
export function compressWriteRequestV1(req: WriteRequest): Uint8Array {
  return snappyCompress(encode(req, scratchView));
}
