/**
 * The full fuzz run of the ingest boundary: every property of test/support/arbitraries.ts, 10 000 cases each,
 * with a fresh random seed (printed first, to reproduce a failure) and a time limit per property.
 * Exits 1 when a property fails, after printing fast-check's report: the seed, the path and the counterexample.
 *
 *   npm run fuzz                            # 10 000 cases per property, random seed, ≤ 120 s per property
 *   npm run fuzz -- --seed 42 --runs 500 --seconds 30
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { ingestProperties } from '../test/support/arbitraries.ts';

const { values } = parseArgs({
  options: { seed: { type: 'string' }, runs: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '120' } },
});
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 0x7fffffff);
const runs = Number(values.runs);
const seconds = Number(values.seconds);
if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(runs) || runs < 1 || !(seconds > 0)) {
  console.error('usage: npm run fuzz -- [--seed <integer>] [--runs <cases per property>] [--seconds <limit per property>]');
  process.exit(2);
}

console.log(`fuzz: seed ${seed}, ${runs} cases per property, at most ${seconds} s each (again: npm run fuzz -- --seed ${seed})`);
let failures = 0;
for (const property of ingestProperties()) {
  const started = performance.now();
  let details: fc.RunDetails<unknown>;
  try {
    details = await property.check({ seed, numRuns: runs, plugins: [fc.interruptAfterTimeLimit(seconds * 1000)] });
  } catch (error) {
    // An arbitrary that throws while generating is a broken fuzzer, not a passing run.
    failures++;
    console.error(`FAIL ${property.name}: the run itself threw (seed ${seed})\n${(error as Error).stack ?? String(error)}\n`);
    continue;
  }
  const took = `${((performance.now() - started) / 1000).toFixed(1)} s`;
  if (details.failed) {
    failures++;
    console.error(`FAIL ${property.name} (${took})\n${fc.defaultReportMessage(details)}\n`);
  } else {
    console.log(`ok   ${property.name}: ${details.numRuns} cases in ${took}${details.interrupted ? ' (time limit reached)' : ''}`);
  }
}
if (failures > 0) {
  console.error(`fuzz: ${failures} propert${failures === 1 ? 'y' : 'ies'} failed; seed ${seed}`);
  process.exit(1);
}
