// A stand-in for one warm deliver Lambda: a plain `node` process (no TypeScript loader, so its memory and code are
// what Lambda runs) that imports the built handler bundle given as argv[2], configured from the environment, and
// invokes it with each SQS event the bench sends. At the end it reports its peak resident memory.
//
//   parent → { type: 'run', records: [{ messageId, body }] }   child → { type: 'result', ms, cpuMs, failed, records }
//   parent → { type: 'exit' }                                  child → { type: 'done', maxRssBytes, liveHeapBytes }
//
// The bench's messages travel by IPC before the clock starts, as Lambda hands a parsed event to the handler.

import { pathToFileURL } from 'node:url';

const send = (m) => process.send(m);

function sqsEvent(records) {
  const now = Date.now();
  return {
    Records: records.map(({ messageId, body }, i) => ({
      messageId,
      receiptHandle: `AQEB${messageId}${'x'.repeat(300)}`,
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(now + i), SenderId: 'AROAEXAMPLE:ingest', ApproximateFirstReceiveTimestamp: String(now + i + 50) },
      messageAttributes: {},
      md5OfBody: '0123456789abcdef0123456789abcdef',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:beam-metrics',
      awsRegion: 'us-east-1',
    })),
  };
}

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
      const event = sqsEvent(m.records);
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
