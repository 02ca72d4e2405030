/**
 * Remote-write backend auth and custom headers, read from the environment once per cold start.
 *
 * Variables (all optional; at most one auth method):
 * - `REMOTE_WRITE_BEARER_TOKEN` — sent as `Authorization: Bearer <token>`. Give the token alone.
 * - `REMOTE_WRITE_BASIC_AUTH_USERNAME` + `REMOTE_WRITE_BASIC_AUTH_PASSWORD` — HTTP Basic (RFC 7617); both required.
 * - `REMOTE_WRITE_SIGV4=true` — sign every request with AWS SigV4 for Amazon Managed Prometheus (service `aps`),
 *   credentials from the SDK's default chain (on Lambda: the execution role, with its session token).
 * - `REMOTE_WRITE_SIGV4_REGION` — the signing region. Default: the region of an AMP workspace URL
 *   (`aps-workspaces.<region>.amazonaws.com`), else `AWS_REGION`. Must match the workspace URL's region.
 * - `REMOTE_WRITE_HEADERS` — `Name=value,Name2=value2` sent with every request, e.g. `X-Scope-OrgID=tenant-1` for
 *   Mimir / Cortex tenants. Values cannot contain commas.
 *
 * Like Prometheus' `remote_write` config, the protocol's own headers cannot be overridden, nor `Authorization` when
 * an auth method is set. Errors name the variable and never echo a secret or a header value.
 */
import { inspect } from 'node:util';
import { ConfigError } from '../config/errors.ts';
import { boolean, optional, type Env } from '../config/env.ts';

export type AuthMethod = 'none' | 'bearer' | 'basic' | 'sigv4';

export interface SigV4Settings {
  region: string;
}

export interface RemoteWriteAuth {
  auth: AuthMethod;
  /** `Authorization` for bearer / basic, plus the custom headers. Redacted when logged or inspected. */
  headers: Record<string, string>;
  /** Present when requests are signed per attempt (SigV4 adds its headers then). */
  sigv4?: SigV4Settings;
}

/**
 * Headers the transport sets, lower-cased: the remote-write protocol's (spec, "Protocol"), the connection's, and
 * those SigV4 generates. Prometheus' config refuses the same set (`reservedHeaders` in config/config.go).
 */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-encoding',
  'content-length',
  'x-prometheus-remote-write-version',
  'user-agent',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
  'expect',
  'proxy-authorization',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
]);

/** RFC 9110 §5.6.2 token: what a header name may be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII, space and tab (RFC 9110 §5.5, without obs-text): anything else breaks or smuggles a header. */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;
/** AWS region names: `us-east-1`, `us-gov-west-1`, `ap-southeast-2`, `cn-north-1`. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** AMP endpoints, public, FIPS and VPC (`vpce-….aps-workspaces.<region>.vpce.amazonaws.com`); group 1 is the region. */
const AMP_HOST = /(?:^|\.)aps-workspaces(?:-fips)?\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/;

/** `Authorization` value for HTTP Basic: base64 of the UTF-8 `user:password` (RFC 7617 §2, charset UTF-8). */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** `Authorization` value for a bearer token (RFC 6750 §2.1). */
export function bearerAuthorization(token: string): string {
  return `Bearer ${token}`;
}

/** Control characters in a credential are a paste accident; the message says so without showing the value. */
function checkNoControl(name: string, value: string): void {
  if (/[\x00-\x1f\x7f]/.test(value)) throw new ConfigError(name, 'contains a control character (a stray line break?)');
}

/**
 * `REMOTE_WRITE_HEADERS` (`Name=value,Name2=value2`) → headers. Names must be HTTP tokens, given once
 * (case-insensitively), and not reserved; `authorization` is refused too when `authMethod` is set.
 */
export function parseHeaderList(env: Env, name: string, authMethod: AuthMethod): Record<string, string> {
  const value = optional(env, name);
  const headers: Record<string, string> = {};
  if (value === undefined) return headers;
  const seen = new Set<string>();
  for (const [i, pair] of value.split(',').entries()) {
    const eq = pair.indexOf('=');
    const header = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    // Only the name goes into messages: a header value may be an API key.
    if (eq <= 0 || header === '') throw new ConfigError(name, `entry ${i + 1} is not of the form Name=value`);
    if (!TOKEN.test(header)) throw new ConfigError(name, `"${header}" is not a valid HTTP header name`);
    const lower = header.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) throw new ConfigError(name, `${header} is set by the remote-write transport and cannot be overridden`);
    if (lower === 'authorization' && authMethod !== 'none') {
      throw new ConfigError(name, `Authorization cannot be set here while ${authMethod} auth is configured: it would replace the auth header`);
    }
    if (seen.has(lower)) throw new ConfigError(name, `${header} is given twice`);
    const headerValue = pair.slice(eq + 1).trim();
    if (headerValue === '') throw new ConfigError(name, `${header} has an empty value`);
    if (!FIELD_VALUE.test(headerValue)) throw new ConfigError(name, `the value of ${header} contains a control or non-ASCII character`);
    seen.add(lower);
    headers[header] = headerValue;
  }
  return headers;
}

/** The SigV4 signing region: explicit, else the AMP workspace URL's, else AWS_REGION; checked against the URL. */
function sigv4Region(env: Env, url: URL): string {
  const explicit = optional(env, 'REMOTE_WRITE_SIGV4_REGION');
  const fromUrl = AMP_HOST.exec(url.hostname)?.[1];
  const region = explicit ?? fromUrl ?? optional(env, 'AWS_REGION');
  const source = explicit !== undefined ? 'REMOTE_WRITE_SIGV4_REGION' : fromUrl !== undefined ? 'REMOTE_WRITE_URL' : 'AWS_REGION';
  if (region === undefined) {
    throw new ConfigError('REMOTE_WRITE_SIGV4_REGION', 'is required with REMOTE_WRITE_SIGV4=true (the URL names no AMP region and AWS_REGION is not set)');
  }
  if (!REGION.test(region)) throw new ConfigError(source, `"${region}" is not an AWS region name (like eu-west-1)`);
  // A signature scoped to another region is refused with 403 on every request; say so at cold start instead.
  if (fromUrl !== undefined && region !== fromUrl) {
    throw new ConfigError(source, `region ${region} does not match the workspace URL's region ${fromUrl}: AMP would refuse the signature`);
  }
  return region;
}

/** Makes `JSON.stringify` and `util.inspect` show header names with masked values, so a logged config leaks nothing. */
function redactedWhenLogged(headers: Record<string, string>): Record<string, string> {
  const masked = (): Record<string, string> => Object.fromEntries(Object.keys(headers).map((k) => [k, '***']));
  Object.defineProperty(headers, 'toJSON', { value: masked, enumerable: false });
  Object.defineProperty(headers, inspect.custom, { value: masked, enumerable: false });
  return headers;
}

/**
 * Reads and validates the remote-write auth and header variables (see the module comment). `url` is the
 * remote-write URL, used to check the SigV4 region. Throws ConfigError naming the offending variable.
 */
export function loadRemoteWriteAuth(env: Env, url: URL): RemoteWriteAuth {
  const token = optional(env, 'REMOTE_WRITE_BEARER_TOKEN');
  const username = optional(env, 'REMOTE_WRITE_BASIC_AUTH_USERNAME');
  const password = optional(env, 'REMOTE_WRITE_BASIC_AUTH_PASSWORD');
  const sigv4 = boolean(env, 'REMOTE_WRITE_SIGV4', false);

  const chosen: Array<[AuthMethod, string]> = [];
  if (token !== undefined) chosen.push(['bearer', 'REMOTE_WRITE_BEARER_TOKEN']);
  if (username !== undefined || password !== undefined) {
    chosen.push(['basic', username !== undefined ? 'REMOTE_WRITE_BASIC_AUTH_USERNAME' : 'REMOTE_WRITE_BASIC_AUTH_PASSWORD']);
  }
  if (sigv4) chosen.push(['sigv4', 'REMOTE_WRITE_SIGV4']);
  if (chosen.length > 1) {
    const [first, second] = [chosen[0]!, chosen[1]!];
    throw new ConfigError(second[1], `conflicts with ${first[1]}: set at most one remote-write auth method (bearer, basic or SigV4)`);
  }
  if (!sigv4 && optional(env, 'REMOTE_WRITE_SIGV4_REGION') !== undefined) {
    throw new ConfigError('REMOTE_WRITE_SIGV4_REGION', 'is set but REMOTE_WRITE_SIGV4 is not true: requests would go unsigned');
  }
  const method = chosen[0]?.[0] ?? 'none';

  const auth: Record<string, string> = {};
  let sigv4Settings: SigV4Settings | undefined;
  if (method === 'bearer') {
    checkNoControl('REMOTE_WRITE_BEARER_TOKEN', token!);
    if (/^bearer\s/i.test(token!)) throw new ConfigError('REMOTE_WRITE_BEARER_TOKEN', 'give the token alone, without the "Bearer " prefix');
    if (/\s/.test(token!)) throw new ConfigError('REMOTE_WRITE_BEARER_TOKEN', 'contains whitespace, which a bearer token cannot (RFC 6750)');
    // It goes into the header as is, so it must be a valid field value.
    if (!FIELD_VALUE.test(token!)) throw new ConfigError('REMOTE_WRITE_BEARER_TOKEN', 'contains a non-ASCII character, which cannot be sent in an HTTP header');
    auth['Authorization'] = bearerAuthorization(token!);
  } else if (method === 'basic') {
    if (username === undefined) throw new ConfigError('REMOTE_WRITE_BASIC_AUTH_USERNAME', 'is required with REMOTE_WRITE_BASIC_AUTH_PASSWORD');
    if (password === undefined) throw new ConfigError('REMOTE_WRITE_BASIC_AUTH_PASSWORD', 'is required with REMOTE_WRITE_BASIC_AUTH_USERNAME');
    // Base64 carries any UTF-8 (RFC 7617 charset), so only control characters are refused.
    checkNoControl('REMOTE_WRITE_BASIC_AUTH_USERNAME', username);
    checkNoControl('REMOTE_WRITE_BASIC_AUTH_PASSWORD', password);
    // RFC 7617 §2: the user-id cannot contain a colon, the receiver splits at the first one.
    if (username.includes(':')) throw new ConfigError('REMOTE_WRITE_BASIC_AUTH_USERNAME', 'cannot contain ":" (RFC 7617)');
    auth['Authorization'] = basicAuthorization(username, password);
  } else if (method === 'sigv4') {
    sigv4Settings = { region: sigv4Region(env, url) };
  }

  const custom = parseHeaderList(env, 'REMOTE_WRITE_HEADERS', method);
  return {
    auth: method,
    headers: redactedWhenLogged({ ...custom, ...auth }),
    ...(sigv4Settings ? { sigv4: sigv4Settings } : {}),
  };
}
