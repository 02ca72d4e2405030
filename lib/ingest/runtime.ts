/**
 * The ingest function's warm state (configuration, SQS client) and its event dispatch: HTTP events get an HTTP
 * reply; EventBridge events are acknowledged or, when SQS fails, thrown so that Lambda's async retry runs.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { loadIngestConfig, type IngestConfig } from './config.ts';
import type { Env } from '../config/env.ts';
import { InputError } from '../inputs/errors.ts';
import { jsonLogger, type Logger } from '../log.ts';
import { QueueSendError } from '../queue/errors.ts';
import { createSqsClient, sendMessages, type QueueMessage } from '../queue/sqs.ts';
import { acceptedReply, acceptEvent, acceptHttpRequest, type Accepted } from './ingest.ts';
import { fromHttpApiV2, fromRestApiV1, isHttpApiV2, isRestApiV1 } from './request.ts';

export interface HttpReply {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface EventReply {
  status: 'accepted' | 'ignored' | 'rejected';
  reason?: string;
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpReply {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function groupingKeyId(group: Record<string, string>): string {
  return Object.keys(group)
    .sort()
    .map((k) => `${k}=${group[k]}`)
    .join(',');
}

export interface IngestRuntime {
  handle(event: unknown, id: string): Promise<HttpReply | EventReply>;
}

export function createIngestRuntime(env: Env, deps: { sqs?: SQSClient; log?: Logger; now?: () => number } = {}): IngestRuntime {
  const config: IngestConfig = loadIngestConfig(env);
  // Created (and the SDK loaded) at cold start; the first enqueue waits for it if it is not ready yet.
  const sqs: Promise<SQSClient> = deps.sqs ? Promise.resolve(deps.sqs) : createSqsClient({ ...(config.region ? { region: config.region } : {}), ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) });
  // A failed load surfaces at the first enqueue, not as an unhandled rejection that ends the process.
  sqs.catch(() => undefined);
  const log = deps.log ?? jsonLogger;
  const now = deps.now ?? Date.now;

  const enqueue = async (a: Accepted): Promise<void> => {
    const groupId = config.fifo ? groupingKeyId(a.group).slice(0, 128) || 'default' : undefined;
    const messages: QueueMessage[] = a.envelopes.map((body, part) => ({
      body,
      ...(groupId ? { groupId, deduplicationId: `${a.id}-${part}`.slice(0, 128) } : {}),
    }));
    await sendMessages(await sqs, config.queueUrl, messages);
  };

  const handleHttp = async (event: unknown, id: string): Promise<HttpReply> => {
    const started = now();
    const req = isHttpApiV2(event) ? fromHttpApiV2(event) : fromRestApiV1(event as never);
    try {
      const accepted = acceptHttpRequest(req, config.options, started, id);
      await enqueue(accepted);
      log('info', 'ingest', { id, status: 200, format: accepted.format, group: accepted.group, series: accepted.series, messages: accepted.envelopes.length, ms: now() - started });
      return json(200, acceptedReply(accepted));
    } catch (error) {
      if (error instanceof InputError) {
        log('warn', 'ingest rejected', { id, status: error.status, errors: error.issues.slice(0, 5), sourceIp: req.sourceIp });
        return json(error.status, { errors: error.issues }, error.status === 401 ? { 'www-authenticate': 'Bearer' } : {});
      }
      if (error instanceof QueueSendError) {
        log('error', 'ingest queue failure', { id, status: 503, sent: error.sent, failed: error.failed.slice(0, 5) });
        return json(503, { errors: [{ path: '$', message: 'the queue did not accept the metrics; send them again (nothing was partially kept that a resend would corrupt)' }] }, { 'retry-after': '5' });
      }
      log('error', 'ingest failure', { id, status: 500, error: (error as Error).stack ?? String(error) });
      return json(500, { errors: [{ path: '$', message: `internal error (request ${id})` }] });
    }
  };

  const handleEvent = async (event: unknown, id: string): Promise<EventReply> => {
    const started = now();
    try {
      const result = acceptEvent(event, config.options, started, id);
      if (result.kind === 'ignored') {
        // Acknowledged, not thrown: an event type we do not read would otherwise be retried by Lambda for nothing.
        log('info', 'event ignored', { id, reason: result.reason });
        return { status: 'ignored', reason: result.reason };
      }
      await enqueue(result.accepted);
      log('info', 'ingest', { id, format: 'eventbridge', group: result.accepted.group, series: result.accepted.series, messages: result.accepted.envelopes.length, ms: now() - started });
      return { status: 'accepted' };
    } catch (error) {
      if (error instanceof InputError) {
        log('warn', 'event rejected', { id, errors: error.issues.slice(0, 5) });
        return { status: 'rejected', reason: error.message.slice(0, 500) };
      }
      // SQS trouble (or a bug): throw, so Lambda's asynchronous retries and on-failure destination keep the event.
      log('error', 'event failure', { id, error: (error as Error).message });
      throw error;
    }
  };

  return {
    handle(event, id) {
      if (isHttpApiV2(event) || isRestApiV1(event)) return handleHttp(event, id);
      return handleEvent(event, id);
    },
  };
}
