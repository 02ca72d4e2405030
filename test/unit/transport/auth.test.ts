import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { loadDeliverConfig } from '../../../lib/deliver/config.ts';
import { createDeliverRuntime } from '../../../lib/deliver/runtime.ts';
import { buildEnvelopes } from '../../../lib/envelope/envelope.ts';
import { ConfigError } from '../../../lib/config/errors.ts';
import type { Env } from '../../../lib/config/env.ts';
import { loadRemoteWriteAuth } from '../../../lib/transport/auth.ts';
import { startFaultServer } from '../../support/fault-server.ts';

const URL_ = new URL('https://mimir.example.com/api/v1/push');
const AMP_URL = new URL('https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1234/api/v1/remote_write');
const SECRET = 'hunter2-s3cr3t';

/** Runs `fn`, expecting a ConfigError for `variable`; returns it for further checks. */
function configError(fn: () => unknown, variable: string): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.variable, variable, error.message);
    assert.match(error.message, new RegExp(`^${variable}: `));
    return error;
  }
  assert.fail(`expected a ConfigError naming ${variable}`);
}

describe('loadRemoteWriteAuth: one method each', () => {
  it('sends no auth header when no method is set', () => {
    const auth = loadRemoteWriteAuth({}, URL_);
    assert.equal(auth.auth, 'none');
    assert.deepEqual({ ...auth.headers }, {});
    assert.equal(auth.sigv4, undefined);
  });

  it('sets exactly Authorization: Bearer for a bearer token', () => {
    const auth = loadRemoteWriteAuth({ REMOTE_WRITE_BEARER_TOKEN: 'abc.def-123' }, URL_);
    assert.equal(auth.auth, 'bearer');
    assert.deepEqual({ ...auth.headers }, { Authorization: 'Bearer abc.def-123' });
    assert.equal(auth.sigv4, undefined);
  });

  it('sets exactly Authorization: Basic with base64 of the UTF-8 user:password', () => {
    const auth = loadRemoteWriteAuth({ REMOTE_WRITE_BASIC_AUTH_USERNAME: 'Aladdin', REMOTE_WRITE_BASIC_AUTH_PASSWORD: 'open sesame' }, URL_);
    assert.equal(auth.auth, 'basic');
    // RFC 7617 §2's own example.
    assert.deepEqual({ ...auth.headers }, { Authorization: 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==' });
  });

  it('encodes a non-ASCII basic password as UTF-8', () => {
    const auth = loadRemoteWriteAuth({ REMOTE_WRITE_BASIC_AUTH_USERNAME: 'test', REMOTE_WRITE_BASIC_AUTH_PASSWORD: '123£' }, URL_);
    // RFC 7617 §2.1's example with charset UTF-8.
    assert.equal(auth.headers['Authorization'], 'Basic dGVzdDoxMjPCow==');
  });

  it('sets no static header for SigV4 and takes the region from the workspace URL', () => {
    const auth = loadRemoteWriteAuth({ REMOTE_WRITE_SIGV4: 'true', AWS_REGION: 'eu-west-1' }, AMP_URL);
    assert.equal(auth.auth, 'sigv4');
    assert.deepEqual({ ...auth.headers }, {});
    assert.deepEqual(auth.sigv4, { region: 'eu-west-1' });
  });

  it('prefers the workspace URL region to AWS_REGION for SigV4', () => {
    const auth = loadRemoteWriteAuth({ REMOTE_WRITE_SIGV4: 'true', AWS_REGION: 'us-east-1' }, AMP_URL);
    assert.deepEqual(auth.sigv4, { region: 'eu-west-1' });
  });

  it('falls back to AWS_REGION for SigV4 behind a URL without a region', () => {
    const auth = loadRemoteWriteAuth({ REMOTE_WRITE_SIGV4: 'true', AWS_REGION: 'us-east-2' }, URL_);
    assert.deepEqual(auth.sigv4, { region: 'us-east-2' });
  });

  it('uses REMOTE_WRITE_SIGV4_REGION over AWS_REGION', () => {
    const auth = loadRemoteWriteAuth({ REMOTE_WRITE_SIGV4: 'true', REMOTE_WRITE_SIGV4_REGION: 'ap-southeast-2', AWS_REGION: 'us-east-1' }, URL_);
    assert.deepEqual(auth.sigv4, { region: 'ap-southeast-2' });
  });

  it('adds custom headers next to the auth header', () => {
    const auth = loadRemoteWriteAuth({ REMOTE_WRITE_BEARER_TOKEN: 't0k', REMOTE_WRITE_HEADERS: 'X-Scope-OrgID=tenant-1, X-Extra = a=b ' }, URL_);
    assert.deepEqual({ ...auth.headers }, { 'X-Scope-OrgID': 'tenant-1', 'X-Extra': 'a=b', Authorization: 'Bearer t0k' });
  });

  it('allows a custom Authorization header when no auth method is set', () => {
    const auth = loadRemoteWriteAuth({ REMOTE_WRITE_HEADERS: 'Authorization=ApiKey k1' }, URL_);
    assert.equal(auth.auth, 'none');
    assert.deepEqual({ ...auth.headers }, { Authorization: 'ApiKey k1' });
  });
});

describe('loadRemoteWriteAuth: refused configurations name the variable', () => {
  const twoMethods: Array<[string, Env, string]> = [
    ['bearer and basic', { REMOTE_WRITE_BEARER_TOKEN: 't', REMOTE_WRITE_BASIC_AUTH_USERNAME: 'u', REMOTE_WRITE_BASIC_AUTH_PASSWORD: 'p' }, 'REMOTE_WRITE_BASIC_AUTH_USERNAME'],
    ['bearer and SigV4', { REMOTE_WRITE_BEARER_TOKEN: 't', REMOTE_WRITE_SIGV4: 'true', AWS_REGION: 'us-east-1' }, 'REMOTE_WRITE_SIGV4'],
    ['basic and SigV4', { REMOTE_WRITE_BASIC_AUTH_USERNAME: 'u', REMOTE_WRITE_BASIC_AUTH_PASSWORD: 'p', REMOTE_WRITE_SIGV4: 'true', AWS_REGION: 'us-east-1' }, 'REMOTE_WRITE_SIGV4'],
    ['bearer and a basic password alone', { REMOTE_WRITE_BEARER_TOKEN: 't', REMOTE_WRITE_BASIC_AUTH_PASSWORD: 'p' }, 'REMOTE_WRITE_BASIC_AUTH_PASSWORD'],
  ];
  for (const [name, env, variable] of twoMethods) {
    it(`refuses two auth methods: ${name}`, () => {
      const error = configError(() => loadRemoteWriteAuth(env, URL_), variable);
      assert.match(error.message, /at most one remote-write auth method/);
    });
  }

  const protocolHeaders = ['Content-Type', 'content-encoding', 'X-Prometheus-Remote-Write-Version', 'User-Agent', 'Host', 'Content-Length', 'X-Amz-Date'];
  for (const header of protocolHeaders) {
    it(`refuses a custom header overriding ${header}`, () => {
      const error = configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_HEADERS: `X-Scope-OrgID=t1,${header}=x` }, URL_), 'REMOTE_WRITE_HEADERS');
      assert.match(error.message, /cannot be overridden/);
    });
  }

  for (const [method, env] of [
    ['bearer', { REMOTE_WRITE_BEARER_TOKEN: 't' }],
    ['basic', { REMOTE_WRITE_BASIC_AUTH_USERNAME: 'u', REMOTE_WRITE_BASIC_AUTH_PASSWORD: 'p' }],
    ['sigv4', { REMOTE_WRITE_SIGV4: 'true', AWS_REGION: 'us-east-1' }],
  ] as const) {
    it(`refuses a custom Authorization header with ${method} auth`, () => {
      configError(() => loadRemoteWriteAuth({ ...env, REMOTE_WRITE_HEADERS: 'authorization=Bearer other' }, URL_), 'REMOTE_WRITE_HEADERS');
    });
  }

  const badHeaders: Array<[string, string]> = [
    ['an entry without =', 'X-Scope-OrgID'],
    ['an empty name', '=value'],
    ['a name that is not an HTTP token', 'X Scope=1'],
    ['an empty value', 'X-Scope-OrgID='],
    ['the same header twice in different case', 'X-Scope-OrgID=a,x-scope-orgid=b'],
    ['a value with a non-ASCII character', 'X-Tenant=caf\u00e9'],
  ];
  for (const [name, value] of badHeaders) {
    it(`refuses REMOTE_WRITE_HEADERS with ${name}`, () => {
      configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_HEADERS: value }, URL_), 'REMOTE_WRITE_HEADERS');
    });
  }

  it('refuses a basic username without a password, and the reverse', () => {
    configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_BASIC_AUTH_USERNAME: 'u' }, URL_), 'REMOTE_WRITE_BASIC_AUTH_PASSWORD');
    configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_BASIC_AUTH_PASSWORD: 'p' }, URL_), 'REMOTE_WRITE_BASIC_AUTH_USERNAME');
  });

  it('refuses a basic username with a colon', () => {
    configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_BASIC_AUTH_USERNAME: 'a:b', REMOTE_WRITE_BASIC_AUTH_PASSWORD: 'p' }, URL_), 'REMOTE_WRITE_BASIC_AUTH_USERNAME');
  });

  it('refuses a bearer token given with its "Bearer " prefix', () => {
    configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_BEARER_TOKEN: 'Bearer abc' }, URL_), 'REMOTE_WRITE_BEARER_TOKEN');
  });

  it('refuses REMOTE_WRITE_SIGV4 that is not a boolean', () => {
    configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_SIGV4: 'aps' }, URL_), 'REMOTE_WRITE_SIGV4');
  });

  it('refuses SigV4 without any region', () => {
    configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_SIGV4: 'true' }, URL_), 'REMOTE_WRITE_SIGV4_REGION');
  });

  it('refuses a malformed SigV4 region, naming where it came from', () => {
    configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_SIGV4: 'true', REMOTE_WRITE_SIGV4_REGION: 'Ireland' }, URL_), 'REMOTE_WRITE_SIGV4_REGION');
    configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_SIGV4: 'true', AWS_REGION: 'eu west 1' }, URL_), 'AWS_REGION');
  });

  it('refuses a SigV4 region that differs from the workspace URL region', () => {
    const error = configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_SIGV4: 'true', REMOTE_WRITE_SIGV4_REGION: 'us-east-1' }, AMP_URL), 'REMOTE_WRITE_SIGV4_REGION');
    assert.match(error.message, /eu-west-1/);
  });

  it('refuses a SigV4 region without REMOTE_WRITE_SIGV4=true', () => {
    configError(() => loadRemoteWriteAuth({ REMOTE_WRITE_SIGV4_REGION: 'us-east-1' }, URL_), 'REMOTE_WRITE_SIGV4_REGION');
  });
});

describe('loadRemoteWriteAuth: secrets stay out of messages and logs', () => {
  const leaks: Array<[string, Env]> = [
    ['a conflicting token', { REMOTE_WRITE_BEARER_TOKEN: SECRET, REMOTE_WRITE_BASIC_AUTH_USERNAME: 'u', REMOTE_WRITE_BASIC_AUTH_PASSWORD: SECRET }],
    ['a token with a line break', { REMOTE_WRITE_BEARER_TOKEN: `${SECRET}\nX-Evil: 1` }],
    ['a token with an inner space', { REMOTE_WRITE_BEARER_TOKEN: `${SECRET} ${SECRET}` }],
    ['a password without a username', { REMOTE_WRITE_BASIC_AUTH_PASSWORD: SECRET }],
    ['a header value that cannot be sent', { REMOTE_WRITE_HEADERS: `X-Api-Key=${SECRET}\u00e9` }],
    ['an Authorization header next to an auth method', { REMOTE_WRITE_BEARER_TOKEN: 't', REMOTE_WRITE_HEADERS: `Authorization=${SECRET}` }],
  ];
  for (const [name, env] of leaks) {
    it(`does not echo the secret for ${name}`, () => {
      assert.throws(
        () => loadRemoteWriteAuth(env, URL_),
        (error: unknown) => error instanceof ConfigError && !error.message.includes(SECRET),
      );
    });
  }

  it('masks header values when the headers are serialised or inspected', () => {
    const { headers } = loadRemoteWriteAuth({ REMOTE_WRITE_BEARER_TOKEN: SECRET, REMOTE_WRITE_HEADERS: `X-Api-Key=${SECRET}` }, URL_);
    const json = JSON.stringify({ headers });
    const inspected = inspect({ headers });
    assert.equal(json, '{"headers":{"X-Api-Key":"***","Authorization":"***"}}');
    assert.ok(!inspected.includes(SECRET), inspected);
    assert.equal(headers['Authorization'], `Bearer ${SECRET}`);
    assert.deepEqual(Object.keys({ ...headers }), ['X-Api-Key', 'Authorization']);
  });
});

describe('loadDeliverConfig wires the auth variables', () => {
  it('puts the auth headers and SigV4 settings into the remote-write config', () => {
    const config = loadDeliverConfig({
      REMOTE_WRITE_URL: AMP_URL.toString(),
      REMOTE_WRITE_SIGV4: 'true',
      REMOTE_WRITE_HEADERS: 'X-Scope-OrgID=team-a',
    });
    assert.equal(config.remoteWrite?.auth, 'sigv4');
    assert.deepEqual(config.remoteWrite?.sigv4, { region: 'eu-west-1' });
    assert.deepEqual({ ...config.remoteWrite?.headers }, { 'X-Scope-OrgID': 'team-a' });
  });

  it('fails the cold start naming the variable of a bad auth setting', () => {
    configError(
      () => loadDeliverConfig({ REMOTE_WRITE_URL: URL_.toString(), REMOTE_WRITE_BEARER_TOKEN: 't', REMOTE_WRITE_SIGV4: 'true', AWS_REGION: 'us-east-1' }),
      'REMOTE_WRITE_SIGV4',
    );
  });
});

describe('deliver runtime sends the configured headers', () => {
  const cases: Array<[string, Env, Record<string, string>]> = [
    ['bearer', { REMOTE_WRITE_BEARER_TOKEN: 'abc.def' }, { authorization: 'Bearer abc.def' }],
    ['basic', { REMOTE_WRITE_BASIC_AUTH_USERNAME: 'Aladdin', REMOTE_WRITE_BASIC_AUTH_PASSWORD: 'open sesame' }, { authorization: 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==' }],
    ['custom headers only', { REMOTE_WRITE_HEADERS: 'X-Scope-OrgID=tenant-1' }, { 'x-scope-orgid': 'tenant-1' }],
  ];
  for (const [name, env, expected] of cases) {
    it(`sends ${name} auth on the wire, next to the protocol headers`, async () => {
      const server = await startFaultServer({ lifetimeMs: 20_000 });
      try {
        server.reset([{ status: 204 }]);
        const runtime = createDeliverRuntime({ REMOTE_WRITE_URL: `${server.url}/api/v1/write`, ...env }, { log: () => {} });
        const body = buildEnvelopes(
          { id: 'req-1', source: 'beam-java', receivedAt: Date.now(), group: { job: 'wordcount' }, labels: {} },
          [],
          [{ name: 'beam_elements_total', labels: {}, value: 1 }],
        )[0]!;

        const failed = await runtime.deliver([{ messageId: 'm-1', body }], 20_000);

        assert.deepEqual(failed, []);
        const sent = server.requests[0]!.headers;
        for (const [header, value] of Object.entries(expected)) assert.equal(sent[header], value, header);
        assert.equal(sent['content-type'], 'application/x-protobuf');
        assert.equal(sent['x-prometheus-remote-write-version'], '0.1.0');
        if (!('authorization' in expected)) assert.equal(sent['authorization'], undefined);
      } finally {
        await server.stop();
      }
    });
  }
});
