/**
 * One HTTP attempt, nothing more: the retry loop (retry.ts) owns backoff, and outcome.ts owns the meaning of
 * the answer. Kept apart as Prometheus keeps client.go apart from queue_manager.go.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { classifyError, classifyResponse, type ClassifyOptions, type Outcome } from './outcome.ts';

export interface HttpAttempt {
  url: string;
  method: 'POST' | 'PUT' | 'DELETE';
  headers: Record<string, string>;
  body?: Uint8Array | string;
  timeoutMs: number;
}

/** How much of an error body we keep: enough for the first line and a pattern match, never a whole page. */
const MAX_ERROR_BODY = 4096;

/** A keep-alive connection pool shared by every attempt of a warm Lambda. */
export function createDispatcher(): Dispatcher {
  return new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: 16, pipelining: 1 });
}

async function readStart(body: Dispatcher.ResponseData['body']): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    if (text.length < MAX_ERROR_BODY) text += (chunk as Buffer).toString('utf8', 0, Math.min((chunk as Buffer).length, MAX_ERROR_BODY));
  }
  return text.slice(0, MAX_ERROR_BODY);
}

export async function attemptOnce(dispatcher: Dispatcher, a: HttpAttempt, classify: Omit<ClassifyOptions, 'nowMs'>): Promise<Outcome> {
  try {
    const res = await request(a.url, {
      dispatcher,
      method: a.method,
      headers: a.headers,
      ...(a.body !== undefined ? { body: a.body } : {}),
      headersTimeout: a.timeoutMs,
      bodyTimeout: a.timeoutMs,
      signal: AbortSignal.timeout(a.timeoutMs),
    });
    const body = await readStart(res.body);
    return classifyResponse({ status: res.statusCode, headers: res.headers, body }, { ...classify, nowMs: Date.now() });
  } catch (error) {
    return classifyError(error);
  }
}
