/**
 * README command 1 (`npm ci && npm start`) works: the local stack starts every part, takes a Beam push through
 * ingest → SQS → deliver → Prometheus, and `--once` exits 0 after proving it.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEADLINE_MS = 90_000;

function runLocalStackOnce(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/local-stack.ts', '--once'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`local-stack --once still running after ${DEADLINE_MS} ms:\n${output}`));
    }, DEADLINE_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('the local stack carries a Beam push into Prometheus and exits 0 with --once', { timeout: DEADLINE_MS + 5_000 }, async () => {
  const { code, output } = await runLocalStackOnce();

  assert.equal(code, 0, output);
  assert.match(output, /✓ Prometheus on http:\/\/127\.0\.0\.1:\d+/);
  assert.match(output, /✓ Pushgateway on http:\/\/127\.0\.0\.1:\d+/);
  assert.match(output, /✓ POST \/metrics\/job\/wordcount\/env\/local → 200/);
  // The fixture's committed wordsProcessed value, under the grouping labels from the path.
  assert.match(output, /beam_wordsProcessed_total\{env="local", job="wordcount", .*\} 58190$/m);
});
