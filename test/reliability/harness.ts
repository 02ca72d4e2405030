/**
 * The real chain for one fault scenario, in this process:
 *
 *   push (HTTP) → local API gateway → ingest handler → fauxqs queue (RedrivePolicy → DLQ)
 *     → Lambda-like SQS pollers → deliver handler → fault proxy (test/support/fault-server.ts)
 *     → tee → real Prometheus (out-of-order window on) and real VictoriaMetrics
 *
 * dev/stack.ts wires REMOTE_WRITE_URL to Prometheus itself; here it is the fault proxy, so the wiring is our own.
 * The handlers read their environment once per process: one harness per process.
 */

import { GetQueueAttributesCommand, SendMessageBatchCommand, type Message } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type Gateway } from '../../dev/http-gateway.ts';
import { startPrometheus, startVictoriaMetrics, type RemoteWriteReceiver } from '../../dev/receivers.ts';
import { startPoller, type Poller } from '../../dev/sqs-poller.ts';
import { DUMMY_CREDENTIALS, receiveAll, startSqs, type LocalSqs } from '../../dev/sqs.ts';
import { startFaultServer, type FaultServer, type FaultServerOptions, type RecordedRequest, type ScriptEntry } from '../support/fault-server.ts';
import { startTee } from './tee.ts';
import { pushBody, sampleKey, type Workload } from './workload.ts';

export interface HarnessOptions {
  workload: Workload;
  /** Deliver variables on top of the wiring (RETRY_BASE_MS, REMOTE_WRITE_TIMEOUT_MS, …). */
  env: Record<string, string>;
  /** The deliver function's timeout: `getRemainingTimeInMillis()` counts down from it. */
  functionTimeoutMs: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  /** Concurrent pollers (Lambda runs several per queue). */
  pollers: number;
  rule?: FaultServerOptions['rule'];
  /** Prometheus without an out-of-order window (default: a 1 h window). */
  prometheusInOrder?: boolean;
  /** Closes the proxy after this long, whatever happens. */
  lifetimeMs: number;
}

export interface Harness {
  readonly workload: Workload;
  readonly sqs: LocalSqs;
  readonly prometheus: RemoteWriteReceiver;
  readonly victoriaMetrics: RemoteWriteReceiver;
  /** The fault proxy in front of the receivers (a new one after `proxyUp()`). */
  readonly proxy: FaultServer;
  /** Every request any proxy instance has seen. */
  readonly proxyRequests: RecordedRequest[];
  /** Samples ingest answered 200 for, by key. */
  readonly accepted: Set<string>;
  readonly pushFailures: string[];
  /** Distinct messages put on the queue: ingest's, and the copies `duplicateQueued` made. */
  enqueued(): number;
  readonly pollerStats: () => { invocations: number; received: number; failed: number; timedOut: number; errors: string[] };
  /** Pushes `i` (1-based) through the gateway. */
  push(i: number): Promise<void>;
  /** Pushes 1…n, one every `paceMs`; `at(i)` runs before push `i` (to start or end a fault mid-stream). */
  pushAll(paceMs: number, at?: (i: number) => void): Promise<void>;
  startPollers(): void;
  /** Takes every message off the queue and puts each body back `copies` times (SQS' at-least-once delivery). */
  duplicateQueued(copies: number): Promise<number>;
  /** Every request is answered with `entries` in turn (after the scenario's own rule) until `faultOff()`. */
  faultOn(entries: readonly ScriptEntry[]): void;
  faultOff(): void;
  /** The proxy stops listening: connections are refused. */
  proxyDown(): Promise<void>;
  /** A new proxy on the same port. */
  proxyUp(): Promise<void>;
  /** Queue empty (visible, in flight, delayed) and no poller handling a batch. */
  idle(): Promise<boolean>;
  stop(): Promise<void>;
}

/** Starts every part and the gateway; the pollers wait for `startPollers()`. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    const [sqs, prometheus, victoriaMetrics] = await Promise.all([
      startSqs({ maxReceiveCount: options.maxReceiveCount, visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
      // Redelivery reorders a series' samples; without an out-of-order window Prometheus refuses the older ones.
      startPrometheus(options.prometheusInOrder ? {} : { outOfOrderTimeWindow: '1h' }),
      startVictoriaMetrics(),
    ]);
    stops.push(sqs.stop, prometheus.stop, victoriaMetrics.stop);
    const tee = await startTee([prometheus.remoteWriteUrl, victoriaMetrics.remoteWriteUrl]);
    stops.push(tee.stop);

    let faulty: readonly ScriptEntry[] | undefined;
    let nextFaulty = 0;
    const proxyOptions: FaultServerOptions = {
      upstream: tee.url,
      lifetimeMs: options.lifetimeMs,
      rule: (request) => options.rule?.(request) ?? (faulty ? faulty[nextFaulty++ % faulty.length] : undefined),
    };
    let proxy = await startFaultServer(proxyOptions);
    const port = Number(new URL(proxy.url).port);
    const proxyRequests: RecordedRequest[] = [];
    let seen = 0;
    const collect = () => {
      proxyRequests.push(...proxy.requests.slice(seen));
      seen = proxy.requests.length;
    };
    stops.push(async () => {
      collect();
      await proxy.stop();
    });

    Object.assign(process.env, {
      ...options.env,
      QUEUE_URL: sqs.queueUrl,
      DLQ_URL: sqs.dlqUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_REGION: sqs.region,
      AWS_DEFAULT_REGION: sqs.region,
      AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
      REMOTE_WRITE_URL: `${proxy.url}/api/v1/write`,
    });
    delete process.env.PUSHGATEWAY_URL;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    const [ingest, deliver] = await Promise.all([import('../../functions/ingest.ts'), import('../../functions/deliver.ts')]);

    const gateway: Gateway = await startGateway({ handler: (event, context: Context) => ingest.handler(event, context), region: sqs.region, onError: () => undefined });
    stops.push(gateway.stop);

    const pollers: Poller[] = [];
    const invocationErrors: string[] = [];
    let pollersStarted = false;
    const startPollers = () => {
      if (pollersStarted) return;
      pollersStarted = true;
      for (let i = 0; i < options.pollers; i++) {
        const poller = startPoller({
          client: sqs.client,
          queueUrl: sqs.queueUrl,
          queueArn: sqs.queueArn,
          region: sqs.region,
          handler: (event, context) => deliver.handler(event, context),
          functionTimeoutMs: options.functionTimeoutMs,
          waitTimeSeconds: 1,
          onError: (error) => {
            if (!invocationErrors.includes(error.message) && invocationErrors.length < 5) invocationErrors.push(error.message);
          },
        });
        pollers.push(poller);
        // Stopped before the proxy, the receivers and the queue (stops run in reverse).
        stops.push(poller.stop);
      }
    };

    const accepted = new Set<string>();
    const pushFailures: string[] = [];
    let enqueued = 0;
    const { workload } = options;
    const push = async (i: number) => {
      const response = await fetch(`${gateway.url}/metrics/job/${workload.job}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; version=0.0.4' },
        body: pushBody(workload, i),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (response.status !== 200) {
        pushFailures.push(`push ${i}: HTTP ${response.status} ${text.slice(0, 200)}`);
        return;
      }
      for (const s of workload.series) accepted.add(sampleKey(s, i));
      enqueued += (JSON.parse(text) as { messages: number }).messages;
    };

    return {
      workload,
      sqs,
      prometheus,
      victoriaMetrics,
      get proxy() {
        return proxy;
      },
      get proxyRequests() {
        collect();
        return proxyRequests;
      },
      accepted,
      pushFailures,
      enqueued: () => enqueued,
      pollerStats: () => {
        const sum = { invocations: 0, received: 0, failed: 0, timedOut: 0, errors: invocationErrors };
        for (const p of pollers) {
          sum.invocations += p.stats.batches;
          sum.received += p.stats.received;
          sum.failed += p.stats.failed;
          sum.timedOut += p.stats.invocationErrors;
        }
        return sum;
      },
      push,
      async pushAll(paceMs, at) {
        for (let i = 1; i <= workload.pushes; i++) {
          const started = performance.now();
          at?.(i);
          await push(i);
          // Paced, and never two pushes in one millisecond: ingest stamps each push with its arrival time.
          await sleep(Math.max(2, paceMs - (performance.now() - started)));
        }
      },
      startPollers,
      async duplicateQueued(copies) {
        const messages: Message[] = await receiveAll(sqs.client, sqs.queueUrl);
        for (let c = 0; c < copies; c++) {
          // Later copies in reverse order, so a copy may arrive before or after its original's neighbours.
          const round = c % 2 === 0 ? messages : [...messages].reverse();
          for (let i = 0; i < round.length; i += 10) {
            await sqs.client.send(
              new SendMessageBatchCommand({
                QueueUrl: sqs.queueUrl,
                Entries: round.slice(i, i + 10).map((m, j) => ({ Id: String(j), MessageBody: m.Body ?? '' })),
              }),
            );
          }
        }
        enqueued += messages.length * (copies - 1);
        return messages.length;
      },
      faultOn(entries) {
        faulty = entries;
        nextFaulty = 0;
      },
      faultOff() {
        faulty = undefined;
      },
      async proxyDown() {
        collect();
        await proxy.stop();
      },
      async proxyUp() {
        proxy = await startFaultServer({ ...proxyOptions, port });
        seen = 0;
      },
      async idle() {
        const { Attributes = {} } = await sqs.client.send(
          new GetQueueAttributesCommand({
            QueueUrl: sqs.queueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
          }),
        );
        if (Object.values(Attributes).some((n) => Number(n) > 0)) return false;
        const idle = await Promise.all(pollers.map((p) => p.idle({ timeoutMs: 1 }).then(() => true, () => false)));
        return idle.every(Boolean);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
