/**
 * One HTTP attempt, nothing more: the retry loop (retry.ts) owns backoff, and outcome.ts owns the meaning of
 * the answer. Kept apart as Prometheus keeps client.go apart from queue_manager.go.
 */
import { Agent, type Dispatcher } from 'undici';
import { classifyError, classifyResponse, type ClassifyOptions, type Outcome, type ResponseFacts } from './outcome.ts';

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

/** The origin and path of the last URL attempted: a sink sends every request to one URL. */
let lastUrl = '';
let lastTarget = { origin: '', path: '' };

function targetOf(url: string): { origin: string; path: string } {
  if (url !== lastUrl) {
    const u = new URL(url);
    lastTarget = { origin: u.origin, path: u.pathname + u.search };
    lastUrl = url;
  }
  return lastTarget;
}

/**
 * One request on undici's dispatch API, the answer read into memory (at most MAX_ERROR_BODY characters of it).
 * `request()` wraps each response body in a Readable stream and each call in an AbortSignal; for a 2xx with an empty
 * body, 50 times a batch, that machinery cost more CPU than the rest of the attempt (~11 against ~7 ms per 50 requests
 * to VictoriaMetrics, measured in one process). undici's own timeouts bound the wait for headers and each gap in the
 * body; the timer here bounds the whole attempt, connecting and a body dripped slowly included.
 */
function send(dispatcher: Dispatcher, a: HttpAttempt): Promise<ResponseFacts> {
  const { origin, path } = targetOf(a.url);
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let timedOut: Error | undefined;
    // From the call on, as AbortSignal.timeout did: a wait for a free connection counts too.
    const timer = setTimeout(() => {
      timedOut = Object.assign(new Error(`no complete answer within ${a.timeoutMs} ms`), { name: 'TimeoutError' });
      if (controller) controller.abort(timedOut);
      else reject(timedOut);
    }, a.timeoutMs);
    let status = 0;
    let headers: ResponseFacts['headers'] = {};
    let body = '';
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (timedOut) c.abort(timedOut);
      },
      onResponseStart(_c, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(_c, chunk) {
        if (body.length < MAX_ERROR_BODY) body += chunk.toString('utf8', 0, Math.min(chunk.length, MAX_ERROR_BODY));
      },
      onResponseEnd() {
        clearTimeout(timer);
        resolve({ status, headers, body: body.slice(0, MAX_ERROR_BODY) });
      },
      onResponseError(_c, error) {
        clearTimeout(timer);
        reject(error);
      },
    };
    try {
      dispatcher.dispatch(
        { origin, path, method: a.method, headers: a.headers, body: a.body ?? null, headersTimeout: a.timeoutMs, bodyTimeout: a.timeoutMs },
        handler,
      );
    } catch (error) {
      clearTimeout(timer);
      reject(error);
    }
  });
}

export async function attemptOnce(dispatcher: Dispatcher, a: HttpAttempt, classify: Omit<ClassifyOptions, 'nowMs'>): Promise<Outcome> {
  try {
    const answer = await send(dispatcher, a);
    return classifyResponse(answer, { ...classify, nowMs: Date.now() });
  } catch (error) {
    return classifyError(error);
  }
}
