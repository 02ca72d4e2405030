import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EncodedLabelSetCache } from '../../../lib/encoders/label-set-cache.ts';
import { ProtoWriter, allocBytes } from '../../../lib/encoders/protobuf-writer.ts';
import type { Label } from '../../../lib/model/series.ts';

/** A cache whose encoding is `name=value,…` as text, recording every set it encodes. */
function textCache(maxBytes: number) {
  const encoded: string[] = [];
  const asText = (labels: readonly Label[]) => labels.map((l) => `${l.name}=${l.value}`).join(',');
  const cache = new EncodedLabelSetCache(
    {
      size: (labels) => Buffer.byteLength(asText(labels)),
      write: (labels, w) => {
        encoded.push(asText(labels));
        for (const byte of Buffer.from(asText(labels))) w.byte(byte);
      },
    },
    maxBytes,
  );
  const bytesOf = (id: number) => {
    const w = new ProtoWriter(allocBytes(cache.length(id)), true);
    cache.copyTo(id, w);
    return Buffer.from(w.finish()).toString();
  };
  return { cache, encoded, bytesOf };
}

const labels = (...pairs: [string, string][]): Label[] => pairs.map(([name, value]) => ({ name, value }));

describe('encoded label-set cache', () => {
  it('encodes a label set once, serves the same array from the cache, and gives an equal array the same entry', () => {
    const { cache, encoded, bytesOf } = textCache(1 << 20);
    const set = labels(['__name__', 'up'], ['job', 'a']);

    const first = cache.get(set);
    const sameArray = cache.get(set);
    const writesAfterSameArray = encoded.length;
    const equalArray = cache.get(labels(['__name__', 'up'], ['job', 'a']));

    assert.equal(bytesOf(first), '__name__=up,job=a');
    assert.equal(sameArray, first);
    assert.equal(writesAfterSameArray, 1, 'the same array is found without encoding it');
    assert.equal(equalArray, first);
  });

  it('does not grow with callers that build a fresh array for the same set every time', () => {
    const { cache, encoded } = textCache(2_000);
    const set = labels(['__name__', 'up'], ['job', 'a']);
    cache.get(set);

    for (let i = 0; i < 1_000; i++) cache.get(labels(['__name__', 'up'], ['job', 'a']));
    cache.trim();
    const writes = encoded.length;
    cache.get(set);

    assert.equal(encoded.length, writes, 'still cached after the trim: 1,000 equal sets took one entry, not 17 KB');
  });

  it('tells apart sets that differ in a value, a name, or length (a prefix of another)', () => {
    const { cache, bytesOf } = textCache(1 << 20);
    const sets = [
      labels(['__name__', 'up'], ['job', 'a']),
      labels(['__name__', 'up'], ['job', 'b']),
      labels(['__name__', 'up'], ['instance', 'a']),
      labels(['__name__', 'up']),
      labels(['__name__', 'up'], ['job', 'a'], ['step', 's']),
      labels(),
    ];

    const results = sets.map((set) => bytesOf(cache.get(set)));
    const again = sets.map((set) => bytesOf(cache.get(structuredClone(set))));

    assert.deepEqual(results, [
      '__name__=up,job=a',
      '__name__=up,job=b',
      '__name__=up,instance=a',
      '__name__=up',
      '__name__=up,job=a,step=s',
      '',
    ]);
    assert.deepEqual(again, results);
  });

  it('keeps every id of a request valid past its bound, and drops everything at the next trim', () => {
    const { cache, encoded, bytesOf } = textCache(2_000);
    const sets = Array.from({ length: 50 }, (_, i) => labels(['__name__', 'm'], ['i', String(i)]));

    const ids = sets.map((set) => cache.get(set));
    const texts = ids.map(bytesOf);
    cache.trim();
    const afterTrim = bytesOf(cache.get(sets[0]!));

    assert.deepEqual(texts, sets.map((_, i) => `__name__=m,i=${i}`));
    assert.equal(afterTrim, '__name__=m,i=0');
    assert.equal(encoded.length, 51, 'the first set was dropped with the rest and encoded again');
  });

  it('gives the ids of a request\'s sets in order, also when a request starts like a remembered one and then differs', () => {
    const { cache, bytesOf } = textCache(1 << 20);
    const a = labels(['__name__', 'a']);
    const b = labels(['__name__', 'b']);
    const c = labels(['__name__', 'c']);
    const texts = (sets: Label[][]) => {
      const ids = new Int32Array(sets.length);
      cache.idsOf(sets.map((l) => ({ labels: l })), ids);
      return [...ids].map(bytesOf);
    };

    assert.deepEqual(texts([a, b, c]), ['__name__=a', '__name__=b', '__name__=c']);
    assert.deepEqual(texts([a, b, c]), ['__name__=a', '__name__=b', '__name__=c']);
    assert.deepEqual(texts([a, c, b]), ['__name__=a', '__name__=c', '__name__=b']);
    assert.deepEqual(texts([a, c]), ['__name__=a', '__name__=c']);
    assert.deepEqual(texts([]), []);
  });

  it('forgets remembered requests with everything else when a trim drops the cache', () => {
    const { cache, encoded, bytesOf } = textCache(100);
    const sets = Array.from({ length: 10 }, (_, i) => labels(['__name__', 'm'], ['i', String(i)]));
    const request = sets.map((l) => ({ labels: l }));
    const ids = new Int32Array(sets.length);
    cache.idsOf(request, ids);
    cache.trim();
    cache.get(labels(['__name__', 'other']));
    cache.idsOf(request, ids);

    assert.equal(encoded.length, 21, 'every set encoded again after the trim');
    assert.deepEqual([...ids].map(bytesOf), sets.map((_, i) => `__name__=m,i=${i}`));
  });

  it('writes a message that takes sets\' bytes in the room after them, or in a buffer of its own when it is huge', () => {
    const { cache, bytesOf } = textCache(64 << 20);
    const sets = Array.from({ length: 300 }, (_, i) => labels(['__name__', 'm'], ['i', String(i)]));
    const ids = new Int32Array(sets.length);
    cache.idsOf(sets.map((l) => ({ labels: l })), ids);
    const message = (bound: number) => {
      const w = cache.writer(bound);
      for (const id of ids) {
        cache.copyTo(id, w);
        w.byte(0x3b);
      }
      return Buffer.from(w.written()).toString();
    };
    const expected = sets.map((_, i) => `__name__=m,i=${i};`).join('');

    const inRoom = message(expected.length);
    const again = message(expected.length);
    const ownBuffer = message(8 << 20);

    assert.equal(inRoom, expected);
    assert.equal(again, expected, 'a second message overwrites the first in the room, not the sets');
    assert.equal(ownBuffer, expected);
    assert.deepEqual([...ids].map(bytesOf), sets.map((_, i) => `__name__=m,i=${i}`), 'the kept sets are untouched');
  });

  it('keeps everything at a trim while under its bound', () => {
    const { cache, encoded } = textCache(1 << 20);
    const set = labels(['__name__', 'up']);

    cache.get(set);
    cache.trim();
    cache.get(set);

    assert.equal(encoded.length, 1);
  });
});
