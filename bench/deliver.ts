/**
 * The deliver handler against a real VictoriaMetrics, beside the receiver's own limit: VictoriaMetrics ingesting
 * the very request bodies the handler would send, pre-encoded, posted at the same concurrency over the same kind
 * of keep-alive pool. The handler runs in a child process (one warm "Lambda"), which also reports its peak RSS.
 * Handler runs and limit runs alternate, so load from elsewhere falls on both.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startVictoriaMetrics, waitForQuery, type RemoteWriteReceiver } from '../dev/receivers.ts';
import { onSeparateCores } from './affinity.ts';
import { loadDeliverConfig } from '../lib/deliver/config.ts';
import { compressWriteRequestV1, REMOTE_WRITE_V1_HEADERS } from '../lib/encoders/remote-write-v1.ts';
import { planRequests, toWriteRequest } from '../lib/deliver/merge.ts';
import { createDispatcher } from '../lib/transport/http.ts';
import { ASSUMPTIONS } from './cost.ts';
import { median } from './measure.ts';
import { fixed, perSecond, times, type Row } from './report.ts';
import type { BatchRecord } from '../lib/deliver/deliver.ts';
import { deliverBatch, mergedSeries, PUSH_PERIOD_MS, SERIES_PER_PUSH } from './workload.ts';

type ParentMessage = { type: 'run'; event: string } | { type: 'exit' };
type ChildMessage =
  | { type: 'ready' }
  | { type: 'result'; ms: number; cpuMs: number; failed: number; records: number }
  | { type: 'done'; maxRssBytes: number; liveHeapBytes: number }
  | { type: 'error'; message: string };

export interface DeliverOptions {
  jobs: number;
  pushes: number;
  warmupRounds: number;
  rounds: number;
}

/** The batch: 1,000 envelopes × 100 samples (250 jobs × 4 pushes). */
export const DELIVER_BATCH: Readonly<Pick<DeliverOptions, 'jobs' | 'pushes'>> = Object.freeze({ jobs: 250, pushes: 4 });

export interface DeliverFigures {
  rows: Row[];
  samples: number;
  /** Median handler time per batch, ms, and the CPU it used. */
  medianMs: number;
  cpuMs: number;
  samplesPerSecond: number;
  limitSamplesPerSecond: number;
  maxRssBytes: number;
  /** Every measured batch, in order, with every process on every CPU and (when measured) on a CPU each. */
  batches: Batches;
  separateBatches: Batches | undefined;
}

/**
 * The heap limits Lambda's Node.js runtime starts `node` with for a function of `memoryMb` (its bootstrap script,
 * as in AWS's Lambda base images): a tenth of the memory for the young generation, in two semi-spaces of half of
 * that, and the rest for the old generation. Without them V8 sizes its heap for this 24 GiB machine.
 */
export function lambdaHeapFlags(memoryMb: number): string[] {
  const newSpaceMb = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(newSpaceMb / 2)}`, `--max-old-space-size=${memoryMb - newSpaceMb}`];
}

/** One warm deliver "Lambda": the built bundle in its own `node`, run by bench/deliver-child.mjs. */
export class DeliverChild {
  private pending: { resolve: (m: ChildMessage) => void; reject: (e: Error) => void } | undefined;
  /** Messages that came while nobody waited (a second child's `ready`, while the first is awaited). */
  private readonly inbox: ChildMessage[] = [];
  private readonly process: ChildProcess;

  constructor(bundle: string, env: NodeJS.ProcessEnv) {
    // Plain node, without this process' TypeScript loader: the child runs the built bundle as Lambda would, with
    // the heap limits Lambda gives a function of the deployed size. --expose-gc changes no collection by itself
    // (Lambda passes it too); the child calls gc() once, after its last batch. BENCH_CHILD_CPU_PROF=<dir> writes
    // the child's CPU profile there; BENCH_CHILD_FLAGS='--trace-gc …' adds node flags and shows the child's stdout,
    // where V8 writes its traces.
    const profile = process.env.BENCH_CHILD_CPU_PROF;
    const flags = process.env.BENCH_CHILD_FLAGS?.split(' ').filter(Boolean) ?? [];
    this.process = fork(fileURLToPath(new URL('./deliver-child.mjs', import.meta.url)), [bundle], {
      env,
      execArgv: ['--expose-gc', ...lambdaHeapFlags(ASSUMPTIONS.deliverMemoryMb), ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), ...flags],
      serialization: 'advanced',
      stdio: ['ignore', flags.length > 0 ? 'inherit' : 'ignore', 'inherit', 'ipc'],
    });
    this.process.on('message', (m: ChildMessage) => {
      const waiting = this.settle();
      if (waiting) waiting.resolve(m);
      else this.inbox.push(m);
    });
    this.process.on('exit', (code, signal) => this.settle()?.reject(new Error(`bench: the deliver child exited (${code ?? signal}) before answering`)));
  }

  private settle() {
    const p = this.pending;
    this.pending = undefined;
    return p;
  }

  next(): Promise<ChildMessage> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  /** Resolves once the child has loaded its bundle. */
  async started(): Promise<void> {
    const first = await this.next();
    if (first.type !== 'ready') throw new Error(`bench: unexpected first message from the deliver child: ${first.type}`);
  }

  async ask(m: ParentMessage): Promise<ChildMessage> {
    this.thaw();
    const answer = this.next();
    this.process.send(m);
    const reply = await answer;
    if (reply.type === 'error') throw new Error(`bench: deliver child failed: ${reply.message}`);
    // Lambda freezes an execution environment between invocations: no timers, tasks or collector threads run
    // until the next event. Idle, this child would finish V8's marking and sweeping between batches for free.
    if (reply.type === 'result') {
      this.process.kill('SIGSTOP');
      this.frozen = true;
    }
    return reply;
  }

  /** Stopped (SIGSTOP) since its last batch, as Lambda freezes a function between invocations. */
  private frozen = false;

  private thaw(): void {
    if (!this.frozen) return;
    this.process.kill('SIGCONT');
    this.frozen = false;
  }

  /** The child's process id. */
  get pid(): number {
    return this.process.pid!;
  }

  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.thaw();
      this.process.kill();
    }
  }
}

/** The SQS event Lambda would hand the handler for these messages, as the JSON text its runtime receives. */
export function sqsEventJson(records: readonly BatchRecord[]): string {
  const now = Date.now();
  return JSON.stringify({
    Records: records.map(({ messageId, body }, i) => ({
      messageId,
      receiptHandle: `AQEB${messageId}${'x'.repeat(300)}`,
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(now + i), SenderId: 'AROAEXAMPLE:ingest', ApproximateFirstReceiveTimestamp: String(now + i + 50) },
      messageAttributes: {},
      md5OfBody: '0123456789abcdef0123456789abcdef',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:beam-metrics',
      awsRegion: 'us-east-1',
    })),
  });
}

/** The bodies the handler sends for this batch, encoded ahead of time. */
function preEncodedBodies(jobs: number, pushes: number, startMs: number, env: NodeJS.ProcessEnv): { bodies: Uint8Array[]; samples: number } {
  const rw = loadDeliverConfig(env).remoteWrite!;
  const { series, families } = mergedSeries(deliverBatch(jobs, pushes, startMs));
  const planned = planRequests(series, { maxSamples: rw.maxSamples, maxBytes: rw.maxBytes });
  return { bodies: planned.map((p) => compressWriteRequestV1(toWriteRequest(p, families))), samples: planned.reduce((n, p) => n + p.samples, 0) };
}

async function postAll(url: string, bodies: readonly Uint8Array[], concurrency: number, dispatcher: ReturnType<typeof createDispatcher>): Promise<number> {
  const headers = { ...REMOTE_WRITE_V1_HEADERS, 'User-Agent': 'beam-prom-relay-bench' };
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await request(url, { dispatcher, method: 'POST', headers, body });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`bench: VictoriaMetrics answered ${res.statusCode}: ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, worker));
  return performance.now() - started;
}

/** The deliver child's environment: a function writing to `remoteWriteUrl`, with this process' request-size and heap-reserve settings. */
export function deliverEnv(remoteWriteUrl: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    REMOTE_WRITE_URL: remoteWriteUrl,
    AWS_REGION: 'us-east-1',
    // Lambda states the function's memory; the handler sizes its heap reserve from it.
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(ASSUMPTIONS.deliverMemoryMb),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Request-size and heap-reserve settings pass through, to measure other defaults
    // (`REMOTE_WRITE_MAX_SAMPLES=10000 npm run bench`, `DELIVER_HEAP_RESERVE_MB=0 npm run bench`).
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(REMOTE_WRITE_(MAX_SAMPLES|MAX_BYTES|CONCURRENCY)|DELIVER_HEAP_RESERVE_MB)$/.test(k))),
  };
}

/** Per measured round: the handler's batch (wall and CPU of its process) and the limit run's, in ms. */
export interface Batches {
  handlerMs: number[];
  cpuMs: number[];
  limitMs: number[];
}

/** Rounds of one setup: a batch through the handler, then the same amount of samples as pre-encoded bodies. */
class Rounds {
  /** Each run writes samples newer than the last one's, as consecutive batches from live jobs would. */
  private startMs: number;

  constructor(
    private readonly child: DeliverChild,
    private readonly vm: RemoteWriteReceiver,
    private readonly env: NodeJS.ProcessEnv,
    private readonly dispatcher: ReturnType<typeof createDispatcher>,
    private readonly options: DeliverOptions,
    totalRounds: number,
  ) {
    // The last samples land about a minute before now, inside the lookback of the check query.
    this.startMs = Date.now() - totalRounds * 2 * this.spanMs() - 60_000;
  }

  private spanMs(): number {
    return this.options.pushes * PUSH_PERIOD_MS;
  }

  async run(): Promise<Batches> {
    const { jobs, pushes, warmupRounds, rounds } = this.options;
    const concurrency = loadDeliverConfig(this.env).remoteWrite!.concurrency;
    const samples = jobs * SERIES_PER_PUSH * pushes;
    const out: Batches = { handlerMs: [], cpuMs: [], limitMs: [] };
    for (let r = 0; r < warmupRounds + rounds; r++) {
      const result = await this.child.ask({ type: 'run', event: sqsEventJson(deliverBatch(jobs, pushes, this.startMs)) });
      this.startMs += this.spanMs();
      if (result.type !== 'result') throw new Error(`bench: unexpected message from the deliver child: ${result.type}`);
      if (result.failed > 0) throw new Error(`bench: the deliver handler reported ${result.failed} of ${result.records} messages failed`);
      const { bodies, samples: bodySamples } = preEncodedBodies(jobs, pushes, this.startMs, this.env);
      this.startMs += this.spanMs();
      if (bodySamples !== samples) throw new Error(`bench: pre-encoded bodies hold ${bodySamples} samples, expected ${samples}`);
      const ms = await postAll(this.vm.remoteWriteUrl, bodies, concurrency, this.dispatcher);
      if (r >= warmupRounds) {
        out.handlerMs.push(result.ms);
        out.cpuMs.push(result.cpuMs);
        out.limitMs.push(ms);
      }
    }
    return out;
  }
}

/**
 * `bundle`: the built deliver handler (dist/deliver/index.mjs). Two setups, one after the other, with the same
 * warm child and receiver: every process free to use every CPU, then the handler's process (with this one, which
 * posts the limit run's bodies) on one CPU and VictoriaMetrics on another. The second is skipped, with a note, where
 * that cannot be arranged (one CPU, no `taskset`).
 */
export async function deliverRows(bundle: string, options: DeliverOptions): Promise<DeliverFigures> {
  const { jobs, pushes } = options;
  const vm = await startVictoriaMetrics();
  const env = deliverEnv(vm.remoteWriteUrl);
  const child = new DeliverChild(bundle, env);
  const dispatcher = createDispatcher();
  try {
    await child.started();
    const concurrency = loadDeliverConfig(env).remoteWrite!.concurrency;
    const samples = jobs * SERIES_PER_PUSH * pushes;
    const rounds = new Rounds(child, vm, env, dispatcher, options, 2 * (options.warmupRounds + options.rounds));
    const shared = await rounds.run();
    let separate: { batches: Batches; cores: string } | { skipped: string };
    try {
      const cores = onSeparateCores([child.pid, process.pid], vm.processGroup);
      try {
        separate = { batches: await rounds.run(), cores: `CPU ${cores.handlerCpu} and CPU ${cores.receiverCpu}` };
      } finally {
        cores.restore();
      }
    } catch (error) {
      if (!(error instanceof Error) || error.message.startsWith('bench:')) throw error;
      separate = { skipped: error.message };
    }
    // Every series of the batch must be queryable, or the figures measured a handler that dropped data.
    const seriesCount = jobs * SERIES_PER_PUSH;
    await waitForQuery(vm.url, 'count({__name__=~"beam_.+"})', (res) => res[0]?.value === seriesCount, { timeoutMs: 30_000 });
    const done = await child.ask({ type: 'exit' });
    const maxRssBytes = done.type === 'done' ? done.maxRssBytes : NaN;
    const liveHeapBytes = done.type === 'done' ? done.liveHeapBytes : NaN;

    const batch = `SQS batch of ${(jobs * pushes).toLocaleString('en-US')} envelopes × ${SERIES_PER_PUSH} samples (${(jobs * SERIES_PER_PUSH).toLocaleString('en-US')} series × ${pushes})`;
    const target = '≥ 500k samples/s and ≥ 0.5× the limit';
    const throughputRow = (row: string, b: Batches): Row => {
      const ours = samples / (median(b.handlerMs) / 1000);
      const limit = samples / (median(b.limitMs) / 1000);
      return {
        row,
        ours: `${perSecond(ours, 'samples/s')} (${fixed(median(b.handlerMs), 0)} ms per batch, ${fixed(median(b.cpuMs), 0)} ms CPU)`,
        reference: `${perSecond(limit, 'samples/s')} (VictoriaMetrics taking the pre-encoded bodies, ${concurrency} in flight)`,
        ratio: times(ours / limit, 'the limit'),
        target,
        met: ours >= 500_000 && ours / limit >= 0.5,
      };
    };
    const separateRow: Row =
      'batches' in separate
        ? throughputRow(`same, handler and receiver on a CPU each, as in production (taskset: ${separate.cores}; the limit run's poster on the handler's)`, separate.batches)
        : { row: 'same, handler and receiver on a CPU each, as in production', ours: `not measured: ${separate.skipped}`, reference: '—', ratio: '—', target, met: undefined };
    const mb = maxRssBytes / 1024 / 1024;
    const medianMs = median(shared.handlerMs);
    return {
      rows: [
        throughputRow(`deliver handler → real VictoriaMetrics, one process, ${batch}; handler and receiver sharing the CPUs`, shared),
        separateRow,
        {
          row: `peak memory of the deliver handler for the batch above (max RSS of its process, with Lambda's heap limits for ${ASSUMPTIONS.deliverMemoryMb} MB: ${lambdaHeapFlags(ASSUMPTIONS.deliverMemoryMb).join(' ')})`,
          ours: `${fixed(mb, 0)} MB (${fixed(liveHeapBytes / 1024 / 1024, 0)} MB of heap live between batches)`,
          reference: '—',
          ratio: '—',
          target: '≤ 256 MB (fits a 512 MB Lambda)',
          met: mb <= 256,
        },
      ],
      samples,
      medianMs,
      cpuMs: median(shared.cpuMs),
      samplesPerSecond: samples / (medianMs / 1000),
      limitSamplesPerSecond: samples / (median(shared.limitMs) / 1000),
      maxRssBytes,
      batches: shared,
      separateBatches: 'batches' in separate ? separate.batches : undefined,
    };
  } finally {
    child.kill();
    await dispatcher.close();
    await vm.stop();
  }
}
