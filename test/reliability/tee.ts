/**
 * One remote-write endpoint in front of two real receivers: each write request goes to Prometheus and to
 * VictoriaMetrics, and the answer is the worse of the two (Prometheus' when both fail: it is the stricter one, and
 * its 400 texts are the ones the deliver engine classifies). So every fault of the matrix is judged on both
 * receivers at once: Prometheus refuses conflicting duplicates, VictoriaMetrics would store them.
 */

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Tee {
  /** `http://127.0.0.1:<port>`; writes go to `/api/v1/write`. */
  url: string;
  stop(): Promise<void>;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers a remote-write request carries that the receivers read. */
const FORWARDED = ['content-type', 'content-encoding', 'x-prometheus-remote-write-version', 'user-agent'];

async function forward(url: string, req: IncomingMessage, body: Buffer): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  try {
    const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(20_000) });
    const text = await response.text();
    const retryAfter = response.headers.get('retry-after');
    return { status: response.status, headers: retryAfter ? { 'retry-after': retryAfter } : {}, body: text };
  } catch (error) {
    return { status: 502, headers: {}, body: `tee: ${url} failed: ${(error as Error).message}` };
  }
}

/** Starts the tee on a free 127.0.0.1 port, forwarding to the given remote-write URLs (the first one wins ties). */
export async function startTee(remoteWriteUrls: readonly [string, ...string[]]): Promise<Tee> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      void Promise.all(remoteWriteUrls.map((url) => forward(url, req, body))).then((answers) => {
        const failed = answers.find((a) => a.status < 200 || a.status >= 300);
        const answer = failed ?? answers[0]!;
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body);
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
