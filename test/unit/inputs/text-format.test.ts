import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { convertTextFormat } from '../../../lib/inputs/text-format.ts';
import type { TextFormatOptions } from '../../../lib/inputs/text-format.ts';
import { ValidationError } from '../../../lib/inputs/errors.ts';
import type { InputIssue } from '../../../lib/inputs/errors.ts';
import { DEFAULT_CONVERSION_OPTIONS } from '../../../lib/inputs/options.ts';
import type { InputContext } from '../../../lib/inputs/options.ts';

const ctx: InputContext = { nowMs: Date.UTC(2026, 10, 20, 12), options: { ...DEFAULT_CONVERSION_OPTIONS } };
const reject: TextFormatOptions = { timestamps: 'reject' };

function issuesOf(body: string, options: TextFormatOptions = reject): InputIssue[] {
  try {
    convertTextFormat(body, ctx, options);
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
    assert.equal(err.status, 400);
    return err.issues;
  }
  assert.fail('expected the body to be rejected');
}

describe('convertTextFormat: bodies from real clients', () => {
  it("reads a prom-client registry's exposition with every metric type", async () => {
    const registry = new Registry();
    const records = new Counter({
      name: 'beam_records_total',
      help: 'Records read.\nBackslash: \\',
      labelNames: ['step', 'path'],
      registers: [registry],
    });
    records.inc({ step: 'Read/Impulse', path: 'C:\\DIR\\"FILE"\nnext' }, 5);
    const latency = new Histogram({ name: 'lookup_seconds', help: 'Lookup latency.', buckets: [0.1, 1], registers: [registry] });
    latency.observe(0.05);
    latency.observe(3);
    const size = new Summary({ name: 'element_bytes', help: 'Element size.', percentiles: [0.5, 0.9], registers: [registry] });
    size.observe(10);
    const lag = new Gauge({ name: 'watermark_lag_seconds', help: 'Lag.', registers: [registry] });
    lag.set(-Infinity);
    const body = await registry.metrics();

    const out = convertTextFormat(body, ctx, reject);

    assert.deepEqual(out.families, [
      { name: 'beam_records_total', type: 'counter', help: 'Records read.\nBackslash: \\' },
      { name: 'lookup_seconds', type: 'histogram', help: 'Lookup latency.' },
      { name: 'element_bytes', type: 'summary', help: 'Element size.' },
      { name: 'watermark_lag_seconds', type: 'gauge', help: 'Lag.' },
    ]);
    assert.deepEqual(out.points, [
      { name: 'beam_records_total', labels: { step: 'Read/Impulse', path: 'C:\\DIR\\"FILE"\nnext' }, value: 5 },
      { name: 'lookup_seconds_bucket', labels: { le: '0.1' }, value: 1 },
      { name: 'lookup_seconds_bucket', labels: { le: '1' }, value: 1 },
      { name: 'lookup_seconds_bucket', labels: { le: '+Inf' }, value: 2 },
      { name: 'lookup_seconds_sum', labels: {}, value: 3.05 },
      { name: 'lookup_seconds_count', labels: {}, value: 2 },
      { name: 'element_bytes', labels: { quantile: '0.5' }, value: 10 },
      { name: 'element_bytes', labels: { quantile: '0.9' }, value: 10 },
      { name: 'element_bytes_sum', labels: {}, value: 10 },
      { name: 'element_bytes_count', labels: {}, value: 1 },
      { name: 'watermark_lag_seconds', labels: {}, value: -Infinity },
    ]);
    assert.equal(out.warnings, undefined);
  });

  it("reads Flink's PrometheusPushGatewayReporter body, trailing commas and escaped quotes included", () => {
    const body = readFileSync(new URL('../../fixtures/text/flink-pushgateway-reporter.txt', import.meta.url), 'utf8');

    const out = convertTextFormat(body, ctx, reject);

    assert.equal(out.points.length, 13);
    assert.deepEqual(
      out.families.map((f) => [f.name, f.type]),
      [
        ['flink_jobmanager_job_uptime', 'gauge'],
        ['flink_jobmanager_job_numRestarts', 'gauge'],
        ['flink_taskmanager_Status_JVM_Memory_Heap_Used', 'gauge'],
        ['flink_taskmanager_Status_JVM_CPU_Load', 'gauge'],
        ['flink_taskmanager_job_task_operator_numRecordsIn', 'gauge'],
        ['flink_taskmanager_job_task_operator_numRecordsOutPerSecond', 'gauge'],
        ['flink_taskmanager_job_task_operator_enrich_ordersEnriched', 'gauge'],
        ['flink_taskmanager_job_task_operator_enrich_lookupLatencyMs', 'summary'],
      ],
    );
    assert.equal(out.families[0]?.help, 'uptime (scope: jobmanager_job)');
    assert.deepEqual(out.points[0], {
      name: 'flink_jobmanager_job_uptime',
      labels: { job_id: '9d4b3c2a1f0e8d7c6b5a49382716f5e4', host: 'ip-10-0-3-17', job_name: 'orders-enrichment' },
      value: 1843212,
    });
    assert.equal(out.points[2]?.value, 412783264);
    const records = out.points.find((p) => p.name === 'flink_taskmanager_job_task_operator_numRecordsIn');
    assert.equal(records?.labels.task_name, 'Source: Impulse -> Enrich/ParMultiDo(Lookup) -> Write/ParMultiDo("sink")');
    assert.equal(records?.labels.subtask_index, '0');
    const p999 = out.points.find((p) => p.labels.quantile === '0.999');
    assert.ok(p999 !== undefined && Number.isNaN(p999.value));
  });

  it("reads Python push_to_gateway's counter with its _created gauge", () => {
    const body = [
      '# HELP rows_total Rows written.',
      '# TYPE rows_total counter',
      'rows_total{table="orders"} 1200.0',
      '# HELP rows_created Rows written.',
      '# TYPE rows_created gauge',
      'rows_created{table="orders"} 1.7636256e+09',
      '',
    ].join('\n');

    const out = convertTextFormat(body, ctx, reject);

    assert.deepEqual(out.points, [
      { name: 'rows_total', labels: { table: 'orders' }, value: 1200 },
      { name: 'rows_created', labels: { table: 'orders' }, value: 1763625600 },
    ]);
    assert.deepEqual(out.families.map((f) => f.type), ['counter', 'gauge']);
  });
});

describe('convertTextFormat: syntax', () => {
  it('decodes \\\\, \\" and \\n in label values and \\\\, \\n in HELP', () => {
    const body = [
      '# HELP msdos_file_access_time_seconds Time of \\\\ access\\nin seconds "quoted"',
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
    ].join('\n');

    const out = convertTextFormat(body, ctx, reject);

    assert.deepEqual(out.points, [
      {
        name: 'msdos_file_access_time_seconds',
        labels: { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' },
        value: 1458255915,
      },
    ]);
    assert.deepEqual(out.families, [
      { name: 'msdos_file_access_time_seconds', type: 'unknown', help: 'Time of \\ access\nin seconds "quoted"' },
    ]);
  });

  it('reads NaN, +Inf, -Inf and the other float spellings', () => {
    const body = ['a NaN', 'b +Inf', 'c -Inf', 'd Inf', 'e -1.5E-3', 'f .5', 'g 7.', 'h +3', 'i -infinity'].join('\n');

    const values = convertTextFormat(body, ctx, reject).points.map((p) => p.value);

    assert.ok(Number.isNaN(values[0]));
    assert.deepEqual(values.slice(1), [Infinity, -Infinity, Infinity, -0.0015, 0.5, 7, 3, -Infinity]);
  });

  it('ignores blank lines, other comments and surrounding whitespace, and accepts CRLF and a missing final newline', () => {
    const body = '\n# just a comment\n#\n   \n# EOF is a comment too\r\n\t up{ a = "1" , b="2" , }\t 1 \r\n\ndown 0';

    const out = convertTextFormat(body, ctx, reject);

    assert.deepEqual(out.points, [
      { name: 'up', labels: { a: '1', b: '2' }, value: 1 },
      { name: 'down', labels: {}, value: 0 },
    ]);
  });

  it('reads an empty label set and untyped samples as family type unknown', () => {
    const body = '# TYPE legacy untyped\nlegacy{} 3\nother 4\n';

    const out = convertTextFormat(body, ctx, reject);

    assert.deepEqual(out.families, [
      { name: 'legacy', type: 'unknown' },
      { name: 'other', type: 'unknown' },
    ]);
    assert.deepEqual(out.points.map((p) => p.labels), [{}, {}]);
  });

  it('accepts TYPE in any case, as the Pushgateway does', () => {
    const out = convertTextFormat('# TYPE a COUNTER\na 1\n', ctx, reject);

    assert.deepEqual(out.families, [{ name: 'a', type: 'counter' }]);
  });

  it('gives a sample its own family when a family of its exact name exists, else its summary', () => {
    const body = '# TYPE s summary\n# TYPE s_count gauge\ns_count 3\ns_sum 4\n';

    const out = convertTextFormat(body, ctx, reject);

    assert.deepEqual(out.families, [
      { name: 's_count', type: 'gauge' },
      { name: 's', type: 'summary' },
    ]);
  });

  it('leaves out families declared without samples', () => {
    const out = convertTextFormat('# HELP ghost never sampled\n# TYPE ghost gauge\nreal 1\n', ctx, reject);

    assert.deepEqual(out.families, [{ name: 'real', type: 'unknown' }]);
  });

  it('returns nothing for an empty body', () => {
    const out = convertTextFormat('', ctx, reject);

    assert.deepEqual(out, { families: [], points: [] });
  });
});

describe('convertTextFormat: timestamps', () => {
  it('rejects a sample with a timestamp as the Pushgateway does, with its line', () => {
    const issues = issuesOf('ok 1\nhttp_requests_total{code="200"} 1027 1395066363000\n');

    assert.deepEqual(issues, [
      { path: '$line[2]', message: 'sample has a timestamp ("1395066363000"): pushed metrics must not have timestamps' },
    ]);
  });

  it('drops timestamps when asked and says so in a warning', () => {
    const out = convertTextFormat('a 1 1395066363000\nb 2 -3982045\nc 3\n', ctx, { timestamps: 'drop' });

    assert.deepEqual(out.points, [
      { name: 'a', labels: {}, value: 1 },
      { name: 'b', labels: {}, value: 2 },
      { name: 'c', labels: {}, value: 3 },
    ]);
    assert.deepEqual(out.warnings, ['dropped the timestamps of 2 samples; the ingest time applies']);
  });

  it('rejects a timestamp that is not an integer even when dropping', () => {
    assert.deepEqual(issuesOf('a 1 1.5\n', { timestamps: 'drop' }), [{ path: '$line[1]', message: 'invalid timestamp "1.5"' }]);
  });
});

describe('convertTextFormat: errors name their line', () => {
  const cases: Array<[string, string, string]> = [
    ['an invalid metric name', 'ok 1\nmy-metric 1\n', '$line[2]: invalid metric name "my-metric"'],
    ['a metric name starting with a digit', '1abc 1\n', '$line[1]: invalid metric name "1abc"'],
    ['an invalid label name', 'a{step-name="x"} 1\n', '$line[1]: invalid label name "step-name"'],
    ['a reserved label name', 'a{__name__="b"} 1\n', '$line[1]: invalid label name "__name__"'],
    ['a duplicate label name', 'a{x="1",x="2"} 1\n', '$line[1]: duplicate label name "x"'],
    ['an unquoted label value', 'a{x=1} 1\n', '$line[1]: expected a quoted value for label "x"'],
    ['a label without "="', 'a{x "1"} 1\n', '$line[1]: expected "=" after label name "x"'],
    ['an unclosed label value', 'a{x="1} 1\n', '$line[1]: value of label "x" is not closed with \'"\''],
    ['an unclosed label set', 'a{x="1" 1\n', '$line[1]: expected "," or "}" at "1"'],
    ['a label set cut off', 'a{x="1",\n', '$line[1]: label set is not closed with "}"'],
    ['an empty label name', 'a{,} 1\n', '$line[1]: expected a label name at ",} 1"'],
    ['an invalid escape in a label value', 'a{x="\\t"} 1\n', '$line[1]: invalid escape sequence "\\\\t" in value of label "x"'],
    ['an invalid escape in HELP', '# HELP a bad \\" quote\n', '$line[1]: invalid escape sequence "\\\\\\"" in HELP text'],
    ['a missing value', 'a{x="1"}\n', '$line[1]: sample "a" has no value'],
    ['a value that is not a number', 'a 12abc\n', '$line[1]: invalid value "12abc"'],
    ['a hex value', 'a 0x10\n', '$line[1]: invalid value "0x10"'],
    ['a signed NaN', 'a -NaN\n', '$line[1]: invalid value "-NaN"'],
    ['text after the timestamp', 'a 1 2 3\n', '$line[1]: unexpected "3" after the timestamp'],
    ['a second TYPE', '# TYPE a gauge\n# TYPE a counter\na 1\n', '$line[2]: second TYPE line for "a"'],
    ['a TYPE after its samples', 'a 1\n# TYPE a gauge\n', '$line[2]: TYPE line for "a" comes after its samples (line 1)'],
    ['a second HELP', '# HELP a one\n# HELP a two\n', '$line[2]: second HELP line for "a"'],
    ['an unknown type', '# TYPE a timer\n', '$line[1]: unknown metric type "timer"; expected counter, gauge, histogram, summary or untyped'],
    ['a TYPE without a type', '# TYPE a\n', '$line[1]: TYPE line for "a" has no type'],
    ['a TYPE with extra tokens', '# TYPE a gauge extra\n', '$line[1]: unexpected "extra" after the type'],
    ['a HELP without a name', '# HELP\n', '$line[1]: HELP line has no metric name'],
    ['an invalid name in TYPE', '# TYPE a.b gauge\n', '$line[1]: invalid metric name "a.b" in TYPE line'],
    ['a duplicate series', 'a{x="1",y="2"} 1\nb 1\na{y="2",x="1"} 2\n', '$line[3]: duplicate series "a", first on line 1'],
    ['a summary quantile sample without quantile', '# TYPE s summary\ns 1\n', '$line[2]: sample "s" has no "quantile" label'],
    ['a histogram bucket without le', '# TYPE h histogram\nh_bucket 1\n', '$line[2]: sample "h_bucket" has no "le" label'],
    ['a histogram bucket with a bad le', '# TYPE h histogram\nh_bucket{le="big"} 1\n', '$line[2]: "le" label of "h_bucket" is not a number: "big"'],
    ['a histogram sample without suffix', '# TYPE h histogram\nh 1\n', '$line[2]: histogram "h" has a sample without the _bucket, _sum or _count suffix'],
  ];
  for (const [what, body, expected] of cases) {
    it(`rejects ${what}`, () => {
      const issues = issuesOf(body);

      assert.deepEqual(issues.map((i) => `${i.path}: ${i.message}`), [expected]);
    });
  }

  it('reports every faulty line, up to 20', () => {
    const body = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? `bad-${i} 1` : `good_${i} 1`)).join('\n');

    const issues = issuesOf(body);

    assert.equal(issues.length, 15);
    assert.deepEqual(issues.slice(0, 2).map((i) => i.path), ['$line[1]', '$line[3]']);
    assert.equal(issuesOf(Array.from({ length: 50 }, () => 'x-y 1').join('\n')).length, 20);
  });

  it('cuts long input quoted in a message', () => {
    const [issue] = issuesOf(`${'a'.repeat(100)}-b 1\n`);

    assert.equal(issue?.message, `invalid metric name "${'a'.repeat(60)}…"`);
  });
});

describe('convertTextFormat: pathological input', () => {
  const MB = 1 << 20;
  const bodies: Array<[string, string]> = [
    ['a 1 MB metric name without a value', 'a'.repeat(MB)],
    ['a 1 MB unclosed label value', `a{x="${'y'.repeat(MB)}`],
    ['a 1 MB label value of backslashes', `a{x="${'\\\\'.repeat(MB / 2)}`],
    ['a 1 MB value of digits', `a ${'1'.repeat(MB)}x`],
    ['a 1 MB run of blanks', `a${' '.repeat(MB)}`],
    ['a label set of 100k labels', `a{${Array.from({ length: 100_000 }, (_, i) => `l${i}="v"`).join(',')}} 1`],
  ];
  for (const [what, body] of bodies) {
    it(`handles ${what} in linear time`, () => {
      const started = performance.now();

      try {
        convertTextFormat(body, ctx, reject);
      } catch (err) {
        assert.ok(err instanceof ValidationError);
      }

      assert.ok(performance.now() - started < 2000, 'took longer than 2 s');
    });
  }
});

describe('counters in the text format', () => {
  it('refuses a negative counter value with its line', () => {
    const body = '# TYPE jobs_total counter\njobs_total{a="1"} 3\njobs_total{a="2"} -1\n';
    assert.throws(
      () => convertTextFormat(body, { nowMs: 0, options: DEFAULT_CONVERSION_OPTIONS }),
      (e: unknown) => e instanceof ValidationError && e.issues.length === 1 && e.issues[0]!.path === '$line[3]' && /negative/.test(e.issues[0]!.message),
    );
  });
});
