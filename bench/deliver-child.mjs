// A stand-in for one warm deliver Lambda: a plain `node` process (no TypeScript loader, so its memory and code are
// what Lambda runs) that imports the built handler bundle given as argv[2], configured from the environment, and
// invokes it with each SQS event the bench sends. At the end it reports its peak resident memory.
//
//   parent → { type: 'run', event: '<SQS event JSON>' }   child → { type: 'result', ms, cpuMs, failed, records }
//   parent → { type: 'exit' }                           child → { type: 'done', maxRssBytes, liveHeapBytes }
//
// The event arrives as JSON text and is parsed here before the clock starts, as Lambda's runtime parses the body of
// its next-invocation response before it calls the handler. Built from object literals instead, the event's records
// came from allocation sites that V8 pretenures once they always survive a scavenge (`--trace-pretenuring`), so every
// event went straight to the old generation; objects from JSON.parse have no such sites.
//
// Between batches the bench stops this process (SIGSTOP, then SIGCONT with the next event), as Lambda freezes a
// function between invocations: V8's collector threads and tasks get no idle time to finish their work for free.

import { pathToFileURL } from 'node:url';

const send = (m) => process.send(m);

const { handler } = await import(pathToFileURL(process.argv[2]).href);

process.on('message', (m) => {
  void (async () => {
    try {
      if (m.type === 'exit') {
        const maxRssBytes = process.resourceUsage().maxRSS * 1024;
        // What stays reachable between batches (the caches, the code), apart from what V8 let the heap grow to.
        globalThis.gc?.();
        send({ type: 'done', maxRssBytes, liveHeapBytes: process.memoryUsage().heapUsed });
        process.disconnect();
        return;
      }
      const event = JSON.parse(m.event);
      const cpu = process.cpuUsage();
      const started = performance.now();
      const response = await handler(event);
      const ms = performance.now() - started;
      const used = process.cpuUsage(cpu);
      send({ type: 'result', ms, cpuMs: (used.user + used.system) / 1000, failed: response.batchItemFailures.length, records: event.Records.length });
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  })();
});

send({ type: 'ready' });
