import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planBatches } from '../../../lib/queue/sqs.ts';

describe('planBatches', () => {
  it('puts at most 10 messages in a batch', () => {
    const batches = planBatches(Array.from({ length: 25 }, () => ({ body: 'x' })), 1e6);
    assert.deepEqual(batches.map((b) => b.length), [10, 10, 5]);
  });
  it('keeps each batch under the byte limit', () => {
    const body = 'x'.repeat(100 * 1024);
    const batches = planBatches([{ body }, { body }, { body }], 256 * 1024);
    assert.deepEqual(batches.map((b) => b.length), [2, 1]);
  });
});
