import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../../lib/inputs/errors.ts';
import { parseGroupingKey } from '../../../lib/ingest/route.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64url');

describe('parseGroupingKey', () => {
  const good: Array<[string, string, Record<string, string>]> = [
    ['a job alone', '/metrics/job/wordcount', { job: 'wordcount' }],
    ['a trailing slash', '/metrics/job/wordcount/', { job: 'wordcount' }],
    ['label pairs', '/metrics/job/wordcount/env/prod/region/eu', { job: 'wordcount', env: 'prod', region: 'eu' }],
    ['a stage prefix', '/prod/metrics/job/wordcount', { job: 'wordcount' }],
    ['percent-encoding', '/metrics/job/word%20count', { job: 'word count' }],
    ['a base64 value with /', `/metrics/job/w/step@base64/${b64('Read/ParDo(x)')}`, { job: 'w', step: 'Read/ParDo(x)' }],
    ['a padded base64 value', `/metrics/job/w/a@base64/${Buffer.from('ab').toString('base64')}`, { job: 'w', a: 'ab' }],
    ['= as the empty value', '/metrics/job/w/instance@base64/=', { job: 'w', instance: '' }],
    ['a base64 job', `/metrics/job@base64/${b64('a/b')}`, { job: 'a/b' }],
  ];
  for (const [name, path, expected] of good) {
    it(`reads ${name}`, () => assert.deepEqual(parseGroupingKey(path), expected));
  }

  const bad: Array<[string, string, number, string]> = [
    ['another route', '/metrics/other', 404, '$path'],
    ['a path without a job', '/metrics/job/', 400, '$path[1]'],
    ['a label without a value', '/metrics/job/w/env', 400, '$path[2]'],
    ['an invalid label name', '/metrics/job/w/1x/v', 400, '$path[2]'],
    ['a reserved label name', '/metrics/job/w/__name__/v', 400, '$path[2]'],
    ['a repeated label', '/metrics/job/w/env/a/env/b', 400, '$path[4]'],
    ['a repeated job', '/metrics/job/w/job/x', 400, '$path[2]'],
    ['bad base64', '/metrics/job/w/step@base64/***', 400, '$path[3]'],
    ['bad percent-encoding', '/metrics/job/w/env/%E0%A4%A', 400, '$path[3]'],
    ['a dot-dot label name', '/metrics/job/w/../v', 400, '$path[2]'],
  ];
  for (const [name, path, status, where] of bad) {
    it(`refuses ${name} with ${status} at ${where}`, () => {
      assert.throws(() => parseGroupingKey(path), (e: unknown) => e instanceof InputError && e.status === status && e.issues[0]!.path === where);
    });
  }
});
