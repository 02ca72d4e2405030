import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { GroupingKeyError, groupingKeyPath, groupUrl } from '../../../lib/deliver/pushgateway-path.ts';
import { parseGroupingKey } from '../../../lib/ingest/route.ts';

const fromBase64Url = (s: string) => Buffer.from(s, 'base64url').toString('utf8');

describe('groupingKeyPath', () => {
  it('puts job first and the other labels in name order, as plain segments', () => {
    const path = groupingKeyPath({ zone: 'b', env: 'prod', job: 'wordcount' });

    assert.equal(path, '/metrics/job/wordcount/env/prod/zone/b');
  });

  it('base64url-encodes a value with / under <name>@base64', () => {
    const path = groupingKeyPath({ job: 'w', step: 'Read/ParDo(x)' });

    assert.match(path, /^\/metrics\/job\/w\/step@base64\/[A-Za-z0-9_-]+$/);
    assert.equal(fromBase64Url(path.split('/').pop()!), 'Read/ParDo(x)');
  });

  it('writes an empty value as @base64/=', () => {
    assert.equal(groupingKeyPath({ job: 'w', instance: '' }), '/metrics/job/w/instance@base64/=');
  });

  it('base64-encodes the job itself when it has a /', () => {
    assert.equal(groupingKeyPath({ job: 'a/b' }), `/metrics/job@base64/${Buffer.from('a/b').toString('base64url')}`);
  });

  it('percent-encodes unicode and reserved characters that have no /', () => {
    assert.equal(groupingKeyPath({ job: 'café', q: 'a b?#%+' }), '/metrics/job/caf%C3%A9/q/a%20b%3F%23%25%2B');
  });

  it('base64-encodes unicode that has a /', () => {
    const path = groupingKeyPath({ job: 'w', u: 'ünï/ç' });

    assert.equal(fromBase64Url(path.split('/').pop()!), 'ünï/ç');
  });

  it('base64-encodes . and .., which URL parsing would resolve away as dot segments', () => {
    const path = groupingKeyPath({ job: '..', x: '.' });

    assert.equal(path, `/metrics/job@base64/${Buffer.from('..').toString('base64url')}/x@base64/${Buffer.from('.').toString('base64url')}`);
    assert.equal(new URL(`http://h${path}`).pathname, path);
  });

  it('base64-encodes a lone surrogate, which percent-encoding cannot represent', () => {
    const path = groupingKeyPath({ job: 'w', s: 'a\ud800' });

    assert.equal(fromBase64Url(path.split('/').pop()!), 'a\ufffd');
  });

  it('refuses a grouping key without a job, or with an empty one', () => {
    assert.throws(() => groupingKeyPath({ env: 'prod' }), GroupingKeyError);
    assert.throws(() => groupingKeyPath({ job: '' }), GroupingKeyError);
  });

  it('reads back as the same grouping key through the webhook route parser (same Pushgateway convention)', () => {
    const labelName = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,8}$/).filter((n) => n !== 'job');
    const value = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('', '.', '..', '/', 'a/b', '%2F', '=', '@base64'));
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), fc.dictionary(labelName, value, { maxKeys: 4 }), (job, rest) => {
        const group = { ...rest, job };

        assert.deepEqual(parseGroupingKey(groupingKeyPath(group)), group);
      }),
      { numRuns: 200 },
    );
  });
});

describe('groupUrl', () => {
  it('joins a base URL with a route prefix and a trailing slash', () => {
    assert.equal(groupUrl('http://pg:9091/prefix/', { job: 'w' }), 'http://pg:9091/prefix/metrics/job/w');
  });
});
