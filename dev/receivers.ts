/**
 * The real receivers (Prometheus, Pushgateway, VictoriaMetrics) as child processes on free 127.0.0.1 ports with
 * temporary data directories, for the local stack and the integration tests (DESIGN §4, "Receivers").
 *
 * Each child runs under a small `sh` watchdog in its own process group: the watchdog ends the receiver when our
 * end of its stdin pipe closes, so a receiver cannot outlive this process even when it is killed with SIGKILL.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pollUntil } from './deadline.ts';

export const INSTALL_COMMAND = 'apt-get install -y --no-install-recommends prometheus prometheus-pushgateway victoria-metrics';

/** A receiver binary is not installed. */
export class ReceiverMissingError extends Error {
  override name = 'ReceiverMissingError';
  readonly binary: string;
  constructor(binary: string) {
    super(`${binary} is not installed (not found on PATH). Install the receivers with: ${INSTALL_COMMAND}`);
    this.binary = binary;
  }
}

/** A receiver exited or never became ready; carries the tail of what it printed. */
export class ReceiverStartError extends Error {
  override name = 'ReceiverStartError';
  readonly receiver: string;
  readonly outputTail: string;
  constructor(receiver: string, reason: string, outputTail: string, options?: { cause?: unknown }) {
    super(`${receiver} failed to start: ${reason}${outputTail ? `\n--- last output of ${receiver} ---\n${outputTail}` : ''}`, options);
    this.receiver = receiver;
    this.outputTail = outputTail;
  }
}

/** A PromQL query was refused or the receiver answered with an error. */
export class QueryError extends Error {
  override name = 'QueryError';
  readonly status: number;
  readonly body: string;
  constructor(promql: string, status: number, body: string) {
    super(`query ${JSON.stringify(promql)} failed with HTTP ${status}: ${body.slice(0, 500)}`);
    this.status = status;
    this.body = body;
  }
}

export interface Receiver {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The process group the receiver runs in (its watchdog leads it), for tools that measure or pin it. */
  processGroup: number;
  /** Stops the process (SIGTERM, SIGKILL after a grace period) and removes its temporary directory. */
  stop(): Promise<void>;
}

export interface RemoteWriteReceiver extends Receiver {
  /** Remote-write 1.0 endpoint. */
  remoteWriteUrl: string;
}

export interface StartOptions {
  /** How long to wait for readiness (default 20 s). */
  readyTimeoutMs?: number;
  /** Extra command-line flags. */
  args?: string[];
}

export interface PrometheusOptions extends StartOptions {
  /** `storage.tsdb.out_of_order_time_window`, e.g. `'10m'`; absent means Prometheus' default (none). */
  outOfOrderTimeWindow?: string;
}

const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_BYTES = 16 * 1024;
const PORT_ATTEMPTS = 3;

/** Starts Prometheus with the remote-write receiver enabled and no scrape targets; ready at `/-/ready`. */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<RemoteWriteReceiver> {
  const receiver = await startReceiver({
    name: 'prometheus',
    readyPath: '/-/ready',
    readyTimeoutMs: options.readyTimeoutMs,
    prepare: (dir) => {
      const storage = options.outOfOrderTimeWindow
        ? `storage:\n  tsdb:\n    out_of_order_time_window: ${options.outOfOrderTimeWindow}\n`
        : '';
      writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 15s\nscrape_configs: []\n${storage}`);
    },
    args: (port, dir) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      ...(options.args ?? []),
    ],
  });
  return { ...receiver, remoteWriteUrl: `${receiver.url}/api/v1/write` };
}

/** Starts a Pushgateway (no persistence); ready at `/-/ready`. */
export async function startPushgateway(options: StartOptions = {}): Promise<Receiver> {
  return startReceiver({
    name: 'prometheus-pushgateway',
    readyPath: '/-/ready',
    readyTimeoutMs: options.readyTimeoutMs,
    // Debian's build persists to /var/lib/prometheus/pushgateway.data by default: every instance would share one
    // file and see the others' groups. In memory only, each starts empty.
    args: (port) => [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file=', ...(options.args ?? [])],
  });
}

/**
 * Starts single-node VictoriaMetrics; ready at `/health`. `waitForQuery` flushes it before each poll, since its
 * writes only become queryable 0.5–9 s later.
 */
export async function startVictoriaMetrics(options: StartOptions = {}): Promise<RemoteWriteReceiver> {
  const receiver = await startReceiver({
    name: 'victoria-metrics',
    readyPath: '/health',
    readyTimeoutMs: options.readyTimeoutMs,
    args: (port, dir) => [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${join(dir, 'data')}`,
      '-retentionPeriod=1',
      '-search.latencyOffset=0s',
      ...(options.args ?? []),
    ],
  });
  victoriaMetricsUrls.add(receiver.url);
  return {
    ...receiver,
    remoteWriteUrl: `${receiver.url}/api/v1/write`,
    stop: async () => {
      victoriaMetricsUrls.delete(receiver.url);
      await receiver.stop();
    },
  };
}

const victoriaMetricsUrls = new Set<string>();

// ---------------------------------------------------------------------------------------------------------------
// Queries

/** One element of an instant-vector (or scalar) result. */
export interface QuerySample {
  metric: Record<string, string>;
  value: number;
}

export interface QueryOptions {
  /** Evaluation time in ms since the epoch (default: now). */
  timeMs?: number;
  /** Bypass VictoriaMetrics' response cache (`nocache=1`); Prometheus ignores it. */
  nocache?: boolean;
  timeoutMs?: number;
}

/** Runs an instant PromQL query against `GET /api/v1/query`. */
export async function queryInstant(baseUrl: string, promql: string, options: QueryOptions = {}): Promise<QuerySample[]> {
  const params = new URLSearchParams({ query: promql });
  if (options.timeMs !== undefined) params.set('time', (options.timeMs / 1000).toFixed(3));
  if (options.nocache) params.set('nocache', '1');
  const response = await fetch(`${baseUrl}/api/v1/query?${params}`, { signal: AbortSignal.timeout(options.timeoutMs ?? 5_000) });
  const text = await response.text();
  if (!response.ok) throw new QueryError(promql, response.status, text);
  const answer = JSON.parse(text) as {
    status: string;
    data?: { resultType: string; result: unknown };
  };
  if (answer.status !== 'success' || !answer.data) throw new QueryError(promql, response.status, text);
  const { resultType, result } = answer.data;
  if (resultType === 'vector') {
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }));
  }
  if (resultType === 'scalar') return [{ metric: {}, value: Number((result as [number, string])[1]) }];
  throw new QueryError(promql, response.status, `unsupported resultType ${resultType}`);
}

export interface WaitForQueryOptions {
  timeoutMs: number;
  intervalMs?: number;
}

/**
 * Polls an instant query until `predicate` accepts the result, and returns that result. Against a
 * VictoriaMetrics started here it calls `GET /internal/force_flush` before each poll and queries with `nocache=1`.
 */
export async function waitForQuery(
  baseUrl: string,
  promql: string,
  predicate: (result: QuerySample[]) => boolean,
  { timeoutMs, intervalMs = 200 }: WaitForQueryOptions,
): Promise<QuerySample[]> {
  const isVictoriaMetrics = victoriaMetricsUrls.has(baseUrl);
  return pollUntil(
    `${promql} on ${baseUrl} to satisfy the predicate`,
    async () => {
      if (isVictoriaMetrics) await fetch(`${baseUrl}/internal/force_flush`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.arrayBuffer());
      const result = await queryInstant(baseUrl, promql, { nocache: isVictoriaMetrics });
      return predicate(result) ? { done: true, value: result } : { done: false, seen: result };
    },
    { timeoutMs, intervalMs },
  );
}

/** The Pushgateway's `/metrics` page: every pushed group plus its own metrics, in the text format. */
export async function readPushgatewayMetrics(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${url}/metrics answered ${response.status}`);
  return response.text();
}

/** One group as `GET /api/v1/metrics` lists it: its grouping labels, and per metric name its family. */
export interface PushgatewayGroup {
  labels: Record<string, string>;
  [metricName: string]: unknown;
}

/** The Pushgateway's groups from its JSON API (`GET /api/v1/metrics`). */
export async function readPushgatewayGroups(url: string): Promise<PushgatewayGroup[]> {
  const response = await fetch(`${url}/api/v1/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${url}/api/v1/metrics answered ${response.status}`);
  const answer = (await response.json()) as { data?: PushgatewayGroup[] };
  return answer.data ?? [];
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes

interface ReceiverSpec {
  name: string;
  readyPath: string;
  readyTimeoutMs: number | undefined;
  prepare?: (dir: string) => void;
  args: (port: number, dir: string) => string[];
}

interface Running {
  child: ChildProcess;
  dir: string;
}

const running = new Set<Running>();

/**
 * `sh -c WATCHDOG watchdog DIR BINARY ARGS…`: ends the receiver when our end of the stdin pipe closes (this process
 * gone, even by SIGKILL), ignores TERM/INT itself so that `wait` returns only once the receiver has really exited,
 * then removes the receiver's temporary directory.
 */
const WATCHDOG = [
  'dir=$1; shift',
  'exec 3<&0',
  '"$@" </dev/null &',
  'child=$!',
  '(read -r _ <&3; kill -TERM "$child" 2>/dev/null) &',
  'watcher=$!',
  'exec 3<&-',
  "trap '' TERM INT",
  'wait "$child"; code=$?',
  'kill "$watcher" 2>/dev/null',
  'rm -rf "$dir"',
  'exit "$code"',
].join('\n');

async function startReceiver(spec: ReceiverSpec): Promise<Receiver> {
  const binary = findOnPath(spec.name);
  if (!binary) throw new ReceiverMissingError(spec.name);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await launch(spec, binary, port);
    } catch (error) {
      // The port is free when we ask and taken a moment later if another process grabs it first: try another.
      const raced = error instanceof ReceiverStartError && /address already in use/i.test(error.outputTail);
      if (!raced || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

async function launch(spec: ReceiverSpec, binary: string, port: number): Promise<Receiver> {
  const dir = mkdtempSync(join(tmpdir(), `bpr-${spec.name}-`));
  spec.prepare?.(dir);
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'watchdog', dir, binary, ...spec.args(port, dir)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const entry: Running = { child, dir };
  running.add(entry);
  installExitHooks();
  const output = new OutputTail(OUTPUT_TAIL_BYTES);
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!running.has(entry)) return;
    signalGroup(child, 'SIGTERM');
    // Unref'd waits: a timer left running after the child exited would hold the test process open for the grace.
    const graceful = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS, false, { ref: false })]);
    if (!graceful) {
      signalGroup(child, 'SIGKILL');
      await Promise.race([exited, sleep(1_000, undefined, { ref: false })]);
    }
    child.stdin?.destroy();
    running.delete(entry);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };

  const gone = new AbortController();
  void exited.then(() => gone.abort(new ReceiverStartError(spec.name, `exited with code ${child.exitCode ?? child.signalCode}`, output.text())));
  void spawnFailed.then((error) => gone.abort(new ReceiverStartError(spec.name, error.message, output.text(), { cause: error })));
  try {
    await pollUntil(
      `${spec.name} to answer ${url}${spec.readyPath}`,
      async () => {
        const response = await fetch(`${url}${spec.readyPath}`, { signal: AbortSignal.timeout(1_000) });
        await response.arrayBuffer();
        return response.ok ? { done: true, value: undefined } : { done: false, seen: `HTTP ${response.status}` };
      },
      { timeoutMs: spec.readyTimeoutMs ?? 20_000, intervalMs: 50, signal: gone.signal },
    );
  } catch (error) {
    await stop();
    if (error instanceof ReceiverStartError) throw error;
    throw new ReceiverStartError(spec.name, error instanceof Error ? error.message : String(error), output.text(), { cause: error });
  }
  return { url, processGroup: child.pid!, stop };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** A port the OS reports free on 127.0.0.1 (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('the OS did not report a port'))));
    });
  });
}

/** The last `limit` bytes a process printed. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8').trimEnd();
  }
}

let hooksInstalled = false;

/**
 * On exit, kill every receiver still running and remove its directory. On SIGINT / SIGTERM / SIGHUP with no other
 * listener, do the same and then die of the signal as the default disposition would; when someone else listens
 * (the local stack's orderly shutdown), leave the shutdown to them — the exit hook still runs afterwards.
 */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return;
      killAllNow();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function killAllNow(): void {
  for (const entry of running) {
    signalGroup(entry.child, 'SIGKILL');
    entry.child.stdin?.destroy();
    try {
      rmSync(entry.dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Best effort while exiting.
    }
  }
  running.clear();
}
