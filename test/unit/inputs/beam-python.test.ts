import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { convertBeamPython } from '../../../lib/inputs/beam-python.ts';
import { ValidationError } from '../../../lib/inputs/errors.ts';
import { DEFAULT_CONVERSION_OPTIONS, type ConversionOptions, type InputContext } from '../../../lib/inputs/options.ts';

// The fixture's gauge was set at 1763633700.5 s; ingest 4.5 s later keeps its timestamp.
const GAUGE_MS = 1763633700500;
const NOW = GAUGE_MS + 4500;

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../fixtures/beam-python/${name}.json`, import.meta.url), 'utf8'));
}

function context(options: Partial<ConversionOptions> = {}, nowMs = NOW): InputContext {
  return { nowMs, options: { ...DEFAULT_CONVERSION_OPTIONS, ...options } };
}

function entry(value: unknown, key: Record<string, unknown> = {}, committed?: unknown): Record<string, unknown> {
  return {
    key: { step: 's', metric: { namespace: 'ns', name: 'm' }, labels: {}, ...key },
    attempted: value,
    ...(committed === undefined ? {} : { committed }),
  };
}

function validationIssues(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.status, 400);
    return error.issues;
  }
  assert.fail('expected a ValidationError');
}

test('converts the wordcount query fixture', () => {
  const conversion = convertBeamPython(fixture('wordcount-query'), context());

  const split = { namespace: '__main__.WordExtractingDoFn', step: 'split' };
  assert.deepEqual(conversion.points, [
    { name: 'beam_words_total', labels: split, value: 4023 },
    { name: 'beam_empty_lines_total', labels: split, value: 17 },
    { name: 'beam_word_len_dist_sum', labels: split, value: 18502 },
    { name: 'beam_word_len_dist_count', labels: split, value: 4023 },
    { name: 'beam_word_len_dist_min', labels: split, value: 1 },
    { name: 'beam_word_len_dist_max', labels: split, value: 14 },
    { name: 'beam_last_batch_size', labels: { namespace: '__main__', step: 'format' }, value: 250, timestampMs: GAUGE_MS },
  ]);
  assert.deepEqual(conversion.families, [
    { name: 'beam_words_total', type: 'counter', help: 'Beam counter words' },
    { name: 'beam_empty_lines_total', type: 'counter', help: 'Beam counter empty_lines' },
    { name: 'beam_word_len_dist', type: 'summary', help: 'Beam distribution word_len_dist: sum and count of the values' },
    { name: 'beam_word_len_dist_min', type: 'gauge', help: 'Beam distribution word_len_dist: smallest value' },
    { name: 'beam_word_len_dist_max', type: 'gauge', help: 'Beam distribution word_len_dist: largest value' },
    { name: 'beam_last_batch_size', type: 'gauge', help: 'Beam gauge last_batch_size' },
  ]);
  assert.equal(conversion.warnings, undefined);
});

test('reads gauge timestamps as epoch seconds and drops implausible ones', () => {
  const body = {
    gauges: [
      entry({ value: 1, timestamp: (NOW - 1000) / 1000 }),
      entry({ value: 2, timestamp: (NOW - 11 * 60_000) / 1000 }),
      entry({ value: 3, timestamp: null }),
    ],
  };

  const conversion = convertBeamPython(body, context());

  assert.deepEqual(conversion.points.map((p) => [p.value, p.timestampMs]), [[1, NOW - 1000], [2, undefined], [3, undefined]]);
});

test('turns Beam Python metric labels into extra labels with sanitised names', () => {
  const body = { counters: [entry(5, { labels: { 'table-name': 'orders', PROJECT: 'p1', empty: '' } })] };

  const conversion = convertBeamPython(body, context());

  assert.deepEqual(conversion.points, [
    { name: 'beam_m_total', labels: { namespace: 'ns', step: 's', table_name: 'orders', PROJECT: 'p1' }, value: 5 },
  ]);
});

test('keeps labels named like Object.prototype methods', () => {
  const body = { counters: [entry(1, { labels: { toString: 't', hasOwnProperty: 'h' } })] };

  const conversion = convertBeamPython(body, context());

  assert.deepEqual(conversion.points[0]?.labels, { namespace: 'ns', step: 's', toString: 't', hasOwnProperty: 'h' });
});

test('drops a metric label that would replace one already set, with a warning', () => {
  const body = { counters: [entry(5, { labels: { step: 'other', result: 'x' } })] };

  const conversion = convertBeamPython(body, context());

  assert.deepEqual(conversion.points, [{ name: 'beam_m_total', labels: { namespace: 'ns', step: 's' }, value: 5 }]);
  assert.deepEqual(conversion.warnings, [
    '$.counters[0]: label "step" dropped: "step" is already set',
    '$.counters[0]: label "result" dropped: "result" is already set',
  ]);
});

test('converts string sets given as plain lists, and uses attempted when committed is null', () => {
  const body = { string_sets: [entry(['b', 'a'], { metric: { namespace: 'io', name: 'tables' } }, null)] };

  const conversion = convertBeamPython(body, context());

  const labels = { namespace: 'io', step: 's' };
  assert.deepEqual(conversion.points, [
    { name: 'beam_tables_info', labels: { ...labels, value: 'a' }, value: 1 },
    { name: 'beam_tables_info', labels: { ...labels, value: 'b' }, value: 1 },
    { name: 'beam_tables_size', labels, value: 2 },
  ]);
});

test('exports a distribution without min and max when the SDK gives none', () => {
  const body = { distributions: [entry({ sum: 10, count: 2, min: null, max: null })] };

  const conversion = convertBeamPython(body, context({ results: 'both' }));

  assert.deepEqual(conversion.points, [
    { name: 'beam_m_sum', labels: { namespace: 'ns', step: 's', result: 'attempted' }, value: 10 },
    { name: 'beam_m_count', labels: { namespace: 'ns', step: 's', result: 'attempted' }, value: 2 },
  ]);
});

test('skips bounded tries and histograms with a warning', () => {
  const body = { counters: [], bounded_tries: [entry([['a', 'b']])], histograms: [entry({}), entry({})] };

  const conversion = convertBeamPython(body, context());

  assert.deepEqual(conversion.points, []);
  assert.deepEqual(conversion.warnings, [
    'skipped 1 bounded_tries: bounded tries have no Prometheus form',
    'skipped 2 histograms: histogram results are not converted',
  ]);
});

test('rejects negative counters and malformed keys, reporting every path', () => {
  const body = {
    counters: [entry(-2), entry(1, { metric: { namespace: 'ns' } })],
    gauges: [entry({ value: 1, timestamp: 'now' })],
    string_sets: [entry('abc')],
  };

  const issues = validationIssues(() => convertBeamPython(body, context(), ['detail', 'metrics']));

  assert.deepEqual(issues, [
    {
      path: '$.detail.metrics.counters[0].attempted',
      message: 'a counter cannot be negative (got -2): Prometheus counters only go up; use a gauge for a value that decreases',
    },
    { path: '$.detail.metrics.counters[1].key.metric.name', message: 'is required' },
    { path: '$.detail.metrics.gauges[0].attempted.timestamp', message: 'Invalid type: Expected number but received "now"' },
    { path: '$.detail.metrics.string_sets[0].attempted', message: 'Invalid type: Expected Array but received "abc"' },
  ]);
});
