/**
 * One fault of the matrix, in a process of its own (the handlers read their environment once per process):
 *
 *   tsx test/reliability/scenario.ts <fault> [--fast] [--in-order]
 *
 * Starts the real chain (harness.ts), pushes the workload while injecting the fault, waits until the queue is
 * empty and every accepted sample is accounted for (or the settle deadline passes), and prints one line:
 * `RELIABILITY_RESULT <json>` (matrix.ts' ScenarioOutcome). The handlers' own log lines are counted, not printed
 * (RELIABILITY_VERBOSE=1 sends them to stderr). `--in-order`: Prometheus without an out-of-order window.
 * Bounded: a hard deadline ends the process even if something hangs.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { receiveAll } from '../../dev/sqs.ts';
import { account, deadLetteredSamples, readPrometheus, readVictoriaMetrics, type Accounting } from './accounting.ts';
import { BASE_ENV, BASE_STACK, faultNamed, FAULTS, HARD_DEADLINE_MS, SETTLE_MS, VOLUMES, type Size } from './faults.ts';
import { startHarness, type Harness } from './harness.ts';
import { RESULT_PREFIX, type ScenarioResult } from './matrix.ts';
import { workload } from './workload.ts';

/** Deliver invocation log lines, summed. */
interface DeliverLogTotals {
  superseded: number;
  retried: number;
  isolationRequests: number;
}

/** The handlers log one JSON line per invocation on stdout; stdout is for the result, so count them instead. */
function captureHandlerLogs(): DeliverLogTotals {
  const totals: DeliverLogTotals = { superseded: 0, retried: 0, isolationRequests: 0 };
  const verbose = process.env.RELIABILITY_VERBOSE === '1';
  console.log = (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    if (verbose) process.stderr.write(line + '\n');
    try {
      const entry = JSON.parse(line) as {
        msg?: string;
        samples?: { superseded?: number; retried?: number };
        sinks?: Record<string, { isolationRequests?: number }>;
      };
      if (entry.msg !== 'deliver') return;
      totals.superseded += entry.samples?.superseded ?? 0;
      totals.retried += entry.samples?.retried ?? 0;
      for (const s of Object.values(entry.sinks ?? {})) totals.isolationRequests += s.isolationRequests ?? 0;
    } catch {
      // Not a log line of ours.
    }
  };
  if (!verbose) console.error = () => undefined;
  return totals;
}

/** How long VictoriaMetrics may take to show what it was sent. */
const VICTORIA_METRICS_LAG_MS = 15_000;

async function runScenario(name: string, size: Size, inOrder: boolean): Promise<ScenarioResult> {
  const fault = faultNamed(name);
  if (!fault) throw new Error(`unknown fault "${name}"; known: ${FAULTS.map((f) => f.name).join(', ')}`);
  const logs = captureHandlerLogs();
  const volume = VOLUMES[size];
  const w = workload(`rel-${fault.name}`, volume.pushes, volume.series, fault.refused ?? 0);
  const stack = { ...BASE_STACK, ...fault.stack };
  const h: Harness = await startHarness({
    workload: w,
    env: { ...BASE_ENV, ...fault.env?.(size) },
    ...stack,
    ...(fault.rule ? { rule: fault.rule } : {}),
    lifetimeMs: HARD_DEADLINE_MS[size],
    prometheusInOrder: inOrder,
  });
  try {
    if (!fault.deferPollers) h.startPollers();
    const startedAt = performance.now();
    const { injected, endedAt } = await fault.run(h, size);
    const pushedAt = performance.now();
    h.startPollers();

    // Once the queue is empty and no poller holds a batch, nothing more will be written or dead-lettered: what is
    // stored then is final. Before that, accounting would only measure progress.
    const deadline = performance.now() + SETTLE_MS[size];
    let idle = false;
    while (!(idle = await h.idle()) && performance.now() < deadline) await sleep(250);
    const idleAt = performance.now();
    const dlq = deadLetteredSamples(await receiveAll(h.sqs.client, h.sqs.dlqUrl));
    // VictoriaMetrics shows writes seconds later even after a flush (DESIGN §4): read until it shows all that
    // Prometheus holds, within a bound. Prometheus shows a write at once.
    const readDeadline = performance.now() + VICTORIA_METRICS_LAG_MS;
    let accounting: Accounting;
    for (;;) {
      const [prometheus, victoriaMetrics] = await Promise.all([readPrometheus(h.prometheus.url, w.job), readVictoriaMetrics(h.victoriaMetrics.url, w.job)]);
      accounting = account(w, h.accepted, { prometheus, victoriaMetrics }, dlq);
      if (accounting.victoriaMetricsBehind === 0 || performance.now() > readDeadline) break;
      await sleep(250);
    }
    const settledAt = idle && accounting.lost === 0 && accounting.deadLetteredWithoutReason === 0 ? idleAt : undefined;

    const requests = h.proxyRequests;
    const scripted = requests.filter((r) => r.answer !== 'proxy');
    const scriptEnd = Math.max(0, ...scripted.map((r) => r.arrivedAtMs));
    const faultEnd = Math.max(scriptEnd, endedAt ?? 0, pushedAt);
    const poller = h.pollerStats();
    const ok =
      settledAt !== undefined &&
      h.pushFailures.length === 0 &&
      accounting.misrouted === 0 &&
      accounting.conflicting === 0 &&
      accounting.unexpected === 0 &&
      accounting.restamped === 0;
    return {
      fault: fault.name,
      title: fault.title,
      size,
      injected,
      ...accounting,
      faultedRequests: scripted.length,
      proxyRequests: requests.length,
      recoverMs: settledAt === undefined ? null : Math.max(0, Math.round(settledAt - faultEnd)),
      totalMs: Math.round(idleAt - startedAt),
      pushFailures: h.pushFailures,
      deliver: {
        invocations: poller.invocations,
        received: poller.received,
        failed: poller.failed,
        enqueued: h.enqueued(),
        timedOut: poller.timedOut,
        errors: poller.errors,
        samplesSuperseded: logs.superseded,
        samplesRetried: logs.retried,
        isolationRequests: logs.isolationRequests,
      },
      ok,
    };
  } finally {
    await h.stop();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith('--')) ?? '';
  const size: Size = args.includes('--fast') ? 'fast' : 'full';
  const out = (line: string) => process.stdout.write(line + '\n');
  const hard = setTimeout(() => {
    out(RESULT_PREFIX + JSON.stringify({ fault: name, size, ok: false, error: `hard deadline of ${HARD_DEADLINE_MS[size]} ms passed` }));
    process.exit(2);
  }, HARD_DEADLINE_MS[size]);
  hard.unref();
  try {
    const result = await runScenario(name, size, args.includes('--in-order'));
    out(RESULT_PREFIX + JSON.stringify(result));
    process.exit(result.ok ? 0 : 1);
  } catch (error) {
    out(RESULT_PREFIX + JSON.stringify({ fault: name, size, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
    process.exit(2);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
