import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compressWriteRequestV1, encodeWriteRequestV1 } from '../../../lib/encoders/remote-write-v1.ts';
import { compressWriteRequestV2, encodeWriteRequestV2 } from '../../../lib/encoders/remote-write-v2.ts';
import { samplesOf, type ColumnSeries, type TimeSeries, type WriteRequest } from '../../../lib/model/series.ts';
import { GOLDEN_WRITE_REQUEST } from './golden-requests.ts';
import { toHex } from './prompb.ts';

/**
 * The golden request with its samples moved into shared columns, as the deliver merge hands series to the encoders:
 * rows in a different order from the series', with unused rows between them, so `start` and `count` must be honoured.
 */
function asColumns(req: WriteRequest): WriteRequest {
  const series = req.timeseries as TimeSeries[];
  const rows = series.reduce((n, s) => n + s.samples.length + 2, 0);
  const columns = { values: new Float64Array(rows).fill(-7), timestampsMs: new Float64Array(rows).fill(9) };
  let row = rows;
  const timeseries = series.map((s): ColumnSeries => {
    row -= s.samples.length + 2;
    s.samples.forEach((sample, i) => {
      columns.values[row + 1 + i] = sample.value;
      columns.timestampsMs[row + 1 + i] = sample.timestampMs;
    });
    // Fresh label arrays: the 1.0 encoder keeps bytes by label-array identity, and these must be encoded anew.
    return { labels: s.labels.map((l) => ({ ...l })), columns, start: row + 1, count: s.samples.length };
  });
  return { timeseries, metadata: req.metadata };
}

describe('series whose samples are rows of shared columns', () => {
  const columnar = asColumns(GOLDEN_WRITE_REQUEST);

  it('hold the same samples as the golden request', () => {
    assert.deepEqual(columnar.timeseries.map(samplesOf), GOLDEN_WRITE_REQUEST.timeseries.map(samplesOf));
  });

  it('encode to the very bytes of the same series with sample objects, in remote-write 1.0', () => {
    assert.equal(toHex(encodeWriteRequestV1(columnar)), toHex(encodeWriteRequestV1(GOLDEN_WRITE_REQUEST)));
    assert.equal(toHex(compressWriteRequestV1(columnar)), toHex(compressWriteRequestV1(GOLDEN_WRITE_REQUEST)));
  });

  it('encode to the very bytes of the same series with sample objects, in remote-write 2.0', () => {
    assert.equal(toHex(encodeWriteRequestV2(columnar)), toHex(encodeWriteRequestV2(GOLDEN_WRITE_REQUEST)));
    assert.equal(toHex(compressWriteRequestV2(columnar)), toHex(compressWriteRequestV2(GOLDEN_WRITE_REQUEST)));
  });
});
