import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

describe('deliver handler', () => {
  it('runs a young-generation collection as each warm batch starts when node exposes gc, as Lambda does', async () => {
    const calls: unknown[] = [];
    const g = globalThis as { gc?: unknown };
    const had = g.gc;
    g.gc = (options: unknown) => void calls.push(options);
    process.env.REMOTE_WRITE_URL = 'http://127.0.0.1:9/api/v1/write';
    try {
      // Imported after the stub: the handler looks gc up once, as its module loads.
      const { handler } = await import('../../../functions/deliver.ts');
      assert.deepEqual(await handler({ Records: [] }), { batchItemFailures: [] });
      assert.deepEqual(calls, [], 'none on the cold start');
      assert.deepEqual(await handler({ Records: [] }), { batchItemFailures: [] });
      assert.deepEqual(await handler({ Records: [] }), { batchItemFailures: [] });
      assert.deepEqual(calls, [{ type: 'minor' }, { type: 'minor' }]);
    } finally {
      g.gc = had;
    }
  });
});
