import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ValidationError } from '../../../lib/inputs/errors.ts';
import { convertMetricsJson, detectMetricsJsonFormat } from '../../../lib/inputs/metrics-json.ts';
import { DEFAULT_CONVERSION_OPTIONS, type InputContext } from '../../../lib/inputs/options.ts';

const CONTEXT: InputContext = { nowMs: Date.parse('2026-11-20T10:20:35.000Z'), options: DEFAULT_CONVERSION_OPTIONS };

function fixture(path: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${path}.json`, import.meta.url), 'utf8'));
}

test('detects every shared fixture as the format it comes from', () => {
  const cases: Array<[string, string]> = [
    ['beam-java/wordcount-committed', 'beam-java'],
    ['beam-java/flink-attempted-only', 'beam-java'],
    ['beam-java/legacy-three-kinds', 'beam-java'],
    ['beam-python/wordcount-query', 'beam-python'],
    ['dataflow/job-metrics', 'dataflow'],
  ];

  assert.deepEqual(
    cases.map(([path]) => [path, detectMetricsJsonFormat(fixture(path))]),
    cases,
  );
});

test('detects a body with empty lists by the keys only one format has', () => {
  assert.equal(detectMetricsJsonFormat({ counters: [], distributions: [], gauges: [] }), 'beam-java');
  assert.equal(detectMetricsJsonFormat({ counters: [], stringSets: [], perWorkerHistograms: [] }), 'beam-java');
  assert.equal(detectMetricsJsonFormat({ counters: [], string_sets: [], bounded_tries: [] }), 'beam-python');
  assert.equal(detectMetricsJsonFormat({ metrics: [] }), 'dataflow');
  assert.equal(detectMetricsJsonFormat({ metricTime: '2026-11-20T10:20:31Z' }), 'dataflow');
});

test('detects by the first entry when both kinds of key are present', () => {
  const python = { counters: [{ key: { step: 's', metric: { namespace: 'n', name: 'm' } }, attempted: 1 }], stringSets: [] };
  const java = { gauges: [{ attempted: { timestamp: 0, value: 1 }, name: { namespace: 'n', name: 'g' } }], string_sets: [] };

  assert.equal(detectMetricsJsonFormat(python), 'beam-python');
  assert.equal(detectMetricsJsonFormat(java), 'beam-java');
});

test('detects nothing for bodies of no known shape', () => {
  for (const body of [null, 42, 'counters', [], {}, { series: [] }]) {
    assert.equal(detectMetricsJsonFormat(body), undefined, JSON.stringify(body));
  }
});

test('leaves malformed entries to the parser once a key tells the format', () => {
  assert.equal(detectMetricsJsonFormat({ counters: [1] }), 'beam-java');
});

test('converts with the detected parser and says which it was', () => {
  const java = convertMetricsJson(fixture('beam-java/legacy-three-kinds'), CONTEXT);
  const python = convertMetricsJson(fixture('beam-python/wordcount-query'), CONTEXT);
  const dataflow = convertMetricsJson(fixture('dataflow/job-metrics'), CONTEXT);

  assert.equal(java.format, 'beam-java');
  assert.deepEqual(java.conversion.points.map((p) => p.name), ['beam_filesWritten_total']);
  assert.equal(python.format, 'beam-python');
  assert.equal(python.conversion.points[0]?.name, 'beam_words_total');
  assert.equal(dataflow.format, 'dataflow');
  assert.equal(dataflow.conversion.points.length, 5);
});

test('passes Dataflow options through', () => {
  const { conversion } = convertMetricsJson(fixture('dataflow/job-metrics'), CONTEXT, [], {
    dataflow: { systemMetrics: 'export', systemPrefix: 'df_' },
  });

  assert.equal(conversion.points.at(-1)?.name, 'df_ElementCount_total');
});

test('rejects an unknown shape at the body path, naming the shapes it accepts', () => {
  let caught: unknown;
  try {
    convertMetricsJson({ series: [] }, CONTEXT, ['detail', 'metrics']);
  } catch (error) {
    caught = error;
  }

  assert.ok(caught instanceof ValidationError);
  assert.equal(caught.status, 400);
  assert.equal(caught.issues.length, 1);
  assert.equal(caught.issues[0]?.path, '$.detail.metrics');
  assert.match(caught.issues[0]?.message ?? '', /Beam Java MetricsHttpSink.*Beam Python MetricResults.*Dataflow JobMetrics/);
});

test('reports the detected parser\'s issues with their paths', () => {
  assert.throws(
    () => convertMetricsJson({ counters: [{ attempted: -1, name: { namespace: 'n', name: 'm' } }] }, CONTEXT),
    (error: unknown) => error instanceof ValidationError && error.issues[0]?.path === '$.counters[0].attempted',
  );
});

test('any JSON value either converts or fails with a ValidationError', () => {
  const entry = fc.record({
    attempted: fc.jsonValue({ maxDepth: 2 }),
    committed: fc.jsonValue({ maxDepth: 2 }),
    name: fc.oneof(fc.record({ namespace: fc.string(), name: fc.string() }), fc.record({ urn: fc.string() }), fc.jsonValue({ maxDepth: 1 })),
    key: fc.jsonValue({ maxDepth: 2 }),
    step: fc.string(),
  }, { requiredKeys: [] });
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(
      fc.constantFrom('counters', 'distributions', 'gauges', 'stringSets', 'string_sets', 'metrics', 'perWorkerHistograms', '__proto__'),
      fc.array(entry, { maxLength: 3 }),
    ),
  );

  fc.assert(
    fc.property(body, (input) => {
      try {
        const { conversion } = convertMetricsJson(input, CONTEXT);
        return Array.isArray(conversion.points);
      } catch (error) {
        return error instanceof ValidationError && error.issues.length > 0;
      }
    }),
    { numRuns: 500 },
  );
});
