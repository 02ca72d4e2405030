/**
 * Running the fault matrix: each scenario in a child process (scenario.ts), its result line parsed, the rows
 * rendered as a table for the terminal and as RELIABILITY.md.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Accounting } from './accounting.ts';
import { BASE_ENV, BASE_STACK, FAULTS, HARD_DEADLINE_MS, SETTLE_MS, VOLUMES, type Fault, type Size } from './faults.ts';

export const RESULT_PREFIX = 'RELIABILITY_RESULT ';

/** What a scenario process reports (scenario.ts). */
export interface ScenarioResult extends Accounting {
  fault: string;
  title: string;
  size: Size;
  /** What was injected, in words. */
  injected: string;
  /** Proxy answers that were faults (not a plain pass-through). */
  faultedRequests: number;
  proxyRequests: number;
  /** From the fault's end (and the last accepted push) to every sample accounted for; null if that never came. */
  recoverMs: number | null;
  /** From the first push to every sample accounted for (or to giving up). */
  totalMs: number;
  pushFailures: string[];
  deliver: {
    invocations: number;
    /** Messages received, redeliveries included. */
    received: number;
    /** Messages left on the queue by a batchItemFailures entry or a failed invocation. */
    failed: number;
    /** Distinct messages put on the queue (ingest's, plus the copies of fault 7). */
    enqueued: number;
    /** Invocations that threw or that the poller cut off at the function timeout (Lambda would have killed them). */
    timedOut: number;
    /** The first few distinct errors of those invocations, and of SQS calls. */
    errors: string[];
    samplesSuperseded: number;
    samplesRetried: number;
    isolationRequests: number;
  };
  /** Settled, every sample accounted for, nothing conflicting, misrouted, restamped or dead-lettered without a reason. */
  ok: boolean;
}

/** A scenario that did not get as far as a result. */
export interface ScenarioFailure {
  fault: string;
  size: Size;
  ok: false;
  error: string;
}

export type ScenarioOutcome = ScenarioResult | ScenarioFailure;

export function isResult(o: ScenarioOutcome): o is ScenarioResult {
  return 'accepted' in o;
}

const SCENARIO = fileURLToPath(new URL('./scenario.ts', import.meta.url));

export interface RunOptions {
  size: Size;
  /** Prometheus without an out-of-order window. */
  inOrder?: boolean;
  /** Killed (its whole process group) after this long. */
  timeoutMs: number;
}

/** Runs one scenario in its own process and returns its result line. */
export function runScenarioProcess(fault: string, options: RunOptions): Promise<ScenarioOutcome> {
  const args = ['--import', 'tsx', SCENARIO, fault, ...(options.size === 'fast' ? ['--fast'] : []), ...(options.inOrder ? ['--in-order'] : [])];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, options.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (line) return resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as ScenarioOutcome);
      const why = signal ? `killed by ${signal} (timeout ${options.timeoutMs} ms?)` : `exited with code ${code}`;
      resolve({ fault, size: options.size, ok: false, error: `no result: ${why}\n${stderr.trim()}` });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

const HEADERS = ['fault', 'accepted', 'queryable (Prometheus)', 'queryable (VictoriaMetrics)', 'in DLQ', 'lost', 'conflicting duplicates', 'time to recover'];

function seconds(ms: number | null): string {
  return ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`;
}

function row(o: ScenarioOutcome): string[] {
  if (!isResult(o)) return [o.fault, '–', '–', '–', '–', 'FAILED', '–', o.error.split('\n', 1)[0]!];
  return [
    o.title,
    String(o.accepted),
    String(o.queryable.prometheus),
    String(o.queryable.victoriaMetrics),
    String(o.deadLettered + o.deadLetteredWithoutReason),
    String(o.lost),
    String(o.conflicting),
    seconds(o.recoverMs),
  ];
}

/** The main table, aligned for a terminal. */
export function textTable(outcomes: readonly ScenarioOutcome[]): string {
  const rows = [HEADERS, ...outcomes.map(row)];
  const widths = HEADERS.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** A GitHub table; the columns in `left` are text, the others numbers (right-aligned). */
function markdownTable(headers: readonly string[], rows: readonly string[][], left: ReadonlySet<number> = new Set([0])): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  return [
    `| ${headers.map(esc).join(' | ')} |`,
    `|${headers.map((_, i) => (left.has(i) ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

function detailRow(o: ScenarioOutcome): string[] {
  if (!isResult(o)) return [o.fault, o.error.split('\n', 1)[0]!, '', '', '', '', '', '', '', ''];
  const reasons = Object.entries(o.reasons).map(([r, n]) => `${r} × ${n}`).join(', ') || '–';
  return [
    o.title,
    o.injected,
    `${o.faultedRequests} / ${o.proxyRequests}`,
    `${o.deliver.received} / ${o.deliver.enqueued} (${o.deliver.failed})`,
    `${o.deliver.invocations} (${o.deliver.timedOut})`,
    String(o.deliver.samplesRetried),
    String(o.deliver.isolationRequests),
    String(o.deliver.samplesSuperseded),
    String(o.exactDuplicates),
    reasons,
  ];
}

const DETAIL_HEADERS = [
  'fault',
  'what was injected',
  'faulted / all proxy requests',
  'SQS receives / messages (left for redelivery)',
  'deliver invocations (cut off at the timeout)',
  'samples resent',
  'isolation requests',
  'samples superseded',
  'identical copies kept by VictoriaMetrics',
  'DLQ reasons (samples)',
];

export interface MarkdownContext {
  size: Size;
  totalMs: number;
  date: string;
  node: string;
}

/** RELIABILITY.md: the figures, then how they were obtained and what they rest on. */
export function reliabilityMarkdown(outcomes: readonly ScenarioOutcome[], ctx: MarkdownContext): string {
  const lost = outcomes.reduce((n, o) => n + (isResult(o) ? o.lost : 0), 0);
  const failed = outcomes.filter((o) => !o.ok).length;
  const verdict =
    failed === 0 && lost === 0
      ? `Every row: 0 lost, 0 conflicting duplicates, every sample in the DLQ carries a reason.`
      : `**${failed} of ${outcomes.length} rows failed** (${lost} samples lost in total): see the details below.`;
  return `# Reliability: the fault matrix

Generated by \`npm run reliability\` (${ctx.date}, Node ${ctx.node}, ${ctx.size} volumes, whole matrix in
${seconds(ctx.totalMs)}). Do not edit by hand: run it again.

${verdict}

${markdownTable(HEADERS, outcomes.map(row))}

- **accepted**: samples the ingest handler answered 200 for. **queryable**: accepted samples read back from each
  receiver. **in DLQ**: accepted samples found in DLQ messages; each must carry a \`reason\` attribute.
  **lost** = accepted samples neither stored on *both* receivers nor in the DLQ with a reason; so
  accepted = queryable + in DLQ when lost is 0 (and no sample is counted in both: the DLQ'd ones are checked to be
  absent from the receivers).
- **conflicting duplicates**: a series and timestamp stored with two different values (VictoriaMetrics would keep
  both; Prometheus refuses the second). Also checked and 0 in every passing row: samples stored that were never
  pushed, and a pushed sample stored under two timestamps (which would mean a redelivery re-stamped it).
- **time to recover**: from the end of the fault — the latest of the last faulty answer, the fault being switched
  off (faults 1–5: 1–3 s after the last push; fault 7: the copies queued) and the last push — to the moment the
  queue was empty (nothing visible, in flight or delayed) and no poller held a batch, polled every 250 ms. The
  accounting is read then, when nothing more can be written (VictoriaMetrics is read again until it shows what
  Prometheus holds: it makes writes queryable seconds late).

## Details

${markdownTable(DETAIL_HEADERS, outcomes.map(detailRow), new Set([0, 1, DETAIL_HEADERS.length - 1]))}

A *samples resent* figure counts each retry of a write request times its samples. *Samples superseded* is the
deliver engine's own count of samples it acknowledged because the receiver held newer ones (0 here: see below).
Identical copies are harmless: the same sample (series, timestamp, value) written again by a retry after a lost
answer, or by a redelivered message. Prometheus treats them as no-ops; VictoriaMetrics stores them, and queries
deduplicate nothing, so \`count_over_time\` on VictoriaMetrics over-counts after faults 4, 5, 6 and 7 — the reason
this matrix counts distinct (series, value) pairs read with \`/api/v1/export\`.

## How it runs

\`npm run reliability\` runs \`test/reliability/scenario.ts <fault>\` once per fault, each in its own process (the
handlers read their environment once per process), one after the other, and writes this file. Each scenario wires
the real chain:

\`\`\`
push (HTTP, text format) → local API gateway → ingest handler → fauxqs queue ──RedrivePolicy──→ DLQ
  → SQS pollers (Lambda's event source mapping: visibility timeout, redelivery, batchItemFailures,
    function timeout → context.getRemainingTimeInMillis())
  → deliver handler → fault proxy on 127.0.0.1 (test/support/fault-server.ts)
  → tee → real Prometheus 2.42 (remote-write receiver) and real VictoriaMetrics
\`\`\`

The tee sends every write request to both receivers and answers with the worse answer (Prometheus' when both
fail), so each fault is judged on both at once.

**Workload.** ${volumeText(ctx.size)}. Push *i* gives every series the value *i*, so a sample is identified by
(series, value) whatever timestamp ingest stamped on it. Samples are read back raw: Prometheus with an instant query
of \`rel_value{job="rel-<fault>"}[1h]\`, VictoriaMetrics with \`/api/v1/export\` after \`/internal/force_flush\`; the
DLQ is drained and its envelopes' points counted.

**Settings.** Every scenario starts from:

- deliver: ${Object.entries(BASE_ENV).map(([k, v]) => `\`${k}=${v}\``).join(', ')};
- function timeout ${seconds(BASE_STACK.functionTimeoutMs)}, queue visibility timeout ${BASE_STACK.visibilityTimeoutSeconds} s, batches of up to 10 messages,
  ${BASE_STACK.pollers} pollers (Lambda runs several per queue);
- **\`maxReceiveCount\` ${BASE_STACK.maxReceiveCount}**: high enough that no transient fault here makes SQS move a message to the DLQ
  by its own redrive policy — such a message would arrive there without a \`reason\` (it is counted apart, and as
  lost). With a production value the DLQ still catches what keeps failing, only sooner.

Per fault:

${FAULTS.map((f) => `- ${f.title}: ${settingsOf(f, ctx.size)}`).join('\n')}

**The receiver must accept out-of-order samples.** Redelivery reorders a series' samples: a message retried after
a fault arrives after newer ones have been written. Prometheus without an out-of-order window refuses the older
sample ("out of order sample"); the relay then acknowledges it as *superseded* (the receiver holds a newer value
of the series, which for Beam's cumulative snapshots loses no information) or, when the refused samples cannot be
isolated within \`REMOTE_WRITE_ISOLATION_REQUESTS\`, dead-letters the request with the good samples mixed in
(\`permanent:isolation-budget\`; a redrive sorts them out). Either way such a sample is not queryable, and after
faults 1–7 there are hundreds of them, so this matrix runs Prometheus with
\`storage.tsdb.out_of_order_time_window: 1h\` (VictoriaMetrics accepts out-of-order samples by default).
\`npm run reliability -- --in-order\` runs the matrix against an in-order Prometheus and prints the table without
writing this file.

**Bounded.** Every fault is finite (a few seconds, so many faulty answers). A scenario waits at most
${seconds(SETTLE_MS[ctx.size])} for the queue to empty and is killed after ${seconds(HARD_DEADLINE_MS[ctx.size])}; its receivers, fauxqs and
servers are its children and stop with it.

**In \`npm test\`.** \`test/integration/reliability-fast.test.ts\` runs faults 2, 7 and 8 with small volumes
(${volumeText('fast')}) and asserts the same for each: 0 lost, accepted = queryable + in DLQ on both receivers,
0 conflicting, every DLQ sample with a reason. It also runs a control — a receiver that answers 204 without
writing — and asserts that the loss is counted, so a row of zeros cannot come from an accounting that sees
nothing; \`test/reliability/accounting.test.ts\` checks the accounting itself case by case.

## Findings

- Fault 8 first ran with four refused series in a batch of ten messages and dead-lettered 10 good samples: the
  deliver engine halved a refused series sample by sample (2(n−1) requests for n samples) as soon as it was
  isolated, spending \`REMOTE_WRITE_ISOLATION_REQUESTS\` before the good series still waiting in a refused request
  were reached. Splits by time now wait until every request is isolated down to its series
  (\`lib/deliver/remote-write-sink.ts\`).
- Without an out-of-order window on Prometheus, samples are not queryable after every fault that makes SQS
  redeliver (see above).
`;
}

function volumeText(size: Size): string {
  const v = VOLUMES[size];
  const refused = FAULTS.reduce((n, f) => Math.max(n, f.refused ?? 0), 0);
  return `${v.pushes} pushes of ${v.series} gauge series, one every ${v.paceMs} ms: ${v.pushes * v.series} samples (fault 8 adds ${refused} refused \`poison-*\` series)`;
}

/** A fault's departures from the base settings, in words. */
function settingsOf(f: Fault, size: Size): string {
  const parts = [
    ...Object.entries(f.env?.(size) ?? {}).map(([k, v]) => `\`${k}=${v}\``),
    ...Object.entries(f.stack ?? {}).map(([k, v]) => `${k} ${v}`),
    ...(f.deferPollers ? ['pollers start once every push is queued (full batches)'] : []),
  ];
  return parts.length > 0 ? parts.join(', ') : 'base settings';
}
