import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../lib/config/errors.ts';
import { loadDeliverConfig } from '../../../lib/deliver/config.ts';
import { heapReserveBytes, reserveOldGeneration } from '../../../lib/deliver/heap-reserve.ts';
import { createDeliverRuntime } from '../../../lib/deliver/runtime.ts';

const base = { REMOTE_WRITE_URL: 'http://127.0.0.1:9/api/v1/write' };

describe('heap reserve', () => {
  it('defaults to a 32nd of the memory Lambda states, to none elsewhere, and takes an explicit size or 0', () => {
    assert.equal(loadDeliverConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' }).heapReserveMb, 16);
    assert.equal(loadDeliverConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' }).heapReserveMb, 4);
    assert.equal(loadDeliverConfig(base).heapReserveMb, 0);
    assert.equal(loadDeliverConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512', DELIVER_HEAP_RESERVE_MB: '0' }).heapReserveMb, 0);
    assert.equal(loadDeliverConfig({ ...base, DELIVER_HEAP_RESERVE_MB: '24' }).heapReserveMb, 24);
    assert.throws(() => loadDeliverConfig({ ...base, DELIVER_HEAP_RESERVE_MB: 'lots' }), ConfigError);
  });

  it('is taken on the second invocation, not on the first (a cold start), and only once', async () => {
    const runtime = createDeliverRuntime({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '64' }, { log: () => {} });
    assert.equal(heapReserveBytes(), 0);
    await runtime.deliver([]);
    assert.equal(heapReserveBytes(), 0, 'nothing held after the first invocation');
    await runtime.deliver([]);
    assert.equal(heapReserveBytes(), 2 * 1024 * 1024);
    await runtime.deliver([]);
    assert.equal(reserveOldGeneration(8), 2 * 1024 * 1024, 'a later size does not replace the reserve');
  });
});
