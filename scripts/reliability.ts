/**
 * `npm run reliability`: the fault matrix (test/reliability/), one scenario process per fault, one after the
 * other; prints the table and writes RELIABILITY.md. Exits 1 when any row lost a sample or failed a check.
 *
 *   npm run reliability                     full volumes, writes RELIABILITY.md
 *   npm run reliability -- --fast           small volumes (as in npm test), table only
 *   npm run reliability -- --in-order       Prometheus without an out-of-order window, table only
 *   npm run reliability -- error-storm …    only the named faults, table only
 */

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FAULTS, HARD_DEADLINE_MS, type Size } from '../test/reliability/faults.ts';
import { isResult, reliabilityMarkdown, runScenarioProcess, textTable, type ScenarioOutcome } from '../test/reliability/matrix.ts';

const args = process.argv.slice(2);
const size: Size = args.includes('--fast') ? 'fast' : 'full';
const inOrder = args.includes('--in-order');
const named = args.filter((a) => !a.startsWith('--'));
const unknown = named.filter((n) => !FAULTS.some((f) => f.name === n));
if (unknown.length > 0) {
  console.error(`unknown fault(s): ${unknown.join(', ')}; known: ${FAULTS.map((f) => f.name).join(', ')}`);
  process.exit(2);
}
const faults = named.length > 0 ? FAULTS.filter((f) => named.includes(f.name)) : FAULTS;
const writeReport = named.length === 0 && size === 'full' && !inOrder;

const started = performance.now();
const outcomes: ScenarioOutcome[] = [];
for (const fault of faults) {
  process.stderr.write(`${fault.title} … `);
  const outcome = await runScenarioProcess(fault.name, { size, inOrder, timeoutMs: HARD_DEADLINE_MS[size] + 10_000 });
  outcomes.push(outcome);
  const summary = isResult(outcome) ? `${outcome.ok ? 'ok' : 'FAILED'}: ${outcome.lost} lost, ${(outcome.totalMs / 1000).toFixed(1)} s` : `FAILED: ${outcome.error}`;
  process.stderr.write(`${summary}\n`);
}
const totalMs = performance.now() - started;

console.log(`\n${textTable(outcomes)}\n`);
console.log(`${outcomes.length} faults in ${(totalMs / 1000).toFixed(1)} s${inOrder ? ' (Prometheus in order: no out-of-order window)' : ''}`);
if (writeReport) {
  const path = fileURLToPath(new URL('../RELIABILITY.md', import.meta.url));
  writeFileSync(path, reliabilityMarkdown(outcomes, { size, totalMs, date: new Date().toISOString().slice(0, 10), node: process.versions.node }));
  console.log(`written: RELIABILITY.md`);
}
process.exit(outcomes.every((o) => o.ok) ? 0 : 1);
