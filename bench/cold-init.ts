/**
 * Cold starts per bundle: a fresh `node` imports the built handler (dist/<fn>/index.mjs, as Lambda loads it) and
 * invokes it once, against a bare `node -e 0`, alternating, medians of wall time. Two kinds of first call:
 *
 * - the probe, a tiny event that touches no network, timed from spawn to exit;
 * - a real request, timed from spawn to the handler's reply, since work moved from import to the first request
 *   must show up somewhere: ingest enqueues a 100-metric MetricsHttpSink push on a local SQS API (fauxqs), deliver
 *   writes that push's envelope to a local remote-write receiver answering 204. Until the reply, not exit: after
 *   it, V8 optimises undici's llhttp in the background (~80 ms on this machine) and the process waits for that
 *   before exiting, which a Lambda, frozen after its reply, does not.
 *
 * The bundles are built afresh by scripts/build.mjs into .tmp/bench/dist.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DUMMY_CREDENTIALS, receiveAll, startSqs, type LocalSqs } from '../dev/sqs.ts';
import { toRecord } from '../dev/sqs-poller.ts';
import { buildFunctions, type Bundle } from '../scripts/build.mjs';
import { httpEvent } from './ingest.ts';
import { median } from './measure.ts';
import { fixed, times, type Row } from './report.ts';
import { metricsHttpSinkBody } from './workload.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MAX_BUNDLE_KB = 350;

const BASE_ENV = { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

/** A tiny event per function, and the configuration that lets it through without touching the network. */
const PROBES = {
  ingest: {
    env: { QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/beam-metrics' },
    // An EventBridge event of a source nobody configured: read, judged and acknowledged without an SQS call.
    event: { version: '0', id: 'cold', 'detail-type': 'Bench Probe', source: 'bench.probe', account: '123456789012', time: '2026-11-20T10:00:00Z', region: 'us-east-1', resources: [], detail: {} },
    expect: (reply: unknown) => (reply as { status?: string }).status === 'ignored',
  },
  deliver: {
    env: { REMOTE_WRITE_URL: 'http://127.0.0.1:9/api/v1/write' },
    event: { Records: [] },
    expect: (reply: unknown) => Array.isArray((reply as { batchItemFailures?: unknown }).batchItemFailures),
  },
} as const;

type FunctionName = keyof typeof PROBES;
export type Bundles = Record<FunctionName, Bundle>;

/** Builds both functions with scripts/build.mjs into .tmp/bench/dist. */
export async function buildBundles(): Promise<Bundles> {
  const outdir = join(ROOT, '.tmp', 'bench', 'dist');
  mkdirSync(outdir, { recursive: true });
  const built = await buildFunctions({ outdir });
  const of = (name: FunctionName) => built.find((b) => b.name === name) ?? fail(`bench: scripts/build.mjs built no ${name} bundle`);
  return { ingest: of('ingest'), deliver: of('deliver') };
}

function fail(message: string): never {
  throw new Error(message);
}

function spawnMs(args: string[], env: Record<string, string>): { ms: number; stdout: string; ok: boolean; output: string } {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 30_000 });
  const ms = performance.now() - started;
  return { ms, stdout: run.stdout, ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

/** Asynchronous, so that the SQS API in this process answers meanwhile; `ms` is spawn to the reply line. */
function spawnUntilReply(args: string[], env: Record<string, string>): Promise<{ ms: number; reply: unknown; output: string }> {
  return new Promise((done, failed) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    let ms = Number.NaN;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      output += chunk;
      if (Number.isNaN(ms) && stdout.includes(REPLY_MARK)) ms = performance.now() - started;
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', failed);
    child.on('close', (code) => {
      if (code !== 0 || Number.isNaN(ms)) failed(new Error(`bench: a cold start exited ${code}:\n${output.slice(-2000)}`));
      else done({ ms, reply: lastReply(stdout), output });
    });
  });
}

const REPLY_MARK = '\nreply: ';

function probeScript(file: string, event: unknown): string {
  // The reply goes out on its own marked line; the handlers log their own lines before it.
  return `const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});
const reply = await handler(${JSON.stringify(event)}, { awsRequestId: 'cold', getRemainingTimeInMillis: () => 30000 });
process.stdout.write(${JSON.stringify(REPLY_MARK)} + JSON.stringify(reply) + '\\n');`;
}

function lastReply(stdout: string): unknown {
  const at = stdout.lastIndexOf(REPLY_MARK);
  try {
    return JSON.parse(stdout.slice(at + REPLY_MARK.length).split('\n')[0] ?? '');
  } catch {
    return undefined;
  }
}

interface RealRequests {
  ingest: { event: unknown; env: Record<string, string> };
  /** Built from the message the first ingest run enqueued. */
  deliver?: { event: unknown; env: Record<string, string> };
}

/** A remote-write receiver that takes everything: the first request's cost is ours, not a database's. */
async function startAcceptingReceiver(): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/api/v1/write`, close: () => server.close() };
}

export async function coldInitRows(bundles: Bundles, rounds: number): Promise<Row[]> {
  const names = Object.keys(PROBES) as FunctionName[];
  const bare: number[] = [];
  const init: Record<FunctionName, number[]> = { ingest: [], deliver: [] };
  const real: Record<FunctionName, number[]> = { ingest: [], deliver: [] };
  const sqs: LocalSqs = await startSqs({ queueName: 'bench-cold' });
  const receiver = await startAcceptingReceiver();
  const aws = {
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    // Lambda's credentials are temporary: the environment provider answers with a session token.
    AWS_SESSION_TOKEN: 'bench',
  };
  const requests: RealRequests = {
    ingest: { event: httpEvent(metricsHttpSinkBody(100, Date.now())), env: { ...aws, QUEUE_URL: sqs.queueUrl } },
  };
  try {
    // One unmeasured round first: the page cache then holds node and the bundles, and deliver gets its envelope.
    for (let r = -1; r < rounds; r++) {
      const b = spawnMs(['-e', '0'], BASE_ENV);
      if (r >= 0) bare.push(b.ms);
      for (const name of names) {
        const probe = PROBES[name];
        const run = spawnMs(['--input-type=module', '-e', probeScript(bundles[name].file, probe.event)], { ...BASE_ENV, ...probe.env });
        if (!run.ok || !probe.expect(lastReply(run.stdout))) throw new Error(`bench: the ${name} bundle did not answer its probe:\n${run.output.slice(-2000)}`);
        if (r >= 0) init[name].push(run.ms);
      }
      const ingest = await spawnUntilReply(['--input-type=module', '-e', probeScript(bundles.ingest.file, requests.ingest.event)], { ...BASE_ENV, ...requests.ingest.env });
      if ((ingest.reply as { statusCode?: number } | undefined)?.statusCode !== 200) throw new Error(`bench: the ingest bundle did not enqueue:\n${ingest.output.slice(-2000)}`);
      const messages = await receiveAll(sqs.client, sqs.queueUrl);
      requests.deliver ??= {
        event: { Records: messages.slice(0, 1).map((m) => toRecord(m, sqs.queueArn, sqs.region)) },
        env: { ...aws, REMOTE_WRITE_URL: receiver.url, DLQ_URL: sqs.dlqUrl },
      };
      const deliver = await spawnUntilReply(['--input-type=module', '-e', probeScript(bundles.deliver.file, requests.deliver.event)], { ...BASE_ENV, ...requests.deliver.env });
      if ((deliver.reply as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures?.length !== 0) throw new Error(`bench: the deliver bundle did not write:\n${deliver.output.slice(-2000)}`);
      if (r >= 0) {
        real.ingest.push(ingest.ms);
        real.deliver.push(deliver.ms);
      }
    }
  } finally {
    receiver.close();
    await sqs.stop();
  }
  const bareMs = median(bare);
  const rows: Row[] = [];
  for (const name of names) {
    const ms = median(init[name]);
    rows.push({
      row: `cold init, ${name} bundle (fresh process: import + first call on a tiny event)`,
      ours: `${fixed(ms, 0)} ms`,
      reference: `${fixed(bareMs, 0)} ms (\`node -e 0\`)`,
      ratio: times(ms / bareMs, 'bare node'),
      target: '≤ 1.3×',
      met: ms / bareMs <= 1.3,
    });
  }
  const realWork = {
    ingest: 'one 100-metric MetricsHttpSink push enqueued on a local SQS API',
    deliver: "that push's envelope written to a local remote-write receiver",
  };
  for (const name of names) {
    const ms = median(real[name]);
    rows.push({
      row: `cold start + first real request, ${name} bundle (fresh process: import + ${realWork[name]}; until the reply)`,
      ours: `${fixed(ms, 0)} ms`,
      reference: `${fixed(bareMs, 0)} ms (\`node -e 0\`)`,
      ratio: times(ms / bareMs, 'bare node'),
      target: 'printed',
      met: undefined,
    });
  }
  const loadedAtInit = { ingest: 'index.mjs + the SQS client chunks its runtime loads at init', deliver: 'index.mjs + the chunks it imports' };
  for (const name of names) {
    const b = bundles[name];
    const kb = b.bytes / 1024;
    rows.push({
      row: `bundle read at cold start, ${name} (dist/${name}/: ${loadedAtInit[name]}; minified, AWS SDK bundled; ${fixed(b.lazyBytes / 1024, 1)} KB more in chunks loaded on use)`,
      ours: `${fixed(kb, 1)} KB`,
      reference: '—',
      ratio: '—',
      target: `≤ ${MAX_BUNDLE_KB} KB`,
      met: kb <= MAX_BUNDLE_KB,
    });
  }
  return rows;
}
