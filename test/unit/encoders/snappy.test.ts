import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compress, uncompress } from 'snappyjs';
import { snappyCompress } from '../../../lib/encoders/snappy.ts';
import { encodeWriteRequestV1 } from '../../../lib/encoders/remote-write-v1.ts';
import { writeRequest } from '../../../bench/workload.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Bytes that repeat as remote-write bodies do: a few chunks, each written many times with small changes. */
const repetitive = fc
  .tuple(fc.array(fc.uint8Array({ minLength: 1, maxLength: 90 }), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 400 }))
  .map(([chunks, picks]) => {
    const parts = picks.map((p, i) => {
      const c = chunks[p % chunks.length]!.slice();
      if (i % 7 === 3) c[p % c.length] = i & 0xff;
      return c;
    });
    return Uint8Array.from(parts.flatMap((c) => [...c]));
  });

describe('snappyCompress', () => {
  it('gives the very bytes snappyjs gives, for random and for repetitive input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), repetitive), (input) => {
        assert.equal(hex(snappyCompress(input)), hex(compress(input)));
      }),
      { seed: 20261122, numRuns: 500 },
    );
  });

  it('gives the bytes snappyjs gives across fragment boundaries, incompressible tails included', () => {
    for (const size of [14, 15, 16, 65_535, 65_536, 65_537, 200_003]) {
      const input = new Uint8Array(size);
      let x = size;
      for (let i = 0; i < size; i++) {
        // Runs of repeats with stretches of noise: matches end in every position relative to a word.
        x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
        input[i] = i % 1000 < 700 ? (i % 97) & 0xff : x >>> 24;
      }
      const ours = snappyCompress(input);
      assert.equal(hex(ours), hex(compress(input)), `size ${size}`);
      assert.equal(hex(uncompress(ours)), hex(input));
    }
  });

  it('compresses a realistic remote-write body as snappyjs does, and it uncompresses to the protobuf', () => {
    const protobuf = encodeWriteRequestV1(writeRequest(25, 4, 1_795_000_000_000));
    const ours = snappyCompress(protobuf);
    assert.equal(hex(ours), hex(compress(protobuf)));
    assert.equal(hex(uncompress(ours)), hex(protobuf));
    assert.ok(ours.length < protobuf.length / 4, `only ${protobuf.length} -> ${ours.length} bytes`);
  });

  it('returns a buffer of its own each call', () => {
    const a = snappyCompress(new Uint8Array(100).fill(1));
    const b = snappyCompress(new Uint8Array(100).fill(2));
    assert.notEqual(a.buffer, b.buffer);
    assert.equal(uncompress(a)[0], 1);
  });
});
