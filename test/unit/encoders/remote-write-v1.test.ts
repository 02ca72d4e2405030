import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compress, uncompress } from 'snappyjs';
import {
  REMOTE_WRITE_V1_HEADERS,
  compressWriteRequestV1,
  encodeWriteRequestV1,
} from '../../../lib/encoders/remote-write-v1.ts';
import type { TimeSeries, WriteRequest } from '../../../lib/model/series.ts';
import { GOLDEN_WRITE_REQUEST } from './golden-requests.ts';
import { readGoldenHex } from './golden.ts';
import { V1WriteRequest, decodeToObject, encodeWithProtobufjs, toHex, v1PlainObject } from './prompb.ts';

function series(name: string, labels: Record<string, string>, samples: [number, number][]): TimeSeries {
  return {
    labels: [{ name: '__name__', value: name }, ...Object.entries(labels).map(([n, value]) => ({ name: n, value }))],
    samples: samples.map(([value, timestampMs]) => ({ value, timestampMs })),
  };
}

function decode(bytes: Uint8Array) {
  return decodeToObject(V1WriteRequest, bytes) as {
    timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[];
    metadata: { type: string; metric_family_name: string; help: string; unit: string }[];
  };
}

describe('remote-write 1.0 encoder', () => {
  it('encodes the golden request to the checked-in bytes', () => {
    const bytes = encodeWriteRequestV1(GOLDEN_WRITE_REQUEST);

    assert.equal(toHex(bytes), readGoldenHex('remote-write-v1.pb.hex'));
  });

  it('agrees with protobufjs encoding the same message (the route the golden bytes came from)', () => {
    const reference = encodeWithProtobufjs(V1WriteRequest, v1PlainObject(GOLDEN_WRITE_REQUEST));

    assert.equal(toHex(encodeWriteRequestV1(GOLDEN_WRITE_REQUEST)), toHex(reference));
  });

  it('compresses the golden request to the checked-in snappy block', () => {
    const body = compressWriteRequestV1(GOLDEN_WRITE_REQUEST);

    assert.equal(toHex(body), readGoldenHex('remote-write-v1.snappy.hex'));
    assert.equal(toHex(body), toHex(compress(encodeWriteRequestV1(GOLDEN_WRITE_REQUEST))));
  });

  it('gives back the protobuf bytes when snappyjs uncompresses the body', () => {
    const body = compressWriteRequestV1(GOLDEN_WRITE_REQUEST);

    const uncompressed = uncompress(body);

    assert.equal(toHex(uncompressed), toHex(encodeWriteRequestV1(GOLDEN_WRITE_REQUEST)));
  });

  it('round-trips through a protobufjs decode: labels, samples, large and negative numbers, metadata', () => {
    const decoded = decode(encodeWriteRequestV1(GOLDEN_WRITE_REQUEST));

    assert.deepEqual(decoded, {
      timeseries: [
        {
          labels: [
            { name: '__name__', value: 'beam_elements_total' },
            { name: 'job', value: 'wordcount' },
            { name: 'step', value: 'Größe→Split 🚀' },
          ],
          samples: [
            { value: 42, timestamp: 1_763_683_200_000 },
            { value: 43.5, timestamp: 1_763_683_205_000 },
          ],
        },
        {
          labels: [
            { name: '__name__', value: 'beam_watermark_lag_seconds' },
            { name: 'job', value: 'wordcount' },
          ],
          samples: [{ value: -1.25, timestamp: 1_763_683_200_000 }],
        },
      ],
      metadata: [
        { type: 'COUNTER', metric_family_name: 'beam_elements', help: 'Elements processed by a step.', unit: '' },
        { type: 'GAUGE', metric_family_name: 'beam_watermark_lag_seconds', help: 'Watermark lag.', unit: 'seconds' },
      ],
    });
  });

  it('leaves out labels with an empty value or name, which the spec forbids', () => {
    const req: WriteRequest = {
      timeseries: [
        {
          labels: [
            { name: '__name__', value: 'up' },
            { name: '', value: 'orphan' },
            { name: 'instance', value: '' },
            { name: 'job', value: 'wc' },
          ],
          samples: [{ value: 1, timestampMs: 1_700_000_000_000 }],
        },
      ],
      metadata: [],
    };

    const decoded = decode(encodeWriteRequestV1(req));

    assert.deepEqual(decoded.timeseries[0]?.labels, [
      { name: '__name__', value: 'up' },
      { name: 'job', value: 'wc' },
    ]);
  });

  it('encodes int64 timestamps at the varint boundaries and below zero', () => {
    const timestamps = [1, 127, 128, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35, 2 ** 42, 2 ** 53 - 1, -1, -(2 ** 40), -(2 ** 53 - 1)];
    const req: WriteRequest = {
      timeseries: timestamps.map((ts) => series('t', {}, [[1, ts]])),
      metadata: [],
    };

    const bytes = encodeWriteRequestV1(req);

    assert.deepEqual(
      decode(bytes).timeseries.map((s) => s.samples[0]?.timestamp),
      timestamps,
    );
    assert.equal(toHex(bytes), toHex(encodeWithProtobufjs(V1WriteRequest, v1PlainObject(req))));
  });

  it('leaves out a zero value and a zero timestamp as proto3 does, and they decode as 0', () => {
    const req: WriteRequest = { timeseries: [series('z', {}, [[0, 0]])], metadata: [] };

    const bytes = encodeWriteRequestV1(req);

    assert.deepEqual(decode(bytes).timeseries[0]?.samples, [{ value: 0, timestamp: 0 }]);
    assert.equal(toHex(bytes), toHex(encodeWithProtobufjs(V1WriteRequest, v1PlainObject(req))));
  });

  it('keeps special float values: NaN, ±Inf, -0, the largest and smallest doubles', () => {
    const values = [Number.NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, Number.MIN_VALUE, 0.1];
    const req: WriteRequest = { timeseries: [series('f', {}, values.map((v, i) => [v, 1000 + i]))], metadata: [] };

    const decoded = decode(encodeWriteRequestV1(req));

    assert.deepEqual(
      decoded.timeseries[0]?.samples.map((s) => s.value),
      values,
    );
    assert.ok(Object.is(decoded.timeseries[0]?.samples[3]?.value, -0));
  });

  it('encodes labels longer than 127 bytes with two-byte length prefixes', () => {
    const long = 'x'.repeat(200) + 'é'.repeat(100);
    const req: WriteRequest = { timeseries: [series('long', { step: long }, [[5, 1_700_000_000_000]])], metadata: [] };

    const bytes = encodeWriteRequestV1(req);

    assert.equal(decode(bytes).timeseries[0]?.labels[1]?.value, long);
    assert.equal(toHex(bytes), toHex(encodeWithProtobufjs(V1WriteRequest, v1PlainObject(req))));
  });

  it('encodes the same bytes when label sets repeat across series and across calls', () => {
    const req: WriteRequest = {
      timeseries: Array.from({ length: 300 }, (_, i) =>
        series(`m_${i % 7}`, { job: 'wc', step: `s/${i % 5}/ü` }, [[i, 1_700_000_000_000 + i]]),
      ),
      metadata: [{ name: 'm_0', type: 'gauge' }],
    };
    const reference = toHex(encodeWithProtobufjs(V1WriteRequest, v1PlainObject(req)));

    const first = toHex(encodeWriteRequestV1(req));
    const second = toHex(encodeWriteRequestV1(structuredClone(req)));

    assert.equal(first, reference);
    assert.equal(second, reference);
  });

  it('encodes an empty request as zero bytes, and its body as the snappy block of nothing', () => {
    const empty: WriteRequest = { timeseries: [], metadata: [] };

    assert.equal(encodeWriteRequestV1(empty).length, 0);
    assert.equal(toHex(compressWriteRequestV1(empty)), '00');
  });

  it('returns a body that later calls do not overwrite', () => {
    const first = compressWriteRequestV1(GOLDEN_WRITE_REQUEST);
    const before = toHex(first);

    compressWriteRequestV1({ timeseries: [series('other', { job: 'x' }, [[9, 9]])], metadata: [] });

    assert.equal(toHex(first), before);
  });

  it('declares the headers remote-write 1.0 requires, User-Agent aside', () => {
    assert.deepEqual(REMOTE_WRITE_V1_HEADERS, {
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
    });
  });
});
