/**
 * `npm run bench`: prints one table (ours, the reference, the ratio, the target) and writes it into BENCHMARKS.md
 * with the date and the machine.
 *
 *   tsx bench/run.ts [--quick] [--no-write] [--only encode,text,ingest,deliver,cold]
 *
 * --quick runs tiny workloads once (a smoke run, nothing written); --only runs some groups (the cost row needs
 * ingest and deliver). Each group takes seconds; the whole run well under a minute on two cores.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundles, coldInitRows } from './cold-init.ts';
import { costRow } from './cost.ts';
import { DELIVER_BATCH, deliverRows, type DeliverFigures } from './deliver.ts';
import { ENCODE_SIZES, remoteWriteRows, textExpositionRow, type EncodeSize } from './encode.ts';
import { ingestRow, type IngestFigures } from './ingest.ts';
import { DEFAULT_TIMING, QUICK_TIMING, type TimingOptions } from './measure.ts';
import { machine, markdownTable, resultsSection, writeResults, type Row } from './report.ts';

export const GROUPS = ['encode', 'text', 'ingest', 'deliver', 'cold'] as const;
export type Group = (typeof GROUPS)[number];

export interface BenchOptions {
  groups: ReadonlySet<Group>;
  timing: TimingOptions;
  encodeSizes: readonly EncodeSize[];
  textJobs: number;
  ingest: { warmup: number; calls: number };
  deliver: { jobs: number; pushes: number; warmupRounds: number; rounds: number };
  coldRounds: number;
}

export const FULL: Omit<BenchOptions, 'groups'> = {
  timing: DEFAULT_TIMING,
  encodeSizes: ENCODE_SIZES,
  textJobs: 100,
  ingest: { warmup: 300, calls: 1000 },
  deliver: { ...DELIVER_BATCH, warmupRounds: 5, rounds: 25 },
  coldRounds: 9,
};

export const QUICK: Omit<BenchOptions, 'groups'> = {
  timing: QUICK_TIMING,
  encodeSizes: [{ jobs: 2, pushes: 2 }],
  textJobs: 2,
  ingest: { warmup: 2, calls: 10 },
  deliver: { jobs: 3, pushes: 2, warmupRounds: 0, rounds: 1 },
  coldRounds: 1,
};

export interface BenchResult {
  rows: Row[];
  notes: string[];
}

const log = (s: string) => process.stderr.write(`${s}\n`);

/** Runs the chosen groups and returns the table's rows in the order, with the notes that go under it. */
export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const vsReference: Row[] = [];
  const vsFloor: Row[] = [];
  let text: Row | undefined;
  let ingest: IngestFigures | undefined;
  let deliver: DeliverFigures | undefined;
  let cold: Row[] = [];

  // Deliver and cold init run the bundles Lambda would run, built afresh from this tree. They go first: the rows
  // measured in this process leave it a large heap, whose collection by V8's background threads would otherwise
  // share the two cores with the deliver child and VictoriaMetrics.
  const bundles = o.groups.has('deliver') || o.groups.has('cold') ? (log('bench: building the bundles…'), await buildBundles()) : undefined;
  if (bundles && o.groups.has('deliver')) {
    log('bench: deliver → VictoriaMetrics…');
    deliver = await deliverRows(bundles.deliver.file, o.deliver);
    // Every batch, in order: the median hides how collections land on some batches and not others.
    const each = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
    const show = (setup: string, b: { handlerMs: number[]; cpuMs: number[]; limitMs: number[] }) =>
      log(`bench: deliver batches${setup}, ms: handler ${each(b.handlerMs)} | its CPU ${each(b.cpuMs)} | limit ${each(b.limitMs)}`);
    show('', deliver.batches);
    if (deliver.separateBatches) show(' on a CPU each', deliver.separateBatches);
  }
  if (bundles && o.groups.has('cold')) {
    log('bench: cold init…');
    cold = await coldInitRows(bundles, o.coldRounds);
  }

  if (o.groups.has('encode')) {
    for (const size of o.encodeSizes) {
      log(`bench: remote-write encode, ${size.jobs * 100 * size.pushes} samples…`);
      const [reference, floor] = await remoteWriteRows(size, o.timing);
      vsReference.push(reference!);
      vsFloor.push(floor!);
    }
  }
  if (o.groups.has('text')) {
    log('bench: text exposition…');
    text = await textExpositionRow(o.textJobs, o.timing);
  }
  if (o.groups.has('ingest')) {
    log('bench: ingest…');
    ingest = await ingestRow(o.ingest);
  }
  const rows: Row[] = [...vsReference, ...vsFloor, ...(text ? [text] : []), ...(deliver ? deliver.rows.slice(0, 2) : []), ...(ingest ? [ingest.row] : []), ...cold, ...(deliver ? [deliver.rows[2]!] : [])];
  const notes: string[] = [
    'Workload: Beam jobs of 100 series each (5 steps × 10 counters, 2 distributions as `_sum`/`_count`/`_min`/`_max`, 2 gauges), 9 labels per series ' +
      '(`__name__`, the grouping key job/pipeline/env/region, the point\'s namespace and step, static team and runner; step names of 30–80 characters), ' +
      'merged by the deliver merge from envelopes built by ingest\'s envelope builder. Encoders are fed the merged series; the reference gets the same series in its own input shape ' +
      '(labels as an object) through `pushTimeseries` with a fetch that keeps the body, i.e. its whole encode path (objects, `verify()`, protobufjs, snappyjs).',
    'Our remote-write figures are steady state: the merge hands out the same labels array for a series every batch and the encoder keeps its bytes, as in a deliver Lambda that sees the same series every push period. ' +
      'The text row gives the encoder fresh label strings on every call (copies that share no string objects), as new pushes do.',
    'Method: encode, text and ingest are timed in CPU time of this process (other load on a shared machine is not counted); deliver and cold init in wall time. ' +
      'Cases of one row run interleaved, round by round, after warm-up, with a young-generation GC and one untimed call between cases; figures are medians over the rounds, ratios are taken between medians of the same run. ' +
      `Deliver: the handler runs in its own process (a warm Lambda, started with the heap limits Lambda's Node.js runtime sets for the function's memory, handed each event as JSON text that it parses before the clock starts, as Lambda's runtime does, and stopped between batches, as Lambda freezes a function between invocations) and alternates with the limit run, ${o.deliver.warmupRounds} warm-up batches then the median of ${o.deliver.rounds}, first with every process free to use every CPU, then with the handler's process and the bench (which posts the limit run) bound to one CPU and VictoriaMetrics to another (\`taskset -a\`, all threads); the limit posts the bodies the handler would send, pre-encoded, at the handler's concurrency over the same keep-alive pool type; every series is checked queryable afterwards.`,
  ];
  if (ingest && deliver) {
    const cost = costRow({
      samplesPerBody: ingest.samplesPerBody,
      messagesPerBody: ingest.messagesPerBody,
      envelopeBytesPerBody: ingest.envelopeBytesPerBody,
      ingestCpuMs: ingest.cpuMs,
      deliverSamples: deliver.samples,
      deliverMs: deliver.medianMs,
      deliverCpuMs: deliver.cpuMs,
    });
    rows.push(cost.row);
    notes.push(...cost.notes);
  }
  return { rows, notes };
}

function parseArgs(argv: readonly string[]): { quick: boolean; write: boolean; groups: Set<Group>; deliverRounds: number | undefined } {
  const quick = argv.includes('--quick');
  const rounds = argv.find((a) => a.startsWith('--deliver-rounds='));
  const deliverRounds = rounds === undefined ? undefined : Number(rounds.slice('--deliver-rounds='.length));
  if (deliverRounds !== undefined && !(Number.isInteger(deliverRounds) && deliverRounds > 0)) throw new Error(`--deliver-rounds needs a positive integer, got "${rounds}"`);
  const only = argv.find((a) => a.startsWith('--only'));
  const list = only?.includes('=') ? only.slice(only.indexOf('=') + 1) : only ? argv[argv.indexOf(only) + 1] : undefined;
  const groups = new Set<Group>(list ? (list.split(',') as Group[]) : GROUPS);
  for (const g of groups) if (!GROUPS.includes(g)) throw new Error(`unknown group "${g}": choose from ${GROUPS.join(', ')}`);
  // A run with another number of rounds is an experiment: it does not rewrite BENCHMARKS.md.
  return { quick, write: !quick && !argv.includes('--no-write') && !only && deliverRounds === undefined, groups, deliverRounds };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const m = machine();
  const base = args.quick ? QUICK : FULL;
  const deliver = args.deliverRounds === undefined ? base.deliver : { ...base.deliver, rounds: args.deliverRounds };
  const { rows, notes } = await runBench({ ...base, deliver, groups: args.groups });
  console.log(`\n${m.date} · ${m.nproc} × ${m.cpu} · Node ${m.node} · load ${m.load.toFixed(2)}\n`);
  console.log(markdownTable(rows));
  const missed = rows.filter((r) => r.met === false);
  console.log(missed.length === 0 ? '\nEvery target met.' : `\nTargets missed: ${missed.length} (${missed.map((r) => r.row.split(',')[0]).join('; ')})`);
  if (args.write) {
    const file = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
    writeResults(file, resultsSection(m, rows, notes));
    console.log(`Written to ${file}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
