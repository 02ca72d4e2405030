import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { InputError } from '../../../lib/inputs/errors.ts';
import { decodeBody } from '../../../lib/ingest/body.ts';

const limits = { maxBodyBytes: 1024, maxDecompressedBytes: 4096 };
const status = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e.status;
    throw e;
  }
  return 200;
};

describe('decodeBody', () => {
  it('decodes plain UTF-8 and drops a BOM', () => {
    assert.equal(decodeBody(Buffer.from('\uFEFF{"a":"√"}'), undefined, limits), '{"a":"√"}');
  });
  it('gunzips a gzip body', () => {
    assert.equal(decodeBody(gzipSync('{"counters":[]}'), 'gzip', limits), '{"counters":[]}');
  });
  it('answers 413 for a body over the size cap', () => {
    assert.equal(status(() => decodeBody(Buffer.alloc(2000, 32), undefined, limits)), 413);
  });
  it('answers 413 for a gzip bomb without inflating it', () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    assert.ok(bomb.length < limits.maxBodyBytes * 100);
    assert.equal(status(() => decodeBody(bomb, 'gzip', { maxBodyBytes: bomb.length, maxDecompressedBytes: 4096 })), 413);
  });
  it('answers 400 for a body that claims gzip but is not', () => {
    assert.equal(status(() => decodeBody(Buffer.from('{}'), 'gzip', limits)), 400);
  });
  it('answers 415 for an unknown content encoding', () => {
    assert.equal(status(() => decodeBody(Buffer.from('{}'), 'br', limits)), 415);
  });
  it('answers 400 for invalid UTF-8', () => {
    assert.equal(status(() => decodeBody(Buffer.from([0x7b, 0xff, 0x7d]), undefined, limits)), 400);
  });
});
