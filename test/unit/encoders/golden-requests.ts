import type { WriteRequest } from '../../../lib/model/series.ts';

/**
 * The write request behind the remote-write golden files: two series, one with two samples; a negative value;
 * millisecond timestamps above 2^32; metadata with help and unit; a label value with 2-, 3- and 4-byte UTF-8.
 */
export const GOLDEN_WRITE_REQUEST: WriteRequest = {
  timeseries: [
    {
      labels: [
        { name: '__name__', value: 'beam_elements_total' },
        { name: 'job', value: 'wordcount' },
        { name: 'step', value: 'Größe→Split 🚀' },
      ],
      samples: [
        { value: 42, timestampMs: 1_763_683_200_000 },
        { value: 43.5, timestampMs: 1_763_683_205_000 },
      ],
    },
    {
      labels: [
        { name: '__name__', value: 'beam_watermark_lag_seconds' },
        { name: 'job', value: 'wordcount' },
      ],
      samples: [{ value: -1.25, timestampMs: 1_763_683_200_000 }],
    },
  ],
  metadata: [
    { name: 'beam_elements', type: 'counter', help: 'Elements processed by a step.' },
    { name: 'beam_watermark_lag_seconds', type: 'gauge', help: 'Watermark lag.', unit: 'seconds' },
  ],
};
