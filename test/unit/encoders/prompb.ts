/**
 * The remote-write schemas as protobufjs types: the independent reference our hand-written encoders are
 * checked against. Written from the specs' proto definitions (remote-write 1.0 plus Prometheus' metadata field;
 * remote-write 2.0 `io.prometheus.write.v2`), keeping snake_case field names.
 */
import protobuf from 'protobufjs';
import { samplesOf, type MetricType, type WriteRequest } from '../../../lib/model/series.ts';

const V1_PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest {
  repeated TimeSeries timeseries = 1;
  reserved 2;
  repeated MetricMetadata metadata = 3;
}
message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
}
message Label {
  string name = 1;
  string value = 2;
}
message Sample {
  double value = 1;
  int64 timestamp = 2;
}
message MetricMetadata {
  enum MetricType {
    UNKNOWN = 0; COUNTER = 1; GAUGE = 2; HISTOGRAM = 3; GAUGEHISTOGRAM = 4; SUMMARY = 5; INFO = 6; STATESET = 7;
  }
  MetricType type = 1;
  string metric_family_name = 2;
  string help = 4;
  string unit = 5;
}
`;

const V2_PROTO = `
syntax = "proto3";
package io.prometheus.write.v2;
message Request {
  reserved 1 to 3;
  repeated string symbols = 4;
  repeated TimeSeries timeseries = 5;
}
message TimeSeries {
  repeated uint32 labels_refs = 1;
  repeated Sample samples = 2;
  Metadata metadata = 5;
}
message Sample {
  double value = 1;
  int64 timestamp = 2;
  int64 start_timestamp = 3;
}
message Metadata {
  enum MetricType {
    METRIC_TYPE_UNSPECIFIED = 0; METRIC_TYPE_COUNTER = 1; METRIC_TYPE_GAUGE = 2; METRIC_TYPE_HISTOGRAM = 3;
    METRIC_TYPE_GAUGEHISTOGRAM = 4; METRIC_TYPE_SUMMARY = 5; METRIC_TYPE_INFO = 6; METRIC_TYPE_STATESET = 7;
  }
  MetricType type = 1;
  uint32 help_ref = 3;
  uint32 unit_ref = 4;
}
`;

/** Parsed and resolved: protobufjs 7 applies proto3 defaults such as packed repeated scalars only once resolved. */
function schema(proto: string, type: string): protobuf.Type {
  return protobuf.parse(proto, { keepCase: true }).root.resolveAll().lookupType(type);
}

export const V1WriteRequest = schema(V1_PROTO, 'prometheus.WriteRequest');
export const V2Request = schema(V2_PROTO, 'io.prometheus.write.v2.Request');

/** Plain-object form of a decoded message: int64 as numbers, enums as names, defaults filled in. */
export function decodeToObject(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
  return type.toObject(type.decode(bytes), { longs: Number, enums: String, defaults: true, arrays: true });
}

/** Encodes a plain object with protobufjs. */
export function encodeWithProtobufjs(type: protobuf.Type, plain: Record<string, unknown>): Uint8Array {
  return type.encode(type.fromObject(plain)).finish();
}

const V1_TYPE_NAME: Record<MetricType, string> = {
  unknown: 'UNKNOWN',
  counter: 'COUNTER',
  gauge: 'GAUGE',
  histogram: 'HISTOGRAM',
  gaugehistogram: 'GAUGEHISTOGRAM',
  summary: 'SUMMARY',
  info: 'INFO',
  stateset: 'STATESET',
};

/** proto3 leaves out fields holding their default; protobufjs writes any field present, so drop them here. */
function withoutDefaults(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(
      ([, v]) =>
        v !== undefined &&
        v !== '' &&
        v !== 'UNKNOWN' &&
        v !== 'METRIC_TYPE_UNSPECIFIED' &&
        !(typeof v === 'number' && Object.is(v, 0)),
    ),
  );
}

/** The same write request as a protobufjs plain object for remote-write 1.0 (empty labels left out). */
export function v1PlainObject(req: WriteRequest): Record<string, unknown> {
  return {
    timeseries: req.timeseries.map((series) => ({
      labels: series.labels.filter((l) => l.name !== '' && l.value !== ''),
      samples: samplesOf(series).map((s) => withoutDefaults({ value: s.value, timestamp: s.timestampMs })),
    })),
    metadata: req.metadata.map((m) =>
      withoutDefaults({ type: V1_TYPE_NAME[m.type], metric_family_name: m.name, help: m.help, unit: m.unit }),
    ),
  };
}

/**
 * The same write request as a protobufjs plain object for remote-write 2.0, interned independently of the
 * encoder: symbols by first use (labels, then help and unit), family by exact name or a known suffix.
 */
export function v2PlainObject(req: WriteRequest): Record<string, unknown> {
  const symbols = [''];
  const ref = (s: string) => {
    let i = symbols.indexOf(s);
    if (i < 0) i = symbols.push(s) - 1;
    return i;
  };
  const families = new Map(req.metadata.map((f) => [f.name, f]));
  const familyOf = (name: string) =>
    families.get(name) ??
    ['_total', '_sum', '_count', '_bucket', '_info', '_created']
      .filter((suffix) => name.endsWith(suffix))
      .map((suffix) => families.get(name.slice(0, -suffix.length)))
      .find((f) => f !== undefined);
  const timeseries = req.timeseries.map((series) => {
    const labels_refs = series.labels
      .filter((l) => l.name !== '' && l.value !== '')
      .flatMap((l) => [ref(l.name), ref(l.value)]);
    const name = series.labels.find((l) => l.name === '__name__')?.value;
    const family = name === undefined ? undefined : familyOf(name);
    const metadata = family
      ? withoutDefaults({
          type: 'METRIC_TYPE_' + V1_TYPE_NAME[family.type].replace('UNKNOWN', 'UNSPECIFIED'),
          help_ref: family.help ? ref(family.help) : 0,
          unit_ref: family.unit ? ref(family.unit) : 0,
        })
      : {};
    return {
      labels_refs,
      samples: samplesOf(series).map((s) => withoutDefaults({ value: s.value, timestamp: s.timestampMs })),
      ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    };
  });
  return { symbols, timeseries };
}

export interface ResolvedV2Series {
  labels: Record<string, string>;
  samples: { value: number; timestamp: number }[];
  metadata: { type: string; help: string; unit: string } | null;
}

/** Decodes a 2.0 request and resolves its symbol refs, for readable assertions. */
export function decodeV2(bytes: Uint8Array): { symbols: string[]; series: ResolvedV2Series[] } {
  const decoded = decodeToObject(V2Request, bytes) as {
    symbols: string[];
    timeseries: {
      labels_refs: number[];
      samples: { value: number; timestamp: number; start_timestamp: number }[];
      metadata: { type: string; help_ref: number; unit_ref: number } | null;
    }[];
  };
  const { symbols } = decoded;
  const symbol = (ref: number) => {
    const s = symbols[ref];
    if (s === undefined) throw new Error(`ref ${ref} is outside the ${symbols.length} symbols`);
    return s;
  };
  const series = decoded.timeseries.map((ts) => {
    const labels: Record<string, string> = {};
    for (let i = 0; i < ts.labels_refs.length; i += 2) labels[symbol(ts.labels_refs[i]!)] = symbol(ts.labels_refs[i + 1]!);
    return {
      labels,
      samples: ts.samples.map(({ value, timestamp }) => ({ value, timestamp })),
      metadata: ts.metadata && {
        type: ts.metadata.type,
        help: symbol(ts.metadata.help_ref),
        unit: symbol(ts.metadata.unit_ref),
      },
    };
  });
  return { symbols, series };
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}
