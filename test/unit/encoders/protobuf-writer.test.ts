import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EncoderSizeMismatchError,
  ProtoWriter,
  allocBytes,
  encodeAssumingAscii,
  int64Size,
  uint32Size,
  utf8Length,
} from '../../../lib/encoders/protobuf-writer.ts';

function written(size: number, write: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter(allocBytes(size), true);
  write(w);
  return w.finish();
}

describe('protobuf writer', () => {
  it('sizes and writes uint32 varints at every length boundary', () => {
    const cases = [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 2 ** 32 - 1];
    for (const n of cases) {
      const bytes = written(uint32Size(n), (w) => w.uint32(n));

      assert.equal(bytes.length, uint32Size(n), `size of ${n}`);
      assert.equal(bytes.at(-1)! & 0x80, 0, `last byte of ${n} ends the varint`);
    }
  });

  it('writes int64 varints as two\'s complement, ten bytes when negative, sized as written', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [300, 'ac02'],
      [2 ** 32, '8080808010'],
      [1_763_683_200_000, '80d8d79daa33'],
      [2 ** 53 - 1, 'ffffffffffffff0f'],
      [-1, 'ffffffffffffffffff01'],
      [-(2 ** 32), '80808080f0ffffffff01'],
      [Number.NaN, '00'],
    ];
    for (const [n, hex] of cases) {
      const bytes = written(int64Size(n), (w) => w.int64(n));

      assert.equal(Buffer.from(bytes).toString('hex'), hex, `int64 ${n}`);
    }
  });

  it('counts UTF-8 bytes the way the writer writes them, lone surrogates as U+FFFD', () => {
    assert.equal(utf8Length('abc'), 3);
    assert.equal(utf8Length('ß→🚀'), 2 + 3 + 4);
    assert.equal(utf8Length('\ud800'), 3);
    const bytes = written(1 + 3, (w) => w.string('\ud800'));
    assert.equal(Buffer.from(bytes).toString('hex'), '03efbfbd');
  });

  it('encodes again with exact lengths when the ASCII guess meets another char', () => {
    const passes: boolean[] = [];

    const bytes = encodeAssumingAscii((exact) => {
      passes.push(exact);
      const s = 'aé';
      const w = new ProtoWriter(allocBytes(1 + (exact ? utf8Length(s) : s.length)), exact);
      w.string(s);
      return w;
    });

    assert.deepEqual(passes, [false, true]);
    assert.equal(Buffer.from(bytes).toString('hex'), '0361c3a9');
  });

  it('refuses to finish a buffer the sizing pass got wrong', () => {
    const w = new ProtoWriter(allocBytes(3), true);
    w.uint32(1);

    assert.throws(() => w.finish(), EncoderSizeMismatchError);
  });
});
