/**
 * Ingest Lambda: API Gateway (HTTP API v2, REST v1) webhooks and EventBridge job events → envelopes on SQS.
 * An adapter: the rules live in lib/ingest.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context, EventBridgeEvent } from 'aws-lambda';
import { createIngestRuntime, type EventReply, type HttpReply, type IngestRuntime } from '../lib/ingest/runtime.ts';

let runtime: IngestRuntime | undefined;

export type IngestEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent | EventBridgeEvent<string, unknown>;

export async function handler(event: IngestEvent, context?: Context): Promise<HttpReply | EventReply> {
  runtime ??= createIngestRuntime(process.env);
  return runtime.handle(event, context?.awsRequestId ?? randomUUID());
}
