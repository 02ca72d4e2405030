import type { ExpositionFamily } from '../../../lib/encoders/text-exposition.ts';

/**
 * The families behind `text-exposition.txt`: escapes in help and label values, non-ASCII, special and large
 * values, labels given out of order and empty, a summary, a counter family named without its `_total`, info and
 * unknown types, one family name passed twice, and a family without samples. Lint-clean for promtool.
 */
export const GOLDEN_EXPOSITION: ExpositionFamily[] = [
  {
    family: { name: 'beam_elements_total', type: 'counter', help: 'Elements read.\nPath C:\\beam' },
    samples: [
      { name: 'beam_elements_total', labels: { step: 'Read/Größe', job: 'wordcount', namespace: 'ns' }, value: 42 },
      { name: 'beam_elements_total', labels: { job: 'wordcount', namespace: 'ns', step: 'Split "words"\nline\\2' }, value: 9007199254740992 },
    ],
  },
  {
    family: { name: 'beam_bytes_read', type: 'counter', help: 'Bytes read.' },
    samples: [{ name: 'beam_bytes_read_total', labels: { job: 'wordcount', pcollection: '' }, value: 1e21 }],
  },
  {
    family: { name: 'beam_bundle_duration_seconds', type: 'summary', help: 'Bundle durations.' },
    samples: [
      { name: 'beam_bundle_duration_seconds_sum', labels: { job: 'wordcount' }, value: 0.30000000000000004 },
      { name: 'beam_bundle_duration_seconds_count', labels: { job: 'wordcount' }, value: 3 },
    ],
  },
  {
    family: { name: 'beam_watermark_lag_seconds', type: 'gauge', help: 'Watermark lag.' },
    samples: [
      { name: 'beam_watermark_lag_seconds', labels: { job: 'a' }, value: Number.NaN },
      { name: 'beam_watermark_lag_seconds', labels: { job: 'b' }, value: Infinity },
      { name: 'beam_watermark_lag_seconds', labels: { job: 'c' }, value: -Infinity },
      { name: 'beam_watermark_lag_seconds', labels: { job: 'd' }, value: 1e-7 },
      { name: 'beam_watermark_lag_seconds', labels: { job: 'e' }, value: -2.5 },
    ],
  },
  {
    family: { name: 'beam_job', type: 'info', help: 'Job identity.' },
    samples: [{ name: 'beam_job_info', labels: { job: 'wordcount', runner: 'DataflowRunner' }, value: 1 }],
  },
  { family: { name: 'beam_unused', type: 'gauge', help: 'Never sampled.' }, samples: [] },
  {
    family: { name: 'beam_custom', type: 'unknown', help: 'Untyped value.' },
    samples: [{ name: 'beam_custom', labels: {}, value: 7 }],
  },
  {
    family: { name: 'beam_elements_total', type: 'counter', help: 'Elements read.\nPath C:\\beam' },
    samples: [{ name: 'beam_elements_total', labels: { job: 'other', namespace: 'ns', step: 'Read' }, value: 1 }],
  },
];
