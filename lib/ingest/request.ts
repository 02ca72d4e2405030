/**
 * One shape for an HTTP request, whichever API Gateway flavour delivered it (HTTP API v2 or REST API v1).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

export interface HttpRequest {
  method: string;
  /** The path as received, percent-encoded segments included. */
  path: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  query: Record<string, string>;
  /** The body bytes as sent (still compressed when Content-Encoding says so). */
  body: Buffer;
  sourceIp?: string;
  requestId?: string;
}

export function isHttpApiV2(event: unknown): event is APIGatewayProxyEventV2 {
  return typeof event === 'object' && event !== null && (event as { version?: unknown }).version === '2.0' && 'rawPath' in event;
}

export function isRestApiV1(event: unknown): event is APIGatewayProxyEvent {
  return typeof event === 'object' && event !== null && 'httpMethod' in event && 'path' in event;
}

function lowerCaseHeaders(headers: Record<string, string | undefined> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

function bodyBytes(body: string | null | undefined, isBase64Encoded: boolean | undefined): Buffer {
  if (body == null) return Buffer.alloc(0);
  return isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

function queryFrom(raw: string | undefined, params: Record<string, string | undefined> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw) for (const [k, v] of new URLSearchParams(raw)) if (!(k in out)) out[k] = v;
  else for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

export function fromHttpApiV2(event: APIGatewayProxyEventV2): HttpRequest {
  const headers = lowerCaseHeaders(event.headers);
  if (event.cookies?.length) headers.cookie = event.cookies.join('; ');
  return {
    method: event.requestContext?.http?.method ?? 'POST',
    path: event.rawPath,
    headers,
    query: queryFrom(event.rawQueryString, event.queryStringParameters),
    body: bodyBytes(event.body, event.isBase64Encoded),
    ...(event.requestContext?.http?.sourceIp ? { sourceIp: event.requestContext.http.sourceIp } : {}),
    ...(event.requestContext?.requestId ? { requestId: event.requestContext.requestId } : {}),
  };
}

export function fromRestApiV1(event: APIGatewayProxyEvent): HttpRequest {
  const multi = event.multiValueQueryStringParameters;
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
  for (const [k, vs] of Object.entries(multi ?? {})) if (vs && vs[0] !== undefined) query[k] = vs[0];
  return {
    method: event.httpMethod,
    path: event.path,
    headers: lowerCaseHeaders(event.headers),
    query,
    body: bodyBytes(event.body, event.isBase64Encoded),
    ...(event.requestContext?.identity?.sourceIp ? { sourceIp: event.requestContext.identity.sourceIp } : {}),
    ...(event.requestContext?.requestId ? { requestId: event.requestContext.requestId } : {}),
  };
}
