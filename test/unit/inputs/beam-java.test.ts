import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { convertBeamJava } from '../../../lib/inputs/beam-java.ts';
import { ValidationError } from '../../../lib/inputs/errors.ts';
import { DEFAULT_CONVERSION_OPTIONS, type ConversionOptions, type InputContext } from '../../../lib/inputs/options.ts';

const NOW = Date.parse('2026-11-20T10:15:05.000Z');

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../fixtures/beam-java/${name}.json`, import.meta.url), 'utf8'));
}

function context(options: Partial<ConversionOptions> = {}, nowMs = NOW): InputContext {
  return { nowMs, options: { ...DEFAULT_CONVERSION_OPTIONS, ...options } };
}

function counter(attempted: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { attempted, name: { name: 'n', namespace: 'ns' }, step: 's', ...extra };
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

const WORDCOUNT_NS = 'org.apache.beam.examples.WordCount$ExtractWordsFn';

test('converts the wordcount fixture using committed values', () => {
  const conversion = convertBeamJava(fixture('wordcount-committed'), context());

  const extract = { namespace: WORDCOUNT_NS, step: 'ExtractWords' };
  const files = { namespace: 'pipeline', step: 'ReadLines' };
  assert.deepEqual(conversion.points, [
    { name: 'beam_emptyLines_total', labels: extract, value: 1198 },
    { name: 'beam_wordsProcessed_total', labels: { namespace: WORDCOUNT_NS, step: 'WordCount.CountWords/ParDo(ExtractWords)' }, value: 58190 },
    { name: 'beam_lineLenDistro_sum', labels: extract, value: 405720 },
    { name: 'beam_lineLenDistro_count', labels: extract, value: 9800 },
    { name: 'beam_lineLenDistro_min', labels: extract, value: 1 },
    { name: 'beam_lineLenDistro_max', labels: extract, value: 212 },
    {
      name: 'beam_activeWorkers',
      labels: { namespace: 'pipeline', step: 'WriteCounts/WriteFiles' },
      value: 36,
      timestampMs: Date.parse('2026-11-20T10:15:01.980Z'),
    },
    { name: 'beam_inputFiles_info', labels: { ...files, value: 'gs://bucket/in/a.txt' }, value: 1 },
    { name: 'beam_inputFiles_size', labels: files, value: 1 },
  ]);
  assert.deepEqual(conversion.families, [
    { name: 'beam_emptyLines_total', type: 'counter', help: 'Beam counter emptyLines' },
    { name: 'beam_wordsProcessed_total', type: 'counter', help: 'Beam counter wordsProcessed' },
    { name: 'beam_lineLenDistro', type: 'summary', help: 'Beam distribution lineLenDistro: sum and count of the values' },
    { name: 'beam_lineLenDistro_min', type: 'gauge', help: 'Beam distribution lineLenDistro: smallest value' },
    { name: 'beam_lineLenDistro_max', type: 'gauge', help: 'Beam distribution lineLenDistro: largest value' },
    { name: 'beam_activeWorkers', type: 'gauge', help: 'Beam gauge activeWorkers' },
    { name: 'beam_inputFiles_info', type: 'info', help: 'Beam string set inputFiles: one series per member, in label "value"' },
    { name: 'beam_inputFiles_size', type: 'gauge', help: 'Beam string set inputFiles: number of members' },
  ]);
  assert.equal(conversion.warnings, undefined);
});

test('exports committed and attempted with a result label when results is "both"', () => {
  const conversion = convertBeamJava(fixture('wordcount-committed'), context({ results: 'both' }));

  const extract = { namespace: WORDCOUNT_NS, step: 'ExtractWords' };
  const words = { namespace: WORDCOUNT_NS, step: 'WordCount.CountWords/ParDo(ExtractWords)' };
  const workers = { namespace: 'pipeline', step: 'WriteCounts/WriteFiles' };
  const files = { namespace: 'pipeline', step: 'ReadLines' };
  const committed = { result: 'committed' };
  const attempted = { result: 'attempted' };
  assert.deepEqual(conversion.points, [
    { name: 'beam_emptyLines_total', labels: { ...extract, ...committed }, value: 1198 },
    { name: 'beam_emptyLines_total', labels: { ...extract, ...attempted }, value: 1204 },
    { name: 'beam_wordsProcessed_total', labels: { ...words, ...committed }, value: 58190 },
    { name: 'beam_wordsProcessed_total', labels: { ...words, ...attempted }, value: 58213 },
    { name: 'beam_lineLenDistro_sum', labels: { ...extract, ...committed }, value: 405720 },
    { name: 'beam_lineLenDistro_count', labels: { ...extract, ...committed }, value: 9800 },
    { name: 'beam_lineLenDistro_min', labels: { ...extract, ...committed }, value: 1 },
    { name: 'beam_lineLenDistro_max', labels: { ...extract, ...committed }, value: 212 },
    { name: 'beam_lineLenDistro_sum', labels: { ...extract, ...attempted }, value: 405922 },
    { name: 'beam_lineLenDistro_count', labels: { ...extract, ...attempted }, value: 9812 },
    { name: 'beam_lineLenDistro_min', labels: { ...extract, ...attempted }, value: 1 },
    { name: 'beam_lineLenDistro_max', labels: { ...extract, ...attempted }, value: 212 },
    { name: 'beam_activeWorkers', labels: { ...workers, ...committed }, value: 36, timestampMs: Date.parse('2026-11-20T10:15:01.980Z') },
    { name: 'beam_activeWorkers', labels: { ...workers, ...attempted }, value: 37, timestampMs: Date.parse('2026-11-20T10:15:02.120Z') },
    { name: 'beam_inputFiles_info', labels: { ...files, ...committed, value: 'gs://bucket/in/a.txt' }, value: 1 },
    { name: 'beam_inputFiles_size', labels: { ...files, ...committed }, value: 1 },
    { name: 'beam_inputFiles_info', labels: { ...files, ...attempted, value: 'gs://bucket/in/a.txt' }, value: 1 },
    { name: 'beam_inputFiles_info', labels: { ...files, ...attempted, value: 'gs://bucket/in/b.txt' }, value: 1 },
    { name: 'beam_inputFiles_size', labels: { ...files, ...attempted }, value: 2 },
  ]);
});

test('uses attempted values when the runner reports no committed ones, sanitising names', () => {
  const conversion = convertBeamJava(fixture('flink-attempted-only'), context());

  const parse = { namespace: 'ingest', step: 'Parse/ParMultiDo(ParseJson)' };
  assert.deepEqual(conversion.points, [
    { name: 'beam_records_out_total', labels: { namespace: 'ingest', step: 'Read from Kafka/KafkaIO.Read/ReadFromKafka' }, value: 731 },
    { name: 'beam_parse_errors_total', labels: parse, value: 12 },
    { name: 'beam_payloadBytes_sum', labels: parse, value: 161551 },
    { name: 'beam_payloadBytes_count', labels: parse, value: 731 },
    { name: 'beam_payloadBytes_min', labels: parse, value: 18 },
    { name: 'beam_payloadBytes_max', labels: parse, value: 1503 },
  ]);
  assert.deepEqual(
    conversion.families.map((f) => [f.name, f.help]),
    [
      ['beam_records_out_total', 'Beam counter records_out'],
      ['beam_parse_errors_total', 'Beam counter parse_errors'],
      ['beam_payloadBytes', 'Beam distribution payloadBytes: sum and count of the values'],
      ['beam_payloadBytes_min', 'Beam distribution payloadBytes: smallest value'],
      ['beam_payloadBytes_max', 'Beam distribution payloadBytes: largest value'],
    ],
  );
});

test('reads the legacy body without stringSets or perWorkerHistograms', () => {
  const conversion = convertBeamJava(fixture('legacy-three-kinds'), context());

  assert.deepEqual(conversion.points, [
    { name: 'beam_filesWritten_total', labels: { namespace: 'output', step: 'WriteToText/WriteFiles/FinalizeTempFileBundles' }, value: 5 },
  ]);
  assert.deepEqual(conversion.families, [{ name: 'beam_filesWritten_total', type: 'counter', help: 'Beam counter filesWritten' }]);
});

test('applies the configured prefix and does not double a _total suffix', () => {
  const body = { counters: [counter(3, { name: { name: 'bytes_total', namespace: 'io' } })] };

  const conversion = convertBeamJava(body, context({ prefix: 'pipeline_' }));

  assert.deepEqual(conversion.points, [{ name: 'pipeline_bytes_total', labels: { namespace: 'io', step: 's' }, value: 3 }]);
  assert.deepEqual(conversion.families, [{ name: 'pipeline_bytes_total', type: 'counter', help: 'Beam counter bytes' }]);
});

test('keeps the same HELP for a family whatever namespace or spelling it came from', () => {
  const body = {
    counters: [
      counter(1, { name: { name: 'records-out', namespace: 'a' } }),
      counter(2, { name: { name: 'records_out_total', namespace: 'b' } }),
    ],
  };

  const conversion = convertBeamJava(body, context());

  assert.deepEqual(conversion.families, [{ name: 'beam_records_out_total', type: 'counter', help: 'Beam counter records_out' }]);
  assert.deepEqual(conversion.points.map((p) => p.labels.namespace), ['a', 'b']);
});

test('names a system metric after its URN and labels it with urn and pcollection', () => {
  const body = {
    counters: [{ attempted: 9812, name: { urn: 'beam:metric:element_count:v1' }, pcollection: 'ReadLines/Read.out0' }],
    distributions: [
      {
        attempted: { count: 2, max: 7, mean: 5, min: 3, sum: 10 },
        name: { urn: 'beam:metric:sampled_byte_size:v1' },
        pcollection: 'ReadLines/Read.out0',
      },
    ],
    gauges: [{ attempted: { timestamp: '2026-11-20T10:15:00Z', value: 4 }, name: { urn: 'custom:queue:depth' }, step: 'Q' }],
  };

  const conversion = convertBeamJava(body, context());

  const pc = { urn: 'beam:metric:element_count:v1', pcollection: 'ReadLines/Read.out0' };
  const size = { urn: 'beam:metric:sampled_byte_size:v1', pcollection: 'ReadLines/Read.out0' };
  assert.deepEqual(conversion.points, [
    { name: 'beam_element_count_total', labels: pc, value: 9812 },
    { name: 'beam_sampled_byte_size_sum', labels: size, value: 10 },
    { name: 'beam_sampled_byte_size_count', labels: size, value: 2 },
    { name: 'beam_sampled_byte_size_min', labels: size, value: 3 },
    { name: 'beam_sampled_byte_size_max', labels: size, value: 7 },
    { name: 'beam_custom_queue_depth', labels: { urn: 'custom:queue:depth', step: 'Q' }, value: 4, timestampMs: Date.parse('2026-11-20T10:15:00Z') },
  ]);
});

test('leaves out the step label when the step is empty or absent', () => {
  const body = { counters: [counter(1, { step: '' }), counter(2, { step: undefined })] };

  const conversion = convertBeamJava(body, context());

  assert.deepEqual(conversion.points.map((p) => p.labels), [{ namespace: 'ns' }, { namespace: 'ns' }]);
});

test('drops a gauge timestamp outside the plausible window so ingest time applies', () => {
  const gauge = (timestamp: string | number) => ({ attempted: { timestamp, value: 1 }, name: { name: 'g', namespace: 'ns' }, step: 's' });
  const body = {
    gauges: [
      gauge(new Date(NOW - 10 * 60_000).toISOString()),
      gauge(new Date(NOW - 10 * 60_000 - 1).toISOString()),
      gauge(NOW + 60_000),
      gauge(NOW + 60_001),
      gauge('1970-01-05T00:04:22.800Z'),
    ],
  };

  const conversion = convertBeamJava(body, context());

  assert.deepEqual(conversion.points.map((p) => p.timestampMs), [NOW - 10 * 60_000, undefined, NOW + 60_000, undefined, undefined]);
  assert.deepEqual(conversion.points.map((p) => 'timestampMs' in p), [true, false, true, false, false]);
});

test('caps a string set at stringSetCap sorted members, warns, and reports the full size', () => {
  const body = {
    stringSets: [{ attempted: { stringSet: ['c', 'a', 'b', 'a'] }, name: { name: 'files', namespace: 'ns' }, step: 's' }],
  };

  const conversion = convertBeamJava(body, context({ stringSetCap: 2 }));

  assert.deepEqual(conversion.points, [
    { name: 'beam_files_info', labels: { namespace: 'ns', step: 's', value: 'a' }, value: 1 },
    { name: 'beam_files_info', labels: { namespace: 'ns', step: 's', value: 'b' }, value: 1 },
    { name: 'beam_files_size', labels: { namespace: 'ns', step: 's' }, value: 3 },
  ]);
  assert.deepEqual(conversion.warnings, [
    'string set "ns/files" (s) has 3 members; exported the first 2 in sorted order (beam_files_size has the full count)',
  ]);
});

test('exports no min or max for an empty distribution', () => {
  const body = {
    distributions: [
      {
        attempted: { count: 0, max: -9223372036854775808, mean: 0, min: 9223372036854775807, sum: 0 },
        name: { name: 'd', namespace: 'ns' },
        step: 's',
      },
    ],
  };

  const conversion = convertBeamJava(body, context());

  assert.deepEqual(conversion.points, [
    { name: 'beam_d_sum', labels: { namespace: 'ns', step: 's' }, value: 0 },
    { name: 'beam_d_count', labels: { namespace: 'ns', step: 's' }, value: 0 },
  ]);
  assert.deepEqual(conversion.families.map((f) => f.name), ['beam_d']);
});

test('skips perWorkerHistograms and boundedTries with a warning and ignores unknown keys', () => {
  const body = {
    counters: [counter(1, { futureField: { x: 1 } })],
    perWorkerHistograms: [{ attempted: { totalCount: 3 }, name: { name: 'h', namespace: 'ns' }, step: 's' }],
    boundedTries: [{ attempted: { result: [['a']] }, name: { name: 't', namespace: 'ns' }, step: 's' }],
    somethingNew: [1, 2, 3],
  };

  const conversion = convertBeamJava(body, context());

  assert.deepEqual(conversion.points, [{ name: 'beam_n_total', labels: { namespace: 'ns', step: 's' }, value: 1 }]);
  assert.deepEqual(conversion.warnings, [
    'skipped 1 boundedTries: bounded tries have no Prometheus form',
    'skipped 1 perWorkerHistograms: their JSON form carries no bucket counts',
  ]);
});

test('rejects a negative counter with its path', () => {
  const issues = validationIssues(() => convertBeamJava({ counters: [counter(5), counter(-3)] }, context()));

  assert.deepEqual(issues, [
    {
      path: '$.counters[1].attempted',
      message: 'a counter cannot be negative (got -3): Prometheus counters only go up; use a gauge for a value that decreases',
    },
  ]);
});

test('prefixes error paths with where the body sits in a larger document', () => {
  const issues = validationIssues(() => convertBeamJava({ counters: [counter(1, { committed: -1 })] }, context(), ['detail', 'metrics']));

  assert.deepEqual(issues.map((i) => i.path), ['$.detail.metrics.counters[0].committed']);
});

test('collects every issue in one reply: non-finite values, negative counts, bad names, missing keys', () => {
  const body = {
    counters: [counter(1e400), { name: { namespace: 'ns' }, step: 's' }],
    distributions: [{ attempted: { count: -1, max: 1, min: 1, sum: 1 }, name: { name: 'd', namespace: 'ns' } }],
    gauges: [{ attempted: { timestamp: 'yesterday', value: 1 }, name: { urn: '' } }],
    stringSets: [{ attempted: { stringSet: [1] }, name: { name: 's', namespace: 'ns' } }],
  };

  const issues = validationIssues(() => convertBeamJava(body, context()));

  assert.deepEqual(issues, [
    { path: '$.counters[0].attempted', message: 'must be a finite number, got Infinity' },
    { path: '$.counters[1].attempted', message: 'is required' },
    { path: '$.counters[1].name', message: 'expected {"namespace", "name"} (a user metric) or {"urn"} (a system metric)' },
    { path: '$.distributions[0].attempted.count', message: 'a distribution count cannot be negative (got -1)' },
    { path: '$.gauges[0].attempted.timestamp', message: 'expected an ISO 8601 timestamp or epoch milliseconds' },
    { path: '$.gauges[0].name.urn', message: 'must not be empty' },
    { path: '$.stringSets[0].attempted.stringSet[0]', message: 'Invalid type: Expected string but received 1' },
  ]);
});

test('rejects a body that is not an object, or whose lists are not arrays', () => {
  assert.deepEqual(validationIssues(() => convertBeamJava([], context())), [{ path: '$', message: 'expected a JSON object' }]);
  assert.deepEqual(validationIssues(() => convertBeamJava(null, context())), [{ path: '$', message: 'expected a JSON object' }]);
  assert.deepEqual(
    validationIssues(() => convertBeamJava({ counters: {} }, context())).map((i) => i.path),
    ['$.counters'],
  );
});

test('reports at most 100 issues and says how many more there were', () => {
  const body = { counters: Array.from({ length: 150 }, () => counter(-1)) };

  const issues = validationIssues(() => convertBeamJava(body, context()));

  assert.equal(issues.length, 101);
  assert.equal(issues[99]?.path, '$.counters[99].attempted');
  assert.deepEqual(issues[100], { path: '$', message: '50 more issues not shown' });
});

test('rejects two metrics whose names would give one family two types', () => {
  const body = {
    counters: [counter(1, { name: { name: 'x', namespace: 'ns' } })],
    gauges: [{ attempted: { timestamp: NOW, value: 2 }, name: { name: 'x_total', namespace: 'ns' }, step: 's' }],
  };

  const issues = validationIssues(() => convertBeamJava(body, context()));

  assert.deepEqual(issues, [
    { path: '$.gauges[0].name', message: 'metric name "beam_x_total" would be a gauge, but $.counters[0] already makes it a counter' },
  ]);
});
