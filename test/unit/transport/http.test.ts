import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { attemptOnce, createDispatcher } from '../../../lib/transport/http.ts';

/**
 * Answers a real receiver will not give on demand: a body dripped forever, a megabyte of error text. Each path is
 * one behaviour; every request is recorded with its path and body.
 */
const seen: Array<{ url: string; method: string; body: string }> = [];
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({ url: req.url ?? '', method: req.method ?? '', body: Buffer.concat(chunks).toString() });
    if (req.url?.startsWith('/drip')) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const tick = setInterval(() => res.write('.'), 20);
      res.on('close', () => clearInterval(tick));
    } else if (req.url?.startsWith('/huge-error')) {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end(`label name "0bad" is not valid\n${'x'.repeat(1024 * 1024)}`);
    } else {
      res.writeHead(429, { 'Retry-After': '7' });
      res.end();
    }
  });
});

let base = '';
const dispatcher = createDispatcher();
const classify = { retryOn429: true, expectWrittenHeader: false };

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await dispatcher.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('attemptOnce', () => {
  it('sends the path with its query, the method and the body, and reads the status and headers of the answer', async () => {
    const outcome = await attemptOnce(dispatcher, { url: `${base}/api/v1/write?tenant=a%20b`, method: 'PUT', headers: {}, body: 'payload', timeoutMs: 5_000 }, classify);

    assert.deepEqual(seen.at(-1), { url: '/api/v1/write?tenant=a%20b', method: 'PUT', body: 'payload' });
    assert.equal(outcome.kind, 'retryable');
    assert.equal(outcome.status, 429);
    assert.equal(outcome.retryAfterMs, 7_000, 'the Retry-After header was read');
  });

  it('keeps the first line of an error body of a megabyte', async () => {
    const outcome = await attemptOnce(dispatcher, { url: `${base}/huge-error`, method: 'POST', headers: {}, body: new Uint8Array([1, 2, 3]), timeoutMs: 5_000 }, classify);

    assert.equal(outcome.kind, 'permanent');
    assert.equal(outcome.detail, 'label name "0bad" is not valid');
  });

  it('gives up on an answer whose body never ends, though no gap in it reaches the timeout', async () => {
    const started = performance.now();
    const outcome = await attemptOnce(dispatcher, { url: `${base}/drip`, method: 'POST', headers: {}, body: '', timeoutMs: 300 }, classify);
    const tookMs = performance.now() - started;

    assert.deepEqual([outcome.kind, outcome.reason], ['retryable', 'timeout']);
    assert.ok(tookMs >= 290 && tookMs < 3_000, `took ${tookMs.toFixed(0)} ms`);
  });

  it('reports a refused connection as a network failure worth retrying', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const outcome = await attemptOnce(dispatcher, { url: `http://127.0.0.1:${port}/`, method: 'POST', headers: {}, timeoutMs: 2_000 }, classify);

    assert.deepEqual([outcome.kind, outcome.reason], ['retryable', 'network']);
  });
});
