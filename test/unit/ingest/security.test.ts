/**
 * Security of the ingest endpoint: authentication on and off, constant-time comparison over fixed-size digests,
 * HMAC over the raw (still compressed) body, no credential in any log line or reply, and no destination a
 * payload could choose.
 */
import assert from 'node:assert/strict';
import crypto, { createHmac } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadIngestConfig } from '../../../lib/ingest/config.ts';
import { groupUrl } from '../../../lib/deliver/pushgateway-path.ts';
import { ENVELOPE_VERSION, envelopePoints, parseEnvelope, pointCount, type Envelope } from '../../../lib/envelope/envelope.ts';
import { authenticate } from '../../../lib/ingest/auth.ts';
import { UnauthorizedError } from '../../../lib/ingest/errors.ts';
import { acceptHttpRequest } from '../../../lib/ingest/ingest.ts';
import type { HttpRequest } from '../../../lib/ingest/request.ts';
import { createIngestRuntime, type HttpReply } from '../../../lib/ingest/runtime.ts';
import { InputError } from '../../../lib/inputs/errors.ts';
import { capturingLogger, recordingSqsClient } from '../../support/arbitraries.ts';
import { httpApiV2Event, restApiV1Event } from '../../support/events.ts';

const NOW = Date.parse('2026-11-20T10:20:00Z');
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/envelopes';
const TOKEN = 'tok-3f9a1c7e5b2d4a6f8e0c1b3d5a7f9e2c';
const SECRET = 'hmac-8d6b4f2a0e9c7b5d3f1a8e6c4b2d0f9a';
/** Same length as TOKEN, differing in the first, a middle and the last character. */
const WRONG_TOKENS = [`X${TOKEN.slice(1)}`, `${TOKEN.slice(0, 16)}X${TOKEN.slice(17)}`, `${TOKEN.slice(0, -1)}X`];
const BODY = JSON.stringify({ counters: [{ attempted: 3, name: { namespace: 'ns', name: 'records' }, step: 'Read' }] });
const sign = (body: string | Buffer, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function request(headers: Record<string, string> = {}, query: Record<string, string> = {}, body: string | Buffer = BODY): HttpRequest {
  return { method: 'POST', path: '/metrics/job/wordcount', headers: { 'content-type': 'application/json', ...headers }, query, body: Buffer.from(body) };
}

function status(req: HttpRequest, env: Record<string, string>): number {
  try {
    acceptHttpRequest(req, loadIngestConfig({ QUEUE_URL, ...env }).options, NOW, 'sec');
    return 200;
  } catch (error) {
    if (error instanceof InputError) return error.status;
    throw error;
  }
}

describe('authentication on and off', () => {
  it('admits a request without credentials when neither INGEST_TOKEN nor INGEST_HMAC_SECRET is set', () => {
    assert.equal(status(request(), {}), 200);
  });
  it('refuses a request without credentials once INGEST_TOKEN is set', () => {
    assert.equal(status(request(), { INGEST_TOKEN: TOKEN }), 401);
  });
  it('admits the token as a Bearer header and as ?token=', () => {
    assert.equal(status(request({ authorization: `Bearer ${TOKEN}` }), { INGEST_TOKEN: TOKEN }), 200);
    assert.equal(status(request({}, { token: TOKEN }), { INGEST_TOKEN: TOKEN }), 200);
  });
  for (const [i, wrong] of WRONG_TOKENS.entries()) {
    it(`refuses a wrong token of equal length (#${i + 1}), in the header and in the query`, () => {
      assert.equal(wrong.length, TOKEN.length);
      assert.equal(status(request({ authorization: `Bearer ${wrong}` }), { INGEST_TOKEN: TOKEN }), 401);
      assert.equal(status(request({}, { token: wrong }), { INGEST_TOKEN: TOKEN }), 401);
    });
  }
  it('refuses a prefix of the token, the token with a suffix, and the token in the wrong scheme', () => {
    for (const headers of [{ authorization: `Bearer ${TOKEN.slice(0, -1)}` }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Basic ${TOKEN}` }, { authorization: TOKEN }]) {
      assert.equal(status(request(headers), { INGEST_TOKEN: TOKEN }), 401, JSON.stringify(headers));
    }
  });
  it('refuses a request whose only credential is a token when only INGEST_HMAC_SECRET is set', () => {
    assert.equal(status(request({ authorization: `Bearer ${SECRET}` }), { INGEST_HMAC_SECRET: SECRET }), 401);
  });
  it('replies 401 with WWW-Authenticate: Bearer and a message that echoes nothing sent', async () => {
    const { runtime, lines } = runtimeWith({ INGEST_TOKEN: TOKEN });
    const reply = (await runtime.handle(httpApiV2Event('/metrics/job/wordcount', BODY, { headers: { authorization: `Bearer ${WRONG_TOKENS[0]}` } }), 'r-401')) as HttpReply;
    assert.equal(reply.statusCode, 401);
    assert.equal(reply.headers['www-authenticate'], 'Bearer');
    assert.ok(!reply.body.includes(WRONG_TOKENS[0]!) && !reply.body.includes(TOKEN));
    assert.equal(lines.length, 1);
  });
});

describe('constant-time comparison', () => {
  const real = crypto.timingSafeEqual;
  const calls: Array<[number, number]> = [];
  before(() => {
    // auth.ts imports timingSafeEqual from node:crypto; syncing the builtin's ESM exports makes its binding see this.
    crypto.timingSafeEqual = ((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.push([a.byteLength, b.byteLength]);
      return real(a, b);
    }) as typeof real;
    syncBuiltinESMExports();
  });
  after(() => {
    crypto.timingSafeEqual = real;
    syncBuiltinESMExports();
  });

  const presented = ['x', TOKEN.slice(0, 16), ...WRONG_TOKENS, TOKEN, 'y'.repeat(4096)];
  it('compares every presented token, whatever its length, as two 32-byte digests in timingSafeEqual', () => {
    calls.length = 0;
    for (const token of presented) {
      try {
        authenticate(request({ authorization: `Bearer ${token}` }), { token: TOKEN });
      } catch (error) {
        assert.ok(error instanceof UnauthorizedError);
      }
    }
    // One comparison per attempt: no attempt is decided by a length check or `===` before the constant-time one.
    assert.deepEqual(calls, presented.map(() => [32, 32]));
  });
  it('compares an HMAC signature as two 32-byte digests in timingSafeEqual', () => {
    calls.length = 0;
    for (const signature of [sign(BODY), sign(BODY, `${SECRET}!`), sign(`${BODY} `)]) {
      try {
        authenticate(request({ 'x-signature-256': signature }), { hmacSecret: SECRET });
      } catch (error) {
        assert.ok(error instanceof UnauthorizedError);
      }
    }
    assert.deepEqual(calls, [
      [32, 32],
      [32, 32],
      [32, 32],
    ]);
  });
});

describe('HMAC over the raw body', () => {
  const gzipped = gzipSync(BODY);
  const headers = (signature: string) => ({ 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-signature-256': signature });
  it('admits a gzip body signed over its compressed bytes', async () => {
    const { runtime } = runtimeWith({ INGEST_HMAC_SECRET: SECRET });
    const reply = (await runtime.handle(httpApiV2Event('/metrics/job/wordcount', gzipped, { headers: headers(sign(gzipped)) }), 'r')) as HttpReply;
    assert.equal(reply.statusCode, 200, reply.body);
  });
  it('refuses a gzip body signed over its decompressed JSON', async () => {
    const { runtime } = runtimeWith({ INGEST_HMAC_SECRET: SECRET });
    const reply = (await runtime.handle(httpApiV2Event('/metrics/job/wordcount', gzipped, { headers: headers(sign(BODY)) }), 'r')) as HttpReply;
    assert.equal(reply.statusCode, 401);
  });
  it('checks the signature before inflating: a signed-for-nothing gzip bomb gets 401, not 413', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 1 });
    assert.equal(status({ ...request(headers(sign(bomb, `${SECRET}!`))), body: bomb }, { INGEST_HMAC_SECRET: SECRET }), 401);
  });
});

function runtimeWith(env: Record<string, string>, sqs = recordingSqsClient().client) {
  const { log, lines } = capturingLogger();
  const runtime = createIngestRuntime({ QUEUE_URL, ...env }, { sqs, log, now: () => NOW });
  return { runtime, lines };
}

describe('credentials never reach a log line or a reply', () => {
  const failingSqs = { send: async () => Promise.reject(new Error('ServiceUnavailable')) } as unknown as ReturnType<typeof recordingSqsClient>['client'];
  const bad = '{"counters":[{"attempted":-1}]}';
  const cases: Array<{ name: string; env: Record<string, string>; events: unknown[]; sqs?: typeof failingSqs; statuses: number[] }> = [
    {
      name: 'a token in the Authorization header (200, 400, 404, 503)',
      env: { INGEST_TOKEN: TOKEN },
      events: [
        httpApiV2Event('/metrics/job/wordcount', BODY, { headers: { authorization: `Bearer ${TOKEN}` } }),
        httpApiV2Event('/metrics/job/wordcount', bad, { headers: { authorization: `Bearer ${TOKEN}` } }),
        httpApiV2Event('/other', BODY, { headers: { authorization: `Bearer ${TOKEN}` } }),
        restApiV1Event('/metrics/job/wordcount', BODY, { headers: { Authorization: `Bearer ${TOKEN}` } }),
      ],
      statuses: [200, 400, 404, 200],
    },
    {
      name: 'a token in ?token= (200, 400, 413)',
      env: { INGEST_TOKEN: TOKEN, MAX_BODY_BYTES: '1024' },
      events: [
        httpApiV2Event('/metrics/job/wordcount', BODY, { query: `token=${TOKEN}` }),
        httpApiV2Event('/metrics/job/wordcount/a', BODY, { query: `token=${TOKEN}&x=1` }),
        restApiV1Event('/metrics/job/wordcount', ' '.repeat(2000), { query: `token=${TOKEN}` }),
      ],
      statuses: [200, 400, 413],
    },
    {
      name: 'wrong tokens, in the header and in the query (401)',
      env: { INGEST_TOKEN: TOKEN },
      events: WRONG_TOKENS.flatMap((wrong) => [
        httpApiV2Event('/metrics/job/wordcount', BODY, { headers: { authorization: `Bearer ${wrong}` } }),
        httpApiV2Event('/metrics/job/wordcount', BODY, { query: `token=${wrong}` }),
      ]),
      statuses: WRONG_TOKENS.flatMap(() => [401, 401]),
    },
    {
      name: 'an HMAC secret (200, 401, 400)',
      env: { INGEST_HMAC_SECRET: SECRET },
      events: [
        httpApiV2Event('/metrics/job/wordcount', BODY, { headers: { 'x-signature-256': sign(BODY) } }),
        httpApiV2Event('/metrics/job/wordcount', BODY, { headers: { 'x-signature-256': sign(BODY, `${SECRET}!`) } }),
        httpApiV2Event('/metrics/job/wordcount', bad, { headers: { 'x-signature-256': sign(bad) } }),
      ],
      statuses: [200, 401, 400],
    },
    {
      name: 'a token while the queue fails (503)',
      env: { INGEST_TOKEN: TOKEN },
      events: [httpApiV2Event('/metrics/job/wordcount', BODY, { headers: { authorization: `Bearer ${TOKEN}` }, query: `token=${TOKEN}` })],
      sqs: failingSqs,
      statuses: [503],
    },
  ];
  for (const c of cases) {
    it(`logs and replies without the credential for ${c.name}`, async () => {
      const { runtime, lines } = runtimeWith(c.env, c.sqs);
      const replies: HttpReply[] = [];
      for (const [i, event] of c.events.entries()) replies.push((await runtime.handle(event, `req-${i}`)) as HttpReply);
      assert.deepEqual(replies.map((r) => r.statusCode), c.statuses);
      assert.ok(lines.length >= c.events.length, 'every request is logged');
      const secrets = [TOKEN, SECRET, ...WRONG_TOKENS];
      for (const text of [...lines, ...replies.map((r) => JSON.stringify(r))]) {
        for (const secret of secrets) assert.ok(!text.includes(secret), `a credential in: ${text.slice(0, 300)}`);
      }
    });
  }
});

describe('no destination is ever taken from a payload', () => {
  const ENVELOPE_KEYS = ['families', 'group', 'id', 'labelSets', 'labels', 'layout', 'names', 'part', 'parts', 'receivedAt', 'source', 'v', 'values'];
  const envelopes = (path: string, body: string, contentType = 'application/json'): Envelope[] => {
    const options = loadIngestConfig({ QUEUE_URL, STATIC_LABELS: 'env=prod' }).options;
    const accepted = acceptHttpRequest({ method: 'POST', path, headers: { 'content-type': contentType }, query: {}, body: Buffer.from(body) }, options, NOW, 'dest');
    return accepted.envelopes.map(parseEnvelope);
  };
  const counter = { attempted: 3, name: { namespace: 'ns', name: 'records' }, step: 'Read' };
  const plain = envelopes('/metrics/job/wordcount', JSON.stringify({ counters: [counter] }));

  it('envelopes carry only the grouping key, labels, families and points: no URL or destination field', () => {
    for (const envelope of plain) {
      assert.deepEqual(Object.keys(envelope).sort(), ENVELOPE_KEYS);
      assert.equal(envelope.v, ENVELOPE_VERSION);
      for (const point of envelopePoints(envelope)) assert.deepEqual(Object.keys(point).sort(), ['labels', 'name', 'value']);
    }
  });

  it('destination-like keys in a Beam body change nothing in the envelopes', () => {
    const hostile = {
      remoteWriteUrl: 'http://evil.example/api/v1/write',
      pushgatewayUrl: 'http://evil.example:9091',
      destination: 'http://evil.example',
      url: 'http://evil.example',
      counters: [{ ...counter, url: 'http://evil.example', remoteWriteUrl: 'http://evil.example' }],
    };
    assert.deepEqual(envelopes('/metrics/job/wordcount', JSON.stringify(hostile)), plain);
  });

  it('destination-like keys in a completion report reach no envelope field', () => {
    const report = { state: 'DONE', remoteWriteUrl: 'http://evil.example/api/v1/write', pushgatewayUrl: 'http://evil.example:9091', metrics: { counters: [counter] } };
    for (const envelope of envelopes('/metrics/job/wordcount', JSON.stringify(report))) {
      assert.deepEqual(Object.keys(envelope).sort(), [...ENVELOPE_KEYS, 'jobEnded'].sort());
      assert.ok(!JSON.stringify(envelope).includes('evil'), 'a destination from the body reached the envelope');
    }
  });

  it('a label named like a destination stays a label value on its series', () => {
    const [envelope] = envelopes('/metrics/job/wordcount', 'm{url="http://evil.example",remote_write_url="http://evil.example"} 1\n', 'text/plain');
    assert.deepEqual(envelopePoints(envelope!)[0]!.labels, { url: 'http://evil.example', remote_write_url: 'http://evil.example' });
    const { values, layout, labelSets, ...rest } = envelope!;
    assert.ok(!JSON.stringify(rest).includes('evil'));
    assert.equal(pointCount(envelope!), 1);
    assert.deepEqual([values.length, layout.length], [1, 2]);
  });

  it('a grouping key shaped like a URL stays under the configured Pushgateway origin', () => {
    const base = 'http://pushgateway.internal:9091';
    for (const path of ['/metrics/job/http:%2F%2Fevil.example', '/metrics/job@base64/Ly9ldmlsLmV4YW1wbGUvbWV0cmljcw', '/metrics/job/wordcount/instance/%2F%2Fevil.example%2F..']) {
      const [envelope] = envelopes(path, JSON.stringify({ counters: [counter] }));
      const url = new URL(groupUrl(base, envelope!.group));
      assert.equal(url.origin, base, path);
      assert.ok(url.pathname.startsWith('/metrics/job'), url.pathname);
    }
  });
});
