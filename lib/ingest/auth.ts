/**
 * Request authentication: a shared token (Authorization: Bearer, or `?token=` because Beam's MetricsHttpSink cannot
 * set headers) and/or an HMAC of the raw body (`X-Signature-256: sha256=<hex>`, GitHub's webhook convention).
 * Either configured method admits a request. Comparisons are constant-time over fixed-length digests.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { HttpRequest } from './request.ts';
import { UnauthorizedError } from './errors.ts';

export interface AuthConfig {
  token?: string;
  hmacSecret?: string;
}

function digest(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Equal-length digests make timingSafeEqual usable and the time independent of where the strings differ. */
function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m?.[1]?.trim();
}

export function authenticate(req: HttpRequest, config: AuthConfig): void {
  if (config.token === undefined && config.hmacSecret === undefined) return;
  if (config.token !== undefined) {
    const presented = bearer(req.headers.authorization) ?? req.query.token;
    if (presented !== undefined && safeEqual(presented, config.token)) return;
  }
  if (config.hmacSecret !== undefined) {
    const signature = req.headers['x-signature-256'];
    const m = signature ? /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim()) : null;
    if (m) {
      const expected = createHmac('sha256', config.hmacSecret).update(req.body).digest();
      if (safeEqual(Buffer.from(m[1]!.toLowerCase(), 'hex'), expected)) return;
    }
  }
  throw new UnauthorizedError();
}
