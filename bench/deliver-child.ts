/**
 * A stand-in for one warm deliver Lambda: a fresh process that imports the real handler (functions/deliver.ts,
 * configured from the environment like in Lambda), invokes it with SQS events when the bench asks, and at the end
 * reports its peak resident memory. Messages over the IPC channel:
 *   parent → { type: 'run', startMs }  child → { type: 'result', ms, cpuMs, failed, records }
 *   parent → { type: 'exit' }          child → { type: 'done', maxRssBytes }
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { deliverBatch } from './workload.ts';

export type ParentMessage = { type: 'run'; startMs: number } | { type: 'exit' };
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'result'; ms: number; cpuMs: number; failed: number; records: number }
  | { type: 'done'; maxRssBytes: number }
  | { type: 'error'; message: string };

const jobs = Number(process.env.BENCH_JOBS);
const pushes = Number(process.env.BENCH_PUSHES);

function sqsEvent(startMs: number): SQSEvent {
  const Records = deliverBatch(jobs, pushes, startMs).map(
    ({ messageId, body }, i): SQSRecord => ({
      messageId,
      receiptHandle: `AQEB${messageId}${'x'.repeat(300)}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(startMs + i),
        SenderId: 'AROAEXAMPLE:ingest',
        ApproximateFirstReceiveTimestamp: String(startMs + i + 50),
      },
      messageAttributes: {},
      md5OfBody: '0123456789abcdef0123456789abcdef',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:beam-metrics',
      awsRegion: 'us-east-1',
    }),
  );
  return { Records };
}

const send = (m: ChildMessage) => process.send!(m);

const { handler } = await import('../functions/deliver.ts');

process.on('message', (m: ParentMessage) => {
  void (async () => {
    try {
      if (m.type === 'exit') {
        send({ type: 'done', maxRssBytes: process.resourceUsage().maxRSS * 1024 });
        process.disconnect();
        return;
      }
      const event = sqsEvent(m.startMs);
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
