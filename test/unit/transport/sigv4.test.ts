/**
 * SigV4 signing, checked the way a SigV4 receiver (AMP) checks it: the request as it arrives at a local server is
 * verified by an independent implementation of the AWS algorithm on node:crypto. Static credentials only: the
 * SDK's default chain is never reached.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { after, describe, it } from 'node:test';
import { Agent } from 'undici';
import { DEFAULT_REQUEST_LIMITS } from '../../../lib/deliver/merge.ts';
import type { DecodedRecord } from '../../../lib/deliver/records.ts';
import { REMOTE_WRITE_V1, RemoteWriteSink, type RemoteWriteOptions } from '../../../lib/deliver/remote-write-sink.ts';
import { createDeliverRuntime } from '../../../lib/deliver/runtime.ts';
import { buildEnvelopes } from '../../../lib/envelope/envelope.ts';
import type { RetryClock } from '../../../lib/transport/retry.ts';
import { createSigV4Signer, type AwsCredentials } from '../../../lib/transport/sigv4.ts';
import { startFaultServer, type RecordedRequest } from '../../support/fault-server.ts';

const CREDENTIALS: AwsCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'FQoGZXIvYXdzEXAMPLESESSIONTOKEN',
};
const REGION = 'eu-west-1';
const SIGNING_DATE = new Date('2026-11-20T10:00:00.000Z');
const AMP_URL = 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0f1e2d3c/api/v1/remote_write';
const PROTOCOL_HEADERS = { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', 'X-Prometheus-Remote-Write-Version': '0.1.0', 'User-Agent': 'beam-prom-relay/test' };

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * Verifies a received request's SigV4 signature as the AWS documentation describes the algorithm ("Create a signed
 * AWS API request"): canonical request → string to sign → HMAC chain. Returns the parsed authorization parts.
 */
function verifySigV4(
  req: { method: string; url: string; headers: IncomingHttpHeaders; body: Uint8Array },
  creds: AwsCredentials,
): { credential: string; signedHeaders: string[]; signature: string } {
  const authorization = String(req.headers['authorization']);
  const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(authorization);
  assert.ok(m, `authorization header has the SigV4 form: ${authorization}`);
  const [, credential, signedHeaderList, signature] = m as unknown as [string, string, string, string];
  const [accessKeyId, day, region, service, terminator] = credential.split('/') as [string, string, string, string, string];
  assert.equal(accessKeyId, creds.accessKeyId);
  assert.equal(terminator, 'aws4_request');
  const amzDate = String(req.headers['x-amz-date']);
  assert.equal(amzDate.slice(0, 8), day, 'the credential scope day is the x-amz-date day');

  const payloadHash = sha256Hex(req.body);
  assert.equal(req.headers['x-amz-content-sha256'], payloadHash, 'x-amz-content-sha256 is the hash of the bytes received');
  const signedHeaders = signedHeaderList.split(';');
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${String(req.headers[h]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const [path, query = ''] = req.url.split('?') as [string, string?];
  // Non-S3 services: each path segment URI-encoded once more (RFC 3986 unreserved characters stay).
  const canonicalUri = path.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');
  const canonicalQuery = query.split('&').filter(Boolean).map((p) => (p.includes('=') ? p : `${p}=`)).sort().join('&');
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaderList, payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), region), service), 'aws4_request');
  assert.equal(createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex'), signature, 'the signature verifies');
  return { credential, signedHeaders, signature };
}

/** A remote-write receiver's view of signed headers: names lower-cased, as node:http presents them. */
function asReceived(headers: Record<string, string>): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

describe('createSigV4Signer', () => {
  const body = new Uint8Array([0x0a, 0x1f, 0x00, 0xff, 0x42, 0x10, 0x80]);

  it('adds the headers AMP requires, scoped to the region and the aps service', async () => {
    const sign = createSigV4Signer({ region: REGION, credentials: async () => CREDENTIALS, now: () => SIGNING_DATE });

    const headers = await sign(AMP_URL, { ...PROTOCOL_HEADERS, 'X-Scope-OrgID': 'team-a' }, body);

    assert.match(headers['authorization']!, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261120\/eu-west-1\/aps\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/);
    assert.equal(headers['x-amz-date'], '20261120T100000Z');
    assert.equal(headers['x-amz-security-token'], CREDENTIALS.sessionToken);
    assert.equal(headers['x-amz-content-sha256'], sha256Hex(body));
    assert.equal(headers['host'], 'aps-workspaces.eu-west-1.amazonaws.com');
    for (const [name, value] of Object.entries({ ...PROTOCOL_HEADERS, 'X-Scope-OrgID': 'team-a' })) assert.equal(headers[name], value, name);
  });

  it('signs host, the protocol headers, custom headers and the x-amz headers, but not User-Agent', async () => {
    const sign = createSigV4Signer({ region: REGION, credentials: async () => CREDENTIALS, now: () => SIGNING_DATE });

    const headers = await sign(AMP_URL, { ...PROTOCOL_HEADERS, 'X-Scope-OrgID': 'team-a' }, body);
    const { signedHeaders } = verifySigV4({ method: 'POST', url: new URL(AMP_URL).pathname, headers: asReceived(headers), body }, CREDENTIALS);

    assert.deepEqual(signedHeaders, [
      'content-encoding',
      'content-type',
      'host',
      'x-amz-content-sha256',
      'x-amz-date',
      'x-amz-security-token',
      'x-prometheus-remote-write-version',
      'x-scope-orgid',
    ]);
  });

  it('leaves out x-amz-security-token for long-term credentials', async () => {
    const { sessionToken: _, ...longTerm } = CREDENTIALS;
    const sign = createSigV4Signer({ region: REGION, credentials: async () => longTerm, now: () => SIGNING_DATE });

    const headers = await sign(AMP_URL, PROTOCOL_HEADERS, body);

    assert.equal(headers['x-amz-security-token'], undefined);
    const { signedHeaders } = verifySigV4({ method: 'POST', url: new URL(AMP_URL).pathname, headers: asReceived(headers), body }, longTerm);
    assert.ok(!signedHeaders.includes('x-amz-security-token'));
  });

  it('gives a different signature for a different body, date or secret', async () => {
    const signAt = (date: Date, creds: AwsCredentials) => createSigV4Signer({ region: REGION, credentials: async () => creds, now: () => date });
    const signature = (h: Record<string, string>) => /Signature=(\w+)/.exec(h['authorization']!)![1];

    const base = signature(await signAt(SIGNING_DATE, CREDENTIALS)(AMP_URL, PROTOCOL_HEADERS, body));
    const otherBody = signature(await signAt(SIGNING_DATE, CREDENTIALS)(AMP_URL, PROTOCOL_HEADERS, body.subarray(1)));
    const later = signature(await signAt(new Date(SIGNING_DATE.getTime() + 1000), CREDENTIALS)(AMP_URL, PROTOCOL_HEADERS, body));
    const otherSecret = signature(await signAt(SIGNING_DATE, { ...CREDENTIALS, secretAccessKey: 'x' })(AMP_URL, PROTOCOL_HEADERS, body));

    assert.equal(new Set([base, otherBody, later, otherSecret]).size, 4);
  });

  it('asks the credentials provider on every signature, so refreshed credentials are used', async () => {
    const issued: AwsCredentials[] = [CREDENTIALS, { accessKeyId: 'ASIAROTATED', secretAccessKey: 'rotated-secret', sessionToken: 'rotated-token' }];
    let calls = 0;
    const sign = createSigV4Signer({ region: REGION, credentials: async () => issued[Math.min(calls++, 1)]!, now: () => SIGNING_DATE });

    const first = await sign(AMP_URL, PROTOCOL_HEADERS, body);
    const second = await sign(AMP_URL, PROTOCOL_HEADERS, body);

    assert.match(first['authorization']!, /Credential=AKIDEXAMPLE\//);
    assert.match(second['authorization']!, /Credential=ASIAROTATED\//);
    assert.equal(second['x-amz-security-token'], 'rotated-token');
    verifySigV4({ method: 'POST', url: new URL(AMP_URL).pathname, headers: asReceived(second), body }, issued[1]!);
  });

  it('signs the canonical form of a path with characters that need escaping', async () => {
    const url = 'https://proxy.example.com/prom%20tenant/api/v1/write?tenant=a%2Fb&debug';
    const sign = createSigV4Signer({ region: REGION, credentials: async () => CREDENTIALS, now: () => SIGNING_DATE });

    const headers = await sign(url, PROTOCOL_HEADERS, body);

    verifySigV4({ method: 'POST', url: '/prom%20tenant/api/v1/write?tenant=a%2Fb&debug', headers: asReceived(headers), body }, CREDENTIALS);
  });

  it('yields a signature the receiver refuses once a signed header or the body changes', async () => {
    const sign = createSigV4Signer({ region: REGION, credentials: async () => CREDENTIALS, now: () => SIGNING_DATE });
    const headers = asReceived(await sign(AMP_URL, { ...PROTOCOL_HEADERS, 'X-Scope-OrgID': 'team-a' }, body));
    const path = new URL(AMP_URL).pathname;

    assert.throws(() => verifySigV4({ method: 'POST', url: path, headers: { ...headers, 'x-scope-orgid': 'team-b' }, body }, CREDENTIALS), /signature verifies/);
    assert.throws(() => verifySigV4({ method: 'POST', url: path, headers, body: body.subarray(1) }, CREDENTIALS), /x-amz-content-sha256/);
    assert.throws(() => verifySigV4({ method: 'POST', url: `${path}/x`, headers, body }, CREDENTIALS), /signature verifies/);
  });
});

describe('RemoteWriteSink with SigV4', () => {
  const dispatcher = new Agent({ keepAliveTimeout: 1_000 });
  after(() => dispatcher.close());

  const NOW = Date.parse('2026-11-20T10:00:00Z');
  const record: DecodedRecord = {
    index: 0,
    messageId: 'm-0',
    envelope: {
      v: 3,
      id: 'req-1',
      part: 0,
      parts: 1,
      source: 'beam-java',
      receivedAt: NOW,
      group: { job: 'wordcount' },
      labels: {},
      families: [{ name: 'beam_elements_total', type: 'counter', help: 'Elements read' }],
      labelSets: [{ namespace: 'io', step: 'Read' }],
      names: ['beam_elements_total'],
      layout: Int32Array.of(0, 0),
      values: [42],
    },
  };
  const instantClock: RetryClock = { now: Date.now, sleep: async () => {}, random: () => 0 };

  function sinkOptions(url: string, sign: RemoteWriteOptions['sign']): RemoteWriteOptions {
    return {
      url,
      headers: { 'X-Scope-OrgID': 'team-a' },
      ...(sign ? { sign } : {}),
      encodings: { '1.0': REMOTE_WRITE_V1 },
      protocol: '1.0',
      limits: { ...DEFAULT_REQUEST_LIMITS },
      timeoutMs: 5_000,
      retryOn429: true,
      backoff: { baseMs: 1, maxMs: 1 },
      maxIsolationRequests: 0,
      concurrency: 1,
      userAgent: 'beam-prom-relay/test',
    };
  }

  it('sends signed requests that verify at the receiver, re-signed on each retry with a fresh X-Amz-Date', async () => {
    const server = await startFaultServer({ lifetimeMs: 20_000 });
    try {
      server.reset([{ status: 503 }, { status: 204 }]);
      let tick = 0;
      const sign = createSigV4Signer({ region: REGION, credentials: async () => CREDENTIALS, now: () => new Date(SIGNING_DATE.getTime() + 1000 * tick++) });
      const sink = new RemoteWriteSink(sinkOptions(`${server.url}/workspaces/ws-1/api/v1/remote_write`, sign), instantClock, dispatcher);

      const report = await sink.deliver([record], Date.now() + 30_000);

      assert.equal(report.stats.samplesWritten, 1);
      assert.equal(report.stats.requests, 2);
      const received: readonly RecordedRequest[] = server.requests;
      assert.equal(received.length, 2);
      for (const req of received) {
        const { credential } = verifySigV4(req, CREDENTIALS);
        assert.equal(credential, 'AKIDEXAMPLE/20261120/eu-west-1/aps/aws4_request');
        assert.equal(req.headers['host'], new URL(server.url).host);
        assert.equal(req.headers['x-scope-orgid'], 'team-a');
        assert.equal(req.headers['user-agent'], 'beam-prom-relay/test');
      }
      assert.deepEqual(received.map((r) => r.headers['x-amz-date']), ['20261120T100000Z', '20261120T100001Z']);
    } finally {
      await server.stop();
    }
  });

  it('keeps the data and sends nothing when credentials cannot be loaded, without leaking them', async () => {
    const server = await startFaultServer({ lifetimeMs: 20_000 });
    try {
      const sign = createSigV4Signer({
        region: REGION,
        credentials: async () => {
          throw new Error('Could not load credentials from any providers');
        },
      });
      const sink = new RemoteWriteSink(sinkOptions(`${server.url}/api/v1/write`, sign), instantClock, dispatcher);

      const report = await sink.deliver([record], Date.now() + 30_000);

      assert.equal(server.requests.length, 0);
      assert.equal(report.stats.samplesFailed, 1);
      const outcome = report.failed.get(0);
      assert.equal(outcome?.kind, 'fatal');
      assert.equal(outcome?.reason, 'sign-failed');
      assert.match(outcome?.detail ?? '', /Could not load credentials/);
    } finally {
      await server.stop();
    }
  });
});

describe('deliver runtime with REMOTE_WRITE_SIGV4=true', () => {
  it('signs each request with the injected credentials, so AMP would accept it', async () => {
    const server = await startFaultServer({ lifetimeMs: 20_000 });
    try {
      server.reset([{ status: 204 }]);
      let asked = 0;
      const runtime = createDeliverRuntime(
        { REMOTE_WRITE_URL: `${server.url}/workspaces/ws-1/api/v1/remote_write`, REMOTE_WRITE_SIGV4: 'true', REMOTE_WRITE_SIGV4_REGION: REGION, REMOTE_WRITE_HEADERS: 'X-Scope-OrgID=team-a' },
        { log: () => {}, credentials: async () => (asked++, CREDENTIALS) },
      );
      const body = buildEnvelopes(
        { id: 'req-1', source: 'beam-java', receivedAt: Date.now(), group: { job: 'wordcount' }, labels: {} },
        [{ name: 'beam_elements_total', type: 'counter' }],
        [{ name: 'beam_elements_total', labels: { step: 'Read' }, value: 1 }],
      )[0]!;

      const failed = await runtime.deliver([{ messageId: 'm-1', body }], 20_000);

      assert.deepEqual(failed, []);
      assert.equal(server.requests.length, 1);
      const { credential, signedHeaders } = verifySigV4(server.requests[0]!, CREDENTIALS);
      assert.match(credential, /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/aps\/aws4_request$/);
      assert.ok(signedHeaders.includes('x-scope-orgid'));
      assert.equal(asked, 1);
    } finally {
      await server.stop();
    }
  });
});
