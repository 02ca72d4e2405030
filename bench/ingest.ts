/**
 * Ingest CPU per request: a 100-metric MetricsHttpSink body through the whole ingest runtime (event adapter, auth,
 * route, body, detection, validation, conversion, envelopes, the log line), with SQS taken out at the client
 * boundary: the stub's `send()` keeps the envelope sizes and answers as SendMessageBatch does when all succeed.
 */
import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createIngestRuntime, type HttpReply } from '../lib/ingest/runtime.ts';
import type { Logger } from '../lib/log.ts';
import { cpuNow, median } from './measure.ts';
import { fixed, type Row } from './report.ts';
import { metricsHttpSinkBody, STATIC_LABELS } from './workload.ts';

export interface IngestFigures {
  row: Row;
  /** Samples (series) one body turns into. */
  samplesPerBody: number;
  /** SQS messages and their total bytes per body. */
  messagesPerBody: number;
  envelopeBytesPerBody: number;
  /** Median CPU time per request (user + system), ms. */
  medianMs: number;
  /** Mean CPU time per request over the measured loop, ms (garbage collection included). */
  cpuMs: number;
}

export const INGEST_METRICS_PER_BODY = 100;

export function httpEvent(body: string): APIGatewayProxyEventV2 {
  const path = '/metrics/job/orders-enrichment/pipeline/com.example.orders.EnrichOrdersPipeline/env/prod/region/eu-west-1';
  return {
    version: '2.0',
    routeKey: 'POST /metrics/job/{proxy+}',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Apache-HttpClient/4.5.13 (Java/11.0.20)' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'bench.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'bench',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'Apache-HttpClient/4.5.13' },
      requestId: 'bench',
      routeKey: 'POST /metrics/job/{proxy+}',
      stage: '$default',
      time: '20/Nov/2026:10:00:00 +0000',
      timeEpoch: 0,
    },
    body,
    isBase64Encoded: false,
  };
}

export async function ingestRow(options: { warmup: number; calls: number }): Promise<IngestFigures> {
  let messages = 0;
  let bytes = 0;
  const sqs = {
    send: async (command: { input: { Entries?: Array<{ MessageBody?: string }> } }) => {
      const entries = command.input.Entries ?? [];
      for (const e of entries) {
        messages++;
        bytes += Buffer.byteLength(e.MessageBody ?? '');
      }
      return { Successful: entries.map((_, i) => ({ Id: String(i), MessageId: String(i), MD5OfMessageBody: '' })), Failed: [] };
    },
  } as unknown as SQSClient;
  // The line is built as in production (it is part of the CPU cost) but not printed in the middle of the table.
  let logged = 0;
  const log: Logger = (level, msg, fields) => {
    logged += JSON.stringify({ level, msg, ...fields }).length;
  };
  const runtime = createIngestRuntime(
    { QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/beam-metrics', STATIC_LABELS: Object.entries(STATIC_LABELS).map(([k, v]) => `${k}=${v}`).join(','), AWS_REGION: 'us-east-1' },
    { sqs, log },
  );
  const event = httpEvent(metricsHttpSinkBody(INGEST_METRICS_PER_BODY, Date.now()));

  const call = async (): Promise<HttpReply> => (await runtime.handle(event, randomUUID())) as HttpReply;
  const first = await call();
  if (first.statusCode !== 200) throw new Error(`bench: ingest answered ${first.statusCode}: ${first.body}`);
  const reply = JSON.parse(first.body) as { series: number; messages: number };

  for (let i = 0; i < options.warmup; i++) await call();
  messages = 0;
  bytes = 0;
  // Each request is timed in CPU time: the stubbed send does no I/O, and a shared machine's other load is not ours.
  const perCall: number[] = [];
  const loopStart = cpuNow();
  for (let i = 0; i < options.calls; i++) {
    const started = cpuNow();
    await call();
    perCall.push(cpuNow() - started);
  }
  const cpuMs = (cpuNow() - loopStart) / options.calls;
  const medianMs = median(perCall);
  if (logged === 0) throw new Error('bench: ingest logged nothing');
  return {
    row: {
      row: `ingest handler CPU per ${INGEST_METRICS_PER_BODY}-metric MetricsHttpSink body (${reply.series} samples, ${fixed(Buffer.byteLength(event.body ?? '') / 1024, 1)} KB JSON; SQS stubbed at the client)`,
      ours: `${fixed(medianMs, 3)} ms median (${fixed(cpuMs, 3)} ms mean)`,
      reference: '—',
      ratio: '—',
      target: '≤ 1 ms median',
      met: medianMs <= 1,
    },
    samplesPerBody: reply.series,
    messagesPerBody: messages / options.calls,
    envelopeBytesPerBody: bytes / options.calls,
    medianMs,
    cpuMs,
  };
}
