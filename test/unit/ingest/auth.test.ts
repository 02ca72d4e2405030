import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { authenticate } from '../../../lib/ingest/auth.ts';
import { UnauthorizedError } from '../../../lib/ingest/errors.ts';
import type { HttpRequest } from '../../../lib/ingest/request.ts';

const TOKEN = 'a'.repeat(32);
const SECRET = 's'.repeat(32);
function req(headers: Record<string, string> = {}, query: Record<string, string> = {}, body = '{"counters":[]}'): HttpRequest {
  return { method: 'POST', path: '/metrics/job/j', headers, query, body: Buffer.from(body) };
}
const sign = (body: string, secret = SECRET) => 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');

describe('authenticate', () => {
  it('admits everything when no credential is configured', () => {
    assert.doesNotThrow(() => authenticate(req(), {}));
  });
  it('admits a Bearer token and the ?token= form', () => {
    assert.doesNotThrow(() => authenticate(req({ authorization: `Bearer ${TOKEN}` }), { token: TOKEN }));
    assert.doesNotThrow(() => authenticate(req({ authorization: `bearer  ${TOKEN}` }), { token: TOKEN }));
    assert.doesNotThrow(() => authenticate(req({}, { token: TOKEN }), { token: TOKEN }));
  });
  it('refuses a missing token, a wrong token of equal length, and a prefix of the token', () => {
    for (const r of [req(), req({ authorization: `Bearer ${'b'.repeat(32)}` }), req({}, { token: TOKEN.slice(0, 31) }), req({ authorization: TOKEN })]) {
      assert.throws(() => authenticate(r, { token: TOKEN }), UnauthorizedError);
    }
  });
  it('admits a correct HMAC of the raw body and refuses a wrong one', () => {
    const body = '{"counters":[]}';
    assert.doesNotThrow(() => authenticate(req({ 'x-signature-256': sign(body) }, {}, body), { hmacSecret: SECRET }));
    assert.throws(() => authenticate(req({ 'x-signature-256': sign(body, 'other-secret-of-some-length') }, {}, body), { hmacSecret: SECRET }), UnauthorizedError);
    assert.throws(() => authenticate(req({ 'x-signature-256': sign(body) }, {}, body + ' '), { hmacSecret: SECRET }), UnauthorizedError);
    assert.throws(() => authenticate(req({ 'x-signature-256': 'sha256=zz' }, {}, body), { hmacSecret: SECRET }), UnauthorizedError);
  });
  it('admits either method when both are configured', () => {
    const body = '{}';
    assert.doesNotThrow(() => authenticate(req({ 'x-signature-256': sign(body) }, {}, body), { token: TOKEN, hmacSecret: SECRET }));
    assert.doesNotThrow(() => authenticate(req({ authorization: `Bearer ${TOKEN}` }, {}, body), { token: TOKEN, hmacSecret: SECRET }));
  });
  it('says what is expected without echoing what was sent', () => {
    try {
      authenticate(req({ authorization: 'Bearer wrong-token-value' }), { token: TOKEN });
      assert.fail('expected a 401');
    } catch (e) {
      assert.ok(e instanceof UnauthorizedError);
      assert.equal(e.status, 401);
      assert.ok(!e.message.includes('wrong-token-value'));
      assert.ok(!e.message.includes(TOKEN));
    }
  });
});
