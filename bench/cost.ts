/**
 * Cost per million samples from the measured figures and us-east-1 list prices. Every assumption is a named
 * constant here and is printed under the table.
 */
import { fixed, type Row } from './report.ts';

export const PRICES = Object.freeze({
  /** Lambda arm64, per GB-second. */
  lambdaGbSecond: 0.0000133334,
  /** Lambda, per request. */
  lambdaRequest: 0.2 / 1e6,
  /** SQS standard, per request; each 64 KiB chunk of a request's payload is billed as one request. */
  sqsRequest: 0.4 / 1e6,
  /** API Gateway HTTP API, per request (first 300 M per month). */
  httpApiRequest: 1.0 / 1e6,
});

export const ASSUMPTIONS = Object.freeze({
  ingestMemoryMb: 256,
  deliverMemoryMb: 512,
  /** Lambda allots one full vCPU at 1,769 MB and a proportional share below it. */
  fullVcpuMb: 1769,
  /** Round trip of one SendMessageBatch inside a region, which ingest waits for. */
  sqsSendLatencyMs: 20,
  /** Messages per ReceiveMessage / DeleteMessageBatch of the Lambda SQS poller. */
  pollerBatch: 10,
  /** Beam's metricsPushPeriod. */
  pushPeriodS: 5,
});

const SQS_CHUNK = 64 * 1024;

export interface CostInputs {
  /** Samples one 100-metric body turns into, and its envelopes. */
  samplesPerBody: number;
  messagesPerBody: number;
  envelopeBytesPerBody: number;
  /** Ingest CPU per body, ms. */
  ingestCpuMs: number;
  /** One deliver batch: samples, wall time and CPU time, ms. */
  deliverSamples: number;
  deliverMs: number;
  deliverCpuMs: number;
}

export interface CostBreakdown {
  apiGateway: number;
  ingestLambda: number;
  sqs: number;
  deliverLambda: number;
  total: number;
  /** Dollars per month for one job pushing a body every `pushPeriodS`. */
  perJobMonth: number;
}

/**
 * GB-seconds of an invocation that computes for `cpuMs` (measured on one full core) and waits for `waitMs`: below
 * 1,769 MB the computing stretches by 1,769 / memory, so it costs 1.769 GB-s per CPU-second whatever the memory,
 * while the waiting costs the configured memory.
 */
function gbSeconds(cpuMs: number, waitMs: number, memoryMb: number): number {
  const cpuGbS = (cpuMs / 1000) * (Math.max(memoryMb, ASSUMPTIONS.fullVcpuMb) / 1024);
  return cpuGbS + (waitMs / 1000) * (memoryMb / 1024);
}

export function costPerMillion(c: CostInputs): CostBreakdown {
  const bodies = 1e6 / c.samplesPerBody;
  const apiGateway = bodies * PRICES.httpApiRequest;

  // Billed duration, rounded up to the millisecond: the CPU work stretched to the function's vCPU share, then the send.
  const ingestBilledMs = Math.ceil((c.ingestCpuMs * ASSUMPTIONS.fullVcpuMb) / Math.min(ASSUMPTIONS.ingestMemoryMb, ASSUMPTIONS.fullVcpuMb) + ASSUMPTIONS.sqsSendLatencyMs);
  const ingestLambda = bodies * (PRICES.lambdaRequest + (ingestBilledMs / 1000) * (ASSUMPTIONS.ingestMemoryMb / 1024) * PRICES.lambdaGbSecond);

  // Per message: its SendMessageBatch chunks, its share of a 10-message ReceiveMessage, its share of a DeleteMessageBatch.
  const messageBytes = c.envelopeBytesPerBody / c.messagesPerBody;
  const perMessage = Math.ceil(messageBytes / SQS_CHUNK) + Math.ceil((messageBytes * ASSUMPTIONS.pollerBatch) / SQS_CHUNK) / ASSUMPTIONS.pollerBatch + 1 / ASSUMPTIONS.pollerBatch;
  const sqs = bodies * c.messagesPerBody * perMessage * PRICES.sqsRequest;

  const batches = 1e6 / c.deliverSamples;
  const deliverWaitMs = Math.max(0, c.deliverMs - c.deliverCpuMs);
  const deliverLambda = batches * (PRICES.lambdaRequest + gbSeconds(c.deliverCpuMs, deliverWaitMs, ASSUMPTIONS.deliverMemoryMb) * PRICES.lambdaGbSecond);

  const total = apiGateway + ingestLambda + sqs + deliverLambda;
  const samplesPerJobMonth = c.samplesPerBody * ((30 * 24 * 3600) / ASSUMPTIONS.pushPeriodS);
  return { apiGateway, ingestLambda, sqs, deliverLambda, total, perJobMonth: (total * samplesPerJobMonth) / 1e6 };
}

const usd = (n: number) => (n >= 0.01 ? `$${fixed(n, 3)}` : `$${fixed(n, 5)}`);

export function costRow(c: CostInputs): { row: Row; notes: string[] } {
  const b = costPerMillion(c);
  return {
    row: {
      row: 'cost per million samples (Lambda GB-s at the measured rates + requests, SQS, HTTP API; list prices)',
      ours: `${usd(b.total)} per million samples`,
      reference: '—',
      ratio: '—',
      target: 'printed',
      met: undefined,
    },
    notes: [
      `Cost: ${usd(b.apiGateway)} HTTP API + ${usd(b.ingestLambda)} ingest Lambda + ${usd(b.sqs)} SQS + ${usd(b.deliverLambda)} deliver Lambda per million samples; ` +
        `one job pushing a ${c.samplesPerBody}-sample body every ${ASSUMPTIONS.pushPeriodS} s costs ${usd(b.perJobMonth)} per month. ` +
        `Prices (us-east-1 list): Lambda arm64 $${PRICES.lambdaGbSecond} per GB-s + $0.20 per 1M requests; SQS $0.40 per 1M requests, each 64 KiB chunk one request; HTTP API $1.00 per 1M requests. ` +
        `Assumptions: ingest ${ASSUMPTIONS.ingestMemoryMb} MB, deliver ${ASSUMPTIONS.deliverMemoryMb} MB; Lambda gives a full vCPU at ${ASSUMPTIONS.fullVcpuMb} MB and a proportional share below, ` +
        `so measured CPU time costs ${fixed(ASSUMPTIONS.fullVcpuMb / 1024, 3)} GB-s per CPU-second and waiting costs the configured memory (deliver waits = its batch time minus its CPU time, here the receiver's work; ingest waits ${ASSUMPTIONS.sqsSendLatencyMs} ms for SendMessageBatch); ` +
        `CPU measured on this machine's core, not Graviton; SQS per message: its send chunks + 1/${ASSUMPTIONS.pollerBatch} of a ${ASSUMPTIONS.pollerBatch}-message receive (by chunks) + 1/${ASSUMPTIONS.pollerBatch} of a delete batch; ` +
        `left out: the poller's empty long polls (about $0.30 a month per queue), DLQ traffic, CloudWatch Logs, data transfer.`,
    ],
  };
}
