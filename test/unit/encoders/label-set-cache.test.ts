import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EncodedLabelSetCache } from '../../../lib/encoders/label-set-cache.ts';
import type { Label } from '../../../lib/model/series.ts';

function countingCache(maxBytes: number) {
  const encoded: string[] = [];
  const cache = new EncodedLabelSetCache((labels) => {
    const text = labels.map((l) => `${l.name}=${l.value}`).join(',');
    encoded.push(text);
    return new TextEncoder().encode(text);
  }, maxBytes);
  return { cache, encoded };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const labels = (...pairs: [string, string][]): Label[] => pairs.map(([name, value]) => ({ name, value }));

describe('encoded label-set cache', () => {
  it('encodes a label set once and serves equal sets from the cache', () => {
    const { cache, encoded } = countingCache(1 << 20);

    const first = cache.get(labels(['__name__', 'up'], ['job', 'a']));
    const again = cache.get(labels(['__name__', 'up'], ['job', 'a']));

    assert.equal(text(first), '__name__=up,job=a');
    assert.equal(again, first);
    assert.deepEqual(encoded, ['__name__=up,job=a']);
  });

  it('tells apart sets that differ in a value, a name, or length (a prefix of another)', () => {
    const { cache } = countingCache(1 << 20);
    const sets = [
      labels(['__name__', 'up'], ['job', 'a']),
      labels(['__name__', 'up'], ['job', 'b']),
      labels(['__name__', 'up'], ['instance', 'a']),
      labels(['__name__', 'up']),
      labels(['__name__', 'up'], ['job', 'a'], ['step', 's']),
      labels(),
    ];

    const results = sets.map((set) => text(cache.get(set)));
    const again = sets.map((set) => text(cache.get(set)));

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

  it('drops everything once it holds more than its bound, and still answers correctly', () => {
    const { cache, encoded } = countingCache(2_000);

    for (let i = 0; i < 50; i++) cache.get(labels(['__name__', 'm'], ['i', String(i)]));
    const answer = text(cache.get(labels(['__name__', 'm'], ['i', '0'])));

    assert.equal(answer, '__name__=m,i=0');
    assert.equal(encoded.length, 51, 'the first set was dropped with the rest and encoded again');
  });
});
