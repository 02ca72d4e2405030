/**
 * The ingest core refuses bad input precisely: each row is one request through `acceptHttpRequest`, with options
 * from `loadIngestConfig` (so the defaults are the real ones), and asserts the status and the exact issue paths.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadIngestConfig } from '../../../lib/ingest/config.ts';
import { acceptHttpRequest } from '../../../lib/ingest/ingest.ts';
import { InputError } from '../../../lib/inputs/errors.ts';

const NOW = Date.parse('2026-11-20T10:20:00Z');
const TOKEN = 'bad-input-token-0123456789';
const SECRET = 'bad-input-hmac-secret-0123456789';
const JSON_TYPE = { 'content-type': 'application/json' };
const TEXT_TYPE = { 'content-type': 'text/plain; version=0.0.4' };

interface Row {
  name: string;
  env?: Record<string, string>;
  method?: string;
  path?: string;
  /** Replace the default `Content-Type: application/json`. */
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** An object is sent as its JSON. */
  body: string | Buffer | object;
  status: number;
  /** The issue paths, in order; none for 200. */
  paths?: string[];
}

/** Status and issue paths of one request; every issue must carry a message. */
function attempt(row: Row): { status: number; paths: string[] } {
  const options = loadIngestConfig({ QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q', ...row.env }).options;
  const body = Buffer.isBuffer(row.body) ? row.body : Buffer.from(typeof row.body === 'string' ? row.body : JSON.stringify(row.body));
  try {
    acceptHttpRequest(
      { method: row.method ?? 'POST', path: row.path ?? '/metrics/job/wordcount', headers: row.headers ?? JSON_TYPE, query: row.query ?? {}, body },
      options,
      NOW,
      'req-1',
    );
    return { status: 200, paths: [] };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    for (const issue of error.issues) assert.ok(issue.message.length > 0, `an issue at ${issue.path} has no message`);
    return { status: error.status, paths: error.issues.map((i) => i.path) };
  }
}

function table(title: string, rows: Row[]): void {
  describe(title, () => {
    for (const row of rows) {
      it(row.name, () => {
        assert.deepEqual(attempt(row), { status: row.status, paths: row.paths ?? [] });
      });
    }
  });
}

const javaCounter = (name: string, attempted: unknown = 1, more: object = {}) => ({ attempted, name: { namespace: 'ns', name }, step: 'Step', ...more });
const pyCounter = (name: string, attempted: unknown = 1, labels: Record<string, unknown> = {}) => ({
  key: { step: 'Step', metric: { namespace: 'ns', name }, labels },
  attempted,
  committed: attempted,
});
const dfMetric = (name: string, kind: string, values: object, more: object = {}) => ({
  name: { origin: 'user', name, context: { step: 's1', namespace: 'ns' } },
  kind,
  cumulative: true,
  ...values,
  ...more,
});
const counters = (n: number, prefix = 'c') => ({ counters: Array.from({ length: n }, (_, i) => javaCounter(`${prefix}${i}`)) });
const pyLabels = (n: number, length = 4) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${String(i).padStart(length - 1, '0')}`, 'v']));
/** Text that gzip cannot shrink much: hex of a hash chain. */
const incompressible = (bytes: number) =>
  Array.from({ length: Math.ceil(bytes / 64) }, (_, i) => createHash('sha256').update(String(i)).digest('hex')).join('').slice(0, bytes);
const gzipHeaders = { ...JSON_TYPE, 'content-encoding': 'gzip' };

table('body size', [
  { name: 'answers 413 at $ for a body over MAX_BODY_BYTES', env: { MAX_BODY_BYTES: '1024' }, body: JSON.stringify(counters(1)).padEnd(1025, ' '), status: 413, paths: ['$'] },
  { name: 'accepts a body of exactly MAX_BODY_BYTES', env: { MAX_BODY_BYTES: '1024' }, body: JSON.stringify(counters(1)).padEnd(1024, ' '), status: 200 },
  { name: 'answers 413 at $ for a gzip body whose compressed size is over MAX_BODY_BYTES', env: { MAX_BODY_BYTES: '1024' }, headers: gzipHeaders, body: gzipSync(`{"x":"${incompressible(4096)}"}`), status: 413, paths: ['$'] },
  { name: 'answers 413 at $ for a gzip body that inflates past MAX_DECOMPRESSED_BYTES', env: { MAX_DECOMPRESSED_BYTES: '1024' }, headers: gzipHeaders, body: gzipSync(JSON.stringify(counters(1)).padEnd(1025, ' ')), status: 413, paths: ['$'] },
  { name: 'accepts a gzip body that inflates to exactly MAX_DECOMPRESSED_BYTES', env: { MAX_DECOMPRESSED_BYTES: '1024' }, headers: gzipHeaders, body: gzipSync(JSON.stringify(counters(1)).padEnd(1024, ' ')), status: 200 },
  { name: 'answers 413 at $ for an uncompressed body over MAX_DECOMPRESSED_BYTES but under MAX_BODY_BYTES', env: { MAX_BODY_BYTES: '4096', MAX_DECOMPRESSED_BYTES: '1024' }, body: JSON.stringify(counters(1)).padEnd(2048, ' '), status: 413, paths: ['$'] },
  { name: 'answers 413 at $ for a gzip bomb (64 MiB of zeros) under the default caps', headers: gzipHeaders, body: gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 1 }), status: 413, paths: ['$'] },
  { name: 'answers 413 at $ when one series alone cannot fit a queue message', env: { MAX_MESSAGE_BYTES: '16384', MAX_LABEL_VALUE_LENGTH: '1048576' }, body: { counters: [javaCounter('c', 1, { step: 's'.repeat(20_000) })] }, status: 413, paths: ['$'] },
]);

table('series per request', [
  { name: 'accepts exactly MAX_SERIES_PER_REQUEST series', env: { MAX_SERIES_PER_REQUEST: '3' }, body: counters(3), status: 200 },
  { name: 'refuses at $ a Beam Java body listing more metrics than MAX_SERIES_PER_REQUEST', env: { MAX_SERIES_PER_REQUEST: '3' }, body: counters(4), status: 400, paths: ['$'] },
  { name: 'refuses at $ a Beam Python body listing more metrics than MAX_SERIES_PER_REQUEST', env: { MAX_SERIES_PER_REQUEST: '3' }, body: { counters: [pyCounter('a'), pyCounter('b'), pyCounter('c'), pyCounter('d')] }, status: 400, paths: ['$'] },
  {
    name: 'refuses at $ two distributions that make more series than the limit (sum, count, min, max each)',
    env: { MAX_SERIES_PER_REQUEST: '6' },
    body: { distributions: ['d1', 'd2'].map((n) => ({ attempted: { count: 2, max: 3, min: 1, sum: 4 }, name: { namespace: 'ns', name: n }, step: 'S' })) },
    status: 400,
    paths: ['$'],
  },
  { name: 'refuses at $.metrics a completion report whose metrics list more than the limit', env: { MAX_SERIES_PER_REQUEST: '3' }, body: { state: 'DONE', metrics: counters(4) }, status: 400, paths: ['$.metrics'] },
  { name: 'refuses at $ a Dataflow body that makes more series than the limit', env: { MAX_SERIES_PER_REQUEST: '2' }, body: { metrics: ['a', 'b', 'c'].map((n) => dfMetric(n, 'Sum', { scalar: 1 })) }, status: 400, paths: ['$'] },
  { name: 'refuses at $ a text body with more series than the limit', env: { MAX_SERIES_PER_REQUEST: '3' }, headers: TEXT_TYPE, body: 'a 1\nb 1\nc 1\nd 1\n', status: 400, paths: ['$'] },
]);

// Path: job, a, b; static: env, region; Beam: namespace, step; and __name__: 8 before the Python labels.
const labelEnv = { STATIC_LABELS: 'env=prod,region=eu' };
const labelPath = '/metrics/job/wordcount/a/1/b/2';
table('labels per series (70 by default, __name__, path and static labels counted)', [
  { name: 'accepts a series with exactly 70 labels', env: labelEnv, path: labelPath, body: { counters: [pyCounter('c', 1, pyLabels(62))] }, status: 200 },
  { name: 'refuses at $ a series with 71 labels', env: labelEnv, path: labelPath, body: { counters: [pyCounter('c', 1, pyLabels(63))] }, status: 400, paths: ['$'] },
  { name: 'refuses at $ a series over MAX_LABELS_PER_SERIES counting only path and static labels', env: { ...labelEnv, MAX_LABELS_PER_SERIES: '7' }, path: labelPath, body: counters(1), status: 400, paths: ['$'] },
  { name: 'refuses at $ a text series with more labels than the limit', env: { MAX_LABELS_PER_SERIES: '3' }, headers: TEXT_TYPE, body: 'm{a="1",b="2",c="3"} 1\n', status: 400, paths: ['$'] },
]);

table('name and value lengths', [
  { name: 'accepts a metric name of 1024 bytes', body: { counters: [javaCounter('n'.repeat(1024 - 'beam_'.length - '_total'.length))] }, status: 200 },
  { name: 'refuses at $ a metric name over 1024 bytes', body: { counters: [javaCounter('n'.repeat(1025 - 'beam_'.length - '_total'.length))] }, status: 400, paths: ['$'] },
  { name: 'refuses at $ a label name over 1024 bytes', body: { counters: [pyCounter('c', 1, { ['k'.repeat(1025)]: 'v' })] }, status: 400, paths: ['$'] },
  { name: 'accepts a label value of 2048 bytes', body: { counters: [javaCounter('c', 1, { step: 's'.repeat(2048) })] }, status: 200 },
  { name: 'refuses at $ a label value over 2048 bytes', body: { counters: [javaCounter('c', 1, { step: 's'.repeat(2049) })] }, status: 400, paths: ['$'] },
  { name: 'counts a label value in UTF-8 bytes, not characters', body: { counters: [javaCounter('c', 1, { step: '€'.repeat(683) })] }, status: 400, paths: ['$'] },
  { name: 'refuses at $ a label value over MAX_LABEL_VALUE_LENGTH', env: { MAX_LABEL_VALUE_LENGTH: '16' }, body: { counters: [javaCounter('c', 1, { step: 's'.repeat(17) })] }, status: 400, paths: ['$'] },
  { name: 'refuses at $ a job name in the path over the value limit', path: `/metrics/job/${'j'.repeat(2049)}`, body: counters(1), status: 400, paths: ['$'] },
  { name: 'refuses at $ a text label value over the value limit', headers: TEXT_TYPE, body: `m{a="${'v'.repeat(2049)}"} 1\n`, status: 400, paths: ['$'] },
]);

table('non-finite numbers', [
  { name: 'refuses 1e400 as a Beam Java counter at its path', body: '{"counters":[{"attempted":1e400,"name":{"namespace":"ns","name":"c"},"step":"S"}]}', status: 400, paths: ['$.counters[0].attempted'] },
  { name: 'refuses -1e400 as a Beam Java gauge value at its path', body: '{"gauges":[{"attempted":{"timestamp":"2026-11-20T10:19:00Z","value":-1e400},"name":{"namespace":"ns","name":"g"},"step":"S"}]}', status: 400, paths: ['$.gauges[0].attempted.value'] },
  { name: 'refuses 1e999 as a Beam Python distribution sum at its path', body: '{"distributions":[{"key":{"step":"S","metric":{"namespace":"ns","name":"d"}},"attempted":{"sum":1e999,"count":1,"min":1,"max":1}}]}', status: 400, paths: ['$.distributions[0].attempted.sum'] },
  { name: 'refuses 1e400 as a Dataflow scalar at its path', body: '{"metrics":[{"name":{"origin":"user","name":"c"},"kind":"Sum","scalar":1e400}]}', status: 400, paths: ['$.metrics[0].scalar'] },
  { name: 'refuses the decimal string "1e400" as a Dataflow scalar at its path', body: { metrics: [dfMetric('c', 'Sum', { scalar: '1e400' })] }, status: 400, paths: ['$.metrics[0].scalar'] },
  { name: 'refuses "NaN" where a Beam Java counter belongs', body: { counters: [javaCounter('c', 'NaN')] }, status: 400, paths: ['$.counters[0].attempted'] },
  { name: 'accepts NaN and +Inf in the text format, which Prometheus stores', headers: TEXT_TYPE, body: 'g NaN\nh +Inf\n', status: 200 },
]);

table('negative counters', [
  { name: 'refuses a negative Beam Java counter at its path', body: { counters: [javaCounter('c', -1)] }, status: 400, paths: ['$.counters[0].attempted'] },
  { name: 'refuses a negative committed Beam Java counter at its path', body: { counters: [javaCounter('c', 5, { committed: -5 })] }, status: 400, paths: ['$.counters[0].committed'] },
  { name: 'refuses a negative Beam Python counter at both paths', body: { counters: [pyCounter('ok'), pyCounter('c', -3)] }, status: 400, paths: ['$.counters[1].attempted', '$.counters[1].committed'] },
  { name: 'refuses a negative Dataflow Sum at its path', body: { metrics: [dfMetric('c', 'Sum', { scalar: -2 })] }, status: 400, paths: ['$.metrics[0].scalar'] },
  { name: 'refuses a negative distribution count at its path', body: { distributions: [{ attempted: { count: -1, max: 1, min: 1, sum: 1 }, name: { namespace: 'ns', name: 'd' }, step: 'S' }] }, status: 400, paths: ['$.distributions[0].attempted.count'] },
]);

table('duplicate series', [
  { name: 'refuses at $ the same Beam Java counter twice', body: { counters: [javaCounter('c'), javaCounter('c')] }, status: 400, paths: ['$'] },
  { name: 'refuses at $ two names that sanitise to the same series', body: { counters: [javaCounter('records-out'), javaCounter('records_out')] }, status: 400, paths: ['$'] },
  { name: 'refuses at $ Beam Python series that differ only in labels that sanitise alike', body: { counters: [pyCounter('c', 1, { 'a.b': 'x' }), pyCounter('c', 1, { 'a/b': 'x' })] }, status: 400, paths: ['$'] },
  { name: 'refuses a text series given twice at its second line', headers: TEXT_TYPE, body: 'm{a="1"} 1\nm{a="1"} 2\n', status: 400, paths: ['$line[2]'] },
  { name: 'refuses at $ text series that differ only in the job label the path overrides', headers: TEXT_TYPE, body: 'm{job="a"} 1\nm{job="b"} 2\n', status: 400, paths: ['$'] },
  { name: 'refuses a Dataflow metric reported twice at the second entry', body: { metrics: [dfMetric('c', 'Sum', { scalar: 1 }), dfMetric('c', 'Sum', { scalar: 2 })] }, status: 400, paths: ['$.metrics[1]'] },
]);

table('wrong JSON types: Beam Java', [
  { name: 'refuses counters that is an object', body: { counters: {} }, status: 400, paths: ['$.counters'] },
  { name: 'refuses a counter that is a string', body: { counters: [javaCounter('ok'), 'c'] }, status: 400, paths: ['$.counters[1]'] },
  { name: 'refuses a metric name that is a string', body: { counters: [{ attempted: 1, name: 'c', step: 'S' }] }, status: 400, paths: ['$.counters[0].name'] },
  { name: 'refuses a step that is a number', body: { counters: [javaCounter('c', 1, { step: 7 })] }, status: 400, paths: ['$.counters[0].step'] },
  { name: 'refuses a counter value that is a string', body: { counters: [javaCounter('c', '12')] }, status: 400, paths: ['$.counters[0].attempted'] },
  { name: 'refuses a distribution count that is a string', body: { distributions: [{ attempted: { count: 'x', max: 1, min: 1, sum: 1 }, name: { namespace: 'ns', name: 'd' }, step: 'S' }] }, status: 400, paths: ['$.distributions[0].attempted.count'] },
  { name: 'refuses a gauge timestamp that is not a date', body: { gauges: [{ attempted: { timestamp: 'yesterday', value: 1 }, name: { namespace: 'ns', name: 'g' }, step: 'S' }] }, status: 400, paths: ['$.gauges[0].attempted.timestamp'] },
  { name: 'refuses a string set member that is a number', body: { stringSets: [{ attempted: { stringSet: ['a', 2] }, name: { namespace: 'ns', name: 's' }, step: 'S' }] }, status: 400, paths: ['$.stringSets[0].attempted.stringSet[1]'] },
  { name: 'refuses a counter without attempted and name, naming both', body: { counters: [javaCounter('ok'), { step: 'S' }] }, status: 400, paths: ['$.counters[1].attempted', '$.counters[1].name'] },
]);

table('wrong JSON types: Beam Python', [
  // valibot's object() takes an array as an object: the fault is then the key's missing metric.
  { name: 'refuses a key that is an array at its missing metric', body: { counters: [pyCounter('ok'), { key: [], attempted: 1 }] }, status: 400, paths: ['$.counters[1].key.metric'] },
  { name: 'refuses a metric name that is null', body: { counters: [{ key: { step: 'S', metric: { namespace: 'ns', name: null } }, attempted: 1 }] }, status: 400, paths: ['$.counters[0].key.metric.name'] },
  { name: 'refuses a label value that is a number', body: { counters: [pyCounter('c', 1, { a: 'x', b: 2 })] }, status: 400, paths: ['$.counters[0].key.labels.b'] },
  { name: 'refuses labels that are an array', body: { counters: [pyCounter('c', 1, ['prod'] as never)] }, status: 400, paths: ['$.counters[0].key.labels'] },
  { name: 'refuses a gauge timestamp that is a string', body: { gauges: [{ key: { step: 'S', metric: { namespace: 'ns', name: 'g' } }, attempted: { value: 1, timestamp: 'now' } }] }, status: 400, paths: ['$.gauges[0].attempted.timestamp'] },
  { name: 'refuses a string set that is a string', body: { string_sets: [{ key: { step: 'S', metric: { namespace: 'ns', name: 's' } }, attempted: 'abc' }] }, status: 400, paths: ['$.string_sets[0].attempted'] },
]);

table('wrong JSON types: Dataflow', [
  { name: 'refuses metrics that is an object', body: { metricTime: '2026-11-20T10:20:00Z', metrics: {} }, status: 400, paths: ['$.metrics'] },
  { name: 'refuses metricTime that is a number', body: { metricTime: 5, metrics: [] }, status: 400, paths: ['$.metricTime'] },
  { name: 'refuses an origin that is a number', body: { metrics: [{ name: { origin: 1, name: 'c' }, kind: 'Sum', scalar: 1 }] }, status: 400, paths: ['$.metrics[0].name.origin'] },
  { name: 'refuses a context value that is a number', body: { metrics: [dfMetric('c', 'Sum', { scalar: 1 }, { name: { origin: 'user', name: 'c', context: { step: 5 } } })] }, status: 400, paths: ['$.metrics[0].name.context.step'] },
  { name: 'refuses a distribution count that is not a number', body: { metrics: [dfMetric('d', 'Distribution', { distribution: { count: 'x', sum: 1 } })] }, status: 400, paths: ['$.metrics[0].distribution.count'] },
  { name: 'refuses a delta (non-cumulative) update at its cumulative flag', body: { metrics: [dfMetric('c', 'Sum', { scalar: 1 }, { cumulative: false })] }, status: 400, paths: ['$.metrics[0].cumulative'] },
  { name: 'refuses a set member that is a number', body: { metrics: [dfMetric('s', 'Set', { set: ['a', 1] })] }, status: 400, paths: ['$.metrics[0].set[1]'] },
]);

table('wrong JSON types: completion report', [
  { name: 'refuses a state that is a number', body: { state: 5 }, status: 400, paths: ['$.state'] },
  { name: 'refuses a state Beam does not have', body: { state: 'EXPLODED' }, status: 400, paths: ['$.state'] },
  { name: 'refuses a startTime that is not a time', body: { state: 'DONE', startTime: 'soon' }, status: 400, paths: ['$.startTime'] },
  { name: 'refuses an endTime before the startTime', body: { state: 'DONE', startTime: '2026-11-20T10:00:00Z', endTime: '2026-11-20T09:00:00Z' }, status: 400, paths: ['$.endTime'] },
  { name: 'refuses labels that are an array', body: { state: 'DONE', labels: ['prod'] }, status: 400, paths: ['$.labels'] },
  { name: 'refuses a label value that is a number', body: { state: 'DONE', labels: { env: 1 } }, status: 400, paths: ['$.labels.env'] },
  { name: 'refuses metrics that are a number', body: { state: 'DONE', metrics: 5 }, status: 400, paths: ['$.metrics'] },
  { name: 'refuses a counter inside metrics at its full path', body: { state: 'DONE', metrics: { counters: [javaCounter('c', 'x')] } }, status: 400, paths: ['$.metrics.counters[0].attempted'] },
]);

table('text format', [
  { name: 'refuses an unclosed label value at its line', headers: TEXT_TYPE, body: 'ok 1\nm{a="1} 1\n', status: 400, paths: ['$line[2]'] },
  { name: 'refuses every bad line, each at its own line', headers: TEXT_TYPE, body: 'ok 1\nb/c 2\nd{e=1} 3\n', status: 400, paths: ['$line[2]', '$line[3]'] },
  { name: 'refuses a sample timestamp by default (the Pushgateway refuses them)', headers: TEXT_TYPE, body: 'm 1 1795176000000\n', status: 400, paths: ['$line[1]'] },
  { name: 'drops a sample timestamp with TEXT_TIMESTAMPS=drop', env: { TEXT_TIMESTAMPS: 'drop' }, headers: TEXT_TYPE, body: 'm 1 1795176000000\n', status: 200 },
  { name: 'refuses an unknown TYPE at its line', headers: TEXT_TYPE, body: '# TYPE m widget\nm 1\n', status: 400, paths: ['$line[1]'] },
  { name: 'refuses a TYPE line after its samples', headers: TEXT_TYPE, body: 'm 1\n# TYPE m gauge\n', status: 400, paths: ['$line[2]'] },
  { name: 'refuses a histogram bucket without le', headers: TEXT_TYPE, body: '# TYPE h histogram\nh_bucket 1\n', status: 400, paths: ['$line[2]'] },
  { name: 'refuses a value that is not a number', headers: TEXT_TYPE, body: 'm abc\n', status: 400, paths: ['$line[1]'] },
  { name: 'refuses an unknown escape in a label value', headers: TEXT_TYPE, body: 'm{a="\\t"} 1\n', status: 400, paths: ['$line[1]'] },
  { name: 'refuses a label name with a slash', headers: TEXT_TYPE, body: 'm{a/b="1"} 1\n', status: 400, paths: ['$line[1]'] },
  { name: 'answers 415 for a text format version other than 0.0.4', headers: { 'content-type': 'text/plain; version=1.0.0' }, body: 'm 1\n', status: 415, paths: ['$'] },
]);

table('grouping key in the path', [
  { name: 'refuses an empty job name at $path[1]', path: '/metrics/job/', body: counters(1), status: 400, paths: ['$path[1]'] },
  { name: 'refuses a label without a value at its name', path: '/metrics/job/wordcount/instance', body: counters(1), status: 400, paths: ['$path[2]'] },
  { name: 'refuses a label name starting with a digit', path: '/metrics/job/wordcount/1a/x', body: counters(1), status: 400, paths: ['$path[2]'] },
  { name: 'refuses the reserved label name __name__', path: '/metrics/job/wordcount/__name__/x', body: counters(1), status: 400, paths: ['$path[2]'] },
  { name: 'refuses a label given twice at its second name', path: '/metrics/job/wordcount/a/1/a/2', body: counters(1), status: 400, paths: ['$path[4]'] },
  { name: 'refuses a value that is not valid percent-encoding', path: '/metrics/job/wordcount/a/%E0%A4%A', body: counters(1), status: 400, paths: ['$path[3]'] },
  { name: 'refuses a job@base64 value that is not base64url', path: '/metrics/job@base64/!!!', body: counters(1), status: 400, paths: ['$path[1]'] },
  { name: 'refuses an empty job given as job@base64/=', path: '/metrics/job@base64/=', body: counters(1), status: 400, paths: ['$path[1]'] },
  { name: 'refuses a percent-encoded slash in a label name', path: '/metrics/job/wordcount/a%2Fb/x', body: counters(1), status: 400, paths: ['$path[2]'] },
  { name: 'reports every bad segment', path: '/metrics/job/wordcount/1a/x/b/%zz', body: counters(1), status: 400, paths: ['$path[2]', '$path[5]'] },
  { name: 'accepts the label name constructor, which Object.prototype also has', path: '/metrics/job/wordcount/constructor/x', body: counters(1), status: 200 },
  { name: 'answers 404 at $path for another route', path: '/api/v1/write', body: counters(1), status: 404, paths: ['$path'] },
  { name: 'answers 404 at $path for a path without a job', path: '/metrics/instance/x', body: counters(1), status: 404, paths: ['$path'] },
]);

table('content type and encoding', [
  { name: 'answers 415 at $ without a Content-Type', headers: {}, body: counters(1), status: 415, paths: ['$'] },
  { name: 'answers 415 at $ for application/xml', headers: { 'content-type': 'application/xml' }, body: '<counters/>', status: 415, paths: ['$'] },
  { name: 'answers 415 at $ for text/html', headers: { 'content-type': 'text/html' }, body: 'm 1\n', status: 415, paths: ['$'] },
  { name: 'answers 415 at $ for a form body', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1', status: 415, paths: ['$'] },
  { name: 'answers 415 at $ for OpenMetrics text', headers: { 'content-type': 'application/openmetrics-text; version=1.0.0' }, body: 'm 1\n# EOF\n', status: 415, paths: ['$'] },
  { name: 'answers 415 at $ for Content-Encoding br', headers: { ...JSON_TYPE, 'content-encoding': 'br' }, body: counters(1), status: 415, paths: ['$'] },
  { name: 'answers 415 at $ for Content-Encoding deflate', headers: { ...JSON_TYPE, 'content-encoding': 'deflate' }, body: counters(1), status: 415, paths: ['$'] },
  { name: 'answers 400 at $ for a body that claims gzip but is not', headers: gzipHeaders, body: counters(1), status: 400, paths: ['$'] },
  { name: 'accepts application/json with a charset', headers: { 'content-type': 'application/json; charset=utf-8' }, body: counters(1), status: 200 },
  { name: 'accepts a media type in capitals', headers: { 'content-type': 'Application/JSON' }, body: counters(1), status: 200 },
  { name: 'accepts a +json media type', headers: { 'content-type': 'application/vnd.beam+json' }, body: counters(1), status: 200 },
  { name: 'accepts a gzip body', headers: gzipHeaders, body: gzipSync(JSON.stringify(counters(2))), status: 200 },
]);

table('empty, malformed and mis-encoded bodies', [
  { name: 'refuses an empty JSON body at $', body: '', status: 400, paths: ['$'] },
  { name: 'refuses a whitespace-only JSON body at $', body: ' \n\t', status: 400, paths: ['$'] },
  { name: 'refuses truncated JSON at $', body: '{"counters":[', status: 400, paths: ['$'] },
  { name: 'refuses single-quoted JSON at $', body: "{'counters':[]}", status: 400, paths: ['$'] },
  { name: 'refuses a trailing comma at $', body: '{"counters":[],}', status: 400, paths: ['$'] },
  { name: 'refuses a bare NaN at $', body: 'NaN', status: 400, paths: ['$'] },
  { name: 'refuses an empty object as no known metrics shape', body: {}, status: 400, paths: ['$'] },
  { name: 'refuses an array as no known metrics shape', body: [], status: 400, paths: ['$'] },
  { name: 'refuses a JSON string as no known metrics shape', body: '"counters"', status: 400, paths: ['$'] },
  { name: 'refuses a byte that is never UTF-8 at $', body: Buffer.from([0x7b, 0xff, 0x7d]), status: 400, paths: ['$'] },
  { name: 'refuses an overlong UTF-8 encoding at $', body: Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]), status: 400, paths: ['$'] },
  { name: 'refuses an encoded UTF-16 surrogate at $', body: Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), status: 400, paths: ['$'] },
  { name: 'refuses a truncated UTF-8 sequence at $', body: Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xe2, 0x82])]), status: 400, paths: ['$'] },
  { name: 'refuses invalid UTF-8 inside a gzip body at $', headers: gzipHeaders, body: gzipSync(Buffer.from([0x7b, 0xff, 0x7d])), status: 400, paths: ['$'] },
  { name: 'refuses invalid UTF-8 in a text body at $', headers: TEXT_TYPE, body: Buffer.from([0x6d, 0x20, 0x31, 0xff, 0x0a]), status: 400, paths: ['$'] },
  { name: 'accepts an empty text body as no series', headers: TEXT_TYPE, body: '', status: 200 },
]);

table('method', [
  { name: 'answers 405 at $path for GET', method: 'GET', body: '', status: 405, paths: ['$path'] },
  { name: 'answers 405 at $path for DELETE', method: 'DELETE', body: '', status: 405, paths: ['$path'] },
  { name: 'answers 405 at $path for OPTIONS', method: 'OPTIONS', body: '', status: 405, paths: ['$path'] },
  { name: 'accepts PUT as the Pushgateway clients send it', method: 'PUT', body: counters(1), status: 200 },
]);

const sign = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const signedBody = JSON.stringify(counters(1));
table('authentication', [
  { name: 'admits a request without credentials when none is configured', body: counters(1), status: 200 },
  { name: 'answers 401 at $header.authorization without a token when INGEST_TOKEN is set', env: { INGEST_TOKEN: TOKEN }, body: counters(1), status: 401, paths: ['$header.authorization'] },
  { name: 'answers 401 for a wrong bearer token', env: { INGEST_TOKEN: TOKEN }, headers: { ...JSON_TYPE, authorization: `Bearer ${TOKEN.replace(/.$/, 'X')}` }, body: counters(1), status: 401, paths: ['$header.authorization'] },
  { name: 'answers 401 for a wrong ?token=', env: { INGEST_TOKEN: TOKEN }, query: { token: 'nope' }, body: counters(1), status: 401, paths: ['$header.authorization'] },
  { name: 'admits the right bearer token', env: { INGEST_TOKEN: TOKEN }, headers: { ...JSON_TYPE, authorization: `Bearer ${TOKEN}` }, body: counters(1), status: 200 },
  { name: 'admits the right ?token=', env: { INGEST_TOKEN: TOKEN }, query: { token: TOKEN }, body: counters(1), status: 200 },
  { name: 'answers 401, not 404, to a caller without credentials on another route', env: { INGEST_TOKEN: TOKEN }, path: '/admin', body: counters(1), status: 401, paths: ['$header.authorization'] },
  { name: 'answers 401, not 400, to a caller without credentials sending a bad body', env: { INGEST_TOKEN: TOKEN }, body: '{', status: 401, paths: ['$header.authorization'] },
  { name: 'answers 401, not 413, to a caller without credentials sending a gzip bomb', env: { INGEST_TOKEN: TOKEN }, headers: gzipHeaders, body: gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 1 }), status: 401, paths: ['$header.authorization'] },
  { name: 'admits a body signed with INGEST_HMAC_SECRET', env: { INGEST_HMAC_SECRET: SECRET }, headers: { ...JSON_TYPE, 'x-signature-256': sign(signedBody) }, body: signedBody, status: 200 },
  { name: 'answers 401 for a signature made with another secret', env: { INGEST_HMAC_SECRET: SECRET }, headers: { ...JSON_TYPE, 'x-signature-256': sign(signedBody, `${SECRET}x`) }, body: signedBody, status: 401, paths: ['$header.authorization'] },
  { name: 'answers 401 for a signature of another body', env: { INGEST_HMAC_SECRET: SECRET }, headers: { ...JSON_TYPE, 'x-signature-256': sign(`${signedBody} `) }, body: signedBody, status: 401, paths: ['$header.authorization'] },
  { name: 'answers 405 before asking for credentials', env: { INGEST_TOKEN: TOKEN }, method: 'GET', body: '', status: 405, paths: ['$path'] },
]);
