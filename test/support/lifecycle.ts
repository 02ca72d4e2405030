/**
 * Starts something (a receiver, fauxqs, a gateway, the whole stack) once for the enclosing suite and stops it
 * after, whether the tests pass or not.
 *
 *   const prometheus = started(() => startPrometheus());
 *   test('…', async () => { await fetch(prometheus().url) });
 */

import { after, before } from 'node:test';

export function started<T extends { stop(): Promise<void> }>(start: () => Promise<T>): () => T {
  let value: T | undefined;
  before(async () => {
    value = await start();
  });
  after(async () => {
    await value?.stop();
  });
  return () => {
    if (value === undefined) throw new Error('not started yet: use the getter inside a test, not at module level');
    return value;
  };
}
