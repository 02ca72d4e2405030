/**
 * fast-check arbitraries for the ingest boundary, and the properties the fuzz test (a small seeded run) and
 * `npm run fuzz` (10 000 cases each, random seed) both check: whatever arrives, the ingest core answers
 * Accepted or a typed InputError with a 4xx status and `$`-paths, and the runtime never replies 5xx.
 *
 * Bodies are fully random JSON, or "almost valid": a fixture with a few mutations (types swapped, keys dropped
 * or repeated, huge / negative / fractional / out-of-range numbers, long strings, deep nesting), then maybe
 * truncated, a byte flipped, a BOM put in front, or gzipped.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { SQSClient } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { loadIngestConfig } from '../../lib/ingest/config.ts';
import { parseEnvelope, pointCount } from '../../lib/envelope/envelope.ts';
import { acceptEvent, acceptHttpRequest, type Accepted, type IngestOptions } from '../../lib/ingest/ingest.ts';
import type { HttpRequest } from '../../lib/ingest/request.ts';
import { createIngestRuntime, type HttpReply } from '../../lib/ingest/runtime.ts';
import { InputError } from '../../lib/inputs/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { httpApiV2Event, restApiV1Event } from './events.ts';

export const NOW = Date.parse('2026-11-20T10:20:00Z');
export const TOKEN = 'fuzz-token-0123456789abcdef';
export const HMAC_SECRET = 'fuzz-hmac-secret-0123456789abcdef';
export const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/envelopes';

/** The statuses a refused request may get (DESIGN §2): never a 5xx, never another 4xx. */
export const REFUSAL_STATUSES: ReadonlySet<number> = new Set([400, 401, 404, 405, 413, 415]);

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

export const JSON_FIXTURES: readonly unknown[] = [
  'beam-java/wordcount-committed.json',
  'beam-java/flink-attempted-only.json',
  'beam-java/legacy-three-kinds.json',
  'beam-python/wordcount-query.json',
  'dataflow/job-metrics.json',
  'completion/done-with-metrics.json',
  'completion/failed.json',
].map((path) => JSON.parse(fixture(path)));

export const EVENT_FIXTURES: readonly unknown[] = [
  'eventbridge/batch-job-succeeded.json',
  'eventbridge/custom-beam-metrics.json',
  'eventbridge/emr-serverless-job-failed.json',
  'eventbridge/glue-job-succeeded.json',
  'eventbridge/stepfunctions-execution-timed-out.json',
].map((path) => JSON.parse(fixture(path)));

export const TEXT_FIXTURE = fixture('text/flink-pushgateway-reporter.txt');

/** Configurations the requests meet: the defaults, each auth method, and small limits with every option turned. */
export type OptionSetName = 'defaults' | 'token' | 'hmac' | 'tight';
export const OPTION_SETS: Readonly<Record<OptionSetName, IngestOptions>> = {
  defaults: loadIngestConfig({ QUEUE_URL }).options,
  token: loadIngestConfig({ QUEUE_URL, INGEST_TOKEN: TOKEN }).options,
  hmac: loadIngestConfig({ QUEUE_URL, INGEST_HMAC_SECRET: HMAC_SECRET }).options,
  tight: loadIngestConfig({
    QUEUE_URL,
    MAX_BODY_BYTES: '4096',
    MAX_DECOMPRESSED_BYTES: '8192',
    MAX_SERIES_PER_REQUEST: '6',
    MAX_LABELS_PER_SERIES: '9',
    MAX_LABEL_VALUE_LENGTH: '40',
    MAX_MESSAGE_BYTES: '16384',
    STATIC_LABELS: 'env=prod,team=data',
    BEAM_RESULTS: 'both',
    TEXT_TIMESTAMPS: 'drop',
    DATAFLOW_SYSTEM_METRICS: 'export',
    STRING_SET_CAP: '1',
  }).options,
};

// ---------------------------------------------------------------------------------------------------------------
// Hostile values and names

/** JSON.stringify cannot write these; the sentinel string is swapped for the raw text after stringifying. */
const RAW_NUMBERS = ['1e400', '-1e400', '1e-400', '123456789012345678901234567890', '-0', '1E+2', '0.1e1'];
const rawNumber = (text: string) => `\u0000RAW:${text}\u0000`;
const RAW_PATTERN = /"\\u0000RAW:([^"\\]*)\\u0000"/g;
/** Deep nesting is written as text (JSON.stringify recurses): the sentinel names its entry in a side table. */
const nestedRef = (index: number) => `\u0000NEST:${index}\u0000`;
const NEST_PATTERN = /"\\u0000NEST:(\d+)\\u0000"/g;
/** A key made to repeat key `k` of the same object once stringified. */
const duplicateOf = (key: string) => `\u0000DUP:${key}\u0000`;
const DUP_PATTERN = /"\\u0000DUP:((?:[^"\\]|\\.)*)\\u0000"/g;

/** Strings that try to break a path, a label set or a parser. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '..',
  '.',
  '/',
  'a/b',
  '%2F',
  '%',
  '%zz',
  'a\nb',
  '\r\n',
  '"',
  '\\',
  '{',
  '}',
  '=',
  ',',
  '#',
  '\u0000',
  '\uFEFF',
  '\uD800',
  '🦄',
  'é',
  '__name__',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'job',
  'le',
  'quantile',
  'NaN',
  'Infinity',
  '-Inf',
  '1e400',
  '0x10',
  ' 12 ',
  '2026-11-20T10:00:00Z',
  'JOB_STATE_DONE',
  'DONE',
  'beam:metric:element_count:v1',
  'http://evil.example/api/v1/write',
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 5000 }).map((n) => 'x'.repeat(n)) },
);

const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, -0.5, 0.5, 1.5, -1e-9, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 1, 1e21, -(2 ** 63)),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(...RAW_NUMBERS).map(rawNumber),
);

/** A value to put where another was: another type, an edge number, a hostile string, a label map. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileNumber },
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [[]], { '': '' }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 5 }) },
);

// ---------------------------------------------------------------------------------------------------------------
// Mutating JSON documents

type Mutation =
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'drop'; at: number }
  | { kind: 'insert'; at: number; key: string; value: unknown }
  | { kind: 'repeat'; at: number; times: number }
  | { kind: 'nest'; at: number; depth: number; inArray: boolean }
  | { kind: 'duplicate-key'; at: number; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), key: hostileString, value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), times: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('nest' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 3000 }), inArray: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate-key' as const), at: fc.nat(), value: hostileValue }) },
);

interface Slot {
  container: Record<string, unknown> | unknown[] | undefined;
  key: string | number;
  value: unknown;
}

/** Every value of `doc` with where it sits, in document order, without recursion. */
function slots(root: { doc: unknown }): Slot[] {
  const out: Slot[] = [];
  const stack: Slot[] = [{ container: root as unknown as Record<string, unknown>, key: 'doc', value: root.doc }];
  while (stack.length > 0 && out.length < 10_000) {
    const slot = stack.pop()!;
    out.push(slot);
    const v = slot.value;
    if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push({ container: v, key: i, value: v[i] });
    else if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ container: v as Record<string, unknown>, key: keys[i]!, value: (v as Record<string, unknown>)[keys[i]!] });
    }
  }
  return out;
}

function set(slot: Slot, value: unknown): void {
  if (Array.isArray(slot.container)) slot.container[slot.key as number] = value;
  else if (slot.container) Object.defineProperty(slot.container, slot.key, { value, enumerable: true, writable: true, configurable: true });
}

function applyMutation(root: { doc: unknown }, nested: string[], m: Mutation): void {
  const all = slots(root);
  const slot = all[m.at % all.length]!;
  const target = slot.value;
  // Generated values are shared (constantFrom hands out one instance): copy before they become part of the doc.
  if ('value' in m) m = { ...m, value: structuredClone(m.value) };
  switch (m.kind) {
    case 'replace':
      set(slot, m.value);
      break;
    case 'drop':
      if (slot.key === 'doc' && slot.container === (root as unknown)) set(slot, undefined);
      else if (Array.isArray(slot.container)) slot.container.splice(slot.key as number, 1);
      else if (slot.container) delete slot.container[slot.key as string];
      break;
    case 'insert':
      if (Array.isArray(target)) target.push(m.value);
      else if (typeof target === 'object' && target !== null) Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      else set(slot, { [m.key]: m.value });
      break;
    case 'repeat':
      if (Array.isArray(target) && target.length > 0) {
        const first = target[0];
        for (let i = 0; i < m.times; i++) target.push(structuredClone(first));
      } else set(slot, Array.from({ length: m.times }, () => structuredClone(target)));
      break;
    case 'nest': {
      const inner = writeJson(target, nested) || 'null';
      nested.push(m.inArray ? `${'['.repeat(m.depth)}${inner}${']'.repeat(m.depth)}` : `${'{"v":'.repeat(m.depth)}${inner}${'}'.repeat(m.depth)}`);
      set(slot, nestedRef(nested.length - 1));
      break;
    }
    case 'duplicate-key':
      if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
        const first = Object.keys(target)[0];
        if (first !== undefined) (target as Record<string, unknown>)[duplicateOf(first)] = m.value;
      }
      break;
  }
}

/** JSON text of `doc`, with raw numbers, repeated keys and deep nesting written in where the sentinels are. */
export function writeJson(doc: unknown, nested: readonly string[] = []): string {
  const text = JSON.stringify(doc) ?? '';
  return text
    .replace(RAW_PATTERN, '$1')
    .replace(DUP_PATTERN, '"$1"')
    .replace(NEST_PATTERN, (_, i: string) => nested[Number(i)]!);
}

/** A fixture with up to three mutations (mostly at least one), as JSON text. */
export function mutatedJson(fixtures: readonly unknown[]): fc.Arbitrary<string> {
  const mutations = fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 9, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) });
  return fc.tuple(fc.constantFrom(...fixtures), mutations).map(([doc, mutations]) => {
    const root = { doc: structuredClone(doc) };
    const nested: string[] = [];
    for (const m of mutations) applyMutation(root, nested, m);
    return writeJson(root.doc, nested);
  });
}

/** Lines that try the text parser: hostile names and values, escapes, timestamps, unclosed sets. */
const hostileTextLine: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'm{..="x"} 1',
    'm{a/b="x"} 1',
    'm{a%2Fb="x"} 1',
    'm{job="../../x"} 1',
    'm{a="x\\ny"} 1',
    'm{a="\\""} 1',
    'm{a="x"',
    'm{a="x",a="y"} 1',
    'm{,} 1',
    'm 1e400',
    'm NaN',
    'm -Inf',
    'm 1 -1',
    'm 1 1795176000000',
    'm 0x10',
    '# TYPE m counter',
    '# TYPE m histogram',
    '# HELP m \\q',
    'm_bucket{le="x"} 1',
    'a.b 1',
    '__name__ 1',
    '{a="b"} 1',
    '\uFEFFm 1',
    'm\t1',
  ),
  fc.tuple(hostileString, hostileString, hostileString).map(([name, label, value]) => `${name}{${label}="${value}"} 1`),
  fc.string({ maxLength: 60 }),
);

/** The text fixture with lines inserted, dropped or repeated. */
export const mutatedText: fc.Arbitrary<string> = fc
  .tuple(fc.array(fc.tuple(fc.nat(), fc.constantFrom('insert', 'drop', 'repeat'), hostileTextLine), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([edits, crlf]) => {
    const lines = TEXT_FIXTURE.split('\n');
    for (const [at, op, line] of edits) {
      const i = at % (lines.length + 1);
      if (op === 'insert') lines.splice(i, 0, line);
      else if (op === 'drop') lines.splice(i, 1);
      else lines.splice(i, 0, lines[i] ?? line);
    }
    return lines.join(crlf ? '\r\n' : '\n');
  });

/** Byte-level damage after encoding: none mostly; a cut, a flipped byte, a BOM, a stray byte. */
const damage: fc.Arbitrary<(bytes: Buffer) => Buffer> = fc.oneof(
  { weight: 20, arbitrary: fc.constant((b: Buffer) => b) },
  { weight: 1, arbitrary: fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % (b.length + 1))) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([n, byte]) => (b: Buffer) => {
      const copy = Buffer.from(b);
      if (copy.length > 0) copy[n % copy.length] = byte;
      return copy;
    }),
  },
  { weight: 1, arbitrary: fc.constant((b: Buffer) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b])) },
  { weight: 1, arbitrary: fc.constant((b: Buffer) => Buffer.concat([b, Buffer.from([0xc3])])) },
);

// ---------------------------------------------------------------------------------------------------------------
// Requests

/** Path segments made to trip the grouping-key reader. */
export const pathSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('..', '.', '', '/', 'a/b', '%', '%2F', '%2f', '%2E%2E', '%00', '%0A', '%E0%A4%A', '%C0%AF', '=', '@base64', 'job@base64', 'a@base64', '__name__', 'constructor', 'instance', 'le', 'x') },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.base64String({ maxLength: 16 }).map((s) => s.replace(/\+/g, '-').replace(/\//g, '_')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => Buffer.from(s).toString('base64url')) },
);

export const requestPath: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.array(pathSegment, { maxLength: 6 }).map((rest) => ['/metrics/job/wordcount', ...rest].join('/')) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('job', 'job@base64'), fc.array(pathSegment, { minLength: 1, maxLength: 6 })).map(([job, rest]) => `/metrics/${job}/${rest.join('/')}`) },
  { weight: 1, arbitrary: fc.array(pathSegment, { maxLength: 6 }).map((segments) => `/${segments.join('/')}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('/prod', '/$default', '/a/metrics/job/x'), fc.array(pathSegment, { maxLength: 4 })).map(([base, rest]) => `${base}/metrics/job/${rest.join('/')}`) },
);

export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain; version=0.0.4', 'text/plain') },
  { weight: 2, arbitrary: fc.constantFrom(undefined, '', ';', 'application/xml', 'text/html', 'application/x-protobuf', 'application/openmetrics-text; version=1.0.0', 'text/plain; version=1.0.0', 'APPLICATION/JSON', 'application/vnd.x+json', 'text/plain; version="0.0.4"', 'multipart/form-data; boundary=x') },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

export const contentEncoding: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constant('gzip') },
  { weight: 2, arbitrary: fc.constantFrom('identity', 'GZIP', 'x-gzip', ' gzip ', 'br', 'deflate', 'gzip, br', 'compress', '') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

export type Credentials = 'none' | 'bearer' | 'query' | 'hmac' | 'wrong-bearer' | 'wrong-query' | 'wrong-hmac' | 'junk-header';
const credentials: fc.Arbitrary<Credentials> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<Credentials>('bearer', 'query', 'hmac') },
  { weight: 2, arbitrary: fc.constant<Credentials>('none') },
  { weight: 1, arbitrary: fc.constantFrom<Credentials>('wrong-bearer', 'wrong-query', 'wrong-hmac', 'junk-header') },
);

/** One request as sent, before any API Gateway event shape. */
export interface RequestCase {
  options: OptionSetName;
  method: string;
  path: string;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** Gzip the body (otherwise an encoding header may lie about it). */
  gzip: boolean;
  credentials: Credentials;
  /** The bytes as sent, compressed when `gzip`. */
  body: Buffer;
}

const method: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('POST') },
  { weight: 2, arbitrary: fc.constant('PUT') },
  { weight: 1, arbitrary: fc.constantFrom('GET', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'post', '') },
);

const optionSet = fc.constantFrom<OptionSetName>('defaults', 'token', 'hmac', 'tight');

/** A request around `body` text; the text is encoded, damaged, maybe gzipped. */
/** Credentials that pass under each option set, so that body-focused cases reach the body. */
const RIGHT_CREDENTIALS: Readonly<Record<OptionSetName, Credentials>> = { defaults: 'none', token: 'bearer', hmac: 'hmac', tight: 'none' };

interface Around {
  types: fc.Arbitrary<string | undefined>;
  paths: fc.Arbitrary<string>;
  /** Vary method, encoding and credentials too; otherwise POST (or PUT), gzip or none, the right credentials. */
  everything: boolean;
}

function requestAround(body: fc.Arbitrary<string>, around: Around): fc.Arbitrary<RequestCase> {
  return fc
    .record({
      options: optionSet,
      method: around.everything ? method : fc.constantFrom('POST', 'POST', 'POST', 'PUT'),
      path: around.paths,
      contentType: around.types,
      contentEncoding: around.everything ? contentEncoding : fc.constantFrom(undefined, undefined, 'gzip'),
      // undefined: the credentials the option set wants.
      credentials: around.everything ? fc.option(credentials, { freq: 2 }) : fc.constant(null),
      text: body,
      damage,
    })
    .map(({ text, damage: harm, credentials: given, ...rest }) => {
      const gzip = rest.contentEncoding === 'gzip';
      const bytes = harm(Buffer.from(text, 'utf8'));
      const c: RequestCase = { ...rest, credentials: given ?? RIGHT_CREDENTIALS[rest.options], gzip, body: gzip ? gzipSync(bytes) : bytes };
      // Counterexamples show the body as text (still before gzip) rather than a byte list.
      const shown = bytes.toString('utf8');
      const body = shown.length > 4000 ? `${shown.slice(0, 4000)}… (${bytes.length} bytes)` : shown;
      Object.defineProperty(c, fc.toStringMethod, { value: () => JSON.stringify({ ...c, body }) });
      return c;
    });
}

const jsonTypes = fc.oneof({ weight: 9, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: contentType });
const textTypes = fc.oneof({ weight: 9, arbitrary: fc.constant('text/plain; version=0.0.4') }, { weight: 1, arbitrary: contentType });
const plainPath = fc.constantFrom('/metrics/job/wordcount', '/metrics/job/wordcount/instance/w-1', '/metrics/job@base64/d29yZC9jb3VudA');

/** Fully random JSON (any depth, any type) as the body. */
export const randomJsonRequest: fc.Arbitrary<RequestCase> = requestAround(fc.json({ maxDepth: 6 }), { types: jsonTypes, paths: plainPath, everything: false });

/** A fixture body with a few mutations. */
export const almostValidRequest: fc.Arbitrary<RequestCase> = fc.oneof(
  { weight: 4, arbitrary: requestAround(mutatedJson(JSON_FIXTURES), { types: jsonTypes, paths: plainPath, everything: false }) },
  { weight: 1, arbitrary: requestAround(mutatedText, { types: textTypes, paths: plainPath, everything: false }) },
);

/** Everything around the body varies: path, method, content type, encoding, credentials. */
export const arbitraryRequest: fc.Arbitrary<RequestCase> = requestAround(
  fc.oneof(mutatedJson(JSON_FIXTURES), mutatedText, fc.constantFrom(...JSON_FIXTURES.map((d) => JSON.stringify(d)), TEXT_FIXTURE), fc.json({ maxDepth: 3 })),
  { types: contentType, paths: requestPath, everything: true },
);

function authHeaders(c: RequestCase): { headers: Record<string, string>; query: Record<string, string> } {
  const headers: Record<string, string> = {};
  const query: Record<string, string> = {};
  const sign = (secret: string) => `sha256=${createHmac('sha256', secret).update(c.body).digest('hex')}`;
  if (c.credentials === 'bearer') headers.authorization = `Bearer ${TOKEN}`;
  if (c.credentials === 'query') query.token = TOKEN;
  if (c.credentials === 'hmac') headers['x-signature-256'] = sign(HMAC_SECRET);
  if (c.credentials === 'wrong-bearer') headers.authorization = `Bearer ${TOKEN.replace(/.$/, '!')}`;
  if (c.credentials === 'wrong-query') query.token = TOKEN.slice(1);
  if (c.credentials === 'wrong-hmac') headers['x-signature-256'] = sign(`${HMAC_SECRET}!`);
  if (c.credentials === 'junk-header') headers.authorization = 'Basic Og==';
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  if (c.contentEncoding !== undefined) headers['content-encoding'] = c.contentEncoding;
  return { headers, query };
}

/** The core's view of a request case. */
export function toHttpRequest(c: RequestCase): HttpRequest {
  return { method: c.method, path: c.path, ...authHeaders(c), body: c.body };
}

/** An API Gateway event for a request case: HTTP API v2, or REST API v1 for every other case. */
export function toApiGatewayEvent(c: RequestCase, v1: boolean): unknown {
  const { headers, query } = authHeaders(c);
  const queryString = new URLSearchParams(query).toString();
  const options = { headers, method: c.method, query: queryString };
  if (v1) {
    const event = restApiV1Event(c.path, '', options);
    // The factory's defaults are part of what a request may lack: only the case's headers go in.
    return { ...event, headers, body: c.body.toString('base64'), isBase64Encoded: true };
  }
  const event = httpApiV2Event(c.path, c.body, options);
  return { ...event, headers };
}

// ---------------------------------------------------------------------------------------------------------------
// The contract

/**
 * Runs one ingest call and checks the contract (DESIGN §2): it returns Accepted, whose envelopes deliver can
 * read, or throws an InputError with a refusal status and at least one issue, each with a `$`-path and a message.
 * Any other exception fails the check. Returns the status.
 */
export function checkIngestOutcome(run: () => Accepted, options: IngestOptions): number {
  let accepted: Accepted;
  try {
    accepted = run();
  } catch (error) {
    if (!(error instanceof InputError)) {
      throw new assert.AssertionError({ message: `ingest threw ${(error as Error)?.name ?? typeof error}, not an InputError: ${(error as Error)?.stack ?? String(error)}` });
    }
    assert.ok(REFUSAL_STATUSES.has(error.status), `status ${error.status} is not a refusal status`);
    assert.ok(error.issues.length >= 1, 'an InputError without issues');
    for (const issue of error.issues) {
      assert.equal(typeof issue.path, 'string');
      assert.ok(issue.path.startsWith('$'), `issue path ${JSON.stringify(issue.path)} does not start with $`);
      assert.equal(typeof issue.message, 'string');
      assert.ok(issue.message.length > 0, `issue at ${issue.path} has an empty message`);
    }
    return error.status;
  }
  assert.equal(accepted.envelopes.length > 0, accepted.series > 0, 'envelopes exist exactly when series do');
  let points = 0;
  for (const body of accepted.envelopes) {
    assert.ok(Buffer.byteLength(body) <= options.maxEnvelopeBytes, 'an envelope over MAX_MESSAGE_BYTES');
    points += pointCount(parseEnvelope(body));
  }
  assert.equal(points, accepted.series, 'the envelopes carry every series once');
  return 200;
}

/** A stand-in at the AWS SDK client boundary: records each command and reports every entry sent. */
export function recordingSqsClient(): { client: SQSClient; commands: Array<{ input: { Entries?: Array<{ Id?: string }> } }> } {
  const commands: Array<{ input: { Entries?: Array<{ Id?: string }> } }> = [];
  const client = {
    async send(command: { input: { Entries?: Array<{ Id?: string }> } }) {
      commands.push(command);
      return { Successful: (command.input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })), Failed: [] };
    },
  };
  return { client: client as unknown as SQSClient, commands };
}

/** A Logger that keeps every line as the JSON the real logger would print. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: (level, msg, fields) => lines.push(JSON.stringify({ level, msg, ...fields })), lines };
}

const ENV_SETS: Readonly<Record<OptionSetName, Record<string, string>>> = {
  defaults: { QUEUE_URL },
  token: { QUEUE_URL, INGEST_TOKEN: TOKEN },
  hmac: { QUEUE_URL, INGEST_HMAC_SECRET: HMAC_SECRET },
  tight: { QUEUE_URL, MAX_BODY_BYTES: '4096', MAX_DECOMPRESSED_BYTES: '8192', MAX_SERIES_PER_REQUEST: '6', MAX_LABELS_PER_SERIES: '9', MAX_LABEL_VALUE_LENGTH: '40', STATIC_LABELS: 'env=prod,team=data' },
};

// ---------------------------------------------------------------------------------------------------------------
// Properties, shared by test/unit/ingest/fuzz.test.ts and scripts/fuzz.ts

export interface NamedProperty {
  name: string;
  /** Runs the property (fast-check's `fc.check`); `fc.defaultReportMessage` of a failure names the seed and path. */
  check(params: fc.Parameters<unknown>): Promise<fc.RunDetails<unknown>>;
}

function named<Ts>(name: string, property: fc.IRawProperty<Ts>): NamedProperty {
  return { name, check: async (params) => (await fc.check(property, params as fc.Parameters<Ts>)) as fc.RunDetails<unknown> };
}

const coreProperty = (arb: fc.Arbitrary<RequestCase>) =>
  fc.property(arb, (c) => {
    const options = OPTION_SETS[c.options]!;
    checkIngestOutcome(() => acceptHttpRequest(toHttpRequest(c), options, NOW, 'fuzz'), options);
  });

/** The ingest properties, each named by what it claims. */
export function ingestProperties(): NamedProperty[] {
  const runtimes = Object.fromEntries(
    Object.entries(ENV_SETS).map(([name, env]) => {
      const sqs = recordingSqsClient();
      const logger = capturingLogger();
      return [name, { runtime: createIngestRuntime(env, { sqs: sqs.client, log: logger.log, now: () => NOW }), sqs, logger }];
    }),
  );
  return [
    named('random JSON bodies are accepted or refused with a 4xx and $-paths', coreProperty(randomJsonRequest)),
    named('bodies mutated from the fixtures are accepted or refused with a 4xx and $-paths', coreProperty(almostValidRequest)),
    named('arbitrary paths, methods, content types, encodings and credentials get Accepted or a 4xx', coreProperty(arbitraryRequest)),
    named(
      'EventBridge events, random or mutated, are accepted, ignored or refused with 400',
      fc.property(fc.oneof(mutatedJson(EVENT_FIXTURES).map((t) => (t === '' ? undefined : (JSON.parse(t) as unknown))), fc.jsonValue({ maxDepth: 4 })), (event) => {
        const options = OPTION_SETS.defaults!;
        checkIngestOutcome(() => {
          const result = acceptEvent(event, options, NOW, 'fuzz');
          if (result.kind === 'ignored') return { id: 'fuzz', format: 'eventbridge', group: {}, envelopes: [], series: 0, warnings: [], jobEnded: false };
          return result.accepted;
        }, options);
      }),
    ),
    named(
      'the runtime never replies 5xx to an HTTP request, and a 200 was enqueued',
      fc.asyncProperty(fc.oneof(arbitraryRequest, almostValidRequest, randomJsonRequest), fc.boolean(), async (c, v1) => {
        const { runtime, sqs } = runtimes[c.options]!;
        const before = sqs.commands.length;
        const reply = (await runtime.handle(toApiGatewayEvent(c, v1), 'fuzz')) as HttpReply;
        assert.ok(reply.statusCode === 200 || REFUSAL_STATUSES.has(reply.statusCode), `status ${reply.statusCode}: ${reply.body}`);
        const body = JSON.parse(reply.body) as { errors?: Array<{ path: string }>; messages?: number };
        if (reply.statusCode === 200) {
          const sent = sqs.commands.slice(before).reduce((n, cmd) => n + (cmd.input.Entries?.length ?? 0), 0);
          assert.equal(sent, body.messages, 'every envelope of a 200 went to the queue');
        } else {
          assert.ok((body.errors?.length ?? 0) >= 1 && body.errors!.every((e) => e.path.startsWith('$')), `reply without $-paths: ${reply.body}`);
        }
      }),
    ),
  ];
}
