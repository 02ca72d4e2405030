import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { convertDataflow, DEFAULT_DATAFLOW_OPTIONS } from '../../../lib/inputs/dataflow.ts';
import { ValidationError } from '../../../lib/inputs/errors.ts';
import { DEFAULT_CONVERSION_OPTIONS, type ConversionOptions, type InputContext } from '../../../lib/inputs/options.ts';

const NOW = Date.parse('2026-11-20T10:20:35.000Z');
const NS = 'org.apache.beam.examples.WordCount$ExtractWordsFn';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../fixtures/dataflow/${name}.json`, import.meta.url), 'utf8'));
}

function context(options: Partial<ConversionOptions> = {}): InputContext {
  return { nowMs: NOW, options: { ...DEFAULT_CONVERSION_OPTIONS, ...options } };
}

function update(kind: string | undefined, values: Record<string, unknown>, context: Record<string, string> = {}, origin = 'user'): Record<string, unknown> {
  return {
    name: { origin, name: 'm', context: { namespace: 'ns', step: 's1', ...context } },
    ...(kind === undefined ? {} : { kind }),
    cumulative: true,
    updateTime: '2026-11-20T10:20:30.112Z',
    ...values,
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

test('converts the user metrics of the JobMetrics fixture and skips system metrics by default', () => {
  const conversion = convertDataflow(fixture('job-metrics'), context());

  const labels = { namespace: NS, step: 's2' };
  assert.deepEqual(conversion.points, [
    { name: 'beam_wordsProcessed_total', labels, value: 58190 },
    { name: 'beam_lineLenDistro_sum', labels, value: 405720 },
    { name: 'beam_lineLenDistro_count', labels, value: 9800 },
    { name: 'beam_lineLenDistro_min', labels, value: 1 },
    { name: 'beam_lineLenDistro_max', labels, value: 212 },
  ]);
  assert.deepEqual(conversion.families.map((f) => [f.name, f.type]), [
    ['beam_wordsProcessed_total', 'counter'],
    ['beam_lineLenDistro', 'summary'],
    ['beam_lineLenDistro_min', 'gauge'],
    ['beam_lineLenDistro_max', 'gauge'],
  ]);
  assert.equal(conversion.warnings, undefined);
});

test('reads tentative values as attempted: both are exported with results "both"', () => {
  const conversion = convertDataflow(fixture('job-metrics'), context({ results: 'both' }));

  assert.deepEqual(
    conversion.points.filter((p) => p.name === 'beam_wordsProcessed_total'),
    [
      { name: 'beam_wordsProcessed_total', labels: { namespace: NS, step: 's2', result: 'committed' }, value: 58190 },
      { name: 'beam_wordsProcessed_total', labels: { namespace: NS, step: 's2', result: 'attempted' }, value: 58213 },
    ],
  );
});

test('exports system metrics under dataflow_ with their context as labels when asked to', () => {
  const conversion = convertDataflow(fixture('job-metrics'), context(), [], { ...DEFAULT_DATAFLOW_OPTIONS, systemMetrics: 'export' });

  assert.deepEqual(conversion.points.slice(5), [
    { name: 'dataflow_ElementCount_total', labels: { original_name: 'ReadLines.out0', output_user_name: 'ReadLines.out0' }, value: 9812 },
  ]);
  assert.deepEqual(conversion.families.at(-1), { name: 'dataflow_ElementCount_total', type: 'counter', help: 'Dataflow system counter ElementCount' });
});

test('converts Max and Min to gauges, Mean to sum and count, Set to a string set', () => {
  const named = (name: string, entry: Record<string, unknown>) => ({ ...entry, name: { ...(entry.name as object), name } });
  const body = {
    metrics: [
      named('peak', update('Max', { scalar: 40 })),
      named('low', update('MIN', { scalar: '-3' })),
      named('avg', update('Mean', { meanSum: 30, meanCount: '4' })),
      named('tables', update('set', { set: ['b', 'a'] })),
    ],
  };

  const conversion = convertDataflow(body, context());

  const labels = { namespace: 'ns', step: 's1' };
  assert.deepEqual(conversion.points, [
    { name: 'beam_avg_sum', labels, value: 30 },
    { name: 'beam_avg_count', labels, value: 4 },
    { name: 'beam_peak', labels, value: 40 },
    { name: 'beam_low', labels, value: -3 },
    { name: 'beam_tables_info', labels: { ...labels, value: 'a' }, value: 1 },
    { name: 'beam_tables_info', labels: { ...labels, value: 'b' }, value: 1 },
    { name: 'beam_tables_size', labels, value: 2 },
  ]);
  assert.deepEqual(conversion.families.map((f) => [f.name, f.type]), [
    ['beam_avg', 'summary'],
    ['beam_peak', 'gauge'],
    ['beam_low', 'gauge'],
    ['beam_tables_info', 'info'],
    ['beam_tables_size', 'gauge'],
  ]);
});

test('gives a Mean its own summary family', () => {
  const conversion = convertDataflow({ metrics: [update('Mean', { meanSum: 30, meanCount: 4 })] }, context());

  assert.deepEqual(conversion.families, [{ name: 'beam_m', type: 'summary', help: 'Beam distribution m: sum and count of the values' }]);
});

test('accepts 64-bit integers written as decimal strings', () => {
  const body = { metrics: [update('Sum', { scalar: '9007199254740993' }), update('Distribution', { distribution: { count: '2', sum: '10', min: '3', max: '7' } }, { step: 's2' })] };

  const conversion = convertDataflow(body, context());

  assert.deepEqual(conversion.points.map((p) => [p.name, p.value]), [
    ['beam_m_total', 9007199254740992],
    ['beam_m_sum', 10],
    ['beam_m_count', 2],
    ['beam_m_min', 3],
    ['beam_m_max', 7],
  ]);
});

test('skips kinds without a Prometheus form with one warning per kind', () => {
  const body = { metrics: [update('And', { scalar: true }), update('Or', { scalar: false }, { step: 's2' }), update('And', { scalar: true }, { step: 's3' }), update(undefined, { scalar: 1 }, { step: 's4' })] };

  const conversion = convertDataflow(body, context());

  assert.deepEqual(conversion.points, []);
  assert.deepEqual(conversion.warnings, [
    'skipped 2 metrics of kind And: no Prometheus form',
    'skipped 1 metrics of kind Or: no Prometheus form',
    'skipped 1 metrics of kind (none): no Prometheus form',
  ]);
});

test('does not validate the values of system metrics it skips', () => {
  const body = { metrics: [update('Sum', { scalar: { unexpected: true } }, {}, 'dataflow/v1b3'), update('Sum', { scalar: 2 })] };

  const conversion = convertDataflow(body, context());

  assert.deepEqual(conversion.points, [{ name: 'beam_m_total', labels: { namespace: 'ns', step: 's1' }, value: 2 }]);
});

test('rejects a non-cumulative update with a clear message', () => {
  const body = { metrics: [update('Sum', { scalar: 2 }), { ...update('Sum', { scalar: 1 }, { step: 's2' }), cumulative: false }] };

  const issues = validationIssues(() => convertDataflow(body, context()));

  assert.deepEqual(issues, [
    {
      path: '$.metrics[1].cumulative',
      message:
        'delta (non-cumulative) metric updates are not accepted: the relay exports cumulative values; send the JobMetrics of projects.locations.jobs.getMetrics',
    },
  ]);
});

test('collects every issue with its path: negative sums, missing values, bad names, repeated metrics', () => {
  const body = {
    metrics: [
      update('Sum', { scalar: -5 }),
      update('Distribution', { distribution: { count: -1, sum: 1 } }, { step: 's2' }),
      update('Mean', { meanSum: 1 }, { step: 's3' }),
      { name: { origin: 'user' }, kind: 'Sum', scalar: 1 },
      update('Set', { set: ['a'] }, { step: 's5' }),
      update('Set', { set: ['b'] }, { step: 's5' }),
      update('Max', { scalar: 'lots' }, { step: 's6' }),
    ],
  };

  const issues = validationIssues(() => convertDataflow(body, context(), ['detail']));

  assert.deepEqual(issues, [
    {
      path: '$.detail.metrics[0].scalar',
      message: 'a Sum cannot be negative (got -5): it is exported as a Prometheus counter, which only goes up',
    },
    { path: '$.detail.metrics[1].distribution.count', message: 'a count cannot be negative (got -1)' },
    { path: '$.detail.metrics[2].meanCount', message: 'is required' },
    { path: '$.detail.metrics[3].name.name', message: 'is required' },
    { path: '$.detail.metrics[5]', message: 'the same metric and context already appear at $.detail.metrics[4]' },
    { path: '$.detail.metrics[6].scalar', message: 'expected a number, or a decimal string as Google APIs write 64-bit integers' },
  ]);
});

test('rejects a body whose metrics is not a list', () => {
  const issues = validationIssues(() => convertDataflow({ metrics: 'none' }, context()));

  assert.deepEqual(issues.map((i) => i.path), ['$.metrics']);
});
