/**
 * Two builds of the deliver handler against one real VictoriaMetrics, batch for batch: A and B each run in a warm
 * child of their own, and every round sends the same batch to both, in alternating order, so load from elsewhere
 * falls on both alike. On this shared machine the deliver row of `npm run bench` moves by 10-20 % between runs of
 * the same tree; a change worth a few milliseconds shows only in paired batches.
 *
 *   node scripts/build.mjs --outdir .tmp/a --skip-smoke      # on the base tree
 *   node scripts/build.mjs --outdir .tmp/b --skip-smoke      # with the change
 *   npx tsx bench/deliver-ab.ts .tmp/a/deliver/index.mjs .tmp/b/deliver/index.mjs [rounds=30]
 *
 * Two builds of the same tree are the control; run it before trusting a split far from half.
 */
import { resolve } from 'node:path';
import { startVictoriaMetrics } from '../dev/receivers.ts';
import { DELIVER_BATCH, DeliverChild, deliverEnv, sqsEventJson } from './deliver.ts';
import { median } from './measure.ts';
import { deliverBatch, PUSH_PERIOD_MS } from './workload.ts';

const WARMUP_ROUNDS = 5;

async function main(argv: readonly string[]): Promise<void> {
  const [a, b, roundsArg = '30'] = argv;
  const rounds = Number(roundsArg);
  if (!a || !b || !(Number.isInteger(rounds) && rounds > 0)) {
    throw new Error('usage: tsx bench/deliver-ab.ts <bundle A> <bundle B> [rounds]');
  }
  const vm = await startVictoriaMetrics();
  const bundles = { A: resolve(a), B: resolve(b) };
  const ms = { A: [] as number[], B: [] as number[] };
  const cpu = { A: [] as number[], B: [] as number[] };
  const span = DELIVER_BATCH.pushes * PUSH_PERIOD_MS;
  let startMs = Date.now() - (2 * WARMUP_ROUNDS + rounds) * 2 * span - 60_000;
  try {
    // Two sessions with fresh children, started A first then B first: where the scheduler places a process on two
    // shared cores shows in its times, and two builds of the same tree came out 18 of 20 apart in one session.
    for (const order of [['A', 'B'], ['B', 'A']] as const) {
      const children: Partial<Record<'A' | 'B', DeliverChild>> = {};
      try {
        for (const name of order) children[name] = new DeliverChild(bundles[name], deliverEnv(vm.remoteWriteUrl));
        for (const name of order) await children[name]!.started();
        const sessionRounds = order[0] === 'A' ? Math.ceil(rounds / 2) : Math.floor(rounds / 2);
        for (let r = 0; r < WARMUP_ROUNDS + sessionRounds; r++) {
          for (const name of r % 2 === 0 ? order : ([order[1], order[0]] as const)) {
            const event = sqsEventJson(deliverBatch(DELIVER_BATCH.jobs, DELIVER_BATCH.pushes, startMs));
            startMs += span;
            const result = await children[name]!.ask({ type: 'run', event });
            if (result.type !== 'result' || result.failed > 0) throw new Error(`bench: build ${name} did not deliver its batch: ${JSON.stringify(result)}`);
            if (r >= WARMUP_ROUNDS) {
              ms[name].push(result.ms);
              cpu[name].push(result.cpuMs);
            }
          }
        }
      } finally {
        for (const child of Object.values(children)) child.kill();
      }
    }
  } finally {
    await vm.stop();
  }
  const faster = ms.B.filter((x, i) => x < ms.A[i]!).length;
  const differences = ms.B.map((x, i) => x - ms.A[i]!);
  const f = (x: number) => x.toFixed(1);
  console.log(`A ${a}: median ${f(median(ms.A))} ms per batch (${f(median(cpu.A))} ms CPU)`);
  console.log(`B ${b}: median ${f(median(ms.B))} ms per batch (${f(median(cpu.B))} ms CPU)`);
  console.log(`B − A, batch by batch: median ${f(median(differences))} ms; B faster in ${faster} of ${rounds} rounds`);
}

await main(process.argv.slice(2));
