/**
 * The deliver function's configuration, read from the environment once per cold start.
 */
import { DEFAULT_REQUEST_LIMITS } from './merge.ts';
import { DEFAULT_BACKOFF } from '../transport/backoff.ts';
import { ConfigError } from '../config/errors.ts';
import { boolean, integer, oneOf, optional, url, type Env } from '../config/env.ts';
import { basicAuthorization, loadRemoteWriteAuth, type AuthMethod, type SigV4Settings } from '../transport/auth.ts';

export interface RemoteWriteConfig {
  url: string;
  protocol: '1.0' | '2.0';
  timeoutMs: number;
  maxSamples: number;
  maxBytes: number;
  concurrency: number;
  retryOn429: boolean;
  maxIsolationRequests: number;
  /** Auth and custom headers, validated (lib/transport/auth.ts documents the variables). */
  headers: Record<string, string>;
  auth: AuthMethod;
  /** Set when requests are SigV4-signed (Amazon Managed Prometheus). */
  sigv4?: SigV4Settings;
}

export interface PushgatewayConfig {
  /** PUSHGATEWAY_DELETE_ON_JOB_END: delete a group when its job ends, instead of pushing the job-end envelope. */
  deleteOnJobEnd: boolean;
  timeoutMs: number;
  /** Groups pushed at once; one group's requests are always sequential. */
  concurrency: number;
  /** Basic auth from the URL's `user:password@`, the usual way to reach a Pushgateway behind a proxy. */
  headers: Record<string, string>;
}

export interface DeliverConfig {
  remoteWrite?: RemoteWriteConfig;
  pushgatewayUrl?: string;
  /** Set with pushgatewayUrl. */
  pushgateway?: PushgatewayConfig;
  dlqUrl?: string;
  sqsEndpoint?: string;
  region?: string;
  backoff: { baseMs: number; maxMs: number };
  /** Stop retrying this long before Lambda's timeout, to report partial failures in time. */
  timeMarginMs: number;
  /** MiB of old-generation heap held from the second invocation on (lib/deliver/heap-reserve.ts); 0: none. */
  heapReserveMb: number;
}

/**
 * A 32nd of the function's memory, which Lambda states in AWS_LAMBDA_FUNCTION_MEMORY_SIZE; none elsewhere. A 16th gave
 * fewer collections still, but took the bench's 1,000-message batch to 256 MB of RSS in a 512 MB function.
 */
function defaultHeapReserveMb(env: Env): number {
  const memoryMb = Number(optional(env, 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE'));
  return Number.isInteger(memoryMb) && memoryMb > 0 ? Math.floor(memoryMb / 32) : 0;
}

export function loadDeliverConfig(env: Env): DeliverConfig {
  const remoteWriteUrl = url(env, 'REMOTE_WRITE_URL');
  const pushgatewayUrl = url(env, 'PUSHGATEWAY_URL');
  if (remoteWriteUrl && (remoteWriteUrl.username || remoteWriteUrl.password)) {
    // Credentials in a URL end up in logs and error messages; the auth variables are kept out of both.
    throw new ConfigError('REMOTE_WRITE_URL', 'must not carry credentials (user:password@…): set REMOTE_WRITE_BASIC_AUTH_USERNAME and REMOTE_WRITE_BASIC_AUTH_PASSWORD instead');
  }
  const pushgatewayHeaders: Record<string, string> = {};
  if (pushgatewayUrl && (pushgatewayUrl.username || pushgatewayUrl.password)) {
    pushgatewayHeaders.Authorization = basicAuthorization(decodeURIComponent(pushgatewayUrl.username), decodeURIComponent(pushgatewayUrl.password));
    pushgatewayUrl.username = '';
    pushgatewayUrl.password = '';
  }
  if (!remoteWriteUrl && !pushgatewayUrl) {
    throw new ConfigError('REMOTE_WRITE_URL', 'set REMOTE_WRITE_URL (Prometheus /api/v1/write, Mimir, VictoriaMetrics, AMP) and/or PUSHGATEWAY_URL: with neither, nothing could be delivered');
  }
  const dlqUrl = optional(env, 'DLQ_URL');
  const sqsEndpoint = optional(env, 'AWS_ENDPOINT_URL_SQS');
  const region = optional(env, 'AWS_REGION');
  const backoff = {
    baseMs: integer(env, 'RETRY_BASE_MS', DEFAULT_BACKOFF.baseMs, 1, 60_000),
    maxMs: integer(env, 'RETRY_MAX_MS', DEFAULT_BACKOFF.maxMs, 1, 300_000),
  };
  if (backoff.maxMs < backoff.baseMs) throw new ConfigError('RETRY_MAX_MS', `must be at least RETRY_BASE_MS (${backoff.baseMs})`);
  return {
    ...(remoteWriteUrl
      ? {
          remoteWrite: {
            url: remoteWriteUrl.toString(),
            protocol: oneOf(env, 'REMOTE_WRITE_PROTOCOL', ['1.0', '2.0'] as const, '1.0'),
            timeoutMs: integer(env, 'REMOTE_WRITE_TIMEOUT_MS', 10_000, 100, 900_000),
            maxSamples: integer(env, 'REMOTE_WRITE_MAX_SAMPLES', DEFAULT_REQUEST_LIMITS.maxSamples, 1, 1_000_000),
            maxBytes: integer(env, 'REMOTE_WRITE_MAX_BYTES', DEFAULT_REQUEST_LIMITS.maxBytes, 1024, 64 * 1024 * 1024),
            concurrency: integer(env, 'REMOTE_WRITE_CONCURRENCY', 4, 1, 64),
            retryOn429: boolean(env, 'REMOTE_WRITE_RETRY_ON_429', true),
            // Enough to isolate a few dozen stale series of a 2,000-series request (~2·k·log2(n/k) requests); each is small.
            maxIsolationRequests: integer(env, 'REMOTE_WRITE_ISOLATION_REQUESTS', 256, 0, 10_000),
            ...loadRemoteWriteAuth(env, remoteWriteUrl),
          },
        }
      : {}),
    ...(pushgatewayUrl
      ? {
          pushgatewayUrl: pushgatewayUrl.toString().replace(/\/+$/, ''),
          pushgateway: {
            deleteOnJobEnd: boolean(env, 'PUSHGATEWAY_DELETE_ON_JOB_END', false),
            timeoutMs: integer(env, 'PUSHGATEWAY_TIMEOUT_MS', 10_000, 100, 900_000),
            concurrency: integer(env, 'PUSHGATEWAY_CONCURRENCY', 4, 1, 64),
            headers: pushgatewayHeaders,
          },
        }
      : {}),
    ...(dlqUrl ? { dlqUrl } : {}),
    ...(sqsEndpoint ? { sqsEndpoint } : {}),
    ...(region ? { region } : {}),
    backoff,
    timeMarginMs: integer(env, 'DELIVER_TIME_MARGIN_MS', 3_000, 0, 600_000),
    heapReserveMb: integer(env, 'DELIVER_HEAP_RESERVE_MB', defaultHeapReserveMb(env), 0, 4096),
  };
}
