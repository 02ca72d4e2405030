import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compress, uncompress } from 'snappyjs';
import {
  REMOTE_WRITE_V2_HEADERS,
  compressWriteRequestV2,
  encodeWriteRequestV2,
} from '../../../lib/encoders/remote-write-v2.ts';
import type { MetricFamily, TimeSeries, WriteRequest } from '../../../lib/model/series.ts';
import { GOLDEN_WRITE_REQUEST } from './golden-requests.ts';
import { readGoldenHex } from './golden.ts';
import { V2Request, decodeV2, encodeWithProtobufjs, toHex, v2PlainObject } from './prompb.ts';

function series(name: string, labels: Record<string, string>, samples: [number, number][] = [[1, 1_700_000_000_000]]): TimeSeries {
  return {
    labels: [{ name: '__name__', value: name }, ...Object.entries(labels).map(([n, value]) => ({ name: n, value }))],
    samples: samples.map(([value, timestampMs]) => ({ value, timestampMs })),
  };
}

describe('remote-write 2.0 encoder', () => {
  it('encodes the golden request to the checked-in bytes', () => {
    const bytes = encodeWriteRequestV2(GOLDEN_WRITE_REQUEST);

    assert.equal(toHex(bytes), readGoldenHex('remote-write-v2.pb.hex'));
  });

  it('agrees with protobufjs encoding the same message (the route the golden bytes came from)', () => {
    const reference = encodeWithProtobufjs(V2Request, v2PlainObject(GOLDEN_WRITE_REQUEST));

    assert.equal(toHex(encodeWriteRequestV2(GOLDEN_WRITE_REQUEST)), toHex(reference));
  });

  it('compresses the golden request to the checked-in snappy block', () => {
    const body = compressWriteRequestV2(GOLDEN_WRITE_REQUEST);

    assert.equal(toHex(body), readGoldenHex('remote-write-v2.snappy.hex'));
    assert.equal(toHex(body), toHex(compress(encodeWriteRequestV2(GOLDEN_WRITE_REQUEST))));
  });

  it('gives back the protobuf bytes when snappyjs uncompresses the body', () => {
    const uncompressed = uncompress(compressWriteRequestV2(GOLDEN_WRITE_REQUEST));

    assert.equal(toHex(uncompressed), toHex(encodeWriteRequestV2(GOLDEN_WRITE_REQUEST)));
  });

  it('round-trips through a protobufjs decode, with each series carrying its family metadata', () => {
    const { series: decoded } = decodeV2(encodeWriteRequestV2(GOLDEN_WRITE_REQUEST));

    assert.deepEqual(decoded, [
      {
        labels: { __name__: 'beam_elements_total', job: 'wordcount', step: 'Größe→Split 🚀' },
        samples: [
          { value: 42, timestamp: 1_763_683_200_000 },
          { value: 43.5, timestamp: 1_763_683_205_000 },
        ],
        metadata: { type: 'METRIC_TYPE_COUNTER', help: 'Elements processed by a step.', unit: '' },
      },
      {
        labels: { __name__: 'beam_watermark_lag_seconds', job: 'wordcount' },
        samples: [{ value: -1.25, timestamp: 1_763_683_200_000 }],
        metadata: { type: 'METRIC_TYPE_GAUGE', help: 'Watermark lag.', unit: 'seconds' },
      },
    ]);
  });

  it('starts the symbol table with the empty string and holds every string once', () => {
    const { symbols } = decodeV2(encodeWriteRequestV2(GOLDEN_WRITE_REQUEST));

    assert.equal(symbols[0], '');
    assert.equal(new Set(symbols).size, symbols.length);
    assert.deepEqual(symbols, [
      '',
      '__name__',
      'beam_elements_total',
      'job',
      'wordcount',
      'step',
      'Größe→Split 🚀',
      'Elements processed by a step.',
      'beam_watermark_lag_seconds',
      'Watermark lag.',
      'seconds',
    ]);
  });

  it('finds each series family by exact name or by a known suffix', () => {
    const families: MetricFamily[] = [
      { name: 'c', type: 'counter', help: 'C.' },
      { name: 's', type: 'summary', help: 'S.' },
      { name: 'h', type: 'histogram', help: 'H.' },
      { name: 'i', type: 'info', help: 'I.' },
      { name: 'd_min', type: 'gauge', help: 'Min.' },
      { name: 'g_total', type: 'gauge', help: 'Exact wins.' },
      { name: 'g', type: 'counter', help: 'Suffix loses.' },
    ];
    const table: [string, string | null][] = [
      ['c', 'METRIC_TYPE_COUNTER'],
      ['c_total', 'METRIC_TYPE_COUNTER'],
      ['c_created', 'METRIC_TYPE_COUNTER'],
      ['s_sum', 'METRIC_TYPE_SUMMARY'],
      ['s_count', 'METRIC_TYPE_SUMMARY'],
      ['h_bucket', 'METRIC_TYPE_HISTOGRAM'],
      ['i_info', 'METRIC_TYPE_INFO'],
      ['d_min', 'METRIC_TYPE_GAUGE'],
      ['g_total', 'METRIC_TYPE_GAUGE'],
      ['unknown_total', null],
      ['c_other', null],
    ];
    const req: WriteRequest = { timeseries: table.map(([name]) => series(name, { job: 'j' })), metadata: families };

    const { series: decoded } = decodeV2(encodeWriteRequestV2(req));

    assert.deepEqual(
      decoded.map((s) => [s.labels['__name__'], s.metadata?.type ?? null]),
      table,
    );
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

    const { series: decoded, symbols } = decodeV2(encodeWriteRequestV2(req));

    assert.deepEqual(decoded[0]?.labels, { __name__: 'up', job: 'wc' });
    assert.deepEqual(symbols, ['', '__name__', 'up', 'job', 'wc']);
  });

  it('writes refs above 127 as two-byte varints, agreeing with protobufjs', () => {
    const req: WriteRequest = {
      timeseries: Array.from({ length: 150 }, (_, i) => series('m', { id: `v${i}`, step: 'ü/ß' }, [[i, 1_700_000_000_000 + i]])),
      metadata: [{ name: 'm', type: 'gauge', help: 'Help ✓', unit: 'bytes' }],
    };

    const bytes = encodeWriteRequestV2(req);

    assert.equal(toHex(bytes), toHex(encodeWithProtobufjs(V2Request, v2PlainObject(req))));
    assert.equal(decodeV2(bytes).series[149]?.labels['id'], 'v149');
  });

  it('writes a series without a family, or without labels, with no metadata and no refs', () => {
    const req: WriteRequest = { timeseries: [{ labels: [], samples: [{ value: 3, timestampMs: 5 }] }], metadata: [] };

    const bytes = encodeWriteRequestV2(req);

    assert.deepEqual(decodeV2(bytes).series, [{ labels: {}, samples: [{ value: 3, timestamp: 5 }], metadata: null }]);
    assert.equal(toHex(bytes), toHex(encodeWithProtobufjs(V2Request, v2PlainObject(req))));
  });

  it('encodes an empty request as the lone empty symbol', () => {
    const empty: WriteRequest = { timeseries: [], metadata: [] };

    assert.equal(toHex(encodeWriteRequestV2(empty)), '2200');
    assert.equal(toHex(uncompress(compressWriteRequestV2(empty))), '2200');
  });

  it('returns a body that later calls do not overwrite', () => {
    const first = compressWriteRequestV2(GOLDEN_WRITE_REQUEST);
    const before = toHex(first);

    compressWriteRequestV2({ timeseries: [series('other', { job: 'x' })], metadata: [] });

    assert.equal(toHex(first), before);
  });

  it('declares the headers remote-write 2.0 requires, User-Agent aside', () => {
    assert.deepEqual(REMOTE_WRITE_V2_HEADERS, {
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
      'X-Prometheus-Remote-Write-Version': '2.0.0',
    });
  });
});
