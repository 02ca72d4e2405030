/**
 * A named corpus of hostile requests (files under test/fixtures/hostile/, generated here where they are huge):
 * each gets the right answer with a path, and the memory that refusing the largest ones takes stays bounded.
 *
 * The memory cases run first, in a fresh process (the test runner gives each file its own): each measures the
 * process's peak RSS after the case against its RSS before, an upper bound of what the case took.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadIngestConfig } from '../../../lib/ingest/config.ts';
import { groupUrl } from '../../../lib/deliver/pushgateway-path.ts';
import { type Envelope, envelopePoints, parseEnvelope, pointCount } from '../../../lib/envelope/envelope.ts';
import { acceptHttpRequest, type Accepted } from '../../../lib/ingest/ingest.ts';
import { parseGroupingKey } from '../../../lib/ingest/route.ts';
import { InputError } from '../../../lib/inputs/errors.ts';

const NOW = Date.parse('2026-11-20T10:20:00Z');
const MiB = 1024 * 1024;
/** What refusing one hostile request may add to the process at its peak. */
const MEMORY_BOUND_BYTES = 300 * MiB;
const JSON_TYPE = { 'content-type': 'application/json' };
const TEXT_TYPE = { 'content-type': 'text/plain; version=0.0.4' };
const GZIP_JSON = { ...JSON_TYPE, 'content-encoding': 'gzip' };

const hostile = (name: string) => readFileSync(new URL(`../../fixtures/hostile/${name}`, import.meta.url));

interface Request {
  body: string | Buffer;
  headers?: Record<string, string>;
  path?: string;
  env?: Record<string, string>;
}

type Outcome = { status: 200; accepted: Accepted } | { status: number; paths: string[] };

function send({ body, headers = JSON_TYPE, path = '/metrics/job/wordcount', env = {} }: Request): Outcome {
  const options = loadIngestConfig({ QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q', ...env }).options;
  try {
    const accepted = acceptHttpRequest({ method: 'POST', path, headers, query: {}, body: Buffer.isBuffer(body) ? body : Buffer.from(body) }, options, NOW, 'hostile');
    return { status: 200, accepted };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return { status: error.status, paths: error.issues.map((i) => i.path) };
  }
}

function refused(request: Request): { status: number; paths: string[] } {
  const outcome = send(request);
  assert.ok(!('accepted' in outcome), 'expected a refusal, got 200');
  return outcome;
}

function accepted(request: Request): Envelope[] {
  const outcome = send(request);
  assert.ok('accepted' in outcome, `expected 200, got ${JSON.stringify(outcome)}`);
  return outcome.accepted.envelopes.map(parseEnvelope);
}

/** The case's result and an upper bound of the memory it added at its peak. */
function measured<T>(run: () => T): { result: T; grewBy: number } {
  const before = process.memoryUsage().rss;
  const result = run();
  // maxRSS is in KiB and only rises: peak-after minus now-before bounds what this case took from above.
  return { result, grewBy: process.resourceUsage().maxRSS * 1024 - before };
}

const javaCounter = (more: object = {}) => ({ attempted: 1, name: { namespace: 'ns', name: 'c' }, step: 'S', ...more });

describe('memory stays bounded', () => {
  it('refuses a gzip bomb (1 GiB of zeros in about 1 MB) with 413 at $, inflating no more than the cap', () => {
    const member = gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
    // Gzip members concatenate (RFC 1952 §2.2): sixteen of them inflate to 1 GiB.
    const bomb = Buffer.concat(Array.from({ length: 16 }, () => member));
    assert.ok(bomb.length < 2 * MiB);
    const { result, grewBy } = measured(() => refused({ body: bomb, headers: GZIP_JSON }));
    assert.deepEqual(result, { status: 413, paths: ['$'] });
    assert.ok(grewBy < MEMORY_BOUND_BYTES, `grew by ${(grewBy / MiB).toFixed(0)} MiB`);
  });

  it('refuses a million numbers as counters at $, over the series limit before any is checked', () => {
    const body = `{"counters":[${'1,'.repeat(999_999)}1]}`;
    const { result, grewBy } = measured(() => refused({ body }));
    assert.deepEqual(result, { status: 400, paths: ['$'] });
    assert.ok(grewBy < MEMORY_BOUND_BYTES, `grew by ${(grewBy / MiB).toFixed(0)} MiB`);
  });

  it('refuses a string set of a million numbers at the first member', () => {
    const body = `{"stringSets":[{"attempted":{"stringSet":[${'1,'.repeat(999_999)}1]},"name":{"namespace":"ns","name":"s"},"step":"S"}]}`;
    const { result, grewBy } = measured(() => refused({ body: gzipSync(body), headers: GZIP_JSON }));
    assert.deepEqual(result, { status: 400, paths: ['$.stringSets[0].attempted.stringSet[0]', '$'] });
    assert.ok(grewBy < MEMORY_BOUND_BYTES, `grew by ${(grewBy / MiB).toFixed(0)} MiB`);
  });

  it('refuses a million Dataflow entries that are not objects after the first 100 faults', () => {
    const body = `{"metrics":[${'1,'.repeat(999_999)}1]}`;
    const { result, grewBy } = measured(() => refused({ body }));
    assert.equal(result.status, 400);
    assert.equal(result.paths.length, 101);
    assert.deepEqual(result.paths.slice(-2), ['$.metrics[99]', '$.metrics']);
    assert.ok(grewBy < MEMORY_BOUND_BYTES, `grew by ${(grewBy / MiB).toFixed(0)} MiB`);
  });

  it('refuses 150 000 valid counters (under the 10 MiB decompressed cap, tiny gzipped) before converting them', () => {
    const entries = Array.from({ length: 150_000 }, (_, i) => `{"attempted":1,"name":{"namespace":"ns","name":"c${i}"},"step":"S"}`);
    const body = gzipSync(`{"counters":[${entries.join(',')}]}`);
    const { result, grewBy } = measured(() => refused({ body, headers: GZIP_JSON }));
    assert.deepEqual(result, { status: 400, paths: ['$'] });
    assert.ok(grewBy < MEMORY_BOUND_BYTES, `grew by ${(grewBy / MiB).toFixed(0)} MiB`);
  });

  it('refuses 600 000 text lines at the series limit', () => {
    const body = gzipSync(Array.from({ length: 600_000 }, (_, i) => `m${i}{a="b"} 1`).join('\n'));
    const { result, grewBy } = measured(() => refused({ body, headers: { ...TEXT_TYPE, 'content-encoding': 'gzip' } }));
    assert.deepEqual(result, { status: 400, paths: ['$'] });
    assert.ok(grewBy < MEMORY_BOUND_BYTES, `grew by ${(grewBy / MiB).toFixed(0)} MiB`);
  });
});

describe('deep nesting (100 000 levels)', () => {
  const deep = (open: string, close: string, inner = '1') => `${open.repeat(100_000)}${inner}${close.repeat(100_000)}`;
  it('refuses nested arrays as the body at $', () => {
    assert.deepEqual(refused({ body: deep('[', ']') }), { status: 400, paths: ['$'] });
  });
  it('refuses nested objects as the body at $', () => {
    assert.deepEqual(refused({ body: deep('{"a":', '}') }), { status: 400, paths: ['$'] });
  });
  // valibot's object() takes an array as an object: the fault is the entry's missing value; past 10 000 values
  // checking stops at the first fault and says so at $.
  it('refuses nested arrays as a counter at its path', () => {
    assert.deepEqual(refused({ body: `{"counters":${deep('[', ']')}}` }), { status: 400, paths: ['$.counters[0].attempted', '$'] });
  });
  it('refuses nested objects as a completion report metrics at $.metrics', () => {
    assert.deepEqual(refused({ body: `{"state":"DONE","metrics":${deep('{"m":', '}')}}` }), { status: 400, paths: ['$.metrics'] });
  });
  it('refuses nested objects as a Beam Python label value at its path', () => {
    const body = `{"counters":[{"key":{"step":"S","metric":{"namespace":"ns","name":"c"},"labels":{"x":${deep('{"a":', '}')}}},"attempted":1}]}`;
    assert.deepEqual(refused({ body }), { status: 400, paths: ['$.counters[0].key.labels.x', '$'] });
  });
  it('names a duplicate key at the bottom of 100 000 levels', () => {
    const outcome = refused({ body: `{"counters":${deep('[', ']', '{"a":1,"a":2}')}}` });
    assert.equal(outcome.status, 400);
    assert.equal(outcome.paths.length, 1);
    assert.ok(outcome.paths[0] === `$.counters${'[0]'.repeat(100_000)}.a`, `path ${outcome.paths[0]!.slice(0, 40)}…${outcome.paths[0]!.slice(-20)}`);
  });
});

describe('numbers and strings where they do not belong', () => {
  it('refuses numbers beyond float range (1e400) at each path', () => {
    assert.deepEqual(refused({ body: hostile('beyond-float.json') }), {
      status: 400,
      paths: ['$.counters[0].attempted', '$.distributions[0].attempted.count', '$.gauges[0].attempted.value'],
    });
  });
  it('refuses "NaN" and "Infinity" strings where numbers belong at each path', () => {
    assert.deepEqual(refused({ body: hostile('nan-strings.json') }), {
      status: 400,
      paths: ['$.counters[0].attempted', '$.distributions[0].attempted.sum', '$.gauges[0].attempted.value'],
    });
  });
  it('refuses a key given twice at its path rather than keep the last value', () => {
    assert.deepEqual(refused({ body: hostile('duplicate-keys.json') }), { status: 400, paths: ['$.counters[0].attempted'] });
  });
  it('refuses a key given twice when one spelling is escaped', () => {
    assert.deepEqual(refused({ body: hostile('duplicate-keys-escaped.json') }), { status: 400, paths: ['$.counters'] });
  });
});

describe('encodings', () => {
  it('refuses invalid UTF-8 in a name at $', () => {
    assert.deepEqual(refused({ body: hostile('invalid-utf8.json') }), { status: 400, paths: ['$'] });
  });
  it('accepts a leading byte order mark (RFC 8259 §8.1 lets a parser ignore it)', () => {
    assert.equal(pointCount(accepted({ body: hostile('bom.json') })[0]!), 1);
  });
  it('refuses a byte order mark inside the JSON at $', () => {
    assert.deepEqual(refused({ body: hostile('bom-inside.json') }), { status: 400, paths: ['$'] });
  });
  it('refuses a gzip inside a gzip at $ (one Content-Encoding, one inflation)', () => {
    const twice = gzipSync(gzipSync(JSON.stringify({ counters: [javaCounter()] })));
    assert.deepEqual(refused({ body: twice, headers: GZIP_JSON }), { status: 400, paths: ['$'] });
  });
});

describe('label names that try to break a Pushgateway path', () => {
  for (const [what, path] of [
    ['a dot-dot segment', '/metrics/job/wordcount/../x'],
    ['a percent-encoded dot-dot', '/metrics/job/wordcount/%2E%2E/x'],
    ['a percent-encoded slash', '/metrics/job/wordcount/a%2Fb/x'],
    ['a percent-encoded newline', '/metrics/job/wordcount/a%0Ab/x'],
    ['a percent-encoded NUL', '/metrics/job/wordcount/a%00/x'],
    ['a raw percent sign', '/metrics/job/wordcount/%/x'],
  ] as const) {
    it(`refuses ${what} as a label name in the URL path at $path[2]`, () => {
      assert.deepEqual(refused({ path, body: JSON.stringify({ counters: [javaCounter()] }) }), { status: 400, paths: ['$path[2]'] });
    });
  }

  it('refuses .., /, %2F and newline in label names in a text body, each at its line', () => {
    assert.deepEqual(refused({ body: hostile('path-breaking-labels.txt'), headers: TEXT_TYPE }), {
      status: 400,
      paths: ['$line[3]', '$line[4]', '$line[5]', '$line[6]', '$line[7]'],
    });
  });

  it('sanitises .., /, %2F and newline in Beam Python label names (DESIGN §3), never into a path', () => {
    const [envelope] = accepted({ body: hostile('path-breaking-python-labels.json') });
    const labels = envelopePoints(envelope!)[0]!.labels;
    for (const name of Object.keys(labels)) assert.match(name, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
    assert.ok(!Object.keys(labels).some((name) => name.startsWith('__')), 'a reserved label name got through');
    assert.equal(labels.constructor, 'kept');
    assert.deepEqual(envelope!.group, { job: 'wordcount' });
  });

  it('keeps the grouping key of the path over a job label in the body', () => {
    const [envelope] = accepted({ body: hostile('job-in-text-body.txt'), headers: TEXT_TYPE });
    assert.deepEqual(envelope!.group, { job: 'wordcount' });
  });

  for (const [what, path, group] of [
    ['a dot-dot job', '/metrics/job/..', { job: '..' }],
    ['a percent-encoded dot-dot value', '/metrics/job/wordcount/a/%2E%2E', { job: 'wordcount', a: '..' }],
    ['a slash in a value', '/metrics/job/a%2Fb', { job: 'a/b' }],
    ['a slash via @base64', '/metrics/job@base64/Li4vYWRtaW4', { job: '../admin' }],
    ['a newline in a value', '/metrics/job/wordcount/a/x%0Ay', { job: 'wordcount', a: 'x\ny' }],
  ] as const) {
    it(`keeps ${what} as data: the group, and deliver's Pushgateway path for it reads back the same`, () => {
      const [envelope] = accepted({ path, body: JSON.stringify({ counters: [javaCounter()] }) });
      assert.deepEqual(envelope!.group, group);
      const url = new URL(groupUrl('http://pushgateway.internal:9091', envelope!.group));
      assert.equal(url.origin, 'http://pushgateway.internal:9091');
      assert.deepEqual(parseGroupingKey(url.pathname), group);
    });
  }
});

describe('1 MiB label values', () => {
  const value = 'v'.repeat(MiB);
  it('refuses one in the URL path at $', () => {
    assert.deepEqual(refused({ path: `/metrics/job/${value}`, body: JSON.stringify({ counters: [javaCounter()] }) }), { status: 400, paths: ['$'] });
  });
  it('refuses one as a Beam Java step at $', () => {
    assert.deepEqual(refused({ body: JSON.stringify({ counters: [javaCounter({ step: value })] }) }), { status: 400, paths: ['$'] });
  });
  it('refuses one as a Beam Python label at $', () => {
    const body = JSON.stringify({ counters: [{ key: { step: 'S', metric: { namespace: 'ns', name: 'c' }, labels: { big: value } }, attempted: 1 }] });
    assert.deepEqual(refused({ body }), { status: 400, paths: ['$'] });
  });
  it('refuses one in a text body at $', () => {
    assert.deepEqual(refused({ body: `m{a="${value}"} 1\n`, headers: TEXT_TYPE }), { status: 400, paths: ['$'] });
  });
  it('answers 413 at $ when MAX_LABEL_VALUE_LENGTH allows it but no queue message can hold it', () => {
    const outcome = refused({ env: { MAX_LABEL_VALUE_LENGTH: String(MiB) }, body: JSON.stringify({ counters: [javaCounter({ step: value })] }) });
    assert.deepEqual(outcome, { status: 413, paths: ['$'] });
  });
});

describe('missing things', () => {
  it('answers 415 at $ without a Content-Type', () => {
    assert.deepEqual(refused({ headers: {}, body: JSON.stringify({ counters: [javaCounter()] }) }), { status: 415, paths: ['$'] });
  });
  it('answers 415 at $ for JSON sent as text/csv', () => {
    assert.deepEqual(refused({ headers: { 'content-type': 'text/csv' }, body: JSON.stringify({ counters: [javaCounter()] }) }), { status: 415, paths: ['$'] });
  });
  it('refuses a text body sent as JSON at $', () => {
    assert.deepEqual(refused({ body: 'm 1\n' }), { status: 400, paths: ['$'] });
  });
  it('refuses a JSON body sent as text at its first line', () => {
    assert.deepEqual(refused({ headers: TEXT_TYPE, body: JSON.stringify({ counters: [javaCounter()] }) }), { status: 400, paths: ['$line[1]'] });
  });
  it('refuses an empty JSON body at $', () => {
    assert.deepEqual(refused({ body: '' }), { status: 400, paths: ['$'] });
  });
  it('refuses an empty gzip body at $', () => {
    assert.deepEqual(refused({ body: gzipSync(''), headers: GZIP_JSON }), { status: 400, paths: ['$'] });
  });
  it('answers 404 at $path for a path without a job', () => {
    assert.deepEqual(refused({ path: '/metrics', body: JSON.stringify({ counters: [javaCounter()] }) }), { status: 404, paths: ['$path'] });
  });
  it('refuses an empty job at $path[1]', () => {
    assert.deepEqual(refused({ path: '/metrics/job//instance/x', body: JSON.stringify({ counters: [javaCounter()] }) }), { status: 400, paths: ['$path[1]'] });
  });
});
