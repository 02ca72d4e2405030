/**
 * A scripted HTTP receiver for failure tests: it answers each request with the next entry of a script (a status
 * with headers and body, optionally late; `reset`, which destroys the socket mid-request; `hang`, which never
 * answers; a proxied answer, late or reset after the upstream wrote), records every request, and once the script is
 * used up proxies to a real upstream or answers a recognisable 599. An optional rule answers by content first.
 *
 * Bounded: request bodies are capped, the record is capped, and the server closes itself after `lifetimeMs` so a
 * forgotten `stop()` cannot keep a test process alive.
 */

import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long (real time) after the request body arrived before answering. */
  delayMs?: number;
}

/**
 * Forward to the upstream now (the write happens), then relay its answer `delayMs` late, or destroy the connection
 * instead of answering (`reset`): a receiver that wrote the data but whose answer never arrived in time.
 */
export interface ProxiedAnswer {
  proxy: true;
  delayMs?: number;
  reset?: boolean;
}

/** `reset`: destroy the connection once the request has arrived. `hang`: never answer (until `stop()`). */
export type ScriptEntry = ScriptedAnswer | ProxiedAnswer | 'reset' | 'hang';

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** `performance.now()` when the request's headers arrived. */
  arrivedAtMs: number;
  /** What the server did with it: the script entry, `proxy`, or `exhausted`. */
  answer: ScriptEntry | 'proxy' | 'exhausted';
}

export interface FaultServerOptions {
  /** Base URL (`http://127.0.0.1:9090`) to forward requests to once the script is empty. */
  upstream?: string;
  /** Port to listen on (default 0: a free one); a restart on the same port brings a "down" receiver back. */
  port?: number;
  /**
   * Decides before the script, per request: an entry it returns answers the request without using the script;
   * undefined leaves the request to the script. For faults that depend on the content (a refused series).
   */
  rule?: (request: { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }) => ScriptEntry | undefined;
  /** Closes itself after this long (default 120 s). */
  lifetimeMs?: number;
  /** Requests recorded at most (default 10 000); later ones are answered but not recorded. */
  maxRecorded?: number;
  /** Bytes of a request body kept (default 8 MiB); a larger body is answered 413. */
  maxBodyBytes?: number;
}

export interface FaultServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  readonly requests: readonly RecordedRequest[];
  /** Replaces the script and forgets the recorded requests. */
  reset(script?: readonly ScriptEntry[]): void;
  /** Appends to the script. */
  push(...entries: ScriptEntry[]): void;
  /** Script entries not yet used. */
  readonly remaining: number;
  stop(): Promise<void>;
}

/** `n` copies of one script entry. */
export function times(n: number, entry: ScriptEntry): ScriptEntry[] {
  return Array.from({ length: n }, () => entry);
}

/** The status the server answers once its script is empty and it has no upstream. */
export const EXHAUSTED_STATUS = 599;

export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const maxRecorded = options.maxRecorded ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  let script: ScriptEntry[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const answer = (res: ServerResponse, a: ScriptedAnswer): void => {
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(a.status, a.headers);
      res.end(a.body ?? '');
    };
    if (a.delayMs) later(a.delayMs, send);
    else send();
  };

  const proxy = (req: IncomingMessage, res: ServerResponse, body: Buffer, upstream: string, late: Omit<ProxiedAnswer, 'proxy'> = {}): void => {
    const target = new URL(req.url ?? '/', upstream);
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    const out = httpRequest(target, { method: req.method, headers, timeout: 30_000 }, (up) => {
      const relay = () => {
        if (late.reset || res.destroyed) {
          up.resume();
          if (late.reset) req.socket.destroy();
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      };
      if (late.delayMs) later(late.delayMs, relay);
      else relay();
    });
    out.on('timeout', () => out.destroy(new Error('upstream timed out')));
    out.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault server: upstream failed: ${error.message}`);
    });
    out.end(body);
  };

  const server = createServer((req, res) => {
    const arrivedAtMs = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) {
        res.writeHead(413).end(`fault server: body over ${maxBodyBytes} bytes`);
        return;
      }
      const body = Buffer.concat(chunks);
      const entry = options.rule?.({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }) ?? script.shift();
      const what: RecordedRequest['answer'] = entry ?? (options.upstream ? 'proxy' : 'exhausted');
      if (requests.length < maxRecorded) {
        requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, arrivedAtMs, answer: what });
      }
      if (entry === 'reset') req.socket.destroy();
      else if (entry === 'hang') return;
      else if (entry && 'proxy' in entry) {
        if (options.upstream) proxy(req, res, body, options.upstream, entry);
        else answer(res, { status: EXHAUSTED_STATUS, body: 'fault server: no upstream to proxy to' });
      } else if (entry) answer(res, entry);
      else if (options.upstream) proxy(req, res, body, options.upstream);
      else answer(res, { status: EXHAUSTED_STATUS, body: 'fault server: script exhausted' });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= new Promise<void>((resolve) => {
      clearTimeout(lifetime);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }));
  const lifetime = setTimeout(() => void stop(), options.lifetimeMs ?? 120_000);
  lifetime.unref();

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reset(next = []) {
      script = [...next];
      requests.length = 0;
    },
    push(...entries) {
      script.push(...entries);
    },
    get remaining() {
      return script.length;
    },
    stop,
  };
}
