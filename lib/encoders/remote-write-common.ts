/**
 * What remote-write 1.0 and 2.0 share on the wire: the metric type numbers and the `Sample` message
 * (`double value = 1; int64 timestamp = 2;`), which both carry as `TimeSeries.samples = 2`.
 *
 * Fields holding their proto3 default (0, "", the zero enum) are left out, as every proto3 encoder does; a
 * negative zero value is kept because its bits differ from the default.
 */
import type { AnyTimeSeries, MetricType } from '../model/series.ts';
import { ProtoWriter, WIRE_I64, WIRE_LEN, WIRE_VARINT, fieldKey, int64Size, lenFieldSize } from './protobuf-writer.ts';

/**
 * 1.0 `MetricMetadata.MetricType` (Prometheus prompb/types.proto) and 2.0 `Metadata.MetricType` use the same
 * numbers; 0 is UNKNOWN in one and METRIC_TYPE_UNSPECIFIED in the other.
 */
export const METRIC_TYPE_NUMBER: Readonly<Record<MetricType, number>> = Object.freeze({
  unknown: 0,
  counter: 1,
  gauge: 2,
  histogram: 3,
  gaugehistogram: 4,
  summary: 5,
  info: 6,
  stateset: 7,
});

const TIMESERIES_SAMPLES = fieldKey(2, WIRE_LEN);
const SAMPLE_VALUE = fieldKey(1, WIRE_I64);
const SAMPLE_TIMESTAMP = fieldKey(2, WIRE_VARINT);

/** A proto3 double equal to the default is +0 only; -0 has other bits. */
function isDefaultDouble(v: number): boolean {
  return v === 0 && 1 / v > 0;
}

function sampleSize(value: number, timestampMs: number): number {
  return (isDefaultDouble(value) ? 0 : 9) + (timestampMs === 0 ? 0 : 1 + int64Size(timestampMs));
}

/** Bytes of the `TimeSeries.samples` fields of a series. */
export function samplesSize(series: AnyTimeSeries): number {
  let size = 0;
  if ('samples' in series) {
    const { samples } = series;
    for (let i = 0; i < samples.length; i++) size += lenFieldSize(sampleSize(samples[i]!.value, samples[i]!.timestampMs));
  } else {
    const { columns, start, count } = series;
    for (let i = start; i < start + count; i++) size += lenFieldSize(sampleSize(columns.values[i]!, columns.timestampsMs[i]!));
  }
  return size;
}

/** At most 20 bytes (9 for the value, 11 for the timestamp): a `Sample`'s length varint is always one byte. */
export const MAX_SAMPLE_FIELD_BYTES = 2 + 20;

/** Writes one `TimeSeries.samples` field. */
export function writeSample(w: ProtoWriter, value: number, timestampMs: number): void {
  w.byte(TIMESERIES_SAMPLES);
  // The one-byte length is filled in after the fields, which saves sizing the sample first.
  const at = w.pos++;
  if (!isDefaultDouble(value)) {
    w.byte(SAMPLE_VALUE);
    w.double(value);
  }
  if (timestampMs !== 0) {
    w.byte(SAMPLE_TIMESTAMP);
    w.int64(timestampMs);
  }
  w.buf[at] = w.pos - at - 1;
}

/** Writes the `TimeSeries.samples` fields of a series (as many bytes as `samplesSize` says). */
export function writeSamples(w: ProtoWriter, series: AnyTimeSeries): void {
  if ('samples' in series) {
    const { samples } = series;
    for (let i = 0; i < samples.length; i++) writeSample(w, samples[i]!.value, samples[i]!.timestampMs);
  } else {
    const { columns, start, count } = series;
    for (let i = start; i < start + count; i++) writeSample(w, columns.values[i]!, columns.timestampsMs[i]!);
  }
}
