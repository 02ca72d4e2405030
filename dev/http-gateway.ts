/**
 * A local stand-in for API Gateway HTTP API in front of a Lambda proxy integration (payload format 2.0).
 *
 * What it mimics, and where it comes from (API Gateway developer guide, "Create AWS Lambda proxy integrations for
 * HTTP APIs"): header names lower-cased, repeated headers and query parameters joined with commas, `Cookie`
 * headers moved to `cookies`, a response without `statusCode` taken as 200 JSON, response `cookies` sent as
 * `Set-Cookie`. Observed behaviour of the real service: `rawPath` and path parameters arrive URL-decoded while
 * `rawQueryString` stays encoded; the body arrives as text only for `text/*`, `application/json`,
 * `application/xml` and `application/javascript` without a `Content-Encoding`, base64 otherwise; payloads are
 * capped at 10 MB (413) and the integration at 30 s (503).
 */

import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeadlineError, withDeadline } from './deadline.ts';
import { invocationContext } from './lambda-context.ts';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

export interface GatewayOptions {
  handler: HttpHandler;
  /** Default 0 (a free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Integration timeout (default 30 s, API Gateway's maximum); a slower handler gets 503. */
  timeoutMs?: number;
  /** Request body cap (default 10 MiB); a larger body gets 413 without reaching the handler. */
  maxBodyBytes?: number;
  region?: string;
  functionName?: string;
  /** Told of handler failures (default: written to stderr). */
  onError?: (error: Error) => void;
}

export interface Gateway {
  /** e.g. `http://127.0.0.1:3000` */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The route the webhook is deployed on; every other request goes to `$default`. */
export const WEBHOOK_ROUTE = 'POST /metrics/job/{proxy+}';
const WEBHOOK_PREFIX = '/metrics/job/';

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES = new Set(['application/json', 'application/xml', 'application/javascript']);

/** Serves `handler` over HTTP, translating each request into an HTTP API v2 event. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { handler, port = 0, host = '127.0.0.1', timeoutMs = 30_000, maxBodyBytes = MAX_BODY_BYTES } = options;
  const region = options.region ?? 'us-east-1';
  const functionName = options.functionName ?? 'ingest';
  const onError = options.onError ?? ((error: Error) => console.error(`[gateway] ${functionName}:`, error));

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const declared = Number(req.headers['content-length'] ?? 0);
    const body = declared > maxBodyBytes ? undefined : await readBody(req, maxBodyBytes);
    if (body === undefined) {
      req.resume();
      // Closing the connection stops the rest of an oversized upload.
      return reply(res, requestId, { statusCode: 413, headers: { ...JSON_TYPE, connection: 'close' }, body: '{"message":"Request Entity Too Large"}' });
    }
    const event = toEvent(req, body, requestId);
    const context = invocationContext({ functionName, timeoutMs, region });
    let result: unknown;
    try {
      const invocation = Promise.resolve().then(() => handler(event, context));
      result = await withDeadline(`${functionName} to answer ${event.routeKey}`, invocation, timeoutMs);
    } catch (error) {
      onError(error instanceof Error ? error : new Error(String(error)));
      return reply(res, requestId, error instanceof DeadlineError ? { statusCode: 503, headers: JSON_TYPE, body: '{"message":"Service Unavailable"}' } : internalError);
    }
    const response = toResponse(result);
    if (!response) onError(new Error(`malformed integration response: ${JSON.stringify(result)?.slice(0, 300)}`));
    reply(res, requestId, response ?? internalError);
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      onError(error instanceof Error ? error : new Error(String(error)));
      if (!res.headersSent) reply(res, randomUUID(), internalError);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The body, or undefined once it passes `limit` bytes (the rest is then read and dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** An HTTP API payload format 2.0 event for one request. */
function toEvent(req: IncomingMessage, body: Buffer, requestId: string, now = new Date()): APIGatewayProxyEventV2 {
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  const encodedPath = queryAt === -1 ? target : target.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : target.slice(queryAt + 1).replace(/#.*$/, '');
  const path = safeDecode(encodedPath);
  const method = (req.method ?? 'GET').toUpperCase();

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') {
      cookies = values.flatMap((v) => v.split(';')).map((c) => c.trim()).filter(Boolean);
      continue;
    }
    headers[name] = values.join(',');
  }
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? '');

  const query = new URLSearchParams(rawQueryString);
  const queryStringParameters: Record<string, string> = {};
  for (const key of new Set(query.keys())) queryStringParameters[key] = query.getAll(key).join(',');

  const isWebhook = method === 'POST' && path.startsWith(WEBHOOK_PREFIX) && path.length > WEBHOOK_PREFIX.length;
  const routeKey = isWebhook ? WEBHOOK_ROUTE : '$default';
  const domainName = headers.host ?? 'localhost';

  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString,
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method,
        path,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies) event.cookies = cookies;
  if (query.size > 0) event.queryStringParameters = queryStringParameters;
  if (isWebhook) event.pathParameters = { proxy: path.slice(WEBHOOK_PREFIX.length) };
  if (body.length > 0) {
    const asText = isTextual(headers['content-type']) && !headers['content-encoding'];
    event.body = asText ? body.toString('utf8') : body.toString('base64');
    event.isBase64Encoded = !asText;
  }
  return event;
}

function isTextual(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (!type) return false;
  return type.startsWith('text/') || TEXT_TYPES.has(type);
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, the form of `requestContext.time`. */
function clfTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

interface HttpResponse {
  statusCode: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: Buffer | string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const internalError: HttpResponse = { statusCode: 500, headers: JSON_TYPE, body: '{"message":"Internal Server Error"}' };

/**
 * Reads a handler's result the way HTTP API does for payload format 2.0: an object with `statusCode` is a
 * response; anything else is a 200 JSON body. Undefined when the result is malformed.
 */
function toResponse(result: unknown): HttpResponse | undefined {
  const isResponse = typeof result === 'object' && result !== null && 'statusCode' in result;
  if (!isResponse) {
    const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? '');
    return { statusCode: 200, headers: JSON_TYPE, body };
  }
  const r = result as { statusCode: unknown; headers?: unknown; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
  if (typeof r.statusCode !== 'number' || !Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 599) return undefined;
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') return undefined;
  const headers: Record<string, string> = {};
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object') return undefined;
    for (const [name, value] of Object.entries(r.headers)) headers[name.toLowerCase()] = String(value);
  }
  const cookies = Array.isArray(r.cookies) ? r.cookies.map(String) : undefined;
  const text = typeof r.body === 'string' ? r.body : '';
  const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : text;
  return { statusCode: r.statusCode, headers, ...(cookies && { cookies }), body };
}

function reply(res: ServerResponse, requestId: string, response: HttpResponse): void {
  const headers: Record<string, string | string[]> = { ...response.headers, 'apigw-requestid': requestId };
  if (response.cookies?.length) headers['set-cookie'] = response.cookies;
  const body = response.body ?? '';
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(response.statusCode, headers);
  res.end(body);
}
