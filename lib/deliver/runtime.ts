/**
 * The deliver function's warm state: configuration, sinks with their keep-alive pools, the SQS client for the DLQ.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { loadDeliverConfig, type DeliverConfig } from './config.ts';
import type { Env } from '../config/env.ts';
import { jsonLogger, type Logger } from '../log.ts';
import { createSqsClient, sendMessages, type QueueMessage } from '../queue/sqs.ts';
import { SYSTEM_CLOCK, type RetryClock } from '../transport/retry.ts';
import { createSigV4Signer, type CredentialsProvider } from '../transport/sigv4.ts';
import { deliverBatch, type BatchRecord, type DeliverDeps } from './deliver.ts';
import { reserveOldGeneration } from './heap-reserve.ts';
import { REMOTE_WRITE_V1, REMOTE_WRITE_V2, RemoteWriteSink } from './remote-write-sink.ts';
import { PushgatewaySink } from './pushgateway-sink.ts';
import { invocationLogFields, invocationLogLevel, selfMetricsEnabled, writeSelfMetrics } from './self-metrics.ts';
import type { Sink } from './sink.ts';

export const USER_AGENT = 'beam-prom-relay/0.1';

/** Without a Lambda context (local runs, tests) a batch gets this long. */
const DEFAULT_BUDGET_MS = 60_000;

export interface DeliverRuntime {
  config: DeliverConfig;
  /** Delivers a batch; `remainingMs` is the Lambda's remaining time. Returns the message ids to redeliver. */
  deliver(records: readonly BatchRecord[], remainingMs?: number): Promise<string[]>;
}

/** `credentials` replaces the SDK's default chain for SigV4 (tests). */
export function createSinks(config: DeliverConfig, clock: RetryClock, deps: { credentials?: CredentialsProvider } = {}): Sink[] {
  const sinks: Sink[] = [];
  const rw = config.remoteWrite;
  if (rw) {
    sinks.push(
      new RemoteWriteSink(
        {
          url: rw.url,
          headers: rw.headers,
          ...(rw.sigv4 ? { sign: createSigV4Signer({ region: rw.sigv4.region, ...(deps.credentials ? { credentials: deps.credentials } : {}) }) } : {}),
          encodings: { '1.0': REMOTE_WRITE_V1, '2.0': REMOTE_WRITE_V2 },
          protocol: rw.protocol,
          limits: { maxSamples: rw.maxSamples, maxBytes: rw.maxBytes },
          timeoutMs: rw.timeoutMs,
          retryOn429: rw.retryOn429,
          backoff: config.backoff,
          maxIsolationRequests: rw.maxIsolationRequests,
          concurrency: rw.concurrency,
          userAgent: USER_AGENT,
        },
        clock,
      ),
    );
  }
  if (config.pushgatewayUrl && config.pushgateway) {
    sinks.push(
      new PushgatewaySink(
        { url: config.pushgatewayUrl, ...config.pushgateway, backoff: config.backoff, userAgent: USER_AGENT },
        clock,
      ),
    );
  }
  return sinks;
}

/**
 * A FIFO DLQ (the FIFO deployment variant) refuses messages without a group id. Dead letters need no order among
 * themselves; a content hash as deduplication id makes a retried send of the same dead letter a no-op.
 */
function forFifo(message: QueueMessage, createHash: typeof import('node:crypto').createHash): QueueMessage {
  const hash = createHash('sha256').update(message.body);
  for (const [k, v] of Object.entries(message.attributes ?? {})) hash.update(`\u0000${k}=${v.StringValue ?? ''}`);
  return { ...message, groupId: 'dead-letters', deduplicationId: hash.digest('hex') };
}

export function createDeliverRuntime(env: Env, deps: { sqs?: SQSClient; log?: Logger; clock?: RetryClock; credentials?: CredentialsProvider } = {}): DeliverRuntime {
  const config = loadDeliverConfig(env);
  const clock = deps.clock ?? SYSTEM_CLOCK;
  const log = deps.log ?? jsonLogger;
  const sinks = createSinks(config, clock, deps);
  const selfMetrics = selfMetricsEnabled(env);
  let sqs = deps.sqs;
  const dlqUrl = config.dlqUrl;
  const deliverDeps: DeliverDeps = {
    sinks,
    now: clock.now,
    ...(dlqUrl
      ? {
          deadLetter: async (messages) => {
            // The SQS client (and SDK) is created on the first dead letter, not at cold start: most invocations
            // never send one (lib/queue/sqs.ts loads the SDK on first use).
            sqs ??= await createSqsClient({ ...(config.region ? { region: config.region } : {}), ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) });
            if (!dlqUrl.endsWith('.fifo')) return sendMessages(sqs, dlqUrl, messages);
            // node:crypto is loaded here, not with the bundle: only a FIFO dead letter needs a hash (~3 ms of a cold start).
            const { createHash } = await import('node:crypto');
            await sendMessages(sqs, dlqUrl, messages.map((m) => forFifo(m, createHash)));
          },
        }
      : {}),
  };
  let invocations = 0;
  return {
    config,
    async deliver(records, remainingMs = DEFAULT_BUDGET_MS) {
      // From the second invocation on: the first may be a cold start, which should not pay for it.
      if (invocations++ === 1) reserveOldGeneration(config.heapReserveMb);
      const margin = Math.min(config.timeMarginMs, remainingMs / 2);
      const deadlineMs = clock.now() + remainingMs - margin;
      const { failedMessageIds, summary } = await deliverBatch(records, deliverDeps, deadlineMs);
      const written = selfMetrics ? await writeSelfMetrics(sinks, summary, clock.now(), deadlineMs) : undefined;
      log(invocationLogLevel(summary), 'deliver', invocationLogFields(summary, written));
      return failedMessageIds;
    },
  };
}
