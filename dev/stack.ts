/**
 * The whole product on one machine: fauxqs (queue + DLQ), Prometheus with its remote-write receiver and a
 * Pushgateway, the ingest handler behind the local HTTP API gateway and the deliver handler behind the SQS poller.
 *
 * The handlers read their configuration from `process.env` once per process, so the variables are set before the
 * handlers are first imported, and one stack is all a process can host.
 */

import type { Context } from 'aws-lambda';
import { startGateway, type Gateway, type HttpHandler } from './http-gateway.ts';
import { startPrometheus, startPushgateway, type Receiver, type RemoteWriteReceiver } from './receivers.ts';
import { startPoller, type Poller, type SqsHandler } from './sqs-poller.ts';
import { DUMMY_CREDENTIALS, startSqs, type LocalSqs } from './sqs.ts';

export interface StackOptions {
  /** Gateway port (default 0: a free one). */
  port?: number;
  /** Gateway address (default 127.0.0.1). */
  host?: string;
  /** More handler variables (INGEST_TOKEN, STATIC_LABELS, …); the wiring variables are always the stack's own. */
  env?: Record<string, string>;
  /** Stand-ins for the real handlers (default: functions/ingest.ts and functions/deliver.ts). */
  handlers?: { ingest: HttpHandler; deliver: SqsHandler };
  maxReceiveCount?: number;
  visibilityTimeoutSeconds?: number;
  /** The deliver function's timeout (default 30 s). */
  deliverTimeoutMs?: number;
  /** Called as each part comes up, e.g. `✓ Prometheus on http://127.0.0.1:41234`. */
  onProgress?: (line: string) => void;
  /** Told of handler failures and SQS errors (default: stderr). */
  onError?: (error: Error) => void;
}

export interface LocalStack {
  /** The ingest endpoint's base URL. */
  url: string;
  gateway: Gateway;
  sqs: LocalSqs;
  prometheus: RemoteWriteReceiver;
  pushgateway: Receiver;
  poller: Poller;
  /** The variables the handlers were given. */
  env: Record<string, string>;
  /** Stops everything, the poller first so no batch is cut off. */
  stop(): Promise<void>;
}

/** Starts every part, wires the handlers to them and returns once the ingest endpoint is listening. */
export async function startStack(options: StackOptions = {}): Promise<LocalStack> {
  const progress = options.onProgress ?? (() => undefined);
  const onError = options.onError ?? ((error: Error) => console.error(error));
  // Stopped in reverse: the gateway first, then the poller (finishing its batch), then what it delivers to.
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(onError);
  };
  try {
    const [sqs, prometheus, pushgateway] = await Promise.all([
      startSqs({ maxReceiveCount: options.maxReceiveCount, visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }).then((s) => {
        stops.push(s.stop);
        progress(`✓ SQS (fauxqs) on ${s.endpoint}: queue ${s.queueUrl}, DLQ ${s.dlqUrl}`);
        return s;
      }),
      startPrometheus().then((p) => {
        stops.push(p.stop);
        progress(`✓ Prometheus on ${p.url} (remote write: ${p.remoteWriteUrl})`);
        return p;
      }),
      startPushgateway().then((g) => {
        stops.push(g.stop);
        progress(`✓ Pushgateway on ${g.url}`);
        return g;
      }),
    ]);

    const env: Record<string, string> = {
      ...options.env,
      QUEUE_URL: sqs.queueUrl,
      DLQ_URL: sqs.dlqUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      REMOTE_WRITE_URL: prometheus.remoteWriteUrl,
      PUSHGATEWAY_URL: pushgateway.url,
      AWS_REGION: sqs.region,
      AWS_DEFAULT_REGION: sqs.region,
      AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    };
    Object.assign(process.env, env);
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    const handlers = options.handlers ?? (await importHandlers());

    const deliverTimeoutMs = options.deliverTimeoutMs ?? 30_000;
    const poller = startPoller({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      queueArn: sqs.queueArn,
      region: sqs.region,
      handler: handlers.deliver,
      functionTimeoutMs: deliverTimeoutMs,
      onError,
    });
    stops.push(poller.stop);
    progress('✓ deliver handler polling the queue');

    const gateway = await startGateway({ handler: handlers.ingest, port: options.port, host: options.host, region: sqs.region, onError });
    stops.push(gateway.stop);
    progress(`✓ ingest handler on ${gateway.url}`);

    return {
      url: gateway.url,
      gateway,
      sqs,
      prometheus,
      pushgateway,
      poller,
      env,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function importHandlers(): Promise<{ ingest: HttpHandler; deliver: SqsHandler }> {
  const [ingest, deliver] = await Promise.all([import('../functions/ingest.ts'), import('../functions/deliver.ts')]);
  return {
    ingest: (event, context: Context) => ingest.handler(event, context),
    deliver: (event, context: Context) => deliver.handler(event, context),
  };
}
