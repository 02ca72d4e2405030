/**
 * `npm start`: the whole relay on this machine, proven end to end before it waits for you.
 *
 * Starts SQS (fauxqs), Prometheus and a Pushgateway, serves the ingest handler on http://127.0.0.1:3000 (PORT
 * overrides) and runs the deliver handler from the queue; then posts a Beam MetricsHttpSink body and waits until
 * Prometheus answers for it. Stays up until Ctrl-C; with `--once` it stops after the check (exit 0 on success).
 */

import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { waitForQuery } from '../dev/receivers.ts';
import { startStack, type LocalStack } from '../dev/stack.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE_BODY = `${ROOT}test/fixtures/beam-java/wordcount-committed.json`;
const SAMPLE_PATH = '/metrics/job/wordcount/env/local';
const SAMPLE_QUERY = 'beam_wordsProcessed_total{job="wordcount"}';
const CHECK_TIMEOUT_MS = 30_000;

const once = process.argv.includes('--once');
const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`PORT must be a port number, got ${process.env.PORT}`);

const ensured = spawnSync(process.execPath, [`${ROOT}scripts/ensure-receivers.mjs`], { stdio: 'inherit' });
if (ensured.status !== 0) process.exit(ensured.status ?? 1);

let stack: LocalStack | undefined;
let stopping = false;
const shutdown = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await stack?.stop();
  process.exit(code);
};
process.on('SIGINT', () => {
  console.log('\nstopping…');
  void shutdown(0);
});
process.on('SIGTERM', () => void shutdown(0));

try {
  stack = await startStack({ port, onProgress: (line) => console.log(line) });
} catch (error) {
  const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  const hint = inUse ? ` — port ${port} is taken; set PORT to another port (0 picks a free one)` : '';
  fail(`could not start the local stack: ${error instanceof Error ? error.message : String(error)}${hint}`);
}

try {
  const response = await fetch(`${stack.url}${SAMPLE_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: await readFile(SAMPLE_BODY),
    signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
  });
  const answer = await response.text();
  if (response.status !== 200) throw new Error(`POST ${SAMPLE_PATH} answered ${response.status}: ${answer}`);
  console.log(`✓ POST ${SAMPLE_PATH} → 200 ${answer}`);

  const result = await waitForQuery(stack.prometheus.url, SAMPLE_QUERY, (r) => r.length > 0, { timeoutMs: CHECK_TIMEOUT_MS });
  console.log(`✓ Prometheus answers ${SAMPLE_QUERY}:`);
  for (const { metric, value } of result) console.log(`    ${formatLabels(metric)} ${value}`);
} catch (error) {
  console.error(`✗ end-to-end check failed: ${error instanceof Error ? error.message : String(error)}`);
  await stack.stop();
  process.exit(1);
}

console.log(`
Ingest endpoint  ${stack.url}/metrics/job/<job>{/<label>/<value>}
Prometheus UI    ${stack.prometheus.url}/graph?g0.expr=${encodeURIComponent(SAMPLE_QUERY)}
Pushgateway      ${stack.pushgateway.url}
Try:
  curl -X POST -H 'Content-Type: application/json' \\
    --data-binary @test/fixtures/beam-java/wordcount-committed.json \\
    ${stack.url}/metrics/job/my-pipeline/env/local`);

if (once) await shutdown(0);
else console.log('\nRunning; Ctrl-C stops everything.');

function formatLabels(metric: Record<string, string>): string {
  const { __name__: name = '', ...labels } = metric;
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}{${pairs.join(', ')}}`;
}

function fail(message: string): never {
  console.error(`✗ ${message}`);
  process.exit(1);
}
