import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyError, classifyResponse, parseRetryAfter, type OutcomeKind } from '../../../lib/transport/outcome.ts';

const NOW = Date.parse('2026-11-20T10:00:00Z');
const v1 = { retryOn429: true, expectWrittenHeader: false, nowMs: NOW };

describe('classifyResponse', () => {
  const cases: Array<[string, number, string, OutcomeKind, string, Record<string, string>?]> = [
    ['200 is success', 200, '', 'success', 'http-200'],
    ['204 is success (Prometheus answers 204)', 204, '', 'success', 'http-204'],
    ['400 out of order is superseded', 400, 'out of order sample\n', 'superseded', 'out-of-order'],
    ['400 duplicate sample is superseded', 400, 'duplicate sample for timestamp', 'superseded', 'duplicate-timestamp'],
    ['400 out of bounds is superseded', 400, 'out of bounds', 'superseded', 'out-of-bounds'],
    ['other 400 is permanent', 400, 'snappy: corrupt input', 'permanent', 'http-400'],
    ['401 is fatal', 401, 'unauthorized', 'fatal', 'http-401'],
    ['403 is fatal', 403, '', 'fatal', 'http-403'],
    ['404 is fatal', 404, '', 'fatal', 'http-404'],
    ['415 is fatal for 1.0', 415, '', 'fatal', 'http-415'],
    ['408 is retryable', 408, '', 'retryable', 'http-408'],
    ['429 is retryable by default', 429, '', 'retryable', 'http-429'],
    ['413 is permanent', 413, '', 'permanent', 'http-413'],
    ['500 is retryable', 500, 'boom', 'retryable', 'http-500'],
    ['500 too old sample is permanent', 500, 'too old sample', 'permanent', 'too-old'],
    ['501 is permanent', 501, '', 'permanent', 'http-501'],
    ['503 is retryable', 503, '', 'retryable', 'http-503'],
    ['302 is fatal (wrong URL)', 302, '', 'fatal', 'http-302'],
  ];
  for (const [name, status, body, kind, reason] of cases) {
    it(name, () => {
      const o = classifyResponse({ status, headers: {}, body }, v1);
      assert.equal(o.kind, kind);
      assert.equal(o.reason, reason);
      assert.equal(o.status, status);
    });
  }

  it('makes 429 permanent when retrying on 429 is off', () => {
    assert.equal(classifyResponse({ status: 429, headers: {}, body: '' }, { ...v1, retryOn429: false }).kind, 'permanent');
  });

  it('carries Retry-After on retryable answers', () => {
    const o = classifyResponse({ status: 503, headers: { 'retry-after': '7' }, body: '' }, v1);
    assert.equal(o.retryAfterMs, 7000);
  });

  it('treats a 2xx without the written-samples header as a 1.0 receiver when sending 2.0', () => {
    const v2 = { ...v1, expectWrittenHeader: true };
    assert.equal(classifyResponse({ status: 204, headers: {}, body: '' }, v2).kind, 'unsupported-protocol');
    assert.equal(classifyResponse({ status: 415, headers: {}, body: '' }, v2).kind, 'unsupported-protocol');
    const ok = classifyResponse({ status: 204, headers: { 'x-prometheus-remote-write-samples-written': '3' }, body: '' }, v2);
    assert.equal(ok.kind, 'success');
  });

  it('keeps only the first line of the body as detail', () => {
    assert.equal(classifyResponse({ status: 400, headers: {}, body: 'first\nsecond' }, v1).detail, 'first');
  });
});

describe('classifyError', () => {
  it('classes a refused connection as retryable network', () => {
    const o = classifyError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    assert.deepEqual([o.kind, o.reason], ['retryable', 'network']);
  });
  it('classes undici timeouts and aborts as retryable timeout', () => {
    assert.equal(classifyError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' })).reason, 'timeout');
    assert.equal(classifyError(new DOMException('The operation was aborted due to timeout', 'TimeoutError')).reason, 'timeout');
  });
});

describe('parseRetryAfter', () => {
  const cases: Array<[string | undefined, number | undefined]> = [
    [undefined, undefined],
    ['0', 0],
    ['120', 120_000],
    [' 5 ', 5_000],
    ['Fri, 20 Nov 2026 10:00:30 GMT', 30_000],
    ['Fri, 20 Nov 2026 09:59:00 GMT', 0],
    ['soon', undefined],
    ['-1', undefined],
  ];
  for (const [value, expected] of cases) {
    it(`reads ${JSON.stringify(value)} as ${expected} ms`, () => assert.equal(parseRetryAfter(value, NOW), expected));
  }
});
