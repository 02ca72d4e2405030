/**
 * Small factories for the events the handlers receive, shaped as AWS documents them:
 * HTTP API payload 2.0, REST API proxy integration, and SQS batches built from real received messages.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { toRecord } from '../../dev/sqs-poller.ts';

export interface HttpEventOptions {
  headers?: Record<string, string>;
  query?: string;
  method?: string;
  /** Send the body base64-encoded with `isBase64Encoded: true`, as API Gateway does for binary bodies. */
  base64?: boolean;
}

export function httpApiV2Event(path: string, body: string | Buffer, options: HttpEventOptions = {}): APIGatewayProxyEventV2 {
  const base64 = options.base64 ?? Buffer.isBuffer(body);
  return {
    version: '2.0',
    routeKey: 'POST /metrics/job/{proxy+}',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: { 'content-type': 'application/json', ...options.headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'local',
      domainPrefix: 'local',
      http: { method: options.method ?? 'POST', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'req',
      routeKey: 'POST /metrics/job/{proxy+}',
      stage: '$default',
      time: '20/Nov/2026:10:00:00 +0000',
      timeEpoch: 1_763_632_800_000,
    },
    body: base64 ? Buffer.from(body).toString('base64') : String(body),
    isBase64Encoded: base64,
  };
}

export function restApiV1Event(path: string, body: string, options: HttpEventOptions = {}): APIGatewayProxyEvent {
  const query = new URLSearchParams(options.query ?? '');
  const single: Record<string, string> = {};
  for (const [k, v] of query) single[k] = v;
  return {
    resource: '/metrics/job/{proxy+}',
    path,
    httpMethod: options.method ?? 'POST',
    headers: { 'Content-Type': 'application/json', ...options.headers },
    multiValueHeaders: {},
    queryStringParameters: Object.keys(single).length ? single : null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.replace(/^\/metrics\/job\//, '') },
    stageVariables: null,
    requestContext: { requestId: 'req', identity: { sourceIp: '127.0.0.1' } } as APIGatewayProxyEvent['requestContext'],
    body,
    isBase64Encoded: false,
  };
}

export function sqsEventOf(messages: readonly Message[], queueArn: string, region = 'us-east-1'): SQSEvent {
  return { Records: messages.map((m) => toRecord(m, queueArn, region)) };
}
