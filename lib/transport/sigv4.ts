/**
 * AWS Signature Version 4 for remote-write to Amazon Managed Prometheus (service `aps`), with the SDK's own signer
 * (`@smithy/signature-v4`): the exact body bytes are hashed into `x-amz-content-sha256`, and the host, the method
 * (POST), the workspace URL's path and every header we send except `User-Agent` are signed.
 *
 * The signer, the hash and the default credential chain are imported on the first request: together they cost
 * ~150 ms of module loading from node_modules, ~30 ms from the bundle's chunks, which a cold start without SigV4
 * should not pay.
 */

/** AWS credentials as the SDK's providers return them; Lambda's are temporary and carry a session token. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Returns current credentials; the SDK's default chain caches them and refreshes them before they expire. */
export type CredentialsProvider = () => Promise<AwsCredentials>;

/** Returns the headers to send: those given plus the request-specific ones (SigV4: date, hashes, signature). */
export type RequestSigner = (url: string, headers: Record<string, string>, body: Uint8Array) => Promise<Record<string, string>>;

export interface SigV4Options {
  region: string;
  /** Default `aps` (Amazon Managed Prometheus). */
  service?: string;
  /** Default: the SDK's default credential chain (environment, SSO, web identity, ECS / EC2 roles…). */
  credentials?: CredentialsProvider;
  /** The signing time; default now, read per request so `X-Amz-Date` is always fresh. */
  now?: () => Date;
}

interface Signer {
  sign(request: SignableRequest, options: { signingDate: Date }): Promise<{ headers: Record<string, string> }>;
}

interface SignableRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: Uint8Array;
}

async function loadSigner(options: SigV4Options): Promise<Signer> {
  const [{ SignatureV4 }, { Hash }] = await Promise.all([import('@smithy/signature-v4'), import('@smithy/hash-node')]);
  const credentials = options.credentials ?? (await import('@aws-sdk/credential-provider-node')).defaultProvider();
  return new SignatureV4({
    service: options.service ?? 'aps',
    region: options.region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
    // Every AWS service but S3 signs the URI-escaped path; the body hash goes into x-amz-content-sha256.
    uriEscapePath: true,
    applyChecksum: true,
  }) as Signer;
}

function queryOf(u: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(u.searchParams.keys())) {
    const values = u.searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0]! : values;
  }
  return query;
}

/**
 * A signer for `RemoteWriteOptions.sign`. Call it once per attempt: each call reads the time and the (cached)
 * credentials anew. The returned headers include `host`, signed as the URL names it, so that what is signed is
 * what is sent.
 */
export function createSigV4Signer(options: SigV4Options): RequestSigner {
  let signer: Promise<Signer> | undefined;
  const now = options.now ?? (() => new Date());
  return async (url, headers, body) => {
    signer ??= loadSigner(options).catch((error: unknown) => {
      signer = undefined;
      throw error;
    });
    const u = new URL(url);
    const request: SignableRequest = {
      method: 'POST',
      protocol: u.protocol,
      hostname: u.hostname,
      ...(u.port ? { port: Number(u.port) } : {}),
      path: u.pathname,
      query: queryOf(u),
      headers: { ...headers, host: u.host },
      body,
    };
    const signed = await (await signer).sign(request, { signingDate: now() });
    return signed.headers;
  };
}
